"""Operators' call and SMS records: validation, keyed hashing, and hourly aggregation.

Raw records are the truth. Intake stores them idempotently (on
``record_id``) with the callee only as a keyed hash (subscriber-number key)
and its sketch positions, and marks the caller's hour. A worker then derives
the hour's aggregate from the stored records of that hour — a pure function,
so a redelivered or repeated aggregation writes the same row, and a resent
record, stored once, is counted once. Operators that cannot ship raw records
send the hourly aggregates themselves, with HyperLogLog sketches of their
callees (``numrep.evidence.sketch``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import NamedTuple

from numrep.errors import InvalidSubject, ValidationError
from numrep.evidence.sketch import _REST_BITS, HyperLogLog, callee_prefix, encode_registers, merge_encoded
from numrep.models import CallAggregate, CallRecord, Channel
from numrep.numbers import SMS, TEL, default_channel, normalize
from numrep.privacy import subscriber_hash
from numrep.scoring import FUTURE_SKEW

_REST_MASK = (1 << _REST_BITS) - 1
MAX_RECORD_ID_CHARS = 128
SHORT_CALL_SECONDS = 10
RING_ONCE_MS = 5_000
RECORDS_SOURCE = "records"
MAX_RING_MS = 10 * 60 * 1000
MAX_TALK_SECONDS = 48 * 3600


class InvalidRecord(ValidationError):
    """A call record or aggregate that cannot be accepted; names the field, never echoes a callee."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid record: {field}: {reason}")
        self.field = field
        self.reason = reason


class RecordInput(NamedTuple):
    """A record as received. ``callee`` is a raw subscriber number: never log this object."""

    record_id: str
    caller: str
    callee: str
    channel: Channel | None
    start: datetime | None
    ring_ms: int = 0
    talk_seconds: int = 0
    international: bool = False

    def __repr__(self) -> str:  # keep the raw callee out of logs and tracebacks
        return f"RecordInput(record_id={self.record_id!r})"


def hour_of(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _pack(normalised: str) -> int:
    """The sketch position of a normalised number, packed as register << 6 | value."""
    h = int.from_bytes(sha256(normalised.encode()).digest()[:8], "big")
    return (h >> _REST_BITS) << 6 | (_REST_BITS + 1 - (h & _REST_MASK).bit_length())


def _prefix_reg(callee: str, cache: dict[str, int] | None) -> int:
    prefix = callee_prefix(callee)
    if cache is None:
        return _pack(prefix)
    if (packed := cache.get(prefix)) is None:
        packed = cache[prefix] = _pack(prefix)
    return packed


def _event_time(t: datetime | None, field: str, now: datetime, lateness: timedelta) -> datetime:
    if t is None:
        raise InvalidRecord(field, "required")
    if t.tzinfo is None:
        raise InvalidRecord(field, "must carry a time zone")
    if t.tzinfo is not UTC:
        t = t.astimezone(UTC)
    if t > now + FUTURE_SKEW:
        raise InvalidRecord(field, "lies in the future")
    if t < now - lateness:
        raise InvalidRecord(field, f"older than the allowed lateness ({lateness.total_seconds() / 86400:g} days)")
    return t


def _caller(raw: str, region: str) -> str:
    try:
        return normalize(raw, region)
    except InvalidSubject as exc:
        raise InvalidRecord("caller", exc.reason) from None


def _channel(caller: str, channel: Channel | None) -> Channel:
    ch = channel or default_channel(caller)
    if ch is Channel.VOICE and caller.startswith(SMS):
        raise InvalidRecord("channel", "SMS ports send messages only; use the sms channel")
    return ch


def validate_record(
    inp: RecordInput,
    subscriber_key: bytes,
    region: str,
    operator: str,
    now: datetime,
    lateness: timedelta,
    callers: dict[str, str] | None = None,
    prefixes: dict[str, int] | None = None,
) -> CallRecord:
    """A storable record, or InvalidRecord naming the field.

    ``callers`` caches normalised callers across a batch: one switch's
    records come from few callers, and normalising is the costliest step.
    ``prefixes`` caches the sketch positions of callees' 10-number blocks
    (consecutive callees share them).
    """
    record_id, raw_caller, raw_callee, channel, start, ring_ms, talk_seconds, international = inp
    record_id = (record_id or "").strip()
    if not record_id:
        raise InvalidRecord("record_id", "required")
    if len(record_id) > MAX_RECORD_ID_CHARS:
        raise InvalidRecord("record_id", f"at most {MAX_RECORD_ID_CHARS} characters")
    if callers is None:
        caller = _caller(raw_caller, region)
    elif (caller := callers.get(raw_caller, "")) == "":
        caller = callers[raw_caller] = _caller(raw_caller, region)
    try:
        callee = normalize(raw_callee, region)
    except InvalidSubject as exc:  # the reason never echoes the callee
        raise InvalidRecord("callee", exc.reason) from None
    if not callee.startswith(TEL):
        raise InvalidRecord("callee", "must be a phone number")
    if callee == caller:
        raise InvalidRecord("callee", "a number cannot call itself")
    if channel is None or channel is Channel.VOICE:
        channel = _channel(caller, channel)
    start = _event_time(start, "start_time", now, lateness)
    if not 0 <= ring_ms <= MAX_RING_MS:
        raise InvalidRecord("ring_ms", f"0 to {MAX_RING_MS}")
    if not 0 <= talk_seconds <= MAX_TALK_SECONDS:
        raise InvalidRecord("talk_seconds", f"0 to {MAX_TALK_SECONDS}")
    # positional (the field order of CallRecord): keywords cost a fifth of this function's time
    return CallRecord(
        record_id,
        caller,
        subscriber_hash(subscriber_key, callee),
        channel,
        start,
        ring_ms,
        talk_seconds,
        international,
        operator,
        _pack(callee),
        _prefix_reg(callee, prefixes),
        now,
    )


class AggregateInput(NamedTuple):
    caller: str
    channel: Channel | None
    hour: datetime | None
    calls: int
    answered: int
    short_calls: int
    ring_once_calls: int
    international_calls: int
    callee_sketch: bytes
    callee_prefix_sketch: bytes


def validate_aggregate(
    inp: AggregateInput, region: str, operator: str, now: datetime, lateness: timedelta
) -> CallAggregate:
    """A storable operator aggregate (source ``operator:<name>``), or InvalidRecord naming the field."""
    caller = _caller(inp.caller, region)
    channel = _channel(caller, inp.channel)
    hour = _event_time(inp.hour, "hour", now, lateness + timedelta(hours=1))
    if hour != hour_of(hour):
        raise InvalidRecord("hour", "must be the start of an hour (minutes and seconds zero)")
    if inp.calls <= 0:
        raise InvalidRecord("calls", "at least 1")
    for name in ("answered", "ring_once_calls", "international_calls"):
        if getattr(inp, name) > inp.calls:
            raise InvalidRecord(name, "cannot exceed calls")
    if inp.short_calls > inp.answered:
        raise InvalidRecord("short_calls", "cannot exceed answered")
    if inp.ring_once_calls > inp.calls - inp.answered:
        raise InvalidRecord("ring_once_calls", "cannot exceed unanswered calls")
    try:
        callees = HyperLogLog.from_bytes(inp.callee_sketch)
        prefixes = HyperLogLog.from_bytes(inp.callee_prefix_sketch)
    except ValidationError as exc:
        raise InvalidRecord("callee_sketch", exc.message) from None
    if callees.is_empty():
        raise InvalidRecord("callee_sketch", "required (a HyperLogLog of the hour's callees)")
    return CallAggregate(
        caller=caller,
        channel=channel,
        hour=hour,
        source=f"operator:{operator}",
        calls=inp.calls,
        answered=inp.answered,
        short_calls=inp.short_calls,
        ring_once_calls=inp.ring_once_calls,
        international_calls=inp.international_calls,
        callees=bytes(inp.callee_sketch),  # validated above: kept as sent
        prefixes=bytes(inp.callee_prefix_sketch) if not prefixes.is_empty() else b"",
    )


class RecordRow(NamedTuple):
    """What aggregation needs of a stored record (the store's inbox row, without ids or times)."""

    caller: str
    hour: datetime
    channel: Channel
    talk_seconds: int
    ring_ms: int
    international: bool
    callee_reg: int
    prefix_reg: int
    callee_hash: str


class _Hour:
    __slots__ = ("calls", "answered", "short", "ring_once", "international", "callees", "prefixes", "hashes")

    def __init__(self) -> None:
        self.calls = self.answered = self.short = self.ring_once = self.international = 0
        self.callees: dict[int, int] = {}
        self.prefixes: dict[int, int] = {}
        self.hashes: set[str] = set()


def aggregate_rows(rows: Iterable[RecordRow], honeypots: frozenset[str] = frozenset()) -> list[CallAggregate]:
    """The aggregates (one per caller, hour and channel) of these records: a pure function of them.

    The worker folds the inbox in slices; an hour's aggregate is then the
    merge (:func:`merge_aggregates`) of its slices' aggregates, the same as
    aggregating all of the hour's records at once.
    """
    acc: dict[tuple[str, datetime, Channel], _Hour] = {}
    for r in rows:
        key = (r.caller, r.hour, r.channel)
        h = acc.get(key)
        if h is None:
            h = acc[key] = _Hour()
        h.calls += 1
        if r.talk_seconds > 0:
            h.answered += 1
            if r.talk_seconds < SHORT_CALL_SECONDS:
                h.short += 1
        elif r.ring_ms <= RING_ONCE_MS:
            h.ring_once += 1
        if r.international:
            h.international += 1
        for regs, packed in ((h.callees, r.callee_reg), (h.prefixes, r.prefix_reg)):
            idx, value = packed >> 6, packed & 63
            if value > regs.get(idx, 0):
                regs[idx] = value
        if honeypots:
            h.hashes.add(r.callee_hash)
    return [
        CallAggregate(
            caller=caller,
            channel=ch,
            hour=hour,
            source=RECORDS_SOURCE,
            calls=h.calls,
            answered=h.answered,
            short_calls=h.short,
            ring_once_calls=h.ring_once,
            international_calls=h.international,
            callees=encode_registers(h.callees),
            prefixes=encode_registers(h.prefixes),
            honeypots=tuple(sorted(h.hashes & honeypots)),
        )
        for (caller, hour, ch), h in sorted(acc.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2].value))
    ]


def merge_aggregates(a: CallAggregate, b: CallAggregate) -> CallAggregate:
    """Two aggregates of one caller, hour, channel and source as one: counts add, sketches merge."""
    return CallAggregate(
        caller=a.caller,
        channel=a.channel,
        hour=a.hour,
        source=a.source,
        calls=a.calls + b.calls,
        answered=a.answered + b.answered,
        short_calls=a.short_calls + b.short_calls,
        ring_once_calls=a.ring_once_calls + b.ring_once_calls,
        international_calls=a.international_calls + b.international_calls,
        callees=merge_encoded(a.callees, b.callees),
        prefixes=merge_encoded(a.prefixes, b.prefixes),
        honeypots=tuple(sorted(set(a.honeypots) | set(b.honeypots))),
    )


def aggregate_hour(
    caller: str, hour: datetime, records: Iterable[CallRecord], honeypots: frozenset[str] = frozenset()
) -> list[CallAggregate]:
    """The aggregates (one per channel) of one caller-hour's stored records: a pure function of them."""
    return aggregate_rows(
        (
            RecordRow(
                caller,
                hour,
                r.channel,
                r.talk_seconds,
                r.ring_ms,
                r.international,
                r.callee_reg,
                r.prefix_reg,
                r.callee_hash,
            )
            for r in records
        ),
        honeypots,
    )


@dataclass(frozen=True, slots=True)
class Behaviour:
    """A subject's merged call behaviour on one channel over the behaviour window."""

    calls: int = 0
    answered: int = 0
    short_calls: int = 0
    ring_once_calls: int = 0
    international_calls: int = 0
    distinct_callees: float = 0.0
    distinct_prefixes: float = 0.0
    honeypots: frozenset[str] = frozenset()
    reached: int = 0  # distinct callees kept in its contacts (early warning), at most the cap
    called_back: int = 0  # how many of them called it back after it first reached them

    @property
    def callback_share(self) -> float:
        return self.called_back / self.reached if self.reached else 0.0

    @property
    def answer_rate(self) -> float:
        return self.answered / self.calls if self.calls else 0.0

    @property
    def short_share(self) -> float:
        return self.short_calls / self.answered if self.answered else 0.0

    @property
    def ring_once_share(self) -> float:
        return self.ring_once_calls / self.calls if self.calls else 0.0

    @property
    def callees_per_prefix(self) -> float:
        return self.distinct_callees / self.distinct_prefixes if self.distinct_prefixes >= 1 else 0.0


def merge(aggregates: Sequence[CallAggregate], channel: Channel) -> Behaviour:
    """Merge hourly aggregates of one channel (any sources): counts add, sketches merge without inflation."""
    rows = [a for a in aggregates if a.channel is channel]
    if not rows:
        return Behaviour()
    callees, prefixes = HyperLogLog(), HyperLogLog()
    for a in rows:  # stored sketches were validated on the way in
        callees.merge_bytes(a.callees)
        prefixes.merge_bytes(a.prefixes)
    return Behaviour(
        calls=sum(a.calls for a in rows),
        answered=sum(a.answered for a in rows),
        short_calls=sum(a.short_calls for a in rows),
        ring_once_calls=sum(a.ring_once_calls for a in rows),
        international_calls=sum(a.international_calls for a in rows),
        distinct_callees=callees.estimate(),
        distinct_prefixes=prefixes.estimate(),
        honeypots=frozenset(h for a in rows for h in a.honeypots),
    )
