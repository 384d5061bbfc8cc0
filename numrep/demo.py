"""A small, deterministic demo data set drawn from the regulator's public figures.

Complaint categories follow the complaint center's quarterly mix (loans and
finance 60.9 %, retail 12.5 %, insurance 8.0 %, education 7.3 %, other
11.3 %); virtual-operator 170/171 numbers carry much of the abuse; a bank's
95xxx line is reported heavily but stays protected.

Every BLOCK rests on evidence scoring v2 trusts: the operator's call records
(behaviour, and victims' reports they corroborate), reports an operator
attests for its own subscribers, a shut-down SMS port. Complaints from ids
nobody vouches for label at most, and a burst of them on a business line is
held for review. Ids are UUIDv5 of fixed names, so loading twice changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from numrep import intake
from numrep.config import Settings
from numrep.evidence.records import RecordInput, validate_record
from numrep.evidence.trust import Attestor
from numrep.models import Allocation, Category, Channel, HolderType, PortBlacklistEntry, Report, Source
from numrep.store.base import Store

NAMESPACE = uuid.UUID("8c1f3a52-5e0b-4c43-9d8e-6a1f0b7d2c11")
MOBILE = "China Mobile"

REGISTRY = (
    Allocation("tel:+86139", MOBILE, HolderType.OPERATOR, 100_000_000),
    Allocation("tel:+86150", MOBILE, HolderType.OPERATOR, 100_000_000),
    Allocation("tel:+86186", "China Unicom", HolderType.OPERATOR, 100_000_000),
    Allocation("tel:+86138", MOBILE, HolderType.OPERATOR, 100_000_000),
    Allocation("tel:+86170", "Virtual Mobile Co", HolderType.RESELLER, 10_000_000),
    Allocation("tel:+86171", "Virtual Mobile Co", HolderType.RESELLER, 10_000_000),
    Allocation("sms:10657", MOBILE, HolderType.OPERATOR, 1_000_000),
)


@dataclass(frozen=True)
class DemoSubject:
    number: str
    reporters: int
    category: Category
    channel: Channel
    note: str
    evidence: str = "app"  # app: unverified ids; corroborated: victims the records show; attested: the operator's hotline
    calls: int = 0  # call records of the subject (the operator's export)
    answer_rate: float = 0.0
    sequential: bool = False


SUBJECTS: tuple[DemoSubject, ...] = (
    DemoSubject("17012345678", 24, Category.LOANS_FINANCE, Channel.VOICE,
                "virtual-operator loan spam, sequential dialling, victims corroborated → BLOCK",
                "corroborated", calls=600, answer_rate=0.15, sequential=True),
    DemoSubject("17198765432", 18, Category.FRAUD, Channel.VOICE, "virtual-operator ring-once fraud → BLOCK",
                "corroborated", calls=400, answer_rate=0.05),
    DemoSubject("13912345678", 12, Category.INSURANCE, Channel.VOICE,
                "insurance sales, reported through the operator's hotline (attested) → BLOCK", "attested"),
    DemoSubject("15012345678", 5, Category.EDUCATION_TRAINING, Channel.VOICE, "training offers, app reports → LABEL"),
    DemoSubject("18612345678", 6, Category.LOANS_FINANCE, Channel.VOICE, "loan offers, app reports → LABEL"),
    DemoSubject("13800138000", 40, Category.FRAUD, Channel.VOICE,
                "a business line bombed by 40 fresh accounts → LABEL (held, a review case open)"),
    DemoSubject("95588", 200, Category.FRAUD, Channel.VOICE, "bank line, heavily reported → ALLOW (protected)"),
    DemoSubject("13700137000", 1, Category.OTHER, Channel.VOICE, "one complaint → ALLOW"),
    DemoSubject("13600136000", 2, Category.RETAIL, Channel.VOICE, "two complaints → ALLOW"),
)
PORTS = (PortBlacklistEntry("sms:10657000123456", "Shenzhen Quick Retail SMS Co", "unsolicited retail marketing",
                            "MIIT", date(2026, 10, 15)),)


def victim(subject_index: int, i: int) -> str:
    """A China Mobile subscriber reached by demo subject ``subject_index``."""
    return f"+86139{subject_index:02d}{i:06d}"


def _called_at(c: int, now: datetime) -> datetime:
    return now - timedelta(hours=2 + (c * 5) % 70, minutes=c % 60)


def _reported_at(subj: DemoSubject, i: int, now: datetime) -> datetime:
    if subj.calls > i:  # a victim the records show was called: it complains half an hour after the call
        return _called_at(i, now) + timedelta(minutes=30)
    if subj.evidence == "app" and subj.reporters > 20:  # a burst of fresh accounts within the last hour
        return now - timedelta(minutes=i % 60)
    return now - timedelta(hours=(i * 7) % 60, minutes=i % 50)


def load(store: Store, settings: Settings, now: datetime | None = None) -> tuple[int, int]:
    """Load the demo registry, port blacklist, call records and reports; returns (new, duplicates) reports."""
    now = now or datetime.now(timezone.utc)
    store.put_allocations(REGISTRY)
    store.add_port_blacklist(PORTS)
    attest = Attestor(store, refresh_seconds=0).for_operator(MOBILE)
    lateness = timedelta(days=settings.record_lateness_days)
    records = []
    reports: list[Report] = []
    for k, subj in enumerate(SUBJECTS):
        for c in range(subj.calls):
            answered = (c * 7919) % 100 < subj.answer_rate * 100
            callee = victim(k, c) if subj.sequential or c < subj.reporters else f"+86138{(c * 104729) % 10**8:08d}"
            records.append(validate_record(RecordInput(
                record_id=str(uuid.uuid5(NAMESPACE, f"call/{subj.number}/{c}")), caller=subj.number, callee=callee,
                channel=Channel.VOICE, start=_called_at(c, now),
                ring_ms=2000 if not answered else 8000, talk_seconds=6 if answered else 0,
            ), settings.subscriber_key, settings.region, MOBILE, now, lateness))
        for i in range(subj.reporters):
            vouched = subj.evidence in ("corroborated", "attested")
            inp = intake.ReportInput(
                report_id=str(uuid.uuid5(NAMESPACE, f"{subj.number}/{i}")),
                reporter_id=f"demo-{subj.evidence}-{k}-{i:04d}",
                subject=subj.number,
                channel=subj.channel,
                category=subj.category,
                occurred_at=_reported_at(subj, i, now),
                source=Source.HOTLINE if subj.evidence == "attested" else Source.APP,
                reporter_number=victim(k, i) if vouched else "",
            )
            reports.append(intake.validate(inp, settings.hmac_key, settings.region, now, settings.subscriber_key,
                                           attest if subj.evidence == "attested" else None))
    store.add_call_records(records)
    accepted = intake.accept(store, reports)
    dup = sum(a.duplicate for a in accepted)
    return len(accepted) - dup, dup
