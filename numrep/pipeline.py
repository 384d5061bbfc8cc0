"""The fast and batch paths: rescore dirty subjects, publish rules, keep the filter current.

These functions are what the Celery tasks run. Each step is idempotent and
ordered so that a crash anywhere leaves work to be redone, never lost:
reputations are written, then rules published, then the filter brought to
the rules version, and only then are the dirty marks cleared (and only the
marks that were not renewed meanwhile).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from numrep import filter as bloom
from numrep import metrics
from numrep.config import Settings
from numrep.errors import StoreError
from numrep.evidence import collect
from numrep.models import (
    Action,
    CaseKind,
    Channel,
    DirtyMark,
    FilterSnapshotMeta,
    Lane,
    ReasonCode,
    Reputation,
    ReviewCase,
    Rule,
    RuleKind,
    ShadowDiff,
)
from numrep.numbers import SMS
from numrep.protected import ProtectedSet
from numrep.rules import allow_rules, diff, rules_for
from numrep.scoring import FUTURE_SKEW, ScoringParams, score_subject
from numrep.scoring_v2 import ParamsV2, score_v2
from numrep.store.base import Store

log = logging.getLogger(__name__)

FILTER_SNAPSHOTS_KEPT = 3
RECONCILE_BATCH = 1000  # flagged subjects whose reputations reconcile_rules reads per call


@dataclass(frozen=True, slots=True)
class RescoreResult:
    scored: int
    rules_version: int | None
    filter_version: int | None


def _now() -> datetime:
    return datetime.now(UTC)


def load_protected(store: Store, settings: Settings) -> ProtectedSet:
    protected = ProtectedSet(settings.allowlist_extra, settings.region)
    protected.replace_allowlist({e.subject: f"allowlist: {e.reason}" for e in store.list_allowlist()})
    return protected


def score_v1(
    store: Store, subjects: list[str], settings: Settings, as_of: datetime, protected: ProtectedSet
) -> list[Reputation]:
    params = ScoringParams.from_settings(settings)
    since = as_of - params.window - FUTURE_SKEW
    ports = store.port_blacklist(s for s in subjects if s.startswith(SMS))
    reports = store.reports_for_subjects(subjects, since)  # one batch read, not a round trip per subject
    reps = [
        score_subject(
            s,
            reports[s],
            as_of,
            params,
            protected.reason(s),
            authoritative=(ports[s].describe(),) if s in ports else (),
        )
        for s in subjects
    ]
    return [
        dataclasses.replace(
            r,
            codes={
                ch: ReasonCode.PORT_BLACKLIST if r.subject in ports else ReasonCode.COMPLAINTS
                for ch, a in r.actions.items()
                if a is not Action.ALLOW
            },
        )
        for r in reps
    ]


def score(
    store: Store, subjects: list[str], settings: Settings, as_of: datetime, protected: ProtectedSet
) -> list[Reputation]:
    """Score a batch with the configured scoring (v2, v1, or v1 deciding while v2 runs in shadow).

    v2 also opens a review case for each subject a report surge holds.
    """
    if settings.scoring == "v1":
        return score_v1(store, subjects, settings, as_of, protected)
    params = ParamsV2.from_settings(settings)
    evidence = collect.gather(store, subjects, settings, as_of)
    scored = [score_v2(evidence[s], as_of, params, protected.reason(s)) for s in subjects]
    for sc in scored if settings.scoring == "v2" else ():  # in shadow mode v1 decides: no case for analysts
        if sc.surge is not None:
            _open_case(store, sc.reputation, CaseKind.REPORT_BOMBING, sc.surge, as_of)
    v2 = [sc.reputation for sc in scored]
    if settings.scoring == "shadow":
        v1 = score_v1(store, subjects, settings, as_of, protected)
        _report_shadow(store, v1, v2, as_of)
        return v1
    return v2


def _open_case(store: Store, rep: Reputation, kind: CaseKind, summary: str, as_of: datetime) -> None:
    if store.open_case(ReviewCase(f"{kind.value}:{rep.subject}", rep.subject, kind, summary, as_of)):
        log.info("review case opened", extra={"kind": kind.value, "subject": rep.subject})


def _strongest(rep: Reputation) -> Action:
    return max(rep.actions.values(), key=lambda a: a.rank, default=Action.ALLOW)


def _report_shadow(store: Store, v1: list[Reputation], v2: list[Reputation], as_of: datetime) -> None:
    """Record (and log) where v2 would decide differently from v1: the shadow rollout's evidence,
    listed by ``numrep shadow``."""
    diffs = [
        ShadowDiff(a.subject, _strongest(a), _strongest(b), b.score, b.reasons, as_of)
        for a, b in zip(v1, v2)
        if _strongest(a) is not _strongest(b)
    ]
    changed = {d.subject for d in diffs}
    store.put_shadow_diffs(diffs, [a.subject for a in v1 if a.subject not in changed])
    changes: dict[str, int] = {}
    for d in diffs:
        key = f"{d.v1.value}->{d.v2.value}"
        changes[key] = changes.get(key, 0) + 1
    log.info("shadow scoring", extra={"scored": len(v1), "changed": len(diffs), **changes})


def _with_actions(rep: Reputation, actions: dict[Channel, Action], reason: str) -> Reputation:
    return dataclasses.replace(rep, actions=actions, reasons=(*rep.reasons, reason))


def apply_safety(store: Store, reps: list[Reputation], settings: Settings, as_of: datetime) -> list[Reputation]:
    """The blast-radius limits: the platform-wide BLOCK→LABEL switch, then the cap on new BLOCKs.

    New BLOCKs beyond ``max_new_blocks_per_publication`` (authoritative ones
    excepted, highest scores first) are held at LABEL and open a review case;
    they compete again at their next rescore.
    """
    switch = store.get_block_switch()
    if switch.block_to_label:
        why = f"safety switch: BLOCK answered as LABEL ({switch.reason}; by {switch.actor})"
        return [
            _with_actions(r, {ch: Action.LABEL if a is Action.BLOCK else a for ch, a in r.actions.items()}, why)
            if Action.BLOCK in r.actions.values()
            else r
            for r in reps
        ]
    blocking = [r for r in reps if Action.BLOCK in r.actions.values() and r.score < 100]
    if len(blocking) <= settings.max_new_blocks_per_publication:
        return reps
    current = store.active_rules({r.subject for r in blocking})
    already = {rule.subject for rule in current.values() if rule.action is Action.BLOCK}
    new = sorted((r for r in blocking if r.subject not in already), key=lambda r: (-r.score, r.subject))
    excess = {r.subject for r in new[settings.max_new_blocks_per_publication :]}
    if not excess:
        return reps
    log.warning(
        "new BLOCKs over the per-publication cap held at LABEL",
        extra={"new_blocks": len(new), "cap": settings.max_new_blocks_per_publication, "held": len(excess)},
    )
    out = []
    for r in reps:
        if r.subject in excess:
            summary = f"one of {len(new)} new BLOCKs in one publication (cap {settings.max_new_blocks_per_publication})"
            _open_case(store, r, CaseKind.BLOCK_CAP, summary, as_of)
            r = _with_actions(
                r,
                {ch: Action.LABEL if a is Action.BLOCK else a for ch, a in r.actions.items()},
                f"held at LABEL for review: {summary}",
            )
        out.append(r)
    return out


def _rules_of(reputations: Iterable[Reputation], as_of: datetime) -> dict[str, Rule]:
    desired: dict[str, Rule] = {}
    for rep in reputations:
        desired.update(rules_for(rep, as_of))
    return desired


def _publish_changes(store: Store, current: dict[str, Rule], desired: dict[str, Rule], as_of: datetime) -> int | None:
    """Publish what turns ``current`` into ``desired``; the new version, or None if nothing changes."""
    upserts, removed = diff(current, desired)
    if not upserts and not removed:
        return None
    version = store.publish_rules(upserts, removed, as_of)
    if version is not None:
        log.info("rules published", extra={"version": version, "upserts": len(upserts), "removed": len(removed)})
    return version


#: The kinds each publisher owns: scoring (exact and port rules), the registry (ranges), the allowlist.
SCORED_KINDS = frozenset({RuleKind.EXACT, RuleKind.PORT})
#: The subjects the Bloom filter holds: those with an exact or port rule.
FILTERED_KINDS = SCORED_KINDS


def _of_kind(rules: dict[str, Rule], kinds: frozenset[RuleKind]) -> dict[str, Rule]:
    return {rid: r for rid, r in rules.items() if r.kind in kinds}


def publish_allowlist(store: Store, subjects: Iterable[str] | None = None) -> int | None:
    """Make the feed's ALLOW rules match the stored allowlist: for ``subjects`` (AdminService, on every
    change, so switches learn an allowlisting with the next version), or all of it (the batch path)."""
    wanted = None if subjects is None else set(subjects)
    current = _of_kind(store.active_rules(wanted), frozenset({RuleKind.ALLOW}))
    entries = [e for e in store.list_allowlist() if wanted is None or e.subject in wanted]
    return _publish_changes(store, current, allow_rules(entries), _now())


def publish_for(store: Store, reputations: list[Reputation], as_of: datetime) -> int | None:
    """Publish the rule changes these reputations call for; the new version, or None."""
    current = _of_kind(store.active_rules({r.subject for r in reputations}), SCORED_KINDS)
    return _publish_changes(store, current, _rules_of(reputations, as_of), as_of)


def sync_filter(store: Store, settings: Settings, full: bool = False) -> FilterSnapshotMeta | None:
    """Bring the filter to the rules version: extend the last snapshot, or rebuild.

    ``full`` forces a rebuild from the active rules, which also drops
    subjects whose rules were removed since the last rebuild.
    """
    version = store.rules_version()
    latest = store.latest_filter_snapshot()
    if latest is not None and latest.version >= version and not full:
        return latest
    snapshot: bloom.FilterSnapshot | None = None
    if latest is not None and not full:
        delta = store.rules_since(latest.version)
        if not delta.full_snapshot:
            base = bloom.FilterSnapshot.from_bytes(
                latest.version, latest.error_rate, store.filter_snapshot_data(latest.snapshot_id)
            )
            added = [r.subject for r in delta.added if r.kind in FILTERED_KINDS]
            snapshot = bloom.extend(base, added, delta.version)
            version = delta.version
    if snapshot is None:
        delta = store.rules_since(0)
        version = delta.version
        subjects = [r.subject for r in delta.added if r.kind in FILTERED_KINDS]
        shards = 1
        if len(subjects) >= settings.filter_shard_min_count:
            shards = settings.filter_build_processes or os.cpu_count() or 1
        snapshot = bloom.build_from_list(
            subjects, version, settings.filter_error_rate, settings.filter_min_capacity, shards, settings.filter_impl
        )
    meta = store.put_filter_snapshot(
        snapshot.version, snapshot.count, snapshot.capacity, snapshot.error_rate, snapshot.to_bytes(), _now()
    )
    store.prune_filter_snapshots(FILTER_SNAPSHOTS_KEPT)
    log.info(
        "filter snapshot stored",
        extra={"version": meta.version, "count": meta.count, "full": snapshot is not None and full},
    )
    return meta


def rescore_dirty(
    store: Store, settings: Settings, time_budget: float = 30.0, as_of: datetime | None = None
) -> RescoreResult:
    """Rescore dirty subjects in batches until none are left or the budget is spent.

    ``as_of`` fixes the scoring clock (default: now, per batch).
    """
    deadline = time.monotonic() + time_budget
    scored, last_version = 0, None
    collect.fold_call_records(store, settings, time_budget=time_budget / 2)
    protected = load_protected(store, settings)
    while time.monotonic() < deadline:
        marks = store.dirty_subjects(settings.rescore_batch)
        metrics.PIPELINE_LAG.set(lag_seconds(marks))
        if not marks:
            break
        when = as_of or _now()
        scored_reps, failed = _score_isolating_failures(store, [m.subject for m in marks], settings, when, protected)
        reps = apply_safety(store, scored_reps, settings, when)
        store.put_reputations(reps)
        version = publish_for(store, reps, when)
        last_version = version or last_version
        store.clear_dirty(m for m in marks if m.subject not in failed)
        _set_aside(store, [m for m in marks if m.subject in failed], failed, settings, when)
        scored += len(reps)
    meta = sync_filter(store, settings)
    return RescoreResult(scored, last_version, meta.version if meta else None)


def _score_isolating_failures(
    store: Store, subjects: list[str], settings: Settings, as_of: datetime, protected: ProtectedSet
) -> tuple[list[Reputation], dict[str, str]]:
    """Score a batch; if that fails, score its subjects one by one. Returns the reputations and, per subject
    that could not be scored, why. Store errors are not a subject's fault: they propagate (the task retries)."""
    try:
        return score(store, subjects, settings, as_of, protected), {}
    except StoreError:
        raise
    except Exception as exc:  # a poison subject: find it, rescore the others
        log.warning(
            "batch rescore failed; rescoring its subjects one by one",
            extra={"subjects": len(subjects), "error": type(exc).__name__},
        )
    reps: list[Reputation] = []
    failed: dict[str, str] = {}
    for s in subjects:
        try:
            reps += score(store, [s], settings, as_of, protected)
        except StoreError:
            raise
        except Exception as exc:  # recorded on the subject's review case
            failed[s] = f"{type(exc).__name__}: {exc}"[:300]
    return reps, failed


def _set_aside(
    store: Store, marks: list[DirtyMark], failed: dict[str, str], settings: Settings, as_of: datetime
) -> None:
    """Subjects that failed to score go to the back of the backlog; after ``rescore_attempts`` failures a
    review case opens and the mark is cleared (its reputation and rules stay as they were)."""
    retry = [m for m in marks if m.attempts + 1 < settings.rescore_attempts]
    store.defer_dirty(retry)
    for m in marks:
        if m in retry:
            continue
        summary = f"rescoring failed {m.attempts + 1} times; last error: {failed[m.subject]}"
        if store.open_case(
            ReviewCase(
                f"{CaseKind.RESCORE_FAILED.value}:{m.subject}", m.subject, CaseKind.RESCORE_FAILED, summary, as_of
            )
        ):
            log.warning(
                "rescoring set aside for review",
                extra={"kind": CaseKind.RESCORE_FAILED.value, "attempts": m.attempts + 1},
            )
    store.clear_dirty(m for m in marks if m not in retry)
    if retry:
        log.warning("rescoring failed; retried later", extra={"subjects": len(retry)})


def lag_seconds(marks: Sequence[DirtyMark]) -> float:
    """How long the oldest of these marks has waited (0 when none)."""
    times = [m.marked_at for m in marks if m.marked_at is not None]
    return max(0.0, (_now() - min(times)).total_seconds()) if times else 0.0


def mark_flagged_dirty(store: Store) -> int:
    """Batch path: queue every flagged subject for rescoring (decay and delisting), behind new evidence."""
    subjects = store.flagged_subjects()
    store.mark_dirty(subjects, Lane.BACKLOG)
    return len(subjects)


def reconcile_rules(store: Store) -> int | None:
    """Batch path: make the active exact/port rules match the stored reputations, and the ALLOW rules the allowlist."""
    as_of = _now()
    allow_version = publish_allowlist(store)
    subjects = store.flagged_subjects()
    desired: dict[str, Rule] = {}
    for i in range(0, len(subjects), RECONCILE_BATCH):  # batched reads; only the rules are kept
        chunk = subjects[i : i + RECONCILE_BATCH]
        reputations = store.get_reputations(chunk)
        desired.update(_rules_of((reputations[s] for s in chunk if s in reputations), as_of))
    version = _publish_changes(store, _of_kind(store.active_rules(), SCORED_KINDS), desired, as_of)
    return version or allow_version


def publish_range_rules(store: Store, settings: Settings) -> int | None:
    """Batch path: make the active range rules match the registry and the flagged subjects."""
    from numrep.regulator import holders

    protected = load_protected(store, settings)
    desired = holders.range_rules(store, settings, protected.subjects())
    switch = store.get_block_switch()
    if switch.block_to_label:
        why = f" (safety switch: BLOCK answered as LABEL; {switch.reason})"
        desired = {
            rid: dataclasses.replace(r, action=Action.LABEL, reason=r.reason + why) if r.action is Action.BLOCK else r
            for rid, r in desired.items()
        }
    return _publish_changes(store, _of_kind(store.active_rules(), frozenset({RuleKind.RANGE})), desired, _now())
