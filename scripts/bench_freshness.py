"""Freshness under load: from the deciding report to BLOCK on ``Lookup`` and to the rule on ``WatchRules``.

    python -m scripts.bench_freshness [--backend embedded|clustered|both] [--samples 10]
                                      [--report-rate 3700] [--record-rate 5000] [--json FILE]

For each backend it starts the platform as processes (the gRPC server and a real
Celery worker with beat; ``clustered`` adds a three-node Cassandra ring on
127.0.0.1-3 and a Redis server on 127.0.0.1), then measures the same sample
twice: first idle (the baseline, measured in the same run), then while client
threads keep a steady background ingest flowing over the public API:
``SubmitReports`` (unverified complaints about a pool of 50,000 numbers, which
dirty subjects the worker must rescore) and ``SubmitCallRecords`` (a switch's
export for 5,000 callers), each paced at the chosen rate.

A sample is one fresh number: the operator's records show it called three
people, two of them report it (corroborated, not enough), and the third
report is the deciding one. The clock starts when the deciding report is
acknowledged; it stops when ``Lookup`` first answers BLOCK (polled every
20 ms) and when the subject's BLOCK rule arrives on a ``WatchRules`` stream
opened before the report.

Not a test: it prints the ingest rates reached and p50 / p99 / worst latency,
with the ratio of loaded to idle medians. On two shared cores the client, the
server, the worker (and the ring) compete for the same CPUs; quote medians.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc

from evaluation.platform import Platform, free_port
from numrep.sdk.client import Client
from numrep.v1 import common_pb2, report_pb2, rules_pb2

SAMPLE_TIMEOUT = 60.0
REPORT_BATCH = 200
RECORD_BATCH = 1000
CATEGORIES = ["loans_finance", "retail", "insurance", "education_training", "other"]


@dataclass
class Sample:
    lookup: float | None = None  # seconds from the deciding report to BLOCK on Lookup
    watch: float | None = None  # ... to the BLOCK rule on WatchRules


@dataclass
class Phase:
    name: str
    samples: list[Sample] = field(default_factory=list)
    reports_per_second: float = 0.0
    records_per_second: float = 0.0

    def figures(self, attr: str) -> dict[str, float | int | None]:
        values = sorted(v for s in self.samples if (v := getattr(s, attr)) is not None)
        if not values:
            return {"n": 0, "missed": len(self.samples), "p50": None, "p99": None, "worst": None}
        p99 = values[min(len(values) - 1, max(0, round(0.99 * len(values)) - 1))]
        return {
            "n": len(values),
            "missed": len(self.samples) - len(values),
            "p50": statistics.median(values),
            "p99": p99,
            "worst": values[-1],
        }


def victim(k: int, i: int) -> str:
    return f"139{k:04d}{i:04d}"


def measure(platform: Platform, client: Client, k: int) -> Sample:
    """One fresh subject: two corroborated complaints, then the deciding third."""
    subject = f"tel:+861330{k:07d}"
    at = datetime.now(UTC) - timedelta(hours=1)
    client.submit_call_records(
        client.call_record(f"fresh-{k}-{i}-{uuid.uuid4()}", subject, victim(k, i), at) for i in range(3)
    )
    for i in range(2):
        client.report(subject, f"fresh-{k}-{i}", "fraud", reporter_number=victim(k, i))
    deadline = time.monotonic() + SAMPLE_TIMEOUT
    while (rep := platform.store().get_reputation(subject)) is None or rep.reporters < 2:
        if time.monotonic() > deadline:
            print(f"  sample {k}: the first two reports were not scored within {SAMPLE_TIMEOUT:.0f} s")
            return Sample()
        time.sleep(0.05)

    sample = Sample()
    opened = threading.Event()
    start: list[float] = []
    held = client.get_rules(0).version
    stream = client.rules.WatchRules(rules_pb2.GetRulesRequest(since_version=held), timeout=SAMPLE_TIMEOUT + 10)

    def watch() -> None:
        try:
            for update in stream:
                opened.set()
                if any(r.rule_id == f"{subject}#voice" and r.action == common_pb2.ACTION_BLOCK for r in update.added):
                    sample.watch = time.monotonic() - start[0]
                    return
        except grpc.RpcError:
            pass
        finally:
            opened.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    opened.wait(10)
    client.report(subject, f"fresh-{k}-2", "fraud", reporter_number=victim(k, 2))
    start.append(time.monotonic())
    deadline = start[0] + SAMPLE_TIMEOUT
    while time.monotonic() < deadline:
        if client.lookup(subject).action == common_pb2.ACTION_BLOCK:
            sample.lookup = time.monotonic() - start[0]
            break
        time.sleep(0.02)
    watcher.join(max(0.0, deadline - time.monotonic()))
    stream.cancel()
    return sample


class Load:
    """Background ingest over gRPC, paced: reports and call records from their own threads."""

    def __init__(self, address: str, report_rate: float, record_rate: float) -> None:
        self.address = address
        self.rates = {"reports": report_rate, "records": record_rate}
        self.sent = {"reports": 0, "records": 0}
        self.errors = {"reports": 0, "records": 0}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(kind,), daemon=True)
            for kind, rate in self.rates.items()
            if rate > 0
        ]
        self.started = self.stopped = 0.0

    def _batch(self, kind: str, rng: random.Random, client: Client, n: int) -> list[object]:
        if kind == "reports":
            return [
                report_pb2.Report(
                    report_id=str(uuid.UUID(int=rng.getrandbits(128))),
                    reporter_id=f"load-{rng.getrandbits(40)}",
                    subject=f"tel:+86170{rng.randrange(50_000):08d}",
                    category=common_pb2.Category.Value(f"CATEGORY_{rng.choice(CATEGORIES).upper()}"),
                    source=report_pb2.REPORT_SOURCE_APP,
                )
                for _ in range(n)
            ]
        at = datetime.now(UTC) - timedelta(minutes=5)
        return [
            client.call_record(
                f"load-{rng.getrandbits(64)}",
                f"+86171{rng.randrange(5_000):08d}",
                f"+86138{rng.randrange(10**8):08d}",
                at,
                ring_ms=2500,
                talk_seconds=rng.randrange(60),
            )
            for _ in range(n)
        ]

    def _run(self, kind: str) -> None:
        rng = random.Random(kind)
        size = REPORT_BATCH if kind == "reports" else RECORD_BATCH
        interval = size / self.rates[kind]
        with Client(self.address, timeout=30) as client:
            due = time.monotonic()
            while not self._stop.is_set():
                batch = self._batch(kind, rng, client, size)
                try:
                    if kind == "reports":
                        client.submit_reports(batch)  # type: ignore[arg-type]
                    else:
                        client.submit_call_records(batch)  # type: ignore[arg-type]
                    self.sent[kind] += size
                except grpc.RpcError:
                    self.errors[kind] += 1
                due += interval
                time.sleep(max(0.0, due - time.monotonic()))

    def __enter__(self) -> Load:
        self.started = time.monotonic()
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(60)
        self.stopped = time.monotonic()

    def rate(self, kind: str) -> float:
        return self.sent[kind] / max(1e-9, (self.stopped or time.monotonic()) - self.started)


@contextmanager
def clustered_env(workdir: Path) -> Iterator[dict[str, str]]:
    """A three-node ring on 127.0.0.1-3 (taking turns with test sessions) and a Redis server."""
    from scripts.cassandra import LocalCluster

    redis_exe = shutil.which("redis-server")
    if redis_exe is None:
        raise SystemExit("redis-server is not installed (scripts/system-deps.sh installs it)")
    with open(Path(os.environ.get("TMPDIR", "/tmp")) / "numrep-cassandra.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cluster = LocalCluster(workdir / "cassandra", nodes=3)
        port = free_port()
        redis = subprocess.Popen(
            [
                redis_exe,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            print(f"Cassandra ring of 3 ready in {cluster.start():.1f}s")
            yield {
                "NUMREP_STORE": "cassandra",
                "NUMREP_CASSANDRA_HOSTS": ",".join(cluster.contact_points),
                "NUMREP_CASSANDRA_KEYSPACE": "numrep_freshness",
                "NUMREP_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            }
        finally:
            redis.terminate()
            redis.wait(30)
            cluster.stop()


def run_backend(name: str, workdir: Path, args: argparse.Namespace) -> list[Phase]:
    env_cm = clustered_env(workdir) if name == "clustered" else nullcontext({})
    with env_cm as extra:
        # The background ingest comes from one peer: lift the per-operator intake limit so the rate is the one asked for.
        platform = Platform(workdir / "platform", {**extra, "NUMREP_OPERATOR_REPORTS_PER_SECOND": "0"})
        platform.data_dir.mkdir(parents=True, exist_ok=True)
        platform.migrate()
        platform.start_server()
        platform.start_worker()
        try:
            idle, loaded = Phase("idle"), Phase("under load")
            with Client(platform.address, timeout=10) as client:
                client.wait_ready()
                k = 0
                measure(platform, client, 9999)  # warm-up, not counted
                for _ in range(args.samples):
                    idle.samples.append(measure(platform, client, k))
                    k += 1
                with Load(platform.address, args.report_rate, args.record_rate) as load:
                    time.sleep(args.warmup)
                    for _ in range(args.samples):
                        loaded.samples.append(measure(platform, client, k))
                        k += 1
                loaded.reports_per_second, loaded.records_per_second = load.rate("reports"), load.rate("records")
                if any(load.errors.values()):
                    print(f"  background batches refused: {load.errors}")
            return [idle, loaded]
        finally:
            platform.stop()


def fmt(v: float | int | None) -> str:
    return "—" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["embedded", "clustered", "both"], default="both")
    parser.add_argument("--samples", type=int, default=10, help="deciding reports per phase")
    parser.add_argument("--report-rate", type=float, default=3700.0, help="background reports/s (0: none)")
    parser.add_argument("--record-rate", type=float, default=5000.0, help="background call records/s (0: none)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before sampling")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    backends = ["embedded", "clustered"] if args.backend == "both" else [args.backend]
    results: dict[str, dict[str, object]] = {}
    for name in backends:
        with tempfile.TemporaryDirectory(prefix=f"numrep-freshness-{name}-") as tmp:
            print(
                f"\n== {name}: {args.samples} samples idle, then under load "
                f"({args.report_rate:.0f} reports/s + {args.record_rate:.0f} records/s asked)"
            )
            phases = run_backend(name, Path(tmp), args)
        print(f"{'phase':<12} {'path':<11} {'n':>3} {'missed':>6} {'p50 s':>7} {'p99 s':>7} {'worst s':>8}")
        for phase in phases:
            for attr, label in (("lookup", "Lookup"), ("watch", "WatchRules")):
                f = phase.figures(attr)
                print(
                    f"{phase.name:<12} {label:<11} {f['n']:>3} {f['missed']:>6} {fmt(f['p50']):>7} "
                    f"{fmt(f['p99']):>7} {fmt(f['worst']):>8}"
                )
        idle, loaded = phases
        print(
            f"ingest reached under load: {loaded.reports_per_second:,.0f} reports/s, "
            f"{loaded.records_per_second:,.0f} records/s"
        )
        ratios = {}
        for attr in ("lookup", "watch"):
            a, b = idle.figures(attr)["p50"], loaded.figures(attr)["p50"]
            if isinstance(a, float) and isinstance(b, float) and a > 0:
                ratios[attr] = b / a
                print(f"{attr}: loaded p50 / idle p50 = {b / a:.2f}×")
        results[name] = {
            "phases": {
                p.name: {
                    "lookup": p.figures("lookup"),
                    "watch": p.figures("watch"),
                    "reports_per_second": p.reports_per_second,
                    "records_per_second": p.records_per_second,
                }
                for p in phases
            },
            "ratios": ratios,
        }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
