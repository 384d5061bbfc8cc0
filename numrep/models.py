"""Domain records shared by services, workers and stores.

Plain frozen dataclasses and string enums: the store backends persist them,
the services translate them to and from protobuf at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum


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


class RuleKind(str, Enum):
    EXACT = "exact"
    RANGE = "range"
    PORT = "port"


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

    def canonical(self) -> str:
        """The line this rule contributes to the rule-set checksum."""
        return "|".join(
            (self.rule_id, self.kind.value, self.subject, self.channel.value, self.action.value, self.category.value)
        )


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


@dataclass(frozen=True, slots=True)
class DirtyMark:
    """A subject waiting to be rescored; ``token`` detects re-marking meanwhile."""

    subject: str
    token: str


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
