"""One function per regulator operation: every entry point gives the same result.

The spam reporting list is published by the Celery task, by ``numrep publish
--direct`` and by ``AdminService.PublishSpamList``; imports arrive by
``numrep import-* --direct`` and by ``AdminService`` uploads. Given the same
store, period, file and settings, each entry point must give the same bytes and
the same store — including settings that differ from the defaults.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from numrep.cli import main
from numrep.config import Settings
from numrep.lookup import LookupEngine
from numrep.models import Allocation, CaseStep, Category, Channel, HolderType, Report, Source
from numrep.regulator import spam_list, timeliness
from numrep.regulator.periods import Period
from numrep.store.base import Store
from numrep.v1 import admin_pb2
from services.admin import AdminServicer

PERIOD = Period.parse("2026-10")
T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)
SLA_ENV = {"NUMREP_SLA_ACK_HOURS": "2", "NUMREP_SLA_RESOLVE_HOURS": "10", "NUMREP_SLA_TARGET_SHARE": "0.5"}


@pytest.fixture
def tuned(settings: Settings) -> Settings:
    """Settings whose SLA is far from the default (24 h, 72 h, 90 %)."""
    return settings.model_copy(update={"sla_ack_hours": 2.0, "sla_resolve_hours": 10.0, "sla_target_share": 0.5})


def load(store: Store, sla: timeliness.SLA) -> None:
    """Complaints a holder acknowledged after 3 h and resolved after 20 h: on time only under the default SLA."""
    store.put_allocations([Allocation("tel:+861700", "Virtual Mobile Co", HolderType.RESELLER, 100_000)])
    store.add_reports(
        [
            Report(
                f"60000000-0000-4000-8000-{i:012d}",
                f"h1:{i}",
                f"tel:+8617001{i:06d}",
                Channel.VOICE,
                Category.LOANS_FINANCE,
                T0,
                T0,
                Source.APP,
            )
            for i in range(6)
        ]
    )
    for i in range(6):
        rid = f"60000000-0000-4000-8000-{i:012d}"
        timeliness.record(store, rid, "Virtual Mobile Co", CaseStep.ACKNOWLEDGED, T0 + timedelta(hours=3), sla)
        timeliness.record(store, rid, "Virtual Mobile Co", CaseStep.RESOLVED, T0 + timedelta(hours=20), sla)


def cli(settings: Settings, *args: str) -> str:
    env = {"NUMREP_DATA_DIR": str(settings.data_dir), "NUMREP_HASH_KEY": "k" * 64, **SLA_ENV}
    done = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


def files_in(directory: Path) -> dict[str, bytes]:
    return {p.suffix.lstrip("."): p.read_bytes() for p in sorted(directory.glob(f"spam-list-{PERIOD.label}.*"))}


@pytest.fixture
def worker_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run the publication task as a function on the test's store and settings."""

    def use(store: Store, settings: Settings) -> None:
        from workers import publication_tasks

        monkeypatch.setattr(publication_tasks, "store", lambda: store)
        monkeypatch.setattr(publication_tasks, "settings", lambda: settings)

    yield use  # type: ignore[misc]


def test_every_spam_list_entry_point_honours_the_sla_setting_alike(
    sqlite_store: Store, tuned: Settings, tmp_path: Path, worker_on
) -> None:  # type: ignore[no-untyped-def]
    # given: complaints handled late under the configured SLA, on time under the default one
    load(sqlite_store, timeliness.SLA.from_settings(tuned))
    expected = spam_list.render(spam_list.build(sqlite_store, PERIOD, sla=timeliness.SLA.from_settings(tuned)))
    assert expected != spam_list.render(spam_list.build(sqlite_store, PERIOD))  # the setting matters here
    assert b'"ack_hours": 2.0' in expected["json"] and b"Virtual Mobile Co" in expected["csv"]

    # when: the servicer, the worker task and the CLI's direct path publish the same period
    servicer = AdminServicer(sqlite_store, LookupEngine(sqlite_store, tuned))
    r = servicer.PublishSpamList(admin_pb2.PublishSpamListRequest(period=PERIOD.label), None)  # type: ignore[arg-type]

    from workers.publication_tasks import publish_spam_list_task

    worker_on(sqlite_store, tuned)
    publish_spam_list_task(period=PERIOD.label)

    cli(tuned, "publish", PERIOD.label, "--direct", "--out", str(tmp_path / "cli"))

    # then: all three are the same bytes, under the configured SLA
    assert {"json": r.json, "csv": r.csv, "html": r.html} == expected
    assert files_in(tuned.data_dir / "publications") == expected
    assert files_in(tmp_path / "cli") == expected
    assert spam_list.publish(sqlite_store, tuned, PERIOD) == expected  # the one function they all call


def test_unmasked_publication_is_the_same_through_the_cli_and_the_servicer(
    sqlite_store: Store, tuned: Settings, tmp_path: Path
) -> None:
    load(sqlite_store, timeliness.SLA.from_settings(tuned))
    expected = spam_list.render(
        spam_list.build(sqlite_store, PERIOD, masked=False, sla=timeliness.SLA.from_settings(tuned))
    )
    assert b"tel:+8617001000000" in expected["json"]
    servicer = AdminServicer(sqlite_store, LookupEngine(sqlite_store, tuned))
    r = servicer.PublishSpamList(admin_pb2.PublishSpamListRequest(period=PERIOD.label, unmasked=True), None)  # type: ignore[arg-type]
    cli(tuned, "publish", PERIOD.label, "--direct", "--unmasked", "--out", str(tmp_path / "cli"))
    assert {"json": r.json, "csv": r.csv, "html": r.html} == expected == files_in(tmp_path / "cli")


PORTS = b"port,enterprise,reason,source,date\n10657000123456,Acme,illegal loan ads,MIIT,2026-09-30\n"
RANGES = b"prefix,holder,holder_type,size\n1700,Virtual Mobile Co,reseller,1000000\n+86 170,China Telecom,operator,10000000\n"


def _chunks(name: str, data: bytes) -> Iterator[admin_pb2.ImportChunk]:
    for i in range(0, len(data), 32):
        yield admin_pb2.ImportChunk(filename=name if i == 0 else "", data=data[i : i + 32])


@pytest.mark.parametrize(
    "command, name, data", [("import-ports", "ports.csv", PORTS), ("import-ranges", "ranges.csv", RANGES)]
)
def test_imports_through_the_cli_and_the_servicer_change_the_store_alike(
    settings: Settings, tmp_path: Path, command: str, name: str, data: bytes
) -> None:
    # given: a region other than the default, which national prefixes depend on
    from numrep.store.sqlite import SQLiteStore

    gb = settings.model_copy(update={"region": "GB"})
    via_cli = gb.model_copy(update={"data_dir": tmp_path / "cli"})
    path = tmp_path / name
    path.write_bytes(data)
    # when: the CLI applies the file directly, and AdminService receives it as an upload
    env = {"NUMREP_DATA_DIR": str(via_cli.data_dir), "NUMREP_REGION": "GB"}
    done = CliRunner().invoke(main, [command, "--direct", str(path)], env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    served = SQLiteStore(gb.sqlite_file)
    served.migrate()
    servicer = AdminServicer(served, LookupEngine(served, gb))
    upload = servicer.ImportPortBlacklist if command == "import-ports" else servicer.ImportAllocations
    r = upload(_chunks(name, data), None)  # type: ignore[arg-type]
    # then: the same rows, and the same store
    assert (r.applied, r.rows, r.changed) == (True, data.count(b"\n") - 1, data.count(b"\n") - 1)
    assert f"{r.rows} {command.removeprefix('import-')} valid, {r.changed} new or changed" in done.output
    direct = SQLiteStore(via_cli.sqlite_file)
    try:
        assert (
            direct.allocations() == served.allocations()
            and direct.list_port_blacklist() == served.list_port_blacklist()
        )
        if command == "import-ranges":
            assert "tel:+441700" in {a.prefix for a in served.allocations()}
    finally:
        direct.close()
        served.close()
