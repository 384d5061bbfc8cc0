"""What analysts and operators decide: honeypots, confirmed fraud, review decisions, the safety switch.

One function per operation, called by AdminService and the CLI alike. Each
validates its input, writes through the store (which marks the subjects it
affects dirty), and leaves rescoring to the pipeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from numrep.config import Settings
from numrep.errors import Forbidden, NotFound, ValidationError
from numrep.evidence import trust
from numrep.models import BlockSwitch, ConfirmedFraud, Decision, Honeypot, Lane, Outcome, ReviewCase
from numrep.numbers import Namespace, namespace, normalize
from numrep.privacy import subscriber_hash
from numrep.regulator.registry import Registry
from numrep.store.base import Store

MAX_TEXT = 500
DEFAULT_BLOCK_DAYS = 30


def _text(value: str, field: str, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{field}: required")
    if len(value) > MAX_TEXT:
        raise ValidationError(f"{field}: at most {MAX_TEXT} characters")
    return value


def add_honeypot(store: Store, settings: Settings, number: str, operator: str, note: str, now: datetime) -> Honeypot:
    """Designate ``number`` a honeypot of ``operator``, which must hold it by the registry."""
    subject = normalize(number, settings.region)
    if namespace(subject) is not Namespace.TEL:
        raise ValidationError("number: a honeypot is a phone number")
    operator = _text(operator, "operator")
    holder = Registry.load(store).holder_of(subject)
    if holder is None or holder.holder != operator:
        raise Forbidden(
            f"{subject} is not held by {operator} in the number-resource registry "
            f"(holder: {holder.holder if holder else 'none'}); an operator designates only its own numbers"
        )
    return store.add_honeypot(
        Honeypot(
            subject,
            subscriber_hash(settings.subscriber_key, subject),
            operator,
            _text(note, "note", required=False),
            now,
        )
    )


def remove_honeypot(store: Store, settings: Settings, number: str, operator: str | None) -> Honeypot:
    """Stop using a honeypot (``operator`` None: any operator's, for an admin)."""
    subject = normalize(number, settings.region)
    current = {h.number: h for h in store.honeypots()}.get(subject)
    if current is None:
        raise NotFound(f"{subject} is not a honeypot")
    if operator is not None and current.operator != operator:
        raise Forbidden(f"{subject} is a honeypot of {current.operator}, not of {operator}")
    removed = store.remove_honeypot(subject)
    if removed is None:
        raise NotFound(f"{subject} is not a honeypot")
    return removed


def confirm_fraud(
    store: Store,
    settings: Settings,
    subject: str,
    case_id: str,
    expires_at: datetime | None,
    actor: str,
    reason: str,
    now: datetime,
) -> ConfirmedFraud:
    normalised = normalize(subject, settings.region)
    if expires_at is None:
        raise ValidationError("expires_at: required")
    if expires_at <= now:
        raise ValidationError("expires_at: must lie in the future")
    entry = ConfirmedFraud(
        normalised, _text(case_id, "case_id"), expires_at, _text(actor, "actor"), _text(reason, "reason"), now
    )
    store.confirm_fraud(entry)
    trust.record_outcome(store, settings, normalised, Outcome.CONFIRMED, now)
    return entry


def decide_case(
    store: Store,
    settings: Settings,
    case_id: str,
    decision: str,
    actor: str,
    reason: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> ReviewCase:
    try:
        d = Decision(decision.strip().lower())
    except ValueError:
        raise ValidationError(f"decision: one of {', '.join(x.value for x in Decision)}") from None
    if d is Decision.BLOCK:
        expires_at = expires_at or now + timedelta(days=DEFAULT_BLOCK_DAYS)
        if expires_at <= now:
            raise ValidationError("expires_at: must lie in the future")
    else:
        expires_at = None
    case_id, actor, reason = _text(case_id, "case_id"), _text(actor, "actor"), _text(reason, "reason")
    if d is not Decision.LABEL:  # an analyst's block or clearance settles the subject; a hold does not
        # The outcome first (it is idempotent): a crash after the decision must not lose the reporters' trust.
        subject = next((c.subject for c in store.review_cases("open", 1000) if c.case_id == case_id), None)
        if subject is None:
            raise NotFound(f"review case {case_id!r}: no such open case")
        trust.record_outcome(
            store, settings, subject, Outcome.CONFIRMED if d is Decision.BLOCK else Outcome.CLEARED, now
        )
    return store.decide_case(case_id, d, actor, reason, now, expires_at)


def allowlisted(store: Store, settings: Settings, subject: str, now: datetime) -> None:
    """A subject was allowlisted (verified): its reporters were wrong."""
    trust.record_outcome(store, settings, subject, Outcome.CLEARED, now)


def set_block_switch(store: Store, on: bool, actor: str, reason: str, now: datetime) -> BlockSwitch:
    """Turn the platform-wide BLOCK→LABEL switch on or off and queue every flagged subject for rescoring."""
    switch = BlockSwitch(on, _text(actor, "actor"), _text(reason, "reason"), now)
    store.set_block_switch(switch)
    store.mark_dirty(store.flagged_subjects(), Lane.BACKLOG)
    return switch
