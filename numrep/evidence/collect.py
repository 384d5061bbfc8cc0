"""From the store to scoring v2's inputs: hourly aggregation, and the evidence of a batch of subjects.

Both are idempotent steps of the pipeline (``numrep.pipeline``): aggregating
an hour again writes the same rows, and gathering reads only.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Container, Mapping, Sequence
from datetime import datetime, timedelta

from numrep.config import Settings
from numrep.evidence.records import Behaviour, merge
from numrep.models import Channel, ConfirmedFraud, Decision, ReasonCode, ReviewCase
from numrep.numbers import SMS
from numrep.privacy import subscriber_hash
from numrep.redress import disputes
from numrep.scoring import FUTURE_SKEW, channels_for
from numrep.scoring_v2 import Evidence
from numrep.store.base import Store

log = logging.getLogger(__name__)


def fold_call_records(store: Store, settings: Settings, batch: int = 20_000, time_budget: float = 30.0) -> int:
    """Fold stored call records into hourly aggregates and contacts; returns the records folded.

    Each fold is atomic or re-derives whole caller-hours (see
    ``EvidenceStore.fold_call_records``): a crash anywhere leaves the records
    to be folded again, with the same result.
    """
    deadline = time.monotonic() + time_budget
    done = 0
    honeypots: frozenset[str] | None = None
    key = settings.subscriber_key
    hashes: dict[str, str] = {}

    def caller_hash(caller: str) -> str:
        if (h := hashes.get(caller)) is None:
            h = hashes[caller] = subscriber_hash(key, caller)
        return h

    while time.monotonic() < deadline:
        if honeypots is None:
            honeypots = frozenset(h.number_hash for h in store.honeypots())
        n = store.fold_call_records(batch, honeypots, caller_hash, settings.contacts_cap)
        if not n:
            break
        done += n
    if done:
        log.info("call records folded", extra={"records": done})
    return done


def _decisions(
    cases: Sequence[ReviewCase], as_of: datetime, window: timedelta
) -> tuple[list[str], datetime | None, bool]:
    """(authoritative reasons, cleared before, analyst hold) from a subject's decided cases, oldest first."""
    authoritative: list[str] = []
    cleared: datetime | None = None
    hold = False
    for c in cases:
        if c.decided_at is None or c.decided_at > as_of:
            continue
        if c.decision is Decision.CLEAR:
            cleared, hold, authoritative = c.decided_at, False, []
        elif c.decision is Decision.LABEL:  # the latest decision stands: a hold lifts an earlier analyst block
            hold, authoritative = as_of - c.decided_at <= window, []
        elif c.decision is Decision.BLOCK and (c.expires_at is None or c.expires_at > as_of):
            authoritative.append(f"analyst decision: blocked in case {c.case_id} ({c.reason}; by {c.actor})")
    return authoritative, cleared, hold


def gather(store: Store, subjects: Sequence[str], settings: Settings, as_of: datetime) -> dict[str, Evidence]:
    """Scoring v2's evidence for a batch of subjects (bounded per subject)."""
    window = timedelta(days=settings.window_days)
    since = as_of - window - FUTURE_SKEW
    corroboration = timedelta(days=settings.corroboration_days)
    ports = store.port_blacklist(s for s in subjects if s.startswith(SMS))
    fraud = store.confirmed_fraud(subjects)
    decided = store.case_decisions(subjects)
    aggregates = store.call_aggregates(subjects, as_of - timedelta(days=settings.behaviour_window_days))
    complaints = store.complaints_for_subjects(subjects, since, settings.complaint_cap, as_of + FUTURE_SKEW)
    # every reporter's velocity is taken in the 24 h before as_of: the same for a subject whatever its batch
    moments = {c.reporter_hash: as_of for found, _more in complaints.values() for c in found}
    stats = store.reporter_stats(moments) if moments else {}
    numbered = {s: [c for c in complaints[s][0] if c.reporter_number_hash] for s in subjects}
    claims = {
        s: [(c.reporter_number_hash, c.occurred_at - corroboration, c.occurred_at + FUTURE_SKEW) for c in cs]
        for s, cs in numbered.items()
        if cs
    }
    contacted = store.contacted_many(claims) if claims else {}
    # callbacks: of the subjects with call behaviour, how many of the people they reached called them back
    behaving = {
        s: subscriber_hash(settings.subscriber_key, s) for s in subjects if s in aggregates and not s.startswith(SMS)
    }
    callbacks = (
        store.callbacks(behaving, as_of - timedelta(days=settings.contacts_days), settings.contacts_cap)
        if behaving
        else {}
    )
    out: dict[str, Evidence] = {}
    for s in subjects:
        found, more = complaints[s]
        corroborated = frozenset(numbered[s][i].report_id for i in contacted.get(s, ()))
        mine = {c.reporter_hash: stats[c.reporter_hash] for c in found if c.reporter_hash in stats}
        rows = [a for a in aggregates.get(s, ()) if a.hour <= as_of]
        behaviour: dict[Channel, Behaviour] = {ch: merge(rows, ch) for ch in channels_for(s)} if rows else {}
        if s in callbacks:
            reached, back = callbacks[s]
            behaviour = {ch: dataclasses.replace(b, reached=reached, called_back=back) for ch, b in behaviour.items()}
        authoritative, cleared, hold = _decisions(decided.get(s, ()), as_of, window)
        if s in ports:
            authoritative.insert(0, ports[s].describe())
        if s in fraud and fraud[s].expires_at > as_of:
            authoritative.insert(0, fraud[s].describe())
        code, case_id = authority(s, fraud, ports, decided.get(s, ()), as_of)
        out[s] = Evidence(
            s, tuple(found), more, corroborated, mine, behaviour, tuple(authoritative), cleared, hold, code, case_id
        )
    return disputes.apply(store, settings, out, aggregates, as_of)


def authority(
    subject: str,
    fraud: Mapping[str, ConfirmedFraud],
    ports: Container[str],
    decided: Sequence[ReviewCase],
    as_of: datetime,
) -> tuple[ReasonCode, str]:
    """The reason code of a subject's strongest authoritative evidence, and the case behind it (for redress)."""
    if subject in fraud and fraud[subject].expires_at > as_of:
        return ReasonCode.CONFIRMED_FRAUD, fraud[subject].case_id
    if subject in ports:
        return ReasonCode.PORT_BLACKLIST, ""
    latest = next((c for c in reversed(decided) if c.decided_at is not None and c.decided_at <= as_of), None)
    if latest is None or latest.decision is Decision.CLEAR:  # a clearance is behind no LABEL or BLOCK
        return ReasonCode.MANUAL_RULE, ""
    return ReasonCode.MANUAL_RULE, latest.case_id
