"""Domain records shared by services, workers and stores.

Plain frozen dataclasses and string enums: the store backends persist them,
the services translate them to and from protobuf at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import NamedTuple


class Channel(str, Enum):
    VOICE = "voice"
    SMS = "sms"


class Action(str, Enum):
    ALLOW = "ALLOW"
    LABEL = "LABEL"
    BLOCK = "BLOCK"

    @property
    def rank(self) -> int:
        return _ACTION_RANK[self]


_ACTION_RANK = {Action.ALLOW: 0, Action.LABEL: 1, Action.BLOCK: 2}


class Category(str, Enum):
    """The complaint center's categories."""

    FRAUD = "fraud"
    LOANS_FINANCE = "loans_finance"
    RETAIL = "retail"
    INSURANCE = "insurance"
    EDUCATION_TRAINING = "education_training"
    REAL_ESTATE = "real_estate"
    HARASSMENT = "harassment"
    OTHER = "other"


class Source(str, Enum):
    """Where a report came from."""

    APP = "app"
    HOTLINE = "hotline"
    WEB = "web"
    OPERATOR = "operator"


class ReasonCode(str, Enum):
    """Why a subject is labelled or blocked, machine-readable: the strongest evidence that decided
    (``ReasonCode`` in protos/numrep/v1/common.proto; the SIP mapping is in the README)."""

    COMPLAINTS = "complaints"  # complaints of reporters nobody vouches for (accounts, unverified ids)
    CORROBORATED_COMPLAINTS = (
        "corroborated_complaints"  # complaints corroborated by call records or attested by an operator
    )
    BEHAVIOUR = "behaviour"  # call-record behaviour (answer rate, short and ring-once calls, sequential dialling)
    PORT_BLACKLIST = "port_blacklist"  # the regulator shut the SMS port down
    CONFIRMED_FRAUD = "confirmed_fraud"  # an analyst or a police case confirmed fraud
    RANGE_RULE = "range_rule"  # a range (prefix) rule covers the subject
    MANUAL_RULE = "manual_rule"  # an analyst's decision
    HONEYPOT = "honeypot"  # the subject called operators' honeypot numbers


class RuleKind(str, Enum):
    EXACT = "exact"  # one tel: subject
    RANGE = "range"  # every subject under a prefix (tel: or sms:)
    PORT = "port"  # one sms: sender port, matched exactly (a port range is a RANGE rule on an sms: prefix)
    ALLOW = "allow"  # an allowlisted subject: never blocked, on any channel (id ``<subject>#allow``)


@dataclass(frozen=True, slots=True)
class Report:
    """One accepted complaint. ``reporter_hash`` is a keyed hash, never the raw id."""

    report_id: str
    reporter_hash: str
    subject: str
    channel: Channel
    category: Category
    occurred_at: datetime
    received_at: datetime
    source: Source
    text: str = ""
    #: Keyed hash (subscriber-number key) of the reporter's own number, "" when not given.
    reporter_number_hash: str = ""
    #: The operator that vouched for its subscriber (its own key, a number it holds), "" when none.
    attested_by: str = ""


class Tier(str, Enum):
    """How much a complaint's reporter is vouched for, strongest first (docs/ARCHITECTURE.md §11)."""

    CORROBORATED = "corroborated"  # call records show the subject reached the reporter before the report
    ATTESTED = "attested"  # an operator vouched for its own subscriber
    ACCOUNT = "account"  # an app account with a history on the platform
    UNVERIFIED = "unverified"  # a fresh, unverified id


@dataclass(frozen=True, slots=True)
class Complaint:
    """What scoring v2 needs of one reporter's latest report on a subject: no text, bounded size."""

    report_id: str
    reporter_hash: str
    channel: Channel
    category: Category
    occurred_at: datetime
    reporter_number_hash: str = ""
    attested_by: str = ""


@dataclass(frozen=True, slots=True)
class ReporterStats:
    """A reporter's history, in event time: when first seen, and how busy around a moment."""

    reporter_hash: str
    first_seen: datetime
    #: Distinct subjects this reporter reported in the 24 hours before its report being weighed.
    subjects_24h: int = 1
    #: Subjects it reported that independent evidence later confirmed (fraud, shut-down port, analyst block).
    confirmed: int = 0
    #: Subjects it reported that were later cleared (an analyst's clearance, the allowlist).
    cleared: int = 0


class Outcome(str, Enum):
    """What independent evidence later said about a reported subject: it feeds its reporters' trust.

    Outcomes come from analysts, authoritative lists and disputes — never from
    the platform's own complaint-driven verdicts, which would let trust feed on itself.
    """

    CONFIRMED = "confirmed"
    CLEARED = "cleared"


class CallRecord(NamedTuple):
    """One call or message as an operator saw it. The callee is kept only as keyed hashes and sketch positions.

    A NamedTuple: records arrive by the million, and it builds several times faster than a frozen dataclass.
    """

    record_id: str
    caller: str
    callee_hash: str  # subscriber-number keyed hash of the normalised callee
    channel: Channel
    start: datetime
    ring_ms: int
    talk_seconds: int
    international: bool
    operator: str
    callee_reg: int  # HyperLogLog position of the callee: register << 6 | value
    prefix_reg: int  # the same for the callee's prefix (sequential dialling)
    received_at: datetime


class Contact(NamedTuple):
    """A subscriber (keyed hash) a caller reached through one operator, first and last within the kept window."""

    callee_hash: str
    operator: str
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True, slots=True)
class CallAggregate:
    """What one caller did in one hour on one channel, from one source.

    ``source`` is ``records`` for the aggregate numrep derives from raw
    records, or ``operator:<name>`` for an aggregate an operator sent.
    """

    caller: str
    channel: Channel
    hour: datetime
    source: str
    calls: int
    answered: int
    short_calls: int
    ring_once_calls: int
    international_calls: int
    callees: bytes  # HyperLogLog, encoded
    prefixes: bytes  # HyperLogLog of callee prefixes, encoded
    honeypots: tuple[str, ...] = ()  # keyed hashes of the distinct honeypots it reached


@dataclass(frozen=True, slots=True)
class HourMark:
    """A caller-hour whose records changed and must be aggregated again; ``token`` detects re-marking."""

    caller: str
    hour: datetime
    token: str


@dataclass(frozen=True, slots=True)
class Honeypot:
    """An unassigned number an operator designated: whoever calls it leaves strong evidence."""

    number: str
    number_hash: str  # subscriber-number keyed hash, to match callees
    operator: str
    note: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class ConfirmedFraud:
    """Authoritative: an analyst or a police case confirmed the subject as fraud, until ``expires_at``."""

    subject: str
    case_id: str
    expires_at: datetime
    actor: str
    reason: str
    confirmed_at: datetime

    def describe(self) -> str:
        return (
            f"confirmed fraud: case {self.case_id} ({self.reason}; by {self.actor}, until {self.expires_at:%Y-%m-%d})"
        )


class CaseKind(str, Enum):
    REPORT_BOMBING = "report_bombing"
    BLOCK_CAP = "block_cap"
    RESCORE_FAILED = "rescore_failed"


class Decision(str, Enum):
    BLOCK = "block"
    LABEL = "label"
    CLEAR = "clear"


@dataclass(frozen=True, slots=True)
class ReviewCase:
    """A subject held for an analyst: its case id is ``<kind>:<subject>`` while open."""

    case_id: str
    subject: str
    kind: CaseKind
    summary: str
    opened_at: datetime
    decision: Decision | None = None
    actor: str = ""
    reason: str = ""
    decided_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.decision is None


@dataclass(frozen=True, slots=True)
class ShadowDiff:
    """In shadow mode: a subject v2 would decide differently from v1, which decides."""

    subject: str
    v1: Action
    v2: Action
    v2_score: int
    v2_reasons: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class BlockSwitch:
    """The platform-wide safety switch: while on, every BLOCK is published as LABEL."""

    block_to_label: bool
    actor: str = ""
    reason: str = ""
    set_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """What period statistics need of a report (no reporter, no text)."""

    report_id: str
    subject: str
    category: Category
    channel: Channel
    day: date  # the UTC day it was received
    received_at: datetime


class CaseStep(str, Enum):
    """Steps a holder takes on a complaint routed to it."""

    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """A holder acknowledged or resolved a complaint; the first event of each step counts."""

    report_id: str
    step: CaseStep
    holder: str
    at: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class Reputation:
    """The scored state of one subject."""

    subject: str
    score: int
    actions: dict[Channel, Action]
    categories: dict[Category, int]
    reporters: int
    weighted_reporters: float
    first_seen: datetime | None
    last_seen: datetime | None
    reasons: tuple[str, ...]
    protected: bool
    updated_at: datetime
    #: Per flagged channel: the strongest evidence that decided (none for ALLOW).
    codes: dict[Channel, ReasonCode] = field(default_factory=dict)
    #: The case behind the verdict, for redress: confirmed fraud's case, an analyst's case, an open dispute.
    case_id: str = ""

    def action(self, channel: Channel) -> Action:
        return self.actions.get(channel, Action.ALLOW)

    @property
    def top_category(self) -> Category | None:
        if not self.categories:
            return None
        return min(self.categories.items(), key=lambda kv: (-kv[1], kv[0].value))[0]

    @property
    def flagged(self) -> bool:
        return any(a is not Action.ALLOW for a in self.actions.values())


@dataclass(frozen=True, slots=True)
class Rule:
    """A published blocking or labelling rule; ``rule_id`` is ``<subject>#<channel>``."""

    rule_id: str
    kind: RuleKind
    subject: str
    channel: Channel
    action: Action
    category: Category
    reason: str
    issued_at: datetime
    expires_at: datetime | None = None
    #: Why, machine-readable; carried in the feed but outside the canonical line (not signed).
    code: ReasonCode | None = None

    def canonical(self) -> str:
        """The line this rule contributes to the rule-set checksum: everything a client acts on.

        ``reason`` and ``issued_at`` are display text, outside the checksum (so
        a rescore that only rewords a reason publishes nothing); ``expires_at``
        is in it, as microseconds since the Unix epoch ("" for none).
        """
        expires = "" if self.expires_at is None else str(_micros(self.expires_at))
        return "|".join(
            (
                self.rule_id,
                self.kind.value,
                self.subject,
                self.channel.value,
                self.action.value,
                self.category.value,
                expires,
            )
        )

    def live(self, now: datetime) -> bool:
        """True unless the rule has lapsed at ``now`` (expiry applies at match time)."""
        return self.expires_at is None or now < self.expires_at


def _micros(dt: datetime) -> int:
    delta = dt - _UNIX_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RulesDelta:
    """What brings a holder of ``from_version`` to ``version``."""

    version: int
    from_version: int
    full_snapshot: bool
    added: tuple[Rule, ...]
    removed: tuple[str, ...]
    checksum: str


@dataclass(frozen=True, slots=True)
class PortBlacklistEntry:
    """An SMS sender port shut down by the regulator: authoritative, blocks directly."""

    port: str  # sms:106...
    enterprise: str
    reason: str
    source: str
    listed_on: date

    def describe(self) -> str:
        return f"SMS port shut down: {self.reason} ({self.enterprise}; {self.source}, {self.listed_on.isoformat()})"


class HolderType(str, Enum):
    """Who holds a number range: a network operator, or a reseller (virtual operator)."""

    OPERATOR = "operator"
    RESELLER = "reseller"


@dataclass(frozen=True, slots=True)
class Allocation:
    """A range from the number-resource registry: every subject under ``prefix`` belongs to ``holder``."""

    prefix: str  # tel:+86170 or sms:10657
    holder: str
    holder_type: HolderType
    size: int  # numbers allocated


class Scope(str, Enum):
    """What an API key may call."""

    LOOKUP = "lookup"  # ReputationService
    REPORT = "report"  # ReportService
    RULES = "rules"  # RulesService
    ADMIN = "admin"  # AdminService
    HOLDER = "holder"  # a number holder handling its own routed complaints (key operator = holder name)
    HONEYPOT = "honeypot"  # an operator designating its own unassigned numbers as honeypots
    RECORDS = "records"  # an operator submitting call records and aggregates


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An operator's API key; only its keyed hash is ever stored."""

    key_hash: str
    operator: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class AllowlistEntry:
    subject: str
    reason: str
    added_by: str
    added_at: datetime


class Lane(str, Enum):
    """The rescoring queue's two lanes: new evidence is served ahead of the backlog.

    ``FRESH``: a report, call records, an analyst's or operator's decision
    arrived for the subject. ``BACKLOG``: bulk rescoring (the hourly decay
    pass, the BLOCK switch, reporters whose trust changed, retries).
    """

    FRESH = "fresh"
    BACKLOG = "backlog"


@dataclass(frozen=True, slots=True)
class DirtyMark:
    """A subject waiting to be rescored; ``token`` (opaque, backend-specific) names exactly the marks read,
    so clearing them never clears a later re-mark. ``attempts``: rescores of it that failed so far."""

    subject: str
    token: str
    marked_at: datetime | None = None  # when it was (last) marked: the pipeline's lag
    lane: Lane = Lane.FRESH
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class FilterSnapshotMeta:
    snapshot_id: int
    version: int
    count: int
    capacity: int
    error_rate: float
    created_at: datetime
    size_bytes: int = 0
    extra: dict[str, str] = field(default_factory=dict)


class DisputeState(str, Enum):
    """Where a dispute stands (numrep.redress.disputes): filed → acknowledged → under_review → a final state."""

    FILED = "filed"
    ACKNOWLEDGED = "acknowledged"
    UNDER_REVIEW = "under_review"
    UPHELD = "upheld"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"

    @property
    def final(self) -> bool:
        return self in _FINAL_DISPUTE_STATES


_FINAL_DISPUTE_STATES = frozenset(
    {DisputeState.UPHELD, DisputeState.REJECTED, DisputeState.WITHDRAWN, DisputeState.EXPIRED}
)


class Proof(str, Enum):
    """How a dispute's filer proved control of the number."""

    ATTESTATION = "attestation"  # the holder operator's key attested
    CODE = "code"  # a one-time code delivered through the holder operator's channel


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of a dispute: the state it entered, when, by whom, and why."""

    state: DisputeState
    at: datetime
    actor: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Dispute:
    """An owner's dispute of a subject's verdict. ``owner_hash`` is a keyed hash of the owner's token."""

    dispute_id: str
    subject: str
    proof: Proof
    holder: str  # the holder operator of the number (who attested, or whose channel delivered the code)
    statement: str
    owner_hash: str
    filed_at: datetime
    transitions: tuple[Transition, ...]
    #: Authoritative evidence at filing, which the dispute cannot clear (an analyst reviews it).
    authoritative: tuple[str, ...] = ()

    @property
    def state(self) -> DisputeState:
        return self.transitions[-1].state

    @property
    def open(self) -> bool:
        return not self.state.final

    def at(self, state: DisputeState) -> datetime | None:
        """When the dispute entered ``state`` (None if it never did)."""
        return next((t.at for t in self.transitions if t.state is state), None)

    @property
    def decided_at(self) -> datetime | None:
        return self.transitions[-1].at if self.state.final else None

    @property
    def reason(self) -> str:
        """The note of the last transition: a decision's reason."""
        return self.transitions[-1].note


class CardStatus(str, Enum):
    """Where a real-name card stands (numrep.regulator.cards)."""

    ACTIVE = "active"  # registered, not re-verified
    REVERIFIED = "reverified"  # its holder re-verified their identity
    CANCELLED = "cancelled"  # cancelled (by the holder, or the operator after failed re-verification)
    EXPIRED = "expired"  # lapsed

    @property
    def live(self) -> bool:
        """The card is in service (counts toward the limit)."""
        return self in (CardStatus.ACTIVE, CardStatus.REVERIFIED)

    @property
    def final(self) -> bool:
        return self in (CardStatus.CANCELLED, CardStatus.EXPIRED)


@dataclass(frozen=True, slots=True)
class Card:
    """A real-name card registration: one number of one operator, registered to one ID number.

    ``id_hash`` is the keyed hash of the ID number (``Settings.id_number_key``); the
    raw ID never reaches a record. ``seller`` is the point of sale or reseller.
    """

    operator: str
    number: str
    id_hash: str
    registered_on: date
    seller: str
    status: CardStatus = CardStatus.ACTIVE
    status_on: date | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.operator, self.number)
