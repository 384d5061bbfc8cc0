"""Feeds a :class:`~evaluation.world.World` into a running platform through its public gRPC API only.

Order: the registry (AdminService.ImportAllocations), honeypots
(AdminService.AddHoneypot), raw call records (CallRecordService.SubmitCallRecords)
and hourly aggregates (SubmitCallAggregates), then complaints
(ReportService.SubmitReports). Each operator sends with its own API key (its
hotline complaints too, so they count as attested); user apps send with an
``app`` key. Batches hold at most ``max_batch`` items.

A method the server does not implement yet (UNIMPLEMENTED) is counted per
item and skipped for the rest of the run, so that a world still feeds on
whatever the platform takes today.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from evaluation.world import Call, ReportEvent, Shipping, World, registry_csv
from numrep import auth
from numrep.config import Settings
from numrep.evidence.sketch import HyperLogLog, M, callee_prefix, position, public_hash
from numrep.models import Category, Scope
from numrep.sdk.client import open_channel
from numrep.store.base import Store
from numrep.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    callrecords_pb2,
    callrecords_pb2_grpc,
    common_pb2,
    report_pb2,
    report_pb2_grpc,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
APP = "app"
ADMIN = "eval-admin"
SWITCH = "eval-switch"
# Scopes only the platform's own people hold; an operator's key gets every other scope the platform
# knows (report today, and whatever scopes call records and honeypots come to need).
_NOT_FOR_OPERATORS = {Scope.ADMIN, Scope.HOLDER, Scope.RULES}


@dataclass(frozen=True)
class Keys:
    """Raw API keys by who holds them: every registry holder, ``app``, the admin and a lookup switch."""

    by_sender: dict[str, str]

    @property
    def admin(self) -> str:
        return self.by_sender[ADMIN]

    @property
    def switch(self) -> str:
        return self.by_sender[SWITCH]


def create_keys(store: Store, settings: Settings, holders: Iterable[str]) -> Keys:
    """Create the keys a world's clients use, in the platform's store (as `numrep keys create` does)."""
    operator_scopes = [s for s in Scope if s not in _NOT_FOR_OPERATORS]
    out = {h: auth.create_key(store, settings, h, operator_scopes)[0] for h in holders}
    out[APP] = auth.create_key(store, settings, APP, [Scope.REPORT])[0]
    out[ADMIN] = auth.create_key(store, settings, ADMIN, [Scope.ADMIN])[0]
    out[SWITCH] = auth.create_key(store, settings, SWITCH, [Scope.LOOKUP])[0]
    return Keys(out)


@dataclass
class Tally:
    """What happened to the items of one kind."""

    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    unimplemented: int = 0
    failed: int = 0  # whole calls that failed otherwise
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def line(self, name: str) -> str:
        parts = [f"{name}: {self.sent} sent, {self.accepted} accepted"]
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicates")
        if self.rejected:
            parts.append(f"{self.rejected} rejected")
        if self.unimplemented:
            parts.append(f"{self.unimplemented} UNIMPLEMENTED by the server")
        if self.failed:
            parts.append(f"{self.failed} in failed calls")
        text = ", ".join(parts) + f" ({self.seconds:.1f} s)"
        if self.errors:
            text += "; " + "; ".join(f"{n}× {e}" for e, n in self.errors.most_common(3))
        return text


@dataclass
class FeedReport:
    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))

    def lines(self) -> list[str]:
        return [t.line(name) for name, t in self.tallies.items()]

    def as_dict(self) -> dict[str, dict[str, object]]:
        return {
            name: {
                "sent": t.sent,
                "accepted": t.accepted,
                "duplicates": t.duplicates,
                "rejected": t.rejected,
                "unimplemented": t.unimplemented,
                "failed": t.failed,
                "seconds": round(t.seconds, 2),
                "errors": dict(t.errors.most_common(5)),
            }
            for name, t in self.tallies.items()
        }


def timestamp(epoch: float) -> Timestamp:
    seconds = int(epoch)
    return Timestamp(seconds=seconds, nanos=int((epoch - seconds) * 1e9))


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


CATEGORY_PB = {c: common_pb2.Category.Value("CATEGORY_" + c.value.upper()) for c in Category}
SOURCE_PB = {"app": report_pb2.REPORT_SOURCE_APP, "hotline": report_pb2.REPORT_SOURCE_HOTLINE}


def report_pb(r: ReportEvent) -> report_pb2.Report:
    return report_pb2.Report(
        report_id=r.report_id,
        reporter_id=r.reporter_id,
        subject=r.subject,
        channel=common_pb2.CHANNEL_VOICE,
        category=CATEGORY_PB[r.category],
        occurred_at=timestamp(r.occurred_at),
        source=SOURCE_PB[r.source],
        reporter_number=r.reporter_number,
    )


def record_pb(c: Call) -> callrecords_pb2.CallRecord:
    return callrecords_pb2.CallRecord(
        record_id=c.record_id,
        caller=c.caller,
        callee=c.callee,
        channel=common_pb2.CHANNEL_VOICE,
        start_time=timestamp(c.start),
        ring_ms=c.ring_ms,
        talk_seconds=c.talk_s,
        international=c.international,
    )


def sketch_bytes(items: Iterable[str]) -> bytes:
    """``HyperLogLog.of(items).to_bytes()``, without scanning all 4,096 registers for the few an hour touches."""
    items = list(items)
    sketch = HyperLogLog.of(items)
    touched = sorted({position(public_hash(x))[0] for x in items})
    if 3 * len(touched) >= M:
        return sketch.to_bytes()
    return bytes([0x02]) + b"".join(struct.pack(">HB", i, sketch.registers[i]) for i in touched)


def aggregate_pbs(calls: Iterable[Call]) -> dict[str, list[callrecords_pb2.CallAggregate]]:
    """Hourly aggregates per (shipping operator, caller), as an operator without raw export computes them."""
    groups: dict[tuple[str, str, int], list[Call]] = defaultdict(list)
    for c in calls:
        groups[(c.shipper, c.caller, int(c.start // 3600) * 3600)].append(c)
    out: dict[str, list[callrecords_pb2.CallAggregate]] = defaultdict(list)
    for (shipper, caller, hour), group in groups.items():
        answered = [c for c in group if c.talk_s > 0]
        out[shipper].append(
            callrecords_pb2.CallAggregate(
                caller=caller,
                channel=common_pb2.CHANNEL_VOICE,
                hour=timestamp(hour),
                calls=len(group),
                answered=len(answered),
                short_calls=sum(1 for c in answered if c.talk_s < 10),
                ring_once_calls=sum(1 for c in group if c.talk_s == 0 and c.ring_ms <= 5000),
                international_calls=sum(1 for c in group if c.international),
                callee_sketch=sketch_bytes(c.callee for c in group),
                callee_prefix_sketch=sketch_bytes(callee_prefix(c.callee) for c in group),
            )
        )
    return out


class Feeder:
    """Sends a world's evidence to the platform at ``address``, each sender with its own key."""

    def __init__(
        self, address: str, keys: Keys, max_batch: int = 1000, threads: int = 4, timeout: float = 120.0
    ) -> None:
        self.address = address
        self.keys = keys
        self.max_batch = max_batch
        self.threads = threads
        self.timeout = timeout
        self._channels: dict[str, grpc.Channel] = {}
        self.report = FeedReport()
        self._unimplemented: set[str] = set()
        self._lock = threading.Lock()  # batches run on several threads; tallies are shared

    def channel(self, sender: str) -> grpc.Channel:
        if sender not in self._channels:
            self._channels[sender] = open_channel(self.address, self.keys.by_sender[sender])
        return self._channels[sender]

    def close(self) -> None:
        for ch in self._channels.values():
            ch.close()
        self._channels.clear()

    # ---- one kind at a time ---------------------------------------------
    def _call(self, kind: str, n: int, fn: Callable[[], None]) -> None:
        """Run one batch call, counting UNIMPLEMENTED and other whole-call failures against ``kind``."""
        tally = self.report.tallies[kind]
        with self._lock:
            tally.sent += n
            if kind in self._unimplemented:
                tally.unimplemented += n
                return
        try:
            fn()
        except grpc.RpcError as exc:
            code = exc.code()
            with self._lock:
                if code is grpc.StatusCode.UNIMPLEMENTED:
                    if kind not in self._unimplemented:
                        log.warning("%s: the server does not implement it yet; skipping the rest", kind)
                    self._unimplemented.add(kind)
                    tally.unimplemented += n
                    return
                tally.failed += n
                tally.errors[f"{code.name}: {exc.details()}"[:160]] += 1

    def _parallel(self, jobs: list[Callable[[], None]]) -> None:
        with ThreadPoolExecutor(self.threads) as pool:
            for f in [pool.submit(job) for job in jobs]:
                f.result()

    def registry(self, world: World) -> None:
        started = time.monotonic()
        tally = self.report.tallies["registry rows"]
        stub = admin_pb2_grpc.AdminServiceStub(self.channel(ADMIN))
        data = registry_csv(world).encode()

        def send() -> None:
            res = stub.ImportAllocations(
                iter([admin_pb2.ImportChunk(filename="registry.csv", format="csv", data=data)]), timeout=self.timeout
            )
            if res.applied:
                tally.accepted += res.rows
            else:
                tally.rejected += len(world.allocations)
                for p in res.problems:
                    tally.errors[f"line {p.line}: {p.message}"] += 1

        self._call("registry rows", len(world.allocations), send)
        tally.seconds += time.monotonic() - started

    def honeypots(self, world: World) -> None:
        started = time.monotonic()
        tally = self.report.tallies["honeypots"]
        for number, operator in sorted(world.honeypots.items()):

            def send(number: str = number, operator: str = operator) -> None:
                req = admin_pb2.AddHoneypotRequest(number=number, note="eval world")
                try:
                    admin_pb2_grpc.AdminServiceStub(self.channel(operator)).AddHoneypot(req, timeout=self.timeout)
                except grpc.RpcError as exc:
                    if exc.code() not in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
                        raise
                    # the operator's key lacks the honeypot scope: the admin names the operator instead
                    req.operator = operator
                    admin_pb2_grpc.AdminServiceStub(self.channel(ADMIN)).AddHoneypot(req, timeout=self.timeout)
                tally.accepted += 1

            self._call("honeypots", 1, send)
        tally.seconds += time.monotonic() - started

    def records(self, calls: Sequence[Call]) -> None:
        started = time.monotonic()
        tally = self.report.tallies["call records"]
        by_shipper: dict[str, list[Call]] = defaultdict(list)
        for c in calls:
            by_shipper[c.shipper].append(c)
        jobs: list[Callable[[], None]] = []
        for shipper, mine in by_shipper.items():
            stub = callrecords_pb2_grpc.CallRecordServiceStub(self.channel(shipper))
            for batch in chunks(mine, self.max_batch):

                def send(
                    stub: callrecords_pb2_grpc.CallRecordServiceStub = stub, batch: Sequence[Call] = batch
                ) -> None:
                    res = stub.SubmitCallRecords(
                        callrecords_pb2.SubmitCallRecordsRequest(records=[record_pb(c) for c in batch]),
                        timeout=self.timeout,
                    )
                    with self._lock:
                        for r in res.results:
                            if r.accepted:
                                tally.accepted += 1
                                tally.duplicates += r.duplicate
                            else:
                                tally.rejected += 1
                                tally.errors[r.error[:120]] += 1

                jobs.append(partial(self._call, "call records", len(batch), send))
        self._parallel(jobs)
        tally.seconds += time.monotonic() - started

    def aggregates(self, calls: Sequence[Call]) -> None:
        started = time.monotonic()
        tally = self.report.tallies["hourly aggregates"]
        jobs: list[Callable[[], None]] = []
        for shipper, aggs in aggregate_pbs(calls).items():
            stub = callrecords_pb2_grpc.CallRecordServiceStub(self.channel(shipper))
            for batch in chunks(aggs, self.max_batch):

                def send(
                    stub: callrecords_pb2_grpc.CallRecordServiceStub = stub,
                    batch: Sequence[callrecords_pb2.CallAggregate] = batch,
                ) -> None:
                    res = stub.SubmitCallAggregates(
                        callrecords_pb2.SubmitCallAggregatesRequest(aggregates=batch), timeout=self.timeout
                    )
                    with self._lock:
                        for r in res.results:
                            if r.accepted:
                                tally.accepted += 1
                            else:
                                tally.rejected += 1
                                tally.errors[r.error[:120]] += 1

                jobs.append(partial(self._call, "hourly aggregates", len(batch), send))
        self._parallel(jobs)
        tally.seconds += time.monotonic() - started

    def reports(self, reports: Sequence[ReportEvent], retries: int = 20) -> None:
        started = time.monotonic()
        tally = self.report.tallies["reports"]
        by_sender: dict[str, list[ReportEvent]] = defaultdict(list)
        for r in reports:
            by_sender[r.sender].append(r)
        jobs: list[Callable[[], None]] = []
        for sender, mine in by_sender.items():
            stub = report_pb2_grpc.ReportServiceStub(self.channel(sender))
            for batch in chunks(mine, self.max_batch):

                def send(stub: report_pb2_grpc.ReportServiceStub = stub, batch: Sequence[ReportEvent] = batch) -> None:
                    pending = [report_pb(r) for r in batch]
                    for attempt in range(retries):
                        try:
                            res = stub.SubmitReports(
                                report_pb2.SubmitReportsRequest(reports=pending), timeout=self.timeout
                            )
                        except grpc.RpcError as exc:
                            if exc.code() is not grpc.StatusCode.RESOURCE_EXHAUSTED or attempt == retries - 1:
                                raise
                            time.sleep(min(5.0, 0.2 * 2**attempt))
                            continue
                        again = []
                        with self._lock:
                            for m, r in zip(pending, res.results):
                                if r.accepted:
                                    tally.accepted += 1
                                    tally.duplicates += r.duplicate
                                elif r.retryable and attempt < retries - 1:
                                    again.append(m)
                                else:
                                    tally.rejected += 1
                                    tally.errors[r.error[:120]] += 1
                        if not again:
                            return
                        pending = again
                        time.sleep(min(5.0, 0.2 * 2**attempt))

                jobs.append(partial(self._call, "reports", len(batch), send))
        self._parallel(jobs)
        tally.seconds += time.monotonic() - started

    # ---- a whole world ---------------------------------------------------
    def calls(self, world: World, calls: Sequence[Call]) -> None:
        raw = [c for c in calls if world.shipping[c.shipper] is Shipping.RAW]
        agg = [c for c in calls if world.shipping[c.shipper] is Shipping.AGGREGATE]
        if raw:
            self.records(raw)
        if agg:
            self.aggregates(agg)

    def feed(self, world: World, hold: Collection[str] = ()) -> FeedReport:
        """Everything but the evidence about the subjects in ``hold`` (kept for :meth:`submit_live`)."""
        self.registry(world)
        self.honeypots(world)
        held = set(hold)
        self.calls(world, [c for c in world.calls if c.caller not in held])
        self.reports([r for r in world.reports if r.subject not in held])
        return self.report

    def submit_live(self, world: World, subject: str) -> float:
        """Send all the held-back evidence about ``subject``; returns the wall time of the deciding submit.

        Call records first, then the complaints: the complaints' submit is the one that should tip it.
        """
        self.calls(world, [c for c in world.calls if c.caller == subject])
        mine = [r for r in world.reports if r.subject == subject]
        t0 = time.time()
        self.reports(mine)
        return t0
