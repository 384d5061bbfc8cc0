"""Accepting reports: validation with field names, idempotency, privacy."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, timedelta, timezone

import pytest

from numrep import intake
from numrep.config import Settings
from numrep.errors import InvalidReport
from numrep.models import Category, Channel
from numrep.store.base import Store
from tests.conftest import NOW

RID = "5f0c8f8e-4a53-4c2c-9a3e-1f0d2b6a7c11"


def inp(**kw: object) -> intake.ReportInput:
    base: dict[str, object] = dict(report_id=RID, reporter_id="alice@example.org", subject="+86 170-1234-5678")
    base.update(kw)
    return intake.ReportInput(**base)  # type: ignore[arg-type]


def validate(settings: Settings, **kw: object) -> intake.Report:
    return intake.validate(inp(**kw), settings.hmac_key, settings.region, NOW)


def test_valid_report_is_normalised_with_defaults(settings: Settings) -> None:
    r = validate(settings, report_id=RID.upper())
    assert r.report_id == RID and r.subject == "tel:+8617012345678"
    assert r.channel is Channel.VOICE and r.category is Category.OTHER and r.occurred_at == NOW
    assert r.reporter_hash.startswith("h1:") and "alice" not in r.reporter_hash


def test_ports_default_to_sms_and_refuse_voice(settings: Settings) -> None:
    assert validate(settings, subject="10657000123456").channel is Channel.SMS
    with pytest.raises(InvalidReport, match="channel: SMS ports send messages only"):
        validate(settings, subject="10657000123456", channel=Channel.VOICE)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"report_id": "not-a-uuid"}, "report_id: must be a UUID"),
        ({"reporter_id": " "}, "reporter_id: required"),
        ({"reporter_id": "x" * 129}, "reporter_id: at most 128"),
        ({"subject": "abc"}, "subject: contains letters"),
        ({"subject": "1380013800012345"}, "subject: too many digits: 16"),
        ({"occurred_at": NOW + timedelta(hours=1)}, "occurred_at: lies in the future"),
        ({"occurred_at": NOW - timedelta(days=400)}, "occurred_at: older than 366 days"),
        ({"occurred_at": NOW.replace(tzinfo=None)}, "occurred_at: must carry a time zone"),
        ({"text": "x" * 1001}, "text: at most 1000 characters"),
    ],
)
def test_bad_reports_name_the_field(settings: Settings, kw: dict, message: str) -> None:
    with pytest.raises(InvalidReport) as exc:
        validate(settings, **kw)
    assert message in str(exc.value)


def test_reporter_identity_never_in_errors_or_repr(settings: Settings) -> None:
    secret = "ID-110101199003074518"
    with pytest.raises(InvalidReport) as exc:
        validate(settings, reporter_id=secret, subject="bad subject")
    assert secret not in str(exc.value)
    assert secret not in repr(inp(reporter_id=secret))


def test_hash_is_keyed(settings: Settings) -> None:
    other = settings.model_copy(update={"hash_key": "z" * 64})
    assert validate(settings).reporter_hash != validate(other).reporter_hash
    assert validate(settings).reporter_hash == validate(settings, reporter_id=" alice@example.org ").reporter_hash


def test_raw_reporter_ids_never_reach_storage_or_logs(
    settings: Settings, sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "ID-110101199003074518"
    caplog.set_level(logging.DEBUG)
    report = intake.validate(
        inp(reporter_id=secret, text=f"loan offer, my ID is {secret[3:]}"), settings.hmac_key, "CN", NOW, keep_text=True
    )
    assert intake.accept(sqlite_store, [report])[0].duplicate is False
    sqlite_store.close()
    dump = "\n".join(sqlite3.connect(settings.sqlite_file).iterdump())
    assert "loan offer, my ID is [ID]" in dump and secret not in dump and secret[3:] not in dump
    assert secret not in caplog.text


def test_accept_is_idempotent(settings: Settings, store: Store) -> None:
    r = validate(settings)
    assert [a.duplicate for a in intake.accept(store, [r, r])] == [False, True]
    assert intake.accept(store, [r])[0].duplicate is True
    assert store.count_reports() == 1


def test_occurred_at_is_stored_in_utc(settings: Settings) -> None:
    cst = timezone(timedelta(hours=8))
    r = validate(settings, occurred_at=NOW.astimezone(cst))
    assert r.occurred_at == NOW and r.occurred_at.tzinfo == UTC
