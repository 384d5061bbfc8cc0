"""Call records: validation, keyed hashing, and hourly aggregation that merges like an operator's sketch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from numrep.evidence.records import (
    AggregateInput,
    InvalidRecord,
    RecordInput,
    aggregate_hour,
    hour_of,
    merge,
    validate_aggregate,
    validate_record,
)
from numrep.evidence.sketch import HyperLogLog
from numrep.models import Channel
from numrep.privacy import subscriber_hash

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
KEY = b"s" * 64
LATE = timedelta(days=7)


def inp(i: int, **kw: object) -> RecordInput:
    base = dict(
        record_id=f"r{i}",
        caller="+8617012345678",
        callee=f"+86139{i:08d}",
        channel=Channel.VOICE,
        start=NOW - timedelta(minutes=10 + i % 20),
        ring_ms=3000,
        talk_seconds=0,
    )
    base.update(kw)
    return RecordInput(**base)  # type: ignore[arg-type]


def test_a_valid_record_keeps_the_callee_only_as_a_keyed_hash() -> None:
    rec = validate_record(inp(1, callee="139 0000 0001"), KEY, "CN", "China Mobile", NOW, LATE)
    assert rec.caller == "tel:+8617012345678" and rec.operator == "China Mobile"
    assert rec.callee_hash == subscriber_hash(KEY, "tel:+8613900000001")
    assert "13900000001" not in repr(rec) and "139" not in repr(inp(1))


@pytest.mark.parametrize(
    "change, field, reason",
    [
        (dict(record_id=""), "record_id", "required"),
        (dict(record_id="x" * 129), "record_id", "at most 128"),
        (dict(caller="abc"), "caller", "contains letters"),
        (dict(callee="+86170123456789012"), "callee", "too many digits"),
        (dict(callee="10657000123"), "callee", "must be a phone number"),
        (dict(callee="+8617012345678"), "callee", "cannot call itself"),
        (dict(caller="10657000123", channel=Channel.VOICE), "channel", "SMS ports send messages only"),
        (dict(start=None), "start_time", "required"),
        (dict(start=datetime(2026, 11, 20, 12)), "start_time", "time zone"),
        (dict(start=NOW + timedelta(hours=1)), "start_time", "future"),
        (dict(start=NOW - timedelta(days=8)), "start_time", "allowed lateness"),
        (dict(ring_ms=-1), "ring_ms", "0 to"),
    ],
)
def test_bad_records_name_the_field(change: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(InvalidRecord) as exc:
        validate_record(inp(1, **change), KEY, "CN", "op", NOW, LATE)
    assert exc.value.field == field and reason in exc.value.reason


def test_an_hour_aggregates_like_the_operators_sketch_of_the_same_callees() -> None:
    callees = [f"+86139{i:08d}" for i in range(200)]
    records = [
        validate_record(
            inp(i, callee=c, talk_seconds=(0 if i % 4 else 5), ring_ms=2000 if i % 2 else 9000),
            KEY,
            "CN",
            "op",
            NOW,
            LATE,
        )
        for i, c in enumerate(callees)
    ]
    [agg] = aggregate_hour("tel:+8617012345678", hour_of(NOW), records, honeypots=frozenset({records[3].callee_hash}))
    assert (agg.calls, agg.answered, agg.short_calls) == (200, 50, 50)
    assert agg.ring_once_calls == 100  # unanswered (i % 4 != 0) with ring <= 5 s (odd i)
    assert agg.honeypots == (records[3].callee_hash,)
    expected = HyperLogLog.of(f"tel:{c}" for c in callees)
    assert HyperLogLog.from_bytes(agg.callees).registers == expected.registers
    assert aggregate_hour(
        "tel:+8617012345678", hour_of(NOW), list(reversed(records)), frozenset({records[3].callee_hash})
    ) == [agg]  # a pure function of the hour's records


def test_merging_hours_and_sources_counts_distinct_callees_once() -> None:
    recs = [
        validate_record(
            inp(i, callee=f"+86139{i % 50:08d}", start=NOW - timedelta(hours=i % 3, minutes=1)),
            KEY,
            "CN",
            "op",
            NOW,
            LATE,
        )
        for i in range(150)
    ]
    hours = {hour_of(r.start) for r in recs}
    aggs = [
        a for h in hours for a in aggregate_hour("tel:+8617012345678", h, [r for r in recs if hour_of(r.start) == h])
    ]
    b = merge(aggs, Channel.VOICE)
    assert b.calls == 150 and abs(b.distinct_callees - 50) < 3
    assert merge(aggs, Channel.SMS).calls == 0


def test_operator_aggregates_are_checked() -> None:
    sketch = HyperLogLog.of(["tel:+8613900000001"]).to_bytes()
    ok = AggregateInput("+8617012345678", None, hour_of(NOW) - timedelta(hours=1), 10, 4, 2, 3, 0, sketch, sketch)
    agg = validate_aggregate(ok, "CN", "Unicom", NOW, LATE)
    assert agg.source == "operator:Unicom" and agg.channel is Channel.VOICE
    for bad, field in [
        (ok._replace(hour=NOW), "hour"),
        (ok._replace(calls=0), "calls"),
        (ok._replace(short_calls=5), "short_calls"),
        (ok._replace(ring_once_calls=7), "ring_once_calls"),
        (ok._replace(callee_sketch=b""), "callee_sketch"),
        (ok._replace(callee_sketch=b"\x09"), "callee_sketch"),
    ]:
        with pytest.raises(InvalidRecord) as exc:
            validate_aggregate(bad, "CN", "Unicom", NOW, LATE)
        assert exc.value.field == field
