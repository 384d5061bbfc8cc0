"""Complaint-handling timeliness: complaints routed to holders, their steps, the SLA.

A complaint is routed to the holder of its number (the longest allocated
prefix in the registry). The holder acknowledges it, then resolves it,
through the API; the SLA gives each step a deadline from the complaint's
receipt. A complaint is *due* once it is resolved or its resolve deadline has
passed; it is *on time* if both steps met their deadlines. Per period, a
holder whose share of due complaints handled on time is below
``sla_target_share`` fails.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from numrep.config import Settings
from numrep.errors import Forbidden, NotFound
from numrep.models import CaseEvent, CaseStep, ReportSummary
from numrep.regulator.periods import Period
from numrep.regulator.registry import Registry
from numrep.store.base import Store


@dataclass(frozen=True, slots=True)
class SLA:
    ack: timedelta
    resolve: timedelta
    target_share: float

    @classmethod
    def from_settings(cls, s: Settings) -> SLA:
        return cls(timedelta(hours=s.sla_ack_hours), timedelta(hours=s.sla_resolve_hours), s.sla_target_share)


@dataclass(frozen=True, slots=True)
class Case:
    report_id: str
    subject: str
    holder: str
    received_at: datetime
    ack_due: datetime
    resolve_due: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    resolution: str

    @property
    def state(self) -> str:
        return "resolved" if self.resolved_at else "acknowledged" if self.acknowledged_at else "open"

    def due(self, now: datetime) -> bool:
        return self.resolved_at is not None or now > self.resolve_due

    def on_time(self) -> bool:
        return (
            self.acknowledged_at is not None
            and self.acknowledged_at <= self.ack_due
            and self.resolved_at is not None
            and self.resolved_at <= self.resolve_due
        )


@dataclass(frozen=True, slots=True)
class HolderTimeliness:
    holder: str
    due: int
    on_time: int
    share: float
    failed: bool


def _case(r: ReportSummary, holder: str, events: list[CaseEvent], sla: SLA) -> Case:
    by_step = {e.step: e for e in events}
    ack, res = by_step.get(CaseStep.ACKNOWLEDGED), by_step.get(CaseStep.RESOLVED)
    return Case(
        r.report_id,
        r.subject,
        holder,
        r.received_at,
        r.received_at + sla.ack,
        r.received_at + sla.resolve,
        ack.at if ack else None,
        res.at if res else None,
        res.note if res else "",
    )


def cases(
    store: Store, period: Period, sla: SLA, holder: str | None = None, registry: Registry | None = None
) -> list[Case]:
    """Complaints received in ``period`` (routed to ``holder``, or to any holder), oldest first."""
    registry = registry or Registry.load(store)
    routed: list[tuple[ReportSummary, str]] = []
    for r in store.report_summaries(period.start, period.end):
        owner = registry.holder_of(r.subject)
        if owner is not None and (holder is None or owner.holder == holder):
            routed.append((r, owner.holder))
    events: dict[str, list[CaseEvent]] = defaultdict(list)
    for e in store.case_events(r.report_id for r, _ in routed):
        events[e.report_id].append(e)
    out = [_case(r, h, events[r.report_id], sla) for r, h in routed]
    return sorted(out, key=lambda c: (c.received_at, c.report_id))


def record(store: Store, report_id: str, holder: str, step: CaseStep, at: datetime, sla: SLA, note: str = "") -> Case:
    """A holder acknowledges or resolves a complaint routed to it (idempotent: the first step counts)."""
    report = store.get_report(report_id)
    registry = Registry.load(store)
    owner = registry.holder_of(report.subject) if report else None
    if report is None or owner is None:
        raise NotFound(f"no complaint {report_id} is routed to any holder")
    if owner.holder != holder:
        raise Forbidden(f"complaint {report_id} is routed to another holder")
    if step is CaseStep.RESOLVED:  # resolving implies acknowledging
        store.add_case_event(CaseEvent(report_id, CaseStep.ACKNOWLEDGED, holder, at, ""))
    store.add_case_event(CaseEvent(report_id, step, holder, at, note))
    return _case(report, holder, store.case_events([report_id]), sla)


def timeliness(
    store: Store, period: Period, sla: SLA, now: datetime | None = None, registry: Registry | None = None
) -> list[HolderTimeliness]:
    """Per holder: due complaints, those handled on time, and whether the holder failed the SLA.

    ``now`` defaults to the moment every complaint of the period is due (its
    end plus the resolve SLA), which makes the result a function of the data.
    """
    when = now or datetime(period.end.year, period.end.month, period.end.day, tzinfo=UTC) + sla.resolve
    per: dict[str, list[Case]] = defaultdict(list)
    for c in cases(store, period, sla, registry=registry):
        if c.due(when):
            per[c.holder].append(c)
    out = []
    for holder in sorted(per):
        due = per[holder]
        ok = sum(c.on_time() for c in due)
        share = ok / len(due)
        out.append(HolderTimeliness(holder, len(due), ok, round(share, 4), share < sla.target_share))
    return out
