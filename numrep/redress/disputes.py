"""Disputes: an owner contests a number's verdict; analysts acknowledge, review and decide.

States: filed → acknowledged → under_review → upheld / rejected / withdrawn /
expired, each transition kept with its time, actor and note. One function per
operation, called by DisputeService and the CLI alike; each validates
everything before it writes, so a refusal leaves nothing behind.

What a dispute can lower: complaint and behaviour evidence. When it is upheld
the subject is *cleared* at the decision time — complaints and call behaviour
from before stop counting (scoring's ``cleared_before``), evidence after it
counts as usual — and the reporters of the cleared number lose trust
(``trust.record_outcome(..., CLEARED)``). Authoritative evidence (a shut-down
port, confirmed fraud, honeypot hits, an analyst's block) is beyond a dispute:
it is noted at filing for the analyst, and stays.

While a dispute is under review the subject is answered LABEL at most
(``dispute_review_label``), authoritative evidence excepted.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from numrep.config import Settings
from numrep.errors import AlreadyExists, Conflict, Forbidden, NotFound, ValidationError
from numrep.evidence import trust
from numrep.evidence.records import Behaviour, merge
from numrep.models import (
    ApiKey,
    CallAggregate,
    Dispute,
    DisputeState,
    Outcome,
    Proof,
    ReasonCode,
    Scope,
    Transition,
)
from numrep.numbers import normalize
from numrep.privacy import keyed_hash
from numrep.redress.proof import CodeAttempts, attest
from numrep.regulator.registry import Registry
from numrep.scoring import channels_for
from numrep.scoring_v2 import Evidence
from numrep.store.base import Store

ID_PREFIX = "dsp_"
TOKEN_PREFIX = "nro_"
MAX_NOTE = 500
QUEUE_LIMIT = 1000
#: Codes whose evidence a dispute cannot clear: an analyst reviews it.
AUTHORITATIVE = frozenset(
    {ReasonCode.PORT_BLACKLIST, ReasonCode.CONFIRMED_FRAUD, ReasonCode.MANUAL_RULE, ReasonCode.HONEYPOT}
)
#: The states a dispute moves through before its decision, in order.
_PATH = (DisputeState.FILED, DisputeState.ACKNOWLEDGED, DisputeState.UNDER_REVIEW)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: an owner (by its token), an operator (by its key), or an analyst."""

    owner_token: str = ""
    key: ApiKey | None = None
    analyst: bool = False

    def may_touch(self, d: Dispute, settings: Settings) -> bool:
        if self.analyst:
            return True
        if self.owner_token and secrets.compare_digest(owner_hash(settings, self.owner_token), d.owner_hash):
            return True
        return self.key is not None and Scope.HOLDER in self.key.scopes and self.key.operator == d.holder


def owner_hash(settings: Settings, token: str) -> str:
    return keyed_hash(settings.hmac_key, "dispute-owner|" + token.strip())


def _text(value: str, field: str, limit: int = MAX_NOTE, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{field}: required")
    if len(value) > limit:
        raise ValidationError(f"{field}: at most {limit:,} characters, got {len(value):,}")
    return value


def file(
    store: Store,
    settings: Settings,
    subject: str,
    statement: str,
    now: datetime,
    key: ApiKey | None = None,
    challenge_id: str = "",
    code: str = "",
    attempts: CodeAttempts | None = None,
) -> tuple[Dispute, str]:
    """File a dispute with proof of control (``key``: the holder's attestation; else ``challenge_id`` and ``code``).

    Returns the dispute and the owner token (shown once) that reads and withdraws it.
    """
    normalised = normalize(subject, settings.region)
    text = _text(statement, "statement", settings.dispute_max_statement)
    holder = Registry.load(store).holder_of(normalised)
    if challenge_id or code:
        if attempts is None:
            raise Forbidden("one-time codes are not accepted here; send the holder operator's key")
        attempts.verify(settings, normalised, challenge_id, code, now)
        if holder is None:
            raise Forbidden(f"{normalised} has no holder in the number-resource registry")
        proof, by = Proof.CODE, holder.holder
    else:
        proof, by = Proof.ATTESTATION, attest(key, holder, normalised)
    rep = store.get_reputation(normalised)
    if rep is None or not rep.flagged:
        raise Conflict(f"nothing to dispute: {normalised} is neither labelled nor blocked on evidence of its own")
    authoritative = tuple(rep.reasons) if AUTHORITATIVE & set(rep.codes.values()) else ()
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    filer = f"operator:{by}" if proof is Proof.ATTESTATION else "owner"
    note = "filed by the holder's attestation" if proof is Proof.ATTESTATION else "filed with a one-time code"
    dispute = Dispute(
        ID_PREFIX + secrets.token_hex(8),
        normalised,
        proof,
        by,
        text,
        owner_hash(settings, token),
        now,
        (Transition(DisputeState.FILED, now, filer, note),),
        authoritative,
    )
    existing = store.file_dispute(dispute)
    if existing is not None:
        raise AlreadyExists(
            f"{normalised} has an open dispute since {existing.filed_at:%Y-%m-%d %H:%M} UTC "
            f"({existing.state.value}); follow that one instead of filing again"
        )
    if attempts is not None and proof is Proof.CODE:
        attempts.consume(challenge_id)
    store.mark_dirty([normalised])  # lookups name the open dispute as the case
    return dispute, token


def get(store: Store, settings: Settings, dispute_id: str, caller: Caller) -> Dispute:
    d = store.get_dispute(dispute_id.strip())
    if d is None:
        raise NotFound(f"dispute {dispute_id!r}: no such dispute")
    if not caller.may_touch(d, settings):
        raise Forbidden(f"dispute {d.dispute_id}: not yours (send its owner token, or its holder operator's key)")
    return d


def _move(store: Store, d: Dispute, to: DisputeState, actor: str, note: str, now: datetime) -> Dispute:
    """Step ``d`` to ``to`` through the states it skips (each kept, at ``now``); refuse a move from a final state."""
    if not d.open:
        raise Conflict(
            f"dispute {d.dispute_id} is {d.state.value} since {d.decided_at:%Y-%m-%d %H:%M} UTC; "
            "it cannot change any more"
        )
    targets = list(_PATH[_PATH.index(d.state) + 1 : _PATH.index(to) + 1]) if to in _PATH else [to]
    if to in _PATH and not targets:
        raise Conflict(f"dispute {d.dispute_id} is {d.state.value} already")
    for state in targets:
        moved = store.transition_dispute(
            d.dispute_id, d.state, Transition(state, now, actor, note if state is to else "")
        )
        if moved is None:
            raise Conflict(f"dispute {d.dispute_id} changed meanwhile; read it again")
        d = moved
    return d


def acknowledge(
    store: Store, settings: Settings, dispute_id: str, actor: str, now: datetime, note: str = ""
) -> Dispute:
    d = get(store, settings, dispute_id, Caller(analyst=True))
    return _move(store, d, DisputeState.ACKNOWLEDGED, _text(actor, "actor"), _text(note, "note", required=False), now)


def start_review(
    store: Store, settings: Settings, dispute_id: str, actor: str, now: datetime, note: str = ""
) -> Dispute:
    d = get(store, settings, dispute_id, Caller(analyst=True))
    d = _move(store, d, DisputeState.UNDER_REVIEW, _text(actor, "actor"), _text(note, "note", required=False), now)
    store.mark_dirty([d.subject])  # the review hold (dispute_review_label)
    return d


def decide(
    store: Store, settings: Settings, dispute_id: str, upheld: bool, actor: str, reason: str, now: datetime
) -> Dispute:
    """Uphold (clear the subject's complaint and behaviour evidence; its reporters lose trust) or reject (the owner
    reads the reason)."""
    actor, reason = _text(actor, "actor"), _text(reason, "reason")
    d = get(store, settings, dispute_id, Caller(analyst=True))
    if d.open and d.state is not DisputeState.UNDER_REVIEW:
        d = _move(store, d, DisputeState.UNDER_REVIEW, actor, "", now)
    d = _move(store, d, DisputeState.UPHELD if upheld else DisputeState.REJECTED, actor, reason, now)
    if upheld:  # after the decision won its compare-and-set: a refused decision changes nobody's trust
        trust.record_outcome(store, settings, d.subject, Outcome.CLEARED, now)
    store.mark_dirty([d.subject])
    return d


def withdraw(
    store: Store, settings: Settings, dispute_id: str, caller: Caller, now: datetime, note: str = ""
) -> Dispute:
    d = get(store, settings, dispute_id, caller)
    actor = "analyst" if caller.analyst else "owner" if caller.owner_token else f"operator:{d.holder}"
    d = _move(store, d, DisputeState.WITHDRAWN, actor, _text(note, "note", required=False), now)
    store.mark_dirty([d.subject])
    return d


def expire_moot(store: Store, now: datetime, limit: int = QUEUE_LIMIT) -> list[Dispute]:
    """Expire open disputes whose number is no longer labelled or blocked (its evidence aged out)."""
    open_ = store.open_disputes(limit)
    reps = store.get_reputations({d.subject for d in open_})
    out = []
    for d in open_:
        rep = reps.get(d.subject)
        if rep is not None and rep.flagged:
            continue
        moved = store.transition_dispute(
            d.dispute_id,
            d.state,
            Transition(DisputeState.EXPIRED, now, "platform", "the number is no longer labelled or blocked"),
        )
        if moved is not None:
            out.append(moved)
    return out


def queue(store: Store, settings: Settings, limit: int = QUEUE_LIMIT) -> list[Dispute]:
    """Open disputes, the most urgent SLA deadline first (numrep.redress.sla)."""
    from numrep.redress.sla import DisputeSLA

    sla = DisputeSLA.from_settings(settings)
    return sorted(store.open_disputes(limit), key=lambda d: (sla.next_deadline(d), d.dispute_id))


def apply(
    store: Store,
    settings: Settings,
    evidence: dict[str, Evidence],
    aggregates: Mapping[str, Sequence[CallAggregate]],
    as_of: datetime,
) -> dict[str, Evidence]:
    """Scoring's evidence, with what disputes say: clearances, the review hold, the open dispute as the case."""
    for subject, disputes in store.disputes_for_subjects(evidence).items():
        ev = evidence[subject]
        upheld = [
            d.decided_at
            for d in disputes
            if d.state is DisputeState.UPHELD and d.decided_at is not None and d.decided_at <= as_of
        ]
        open_ = next((d for d in disputes if d.open), None)
        changes: dict[str, object] = {}
        cleared = max(upheld, default=None)
        if cleared is not None and (ev.cleared_before is None or cleared > ev.cleared_before):
            changes["cleared_before"] = cleared
            if ev.behaviour:  # behaviour from before the clearance stops counting; honeypot hits are authoritative
                rows = [a for a in aggregates.get(subject, ()) if cleared <= a.hour <= as_of]
                changes["behaviour"] = {
                    ch: dataclasses.replace(merge(rows, ch), honeypots=ev.behaviour.get(ch, Behaviour()).honeypots)
                    for ch in channels_for(subject)
                }
        if open_ is not None:
            if open_.state is DisputeState.UNDER_REVIEW and settings.dispute_review_label:
                changes["dispute_hold"] = open_.dispute_id
            if not ev.case_id:
                changes["case_id"] = open_.dispute_id
        if changes:
            evidence[subject] = dataclasses.replace(ev, **changes)  # type: ignore[arg-type]
    return evidence
