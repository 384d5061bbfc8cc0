"""A small, deterministic demo data set drawn from the regulator's public figures.

* A number-resource registry: three operators and two resellers (virtual
  operators) holding the 170 and 171 ranges.
* Featured subjects (``SUBJECTS``), each ending as its note says, reported in
  the last three days; a bank's 95xxx line is reported heavily but stays
  protected, and the spam list names it only among the complaints against
  protected numbers.
* Background complaints over the current and the previous quarter, so that
  the spam list's trends compare: the complaint center's quarterly mix (loans
  and finance 60.9 %, retail 12.5 %, insurance 8.0 %, education 7.3 %, other
  — fraud included — 11.3 %) over the current quarter, with the 170/171
  resellers carrying about 40 % of it (30 % the quarter before).
* An SMS-port blacklist with ports shut down in both quarters.
* Complaint handling: holders acknowledge and resolve the complaints routed to
  them, mostly on time; the resellers often late, so they fail the SLA.

Every BLOCK rests on evidence scoring v2 trusts: the operator's call records
(behaviour, and victims' reports they corroborate), reports an operator
attests for its own subscribers, a shut-down SMS port. Complaints from ids
nobody vouches for label at most (a background subject takes at most 14 of
them, spread over days: never a surge), and a burst of them on a business
line is held for review. Every time is a function of ``now`` and ids are
UUIDv5 of fixed names, so loading twice at the same ``now`` changes nothing
and two stores loaded at the same ``now`` publish the same bytes.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from numrep import intake
from numrep.config import Settings
from numrep.evidence.records import RecordInput, validate_record
from numrep.evidence.trust import Attestor
from numrep.models import (
    Allocation,
    CaseEvent,
    CaseStep,
    Category,
    Channel,
    HolderType,
    PortBlacklistEntry,
    Report,
    Source,
)
from numrep.numbers import normalize
from numrep.pipeline import load_protected
from numrep.regulator.periods import Period
from numrep.regulator.registry import Registry
from numrep.store.base import Store

NAMESPACE = uuid.UUID("8c1f3a52-5e0b-4c43-9d8e-6a1f0b7d2c11")
MOBILE, UNICOM, TELECOM = "China Mobile", "China Unicom", "China Telecom"
RESELLERS = ("Virtual Mobile Co", "Skyline Telecom")

# The business line bombed below (138…) lies outside the registry: its complaints route to no holder.
REGISTRY = (
    Allocation("tel:+86139", MOBILE, HolderType.OPERATOR, 100_000_000),
    Allocation("tel:+86150", MOBILE, HolderType.OPERATOR, 100_000_000),
    Allocation("tel:+86186", UNICOM, HolderType.OPERATOR, 100_000_000),
    Allocation("tel:+86130", UNICOM, HolderType.OPERATOR, 100_000_000),
    Allocation("tel:+86189", TELECOM, HolderType.OPERATOR, 100_000_000),
    Allocation("tel:+86133", TELECOM, HolderType.OPERATOR, 100_000_000),
    Allocation("tel:+86170", RESELLERS[0], HolderType.RESELLER, 1_000_000),
    Allocation("tel:+86171", RESELLERS[1], HolderType.RESELLER, 1_000_000),
    Allocation("sms:10657", MOBILE, HolderType.OPERATOR, 1_000_000),
    Allocation("sms:10655", UNICOM, HolderType.OPERATOR, 1_000_000),
    Allocation("sms:10659", TELECOM, HolderType.OPERATOR, 1_000_000),
)


@dataclass(frozen=True)
class DemoSubject:
    number: str
    reporters: int
    category: Category
    channel: Channel
    note: str
    evidence: str = (
        "app"  # app: unverified ids; corroborated: victims the records show; attested: the operator's hotline
    )
    calls: int = 0  # call records of the subject (the operator's export)
    answer_rate: float = 0.0
    sequential: bool = False


SUBJECTS: tuple[DemoSubject, ...] = (
    DemoSubject(
        "17012345678",
        24,
        Category.LOANS_FINANCE,
        Channel.VOICE,
        "virtual-operator loan spam, sequential dialling, victims corroborated → BLOCK",
        "corroborated",
        calls=600,
        answer_rate=0.15,
        sequential=True,
    ),
    DemoSubject(
        "17198765432",
        18,
        Category.FRAUD,
        Channel.VOICE,
        "virtual-operator ring-once fraud → BLOCK",
        "corroborated",
        calls=400,
        answer_rate=0.05,
    ),
    DemoSubject(
        "13912345678",
        12,
        Category.INSURANCE,
        Channel.VOICE,
        "insurance sales, reported through the operator's hotline (attested) → BLOCK",
        "attested",
    ),
    DemoSubject("15012345678", 5, Category.EDUCATION_TRAINING, Channel.VOICE, "training offers, app reports → LABEL"),
    DemoSubject("18612345678", 6, Category.LOANS_FINANCE, Channel.VOICE, "loan offers, app reports → LABEL"),
    DemoSubject(
        "13800138000",
        40,
        Category.FRAUD,
        Channel.VOICE,
        "a business line bombed by 40 fresh accounts → LABEL (held, a review case open)",
    ),
    DemoSubject("95588", 200, Category.FRAUD, Channel.VOICE, "bank line, heavily reported → ALLOW (protected)"),
    DemoSubject(
        "10086",
        15,
        Category.HARASSMENT,
        Channel.VOICE,
        "the operator's customer-service line, reported by confused users → ALLOW (protected)",
    ),
    DemoSubject("13700137000", 1, Category.OTHER, Channel.VOICE, "one complaint → ALLOW"),
    DemoSubject("13600136000", 2, Category.RETAIL, Channel.VOICE, "two complaints → ALLOW"),
    DemoSubject(
        "10657000123456",
        12,
        Category.RETAIL,
        Channel.SMS,
        "retail SMS port on the shut-down list → BLOCK (authoritative)",
    ),
    DemoSubject("10655012345", 8, Category.LOANS_FINANCE, Channel.SMS, "loan-ad SMS port, app reports → LABEL"),
    DemoSubject(
        "10659087654", 4, Category.EDUCATION_TRAINING, Channel.SMS, "training-ad SMS port, app reports → LABEL"
    ),
)

# The complaint center's quarterly mix (fraud counted under "other"), for the background complaints.
MIX = {
    Category.LOANS_FINANCE: 0.609,
    Category.RETAIL: 0.125,
    Category.INSURANCE: 0.080,
    Category.EDUCATION_TRAINING: 0.073,
    Category.OTHER: 0.113,
}
CURRENT_COMPLAINTS, PREVIOUS_COMPLAINTS = 1000, 700  # spam complaints in the current and the previous quarter
RESELLER_SHARE = {"current": 0.40, "previous": 0.30}  # of those, on the 170/171 ranges
OPERATOR_PREFIXES = ("139", "186", "189", "150", "130", "133")
MAX_PER_SUBJECT = 14  # complaints per background subject: at most this many (a surge takes 20), most far fewer
# Per holder, per 100 complaints: handled late (acknowledged and resolved late, or resolved late).
LATE_PER_100 = {MOBILE: 2, UNICOM: 4, TELECOM: 5, RESELLERS[0]: 35, RESELLERS[1]: 15}


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


def ports(now: datetime) -> tuple[PortBlacklistEntry, ...]:
    """The SMS-port blacklist: two ports shut down in the current quarter, two in the previous one."""
    current = Period.containing(now.date(), "quarter")
    previous = current.previous()
    elapsed = (now.date() - current.start).days

    def into(p: Period, frac: float, span: int) -> date:
        return p.start + timedelta(days=int(span * frac))

    return (
        PortBlacklistEntry(
            "sms:10657000123456",
            "Shenzhen Quick Retail SMS Co",
            "unsolicited retail marketing",
            "MIIT",
            into(current, 0.3, elapsed),
        ),
        PortBlacklistEntry(
            "sms:10659000088888",
            "Hangzhou Easy Loan Tech",
            "illegal loan advertising",
            "MIIT",
            into(current, 0.7, elapsed),
        ),
        PortBlacklistEntry(
            "sms:10655000066666",
            "Guangzhou Bright Future Training",
            "unsolicited training offers",
            "MIIT",
            into(previous, 0.4, previous.days),
        ),
        PortBlacklistEntry(
            "sms:10657000077777",
            "Beijing Fast Cash Co",
            "fraudulent loan offers",
            "provincial CA",
            into(previous, 0.8, previous.days),
        ),
    )


def _frac(n: int) -> float:
    """A deterministic, evenly spread fraction in [0, 1) (the golden-ratio sequence)."""
    return (n * 0.6180339887498949) % 1.0


def _background(
    period: Period, label: str, total: int, featured: dict[Category, int], featured_resold: int, now: datetime
) -> list[tuple[str, Category, datetime, str]]:
    """(subject, category, occurred_at, reporter id) of one quarter's background complaints.

    Per category, the mix's share of ``total`` less what the featured subjects
    bring; ``RESELLER_SHARE`` of all of it on 170/171 numbers, the rest on the
    operators' ranges. Each subject's complaints come in a campaign of ten
    days, 1 to ``MAX_PER_SUBJECT`` of them (few busy numbers, many reported
    once or twice), until two days before ``now``.
    """
    span_end = min(now - timedelta(days=2), datetime.combine(period.end, datetime.min.time(), UTC))
    span_start = datetime.combine(period.start, datetime.min.time(), UTC)
    if span_end <= span_start:  # a quarter only a day old: use what there is of it
        span_end = now - timedelta(hours=1)
    span = span_end - span_start
    counts = {c: round(share * total) - featured.get(c, 0) for c, share in MIX.items()}
    counts[Category.OTHER] -= sum(n for c, n in featured.items() if c not in MIX)  # fraud and the rest
    resold = round(RESELLER_SHARE[label] * total) - featured_resold
    bg_total = sum(counts.values())
    out: list[tuple[str, Category, datetime, str]] = []
    taken: Counter[str] = Counter()
    key = 0
    for c_no, (cat, n) in enumerate(counts.items()):
        on_resellers = round(resold * n / bg_total)
        for segment, size in (("resold", on_resellers), ("operators", n - on_resellers)):
            left = size
            while left > 0:
                key += 1
                k = min(left, 1 + int((MAX_PER_SUBJECT - 1) * _frac(7 * key) ** 3))
                # each range takes the next subject when it has had the fewest complaints so far: an even split
                ranges = ("170", "171") if segment == "resold" else OPERATOR_PREFIXES
                prefix = min(ranges, key=lambda r: (taken[r], ranges.index(r)))
                taken[prefix] += k
                subject = f"+86{prefix}{(key * 48271 + c_no) % 10**8:08d}"
                # the resellers' campaigns run late in the quarter (still going), the operators' all through it
                where = 0.5 + 0.45 * _frac(key) if segment == "resold" else 0.9 * _frac(key)
                campaign = span_start + span * where
                for i in range(k):
                    at = min(campaign + timedelta(hours=(i * 17) % 240, minutes=(key * 7 + i) % 60), span_end)
                    out.append((subject, cat, max(at, span_start), f"demo-app-{label}-{key}-{i}"))
                left -= k
    return out


def _handling(report: Report, holder: str, j: int, now: datetime) -> list[CaseEvent]:
    """How the holder handled complaint ``j`` routed to it: mostly on time, ``LATE_PER_100`` late; nothing after ``now``."""
    late = (j * 37) % 100 < LATE_PER_100[holder]
    if not late:
        ack = timedelta(hours=1 + j % 12)
        res, note = ack + timedelta(hours=1 + (j * 7) % 20), "resolved: number warned"
    elif j % 2:
        ack, res, note = timedelta(hours=30 + j % 12), timedelta(hours=80 + j % 40), "resolved late: number suspended"
    else:
        ack, res, note = timedelta(hours=2 + j % 5), timedelta(hours=90 + j % 30), "resolved late: number suspended"
    out = []
    if report.received_at + ack <= now:
        out.append(CaseEvent(report.report_id, CaseStep.ACKNOWLEDGED, holder, report.received_at + ack))
        if report.received_at + res <= now:
            out.append(CaseEvent(report.report_id, CaseStep.RESOLVED, holder, report.received_at + res, note))
    return out


def load(store: Store, settings: Settings, now: datetime | None = None) -> tuple[int, int]:
    """Load the demo registry, port blacklist, call records, reports and their handling; returns (new, duplicates) reports."""
    now = now or datetime.now(UTC)
    store.put_allocations(REGISTRY)
    store.add_port_blacklist(ports(now))
    attest = Attestor(store, refresh_seconds=0).for_operator(MOBILE)
    lateness = timedelta(days=settings.record_lateness_days)
    records = []
    reports: list[Report] = []
    for k, subj in enumerate(SUBJECTS):
        for c in range(subj.calls):
            answered = (c * 7919) % 100 < subj.answer_rate * 100
            callee = victim(k, c) if subj.sequential or c < subj.reporters else f"+86138{(c * 104729) % 10**8:08d}"
            records.append(
                validate_record(
                    RecordInput(
                        record_id=str(uuid.uuid5(NAMESPACE, f"call/{subj.number}/{c}")),
                        caller=subj.number,
                        callee=callee,
                        channel=Channel.VOICE,
                        start=_called_at(c, now),
                        ring_ms=2000 if not answered else 8000,
                        talk_seconds=6 if answered else 0,
                    ),
                    settings.subscriber_key,
                    settings.region,
                    MOBILE,
                    now,
                    lateness,
                )
            )
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
            received = min(inp.occurred_at + timedelta(minutes=20), now) if inp.occurred_at else now
            reports.append(
                intake.validate(
                    inp,
                    settings.hmac_key,
                    settings.region,
                    received,
                    settings.subscriber_key,
                    attest if subj.evidence == "attested" else None,
                )
            )
    reports.extend(_background_reports(store, settings, now))
    store.add_call_records(records)
    accepted = intake.accept(store, reports)
    # only the complaints this load added: one loaded earlier keeps its own times and handling
    _handle(store, [r for r, a in zip(reports, accepted) if not a.duplicate], now)
    dup = sum(a.duplicate for a in accepted)
    return len(accepted) - dup, dup


def _background_reports(store: Store, settings: Settings, now: datetime) -> list[Report]:
    """The current and the previous quarter's background complaints, each received 20 minutes after it occurred."""
    current = Period.containing(now.date(), "quarter")
    protected = set(load_protected(store, settings).subjects())
    registry = Registry.load(store)
    featured: dict[Category, int] = {}
    resold = 0
    for subj in SUBJECTS:
        subject = normalize(subj.number, settings.region)
        if subject in protected:
            continue
        featured[subj.category] = featured.get(subj.category, 0) + subj.reporters
        owner = registry.holder_of(subject)
        resold += subj.reporters if owner is not None and owner.holder in RESELLERS else 0
    out = []
    for label, period, total, feat, feat_resold in (
        ("current", current, CURRENT_COMPLAINTS, featured, resold),
        ("previous", current.previous(), PREVIOUS_COMPLAINTS, {}, 0),
    ):
        for subject, cat, at, reporter in _background(period, label, total, feat, feat_resold, now):
            received = at + timedelta(minutes=20)
            inp = intake.ReportInput(
                report_id=str(uuid.uuid5(NAMESPACE, f"background/{reporter}")),
                reporter_id=reporter,
                subject=subject,
                channel=Channel.VOICE,
                category=cat,
                occurred_at=at,
                source=Source.APP,
            )
            out.append(intake.validate(inp, settings.hmac_key, settings.region, received, settings.subscriber_key))
    return out


def _handle(store: Store, reports: list[Report], now: datetime) -> None:
    """The holders' complaint desks: every routed complaint acknowledged and resolved as far as ``now`` allows."""
    registry = Registry.load(store)
    seen: dict[str, int] = {}
    for r in sorted(reports, key=lambda r: (r.received_at, r.report_id)):
        owner = registry.holder_of(r.subject)
        if owner is None:
            continue
        j = seen[owner.holder] = seen.get(owner.holder, -1) + 1
        for event in _handling(r, owner.holder, j, now):
            store.add_case_event(event)
