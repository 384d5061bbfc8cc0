"""Accepting reports: validation, normalisation, hashing, idempotent storage."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from numrep.errors import InvalidReport, InvalidSubject
from numrep.models import Category, Channel, Report, Source
from numrep.numbers import Namespace, default_channel, namespace, normalize
from numrep.privacy import keyed_hash, stored_text, subscriber_hash
from numrep.scoring import FUTURE_SKEW
from numrep.store.base import Store

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 1000
MAX_REPORTER_CHARS = 128
MAX_AGE = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class ReportInput:
    """A report as received, before validation. ``reporter_id`` is raw: never log this object."""

    report_id: str
    reporter_id: str
    subject: str
    channel: Channel | None = None
    category: Category | None = None
    occurred_at: datetime | None = None
    source: Source | None = None
    text: str = ""
    reporter_number: str = ""

    def __repr__(self) -> str:  # keep the raw reporter id out of logs and tracebacks
        return f"ReportInput(report_id={self.report_id!r}, subject={self.subject!r})"


@dataclass(frozen=True, slots=True)
class Accepted:
    report_id: str
    subject: str
    duplicate: bool


def validate(
    inp: ReportInput,
    key: bytes,
    region: str,
    now: datetime,
    subscriber_key: bytes | None = None,
    attest: Callable[[str], str] | None = None,
    keep_text: bool = False,
) -> Report:
    """Turn input into a storable Report or raise InvalidReport naming the field.

    The reporter's own number, when given, is normalised and kept only as a
    keyed hash under ``subscriber_key`` (the key that hashes callees, so call
    records can corroborate the report). ``attest`` maps that normalised
    number to the operator that vouches for it (the sender's key holds the
    number by the registry), or "": attestation comes from the sender's key,
    never from what the report claims. The text is stored only if ``keep_text``
    (``NUMREP_KEEP_REPORT_TEXT``), and then with phone and ID numbers redacted.
    """
    try:
        report_id = str(uuid.UUID(inp.report_id.strip()))
    except (ValueError, AttributeError):
        raise InvalidReport("report_id", "must be a UUID") from None
    reporter = (inp.reporter_id or "").strip()
    if not reporter:
        raise InvalidReport("reporter_id", "required")
    if len(reporter) > MAX_REPORTER_CHARS:
        raise InvalidReport("reporter_id", f"at most {MAX_REPORTER_CHARS} characters")
    try:
        subject = normalize(inp.subject, region)
    except InvalidSubject as exc:
        raise InvalidReport("subject", exc.reason) from None
    is_port = namespace(subject) is Namespace.SMS
    channel = inp.channel or default_channel(subject)
    if is_port and channel is Channel.VOICE:
        raise InvalidReport("channel", "SMS ports send messages only; use the sms channel")
    occurred = inp.occurred_at or now
    if occurred.tzinfo is None:
        raise InvalidReport("occurred_at", "must carry a time zone")
    occurred = occurred.astimezone(UTC)
    if occurred > now + FUTURE_SKEW:
        raise InvalidReport("occurred_at", "lies in the future")
    if occurred < now - MAX_AGE:
        raise InvalidReport("occurred_at", f"older than {MAX_AGE.days} days")
    if len(inp.text) > MAX_TEXT_CHARS:
        raise InvalidReport("text", f"at most {MAX_TEXT_CHARS} characters, got {len(inp.text)}")
    number_hash, attested_by = "", ""
    if inp.reporter_number.strip():
        try:
            number = normalize(inp.reporter_number, region)
        except InvalidSubject as exc:  # the reason never echoes the number itself
            raise InvalidReport("reporter_number", exc.reason) from None
        if namespace(number) is not Namespace.TEL:
            raise InvalidReport("reporter_number", "must be a phone number, not an SMS port")
        if number == subject:
            raise InvalidReport("reporter_number", "a number cannot report itself")
        number_hash = subscriber_hash(subscriber_key or key, number)
        attested_by = attest(number) if attest is not None else ""
    return Report(
        report_id=report_id,
        reporter_hash=keyed_hash(key, reporter),
        subject=subject,
        channel=channel,
        category=inp.category or Category.OTHER,
        occurred_at=occurred,
        received_at=now,
        source=inp.source or Source.APP,
        text=stored_text(inp.text, keep_text),
        reporter_number_hash=number_hash,
        attested_by=attested_by,
    )


def accept(store: Store, reports: Sequence[Report]) -> list[Accepted]:
    """Store validated reports; duplicates (same report_id) are reported, not counted."""
    fresh = store.add_reports(reports)
    out = [Accepted(r.report_id, r.subject, not new) for r, new in zip(reports, fresh)]
    log.info("reports accepted", extra={"new": sum(fresh), "duplicates": len(fresh) - sum(fresh)})
    return out
