"""The privacy lifecycle: report texts kept only when configured and redacted, retention runs, deletion on request."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from numrep import intake, pipeline, privacy, retention
from numrep.cli import main
from numrep.config import Settings, load_settings
from numrep.errors import ConfigError
from numrep.models import Action
from numrep.sdk.client import Client
from numrep.store.base import Store
from numrep.v1 import admin_pb2
from services.server import Server
from tests.conftest import NOW, make_report

RID = "5f0c8f8e-4a53-4c2c-9a3e-1f0d2b6a7c11"
RAW_REPORTER = "alice-wechat-7f3e9a"  # a free-text account id: must never be stored, logged or echoed


# ---- report texts ---------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("贷款秒批，详询13812345678", "贷款秒批，详询[NUMBER]"),
        ("call +86 138-1234-5678 now", "call [NUMBER] now"),
        ("office (010) 6552 9988, port 10690001", "office [NUMBER], port [NUMBER]"),
        ("身份证11010119900307451X已冻结", "身份证[ID]已冻结"),
        ("ID 110101199003074518 and 13812345678", "ID [ID] and [NUMBER]"),
        ("全角１３８１２３４５６７８", "全角[NUMBER]"),  # full-width digits, as senders use to dodge filters
        ("2026年11月23日 10:30 到账 500 元", "2026年11月23日 10:30 到账 500 元"),  # dates, times and amounts stay
        ("", ""),
    ],
)
def test_redaction_replaces_phone_and_id_numbers(text: str, expected: str) -> None:
    assert privacy.redact_text(text) == expected


@given(
    st.text(alphabet="贷款 ,.!abc", max_size=20),
    st.from_regex(r"1[3-9]\d{9}", fullmatch=True),
    st.text(alphabet="贷款 ,.!abc", max_size=20),
)
def test_no_mobile_number_survives_redaction(before: str, number: str, after: str) -> None:
    assert number not in privacy.redact_text(before + number + after)


def test_texts_are_dropped_unless_configured_then_redacted(settings: Settings) -> None:
    body = "中奖了! 回电13812345678, 身份证110101199003074518"
    dropped = intake.validate(
        intake.ReportInput(report_id=RID, reporter_id="a", subject="17012345678", text=body),
        settings.hmac_key,
        "CN",
        NOW,
    )
    kept = intake.validate(
        intake.ReportInput(report_id=RID, reporter_id="a", subject="17012345678", text=body),
        settings.hmac_key,
        "CN",
        NOW,
        keep_text=True,
    )
    assert dropped.text == ""
    assert kept.text == "中奖了! 回电[NUMBER], 身份证[ID]"
    assert load_settings(environ={"NUMREP_KEEP_REPORT_TEXT": "true"}, data_dir=settings.data_dir).keep_report_text
    assert not load_settings(environ={}, data_dir=settings.data_dir).keep_report_text


def test_a_text_retention_beyond_the_report_retention_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NUMREP_REPORT_TEXT_RETENTION_DAYS"):
        load_settings(
            environ={"NUMREP_REPORT_RETENTION_DAYS": "30", "NUMREP_REPORT_TEXT_RETENTION_DAYS": "60"}, data_dir=tmp_path
        )


# ---- retention ---------------------------------------------------------------
def test_a_retention_run_deletes_in_bounded_steps_and_resumes(settings: Settings, store: Store) -> None:
    """Given 5 reports past retention and room for 2 steps of 2, when it runs twice, then 4 go, then the last."""
    now = datetime.now(UTC)
    old = now - timedelta(days=settings.report_retention_days, hours=2)
    store.add_reports(
        [
            replace(make_report(i, "tel:+8617012345678"), occurred_at=old, received_at=old, text="[NUMBER]")
            for i in range(5)
        ]
        + [replace(make_report(9, "tel:+8617012345678"), text="kept")]
    )
    tuned = settings.model_copy(update={"prune_batch": 2})

    first = retention.enforce(store, tuned, now, max_steps=2)
    second = retention.enforce(store, tuned, now, max_steps=2)

    assert (first.reports, first.done, second.reports, second.done) == (4, False, 1, True)
    assert store.count_reports() == 1


def test_retention_rescores_what_expired(settings: Settings, store: Store) -> None:
    """Given a subject flagged by old reports, when they pass their retention, then its score is recomputed without them."""
    now = datetime.now(UTC)
    old = now - timedelta(days=10)
    store.add_reports(
        [replace(make_report(i, "tel:+8617012345678"), occurred_at=old, received_at=old) for i in range(30)]
    )
    short = settings.model_copy(update={"report_retention_days": 30.0, "report_text_retention_days": 30.0})
    pipeline.rescore_dirty(store, short, as_of=now)
    assert store.get_reputation("tel:+8617012345678").score > 0  # type: ignore[union-attr]

    run = retention.enforce(store, short, now + timedelta(days=21))
    pipeline.rescore_dirty(store, short, as_of=now + timedelta(days=21))

    assert run.reports == 30 and run.subjects == 1
    rep = store.get_reputation("tel:+8617012345678")
    assert rep is not None and rep.score == 0 and set(rep.actions.values()) <= {Action.ALLOW}


# ---- deletion on request ---------------------------------------------------------
def test_no_raw_reporter_id_reaches_the_store_or_the_logs_on_the_deletion_path(
    settings: Settings, any_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    report = intake.validate(
        intake.ReportInput(report_id=RID, reporter_id=RAW_REPORTER, subject="17012345678"), settings.hmac_key, "CN", NOW
    )
    any_store.add_reports([report])
    if any_store.name == "cassandra":  # every table a report is written to holds the hash only
        for table in ("reports_by_id", "reports_by_subject", "reports_by_reporter", "reports_by_day"):
            rows = any_store._exec(f"SELECT * FROM {table}")  # type: ignore[attr-defined]
            assert rows and RAW_REPORTER not in repr(rows)
    seen: list[str] = []
    real = any_store.delete_reporter
    any_store.delete_reporter = lambda h, batch=500: (seen.append(h), real(h, batch))[1]  # type: ignore[method-assign]

    removal = privacy.delete_reporter(any_store, settings.hmac_key, f"  {RAW_REPORTER} ")
    again = privacy.delete_reporter(any_store, settings.hmac_key, RAW_REPORTER)

    assert removal.reports == 1 and again.reports == 0
    assert seen == [report.reporter_hash] * 2 and all(RAW_REPORTER not in h for h in seen)  # hashed before any lookup
    assert RAW_REPORTER not in caplog.text and report.reporter_hash not in caplog.text
    if any_store.name == "sqlite":
        any_store.close()
        assert RAW_REPORTER.encode() not in Path(settings.sqlite_file).read_bytes()


@pytest.fixture
def server(settings: Settings, store: Store) -> Server:
    srv = Server(settings.model_copy(update={"keep_report_text": True}), store=store, nudge=lambda: None).start()
    yield srv  # type: ignore[misc]
    srv.stop(grace=1)


def test_delete_reporter_over_grpc_and_the_cli(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with Client(server.address, timeout=10) as c:
        c.wait_ready()
        c.report("13812345678", RAW_REPORTER, "fraud", text="回电13900001111")
        c.report("17012345678", RAW_REPORTER, "fraud")
        c.report("17012345678", "someone-else", "fraud")
        assert [r.text for r in server.store.reports_for_subject("tel:+8613812345678", NOW - timedelta(days=9000))] == [
            "回电[NUMBER]"
        ]

        r = c.admin.DeleteReporter(admin_pb2.DeleteReporterRequest(reporter_id=RAW_REPORTER), timeout=10)
        assert (r.reports, r.subjects_affected, list(r.subjects)) == (
            2,
            2,
            ["tel:+8613812345678", "tel:+8617012345678"],
        )
        assert server.store.count_reports() == 1

        with pytest.raises(grpc.RpcError) as err:
            c.admin.DeleteReporter(admin_pb2.DeleteReporterRequest(reporter_id="  "), timeout=10)
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "reporter_id" in (err.value.details() or "")
        with pytest.raises(grpc.RpcError) as err:
            c.admin.DeleteReporter(admin_pb2.DeleteReporterRequest(reporter_id="x" * 129), timeout=10)
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "x" * 20 not in (err.value.details() or "")

    env = {"NUMREP_DATA_DIR": str(server.settings.data_dir), "NUMREP_HASH_KEY": "k" * 64, "COLUMNS": "200"}
    out = CliRunner().invoke(
        main,
        ["privacy", "delete-reporter", "someone-else", "--target", server.address],
        env=env,
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    assert "removed 1 reports" in out.output and "1 subjects to rescore" in out.output
    again = CliRunner().invoke(
        main,
        ["privacy", "delete-reporter", "someone-else", "--target", server.address],
        env=env,
        catch_exceptions=False,
    )
    assert "removed 0 reports" in again.output  # idempotent; an unknown reporter is not an error
    assert RAW_REPORTER not in caplog.text and "someone-else" not in caplog.text


def test_the_prune_task_runs_the_retention_on_the_workers_store(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMREP_DATA_DIR", str(settings.data_dir))
    from workers import celery_app
    from workers.privacy_tasks import prune_reports_task

    monkeypatch.setattr(celery_app.app, "numrep_settings", settings)
    monkeypatch.setattr(celery_app, "_store", store)
    old = datetime.now(UTC) - timedelta(days=settings.report_retention_days, hours=1)
    store.add_reports([replace(make_report(1), occurred_at=old, received_at=old), make_report(2)])

    first = prune_reports_task()
    again = prune_reports_task()

    assert (first["reports"], first["subjects"], first["done"]) == (1, 1, True)
    assert again["reports"] == 0 and store.count_reports() == 1
