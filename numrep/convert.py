"""Translation between protobuf messages and domain records, used at the edges only:
the gRPC servicers (services/) and the client SDK (numrep/sdk/)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from numrep import signing
from numrep.lookup import Verdict, VerdictSource
from numrep.models import (
    Action,
    AllowlistEntry,
    BlockSwitch,
    Category,
    Channel,
    ConfirmedFraud,
    Honeypot,
    ReasonCode,
    ReviewCase,
    Rule,
    RuleKind,
    RulesDelta,
    Source,
)
from numrep.signing import Signer
from numrep.v1 import admin_pb2 as admin_pb
from numrep.v1 import common_pb2 as common_pb
from numrep.v1 import report_pb2 as report_pb
from numrep.v1 import reputation_pb2 as reputation_pb
from numrep.v1 import rules_pb2 as rules_pb

E = TypeVar("E")

CHANNEL_TO_PB = {Channel.VOICE: common_pb.CHANNEL_VOICE, Channel.SMS: common_pb.CHANNEL_SMS}
CHANNEL_FROM_PB = {v: k for k, v in CHANNEL_TO_PB.items()}
ACTION_TO_PB = {
    Action.ALLOW: common_pb.ACTION_ALLOW,
    Action.LABEL: common_pb.ACTION_LABEL,
    Action.BLOCK: common_pb.ACTION_BLOCK,
}
ACTION_FROM_PB = {v: k for k, v in ACTION_TO_PB.items()}
CATEGORY_TO_PB = {c: common_pb.Category.Value(f"CATEGORY_{c.name}") for c in Category}
CATEGORY_FROM_PB = {v: k for k, v in CATEGORY_TO_PB.items()}
SOURCE_FROM_PB = {report_pb.ReportSource.Value(f"REPORT_SOURCE_{s.name}"): s for s in Source}
# The service's sources; the local list's own (LOCAL_MISS, SERVICE, ...) never go on the wire.
SERVICE_SOURCES = (
    VerdictSource.PROTECTED,
    VerdictSource.RANGE_RULE,
    VerdictSource.FILTER,
    VerdictSource.STORE,
    VerdictSource.PUBLISHED_RULES,
)
VERDICT_SOURCE_TO_PB = {s: reputation_pb.VerdictSource.Value(f"VERDICT_SOURCE_{s.name}") for s in SERVICE_SOURCES}
_FILTER_PB = VERDICT_SOURCE_TO_PB[VerdictSource.FILTER]
REASON_CODE_TO_PB = {c: common_pb.ReasonCode.Value(f"REASON_CODE_{c.name}") for c in ReasonCode}
REASON_CODE_FROM_PB = {v: k for k, v in REASON_CODE_TO_PB.items()}
RULE_KIND_TO_PB = {k: rules_pb.RuleKind.Value(f"RULE_KIND_{k.name}") for k in RuleKind}
RULE_KIND_FROM_PB = {v: k for k, v in RULE_KIND_TO_PB.items()}


def enum_or_none(mapping: Mapping[Any, E], value: int, field: str) -> E | None:
    """Map a proto enum value; UNSPECIFIED (0) is None; an unknown number is an error."""
    if value == 0:
        return None
    try:
        return mapping[value]
    except KeyError:
        from numrep.errors import ValidationError

        raise ValidationError(f"{field}: unknown value {value}") from None


def timestamp(dt: datetime | None) -> Timestamp | None:
    if dt is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(dt.astimezone(UTC))
    return ts


def from_timestamp(ts: Timestamp, field: str = "timestamp") -> datetime:
    """A UTC datetime (to the microsecond); called once per call record, so without ToDatetime's overhead.

    A time outside what a datetime holds (years 1-9999) or nanos outside 0-999,999,999 is a
    ValidationError naming ``field``.
    """
    try:
        return datetime.fromtimestamp(ts.seconds, UTC).replace(microsecond=ts.nanos // 1000)
    except (OverflowError, OSError, ValueError):
        from numrep.errors import ValidationError

        raise ValidationError(
            f"{field}: seconds {ts.seconds}, nanos {ts.nanos} is not a valid time (years 1-9999, nanos 0-999999999)"
        ) from None


def redress_of(url: str, hotline: str) -> common_pb.Redress:
    """The platform's redress contact (settings ``redress_url``, ``redress_hotline``), without a case."""
    return common_pb.Redress(url=url, hotline=hotline)


def verdict(v: Verdict, request_id: str = "", redress: common_pb.Redress | None = None) -> reputation_pb.LookupResponse:
    """The response for ``v``; a LABEL or BLOCK carries its reason code and ``redress`` with the verdict's case."""
    if v.source is VerdictSource.FILTER:  # the hot path: a filter miss has nothing more to say
        return reputation_pb.LookupResponse(
            subject=v.subject,
            channel=CHANNEL_TO_PB[v.channel],
            action=ACTION_TO_PB[v.action],
            source=_FILTER_PB,
            version=v.version,
            request_id=request_id,
        )
    return reputation_pb.LookupResponse(
        subject=v.subject,
        channel=CHANNEL_TO_PB[v.channel],
        action=ACTION_TO_PB[v.action],
        score=v.score,
        top_category=CATEGORY_TO_PB[v.top_category] if v.top_category else common_pb.CATEGORY_UNSPECIFIED,
        categories=[
            common_pb.CategoryCount(category=CATEGORY_TO_PB[c], reporters=n)
            for c, n in sorted(v.categories.items(), key=lambda kv: (-kv[1], kv[0].value))
        ],
        reasons=list(v.reasons),
        protected=v.protected,
        source=VERDICT_SOURCE_TO_PB[v.source],
        version=v.version,
        request_id=request_id,
        reason_code=REASON_CODE_TO_PB[v.code] if v.code is not None else common_pb.REASON_CODE_UNSPECIFIED,
        redress=(
            common_pb.Redress(url=redress.url, hotline=redress.hotline, case_id=v.case_id)
            if redress is not None and v.action is not Action.ALLOW
            else None
        ),
    )


def verdict_from_pb(m: reputation_pb.LookupResponse, subject: str, channel: Channel, source: VerdictSource) -> Verdict:
    """The service's answer to a lookup of ``subject`` on ``channel``, attributed to ``source`` (the local list's view)."""
    return Verdict(
        subject,
        channel,
        ACTION_FROM_PB[m.action],
        source,
        m.version,
        score=m.score,
        categories={CATEGORY_FROM_PB[c.category]: c.reporters for c in m.categories},
        top_category=CATEGORY_FROM_PB.get(m.top_category),
        reasons=tuple(m.reasons),
        protected=m.protected,
        code=REASON_CODE_FROM_PB.get(m.reason_code),
        case_id=m.redress.case_id,
    )


def rule(r: Rule) -> rules_pb.Rule:
    return rules_pb.Rule(
        rule_id=r.rule_id,
        kind=RULE_KIND_TO_PB[r.kind],
        subject=r.subject,
        channel=CHANNEL_TO_PB[r.channel],
        action=ACTION_TO_PB[r.action],
        category=CATEGORY_TO_PB[r.category],
        reason=r.reason,
        issued_at=timestamp(r.issued_at),
        expires_at=timestamp(r.expires_at),
        reason_code=REASON_CODE_TO_PB[r.code] if r.code is not None else common_pb.REASON_CODE_UNSPECIFIED,
    )


def rule_from_pb(m: rules_pb.Rule) -> Rule:
    return Rule(
        rule_id=m.rule_id,
        kind=RULE_KIND_FROM_PB[m.kind],
        subject=m.subject,
        channel=CHANNEL_FROM_PB[m.channel],
        action=ACTION_FROM_PB[m.action],
        category=CATEGORY_FROM_PB[m.category],
        reason=m.reason,
        issued_at=from_timestamp(m.issued_at, "issued_at"),
        expires_at=from_timestamp(m.expires_at, "expires_at") if m.HasField("expires_at") else None,
        code=REASON_CODE_FROM_PB.get(m.reason_code),
    )


def rules_update(
    d: RulesDelta, min_wait_seconds: float, signer: Signer, epoch: int, added: list[rules_pb.Rule] | None = None
) -> rules_pb.RulesUpdate:
    """The signed message for ``d`` in feed ``epoch``, issued now (``added``: the rules already converted)."""
    msg = rules_pb.RulesUpdate(
        version=d.version,
        from_version=d.from_version,
        full_snapshot=d.full_snapshot,
        added=[rule(r) for r in d.added] if added is None else added,
        removed=list(d.removed),
        checksum=d.checksum,
        key_id=signer.key_id,
        epoch=epoch,
    )
    msg.issued_at.GetCurrentTime()
    msg.issued_at.nanos -= msg.issued_at.nanos % 1000  # microseconds: what every client's clock can carry
    msg.signature = signer.sign(
        signing.statement(epoch, d.version, d.checksum, msg.issued_at.seconds, msg.issued_at.nanos)
    )
    msg.min_wait.FromNanoseconds(int(min_wait_seconds * 1e9))
    return msg


def allowlist_entry(e: AllowlistEntry) -> admin_pb.AllowlistEntry:
    return admin_pb.AllowlistEntry(
        subject=e.subject, reason=e.reason, added_by=e.added_by, added_at=timestamp(e.added_at)
    )


def honeypot(h: Honeypot) -> admin_pb.Honeypot:
    return admin_pb.Honeypot(number=h.number, operator=h.operator, note=h.note, added_at=timestamp(h.added_at))


def confirmed_fraud(f: ConfirmedFraud) -> admin_pb.ConfirmedFraud:
    return admin_pb.ConfirmedFraud(
        subject=f.subject,
        case_id=f.case_id,
        expires_at=timestamp(f.expires_at),
        actor=f.actor,
        reason=f.reason,
        confirmed_at=timestamp(f.confirmed_at),
    )


def review_case(c: ReviewCase) -> admin_pb.ReviewCase:
    return admin_pb.ReviewCase(
        case_id=c.case_id,
        subject=c.subject,
        kind=c.kind.value,
        summary=c.summary,
        opened_at=timestamp(c.opened_at),
        state="open" if c.open else "decided",
        decision=c.decision.value if c.decision else "",
        actor=c.actor,
        reason=c.reason,
        decided_at=timestamp(c.decided_at),
    )


def block_switch(s: BlockSwitch) -> admin_pb.BlockSwitch:
    return admin_pb.BlockSwitch(
        block_to_label=s.block_to_label, actor=s.actor, reason=s.reason, set_at=timestamp(s.set_at)
    )
