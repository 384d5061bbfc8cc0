"""End to end: reports over gRPC → a real Celery worker rescores → Lookup answers.

The platform runs as processes on its embedded defaults (SQLite store,
SQLite broker). Latency from the deciding report to BLOCK is measured and
written to artifacts/e2e-latency.txt; tests check behaviour, not time.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from numrep.sdk.client import Client
from numrep.store import Store
from numrep.v1 import common_pb2, report_pb2, reputation_pb2, rules_pb2
from tests.e2e.conftest import ROOT, Platform, wait_for

pytestmark = [pytest.mark.e2e]

SPAM = "17012345678"
SPAM_SUBJECT = "tel:+8617012345678"
REPORT_IDS = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"e2e/{i}")) for i in range(12)]


def action(platform: Platform, subject: str) -> int:
    with platform.client() as c:
        return int(c.lookup(subject).action)


def store_of(platform: Platform) -> Store:
    return platform.store()


def victim(i: int) -> str:
    return f"1390013{i:04d}"


def calls_from(c: Client, subject: str, n: int, tag: str) -> None:
    """The operator's records: ``subject`` called ``n`` people an hour ago (each record sent twice)."""
    at = datetime.now(UTC) - timedelta(hours=1)
    records = [c.call_record(f"{tag}-{i}", subject, victim(i), at) for i in range(n)]
    assert c.submit_call_records(records).accepted == n
    assert c.submit_call_records(records).duplicates == n


def test_corroborated_reports_block_with_reasons(platform: Platform) -> None:
    with platform.client() as c:
        # given the operator's records show the number called ten people, two of whom report it, each three times
        calls_from(c, SPAM, 10, "e2e-calls")
        for i in range(2):
            for _ in range(3):
                c.report(SPAM, f"reporter-{i}", "loans_finance", report_id=REPORT_IDS[i], reporter_number=victim(i))
        # two complaints are not enough, even corroborated: the number stays ALLOW once scored
        wait_for(lambda: (rep := store_of(platform).get_reputation(SPAM_SUBJECT)) is not None and rep.reporters == 2)
        assert c.lookup(SPAM).action == common_pb2.ACTION_ALLOW
        # when the deciding report arrives (a third corroborated victim)
        start = time.monotonic()
        c.report(SPAM, "reporter-2", "loans_finance", report_id=REPORT_IDS[2], reporter_number=victim(2))
        # then Lookup says BLOCK, with reasons
        wait_for(lambda: c.lookup(SPAM).action == common_pb2.ACTION_BLOCK)
        latency = time.monotonic() - start
        for i in range(3, 10):
            c.report(SPAM, f"reporter-{i}", "loans_finance", report_id=REPORT_IDS[i], reporter_number=victim(i))
        r = wait_for(lambda: (resp := c.lookup(SPAM)).reasons[0].startswith("10 corroborated") and resp)
    assert r.source == reputation_pb2.VERDICT_SOURCE_STORE
    assert r.top_category == common_pb2.CATEGORY_LOANS_FINANCE
    assert r.reasons[0] == "10 corroborated reporters in 30 days, mostly loans_finance"
    assert store_of(platform).count_reports() == 10  # 2 × 3 sends of the same ids counted once
    mode = platform.settings.store
    out = ROOT / "artifacts"
    out.mkdir(exist_ok=True)
    with open(out / "e2e-latency.txt", "a") as fh:
        fh.write(f"deciding report -> BLOCK on Lookup ({mode}): {latency:.3f} s\n")
    print(f"\ndeciding report -> BLOCK on Lookup ({mode}): {latency:.3f} s")


def test_same_report_id_three_times_counts_once(platform: Platform) -> None:
    rid = str(uuid.uuid4())
    with platform.client() as c:
        results = [c.report("13912345678", "carol", "retail", report_id=rid) for _ in range(3)]
    assert [r.duplicate for r in results] == [False, True, True]
    reports = store_of(platform).reports_for_subject("tel:+8613912345678", datetime.now(UTC) - timedelta(days=30))
    assert [r.report_id for r in reports] == [rid]


def test_protected_number_reported_by_hundreds_stays_allow(platform: Platform) -> None:
    reports = [
        report_pb2.Report(
            report_id=str(uuid.uuid4()), reporter_id=f"crowd-{i}", subject="95588", category=common_pb2.CATEGORY_FRAUD
        )
        for i in range(300)
    ]
    with platform.client() as c:
        for i in range(0, 300, 100):
            assert all(r.accepted for r in c.submit_reports(reports[i : i + 100]))
        store = store_of(platform)
        rep = wait_for(lambda: (x := store.get_reputation("tel:+8695588")) is not None and x.reporters == 300 and x)
        assert rep.protected and not rep.flagged
        r = c.lookup("95588")
    assert r.action == common_pb2.ACTION_ALLOW and r.protected


def test_reports_accepted_while_the_worker_is_dead_are_not_lost(platform: Platform) -> None:
    platform.kill_worker()
    with platform.client() as c:
        calls_from(c, "17198765432", 10, "dead-worker")
        for i in range(10):
            c.report("17198765432", f"victim-{i}", "fraud", reporter_number=victim(i))
        time.sleep(1)
        assert c.lookup("17198765432").action == common_pb2.ACTION_ALLOW  # nobody has rescored yet
    platform.start_worker()
    wait_for(lambda: action(platform, "17198765432") == common_pb2.ACTION_BLOCK)


def test_imported_port_blacklist_blocks_on_sms(platform: Platform, tmp_path: Path) -> None:
    ports = tmp_path / "ports.csv"
    ports.write_text("port,enterprise,reason,source,date\n10690000777,Dodgy SMS Co,fraud SMS,MIIT,2026-10-01\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("port,enterprise,reason,source\n10690000888,X,y,z\n")
    cli = [sys.executable, "-m", "numrep.cli", "import-ports", "--target", platform.address]
    rejected = subprocess.run([*cli, str(bad)], env=platform.env, cwd=ROOT, capture_output=True, text=True)
    assert rejected.returncode == 1 and "missing column(s) date" in rejected.stderr
    start = time.monotonic()
    done = subprocess.run([*cli, str(ports)], env=platform.env, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "1 ports valid, 1 new or changed" in done.stdout
    r = wait_for(
        lambda: (resp := platform.client().lookup("sms:10690000777")).action == common_pb2.ACTION_BLOCK and resp
    )
    latency = time.monotonic() - start
    assert r.reasons[0].startswith("SMS port shut down: fraud SMS")
    with open(ROOT / "artifacts" / "e2e-latency.txt", "a") as fh:
        fh.write(f"port blacklist import -> BLOCK on sms ({platform.settings.store}): {latency:.3f} s\n")


def test_deciding_report_reaches_watch_rules_subscribers(platform: Platform) -> None:
    """Freshness: the deciding report → the new rule on a WatchRules stream."""
    subject = "tel:+8613300133000"
    with platform.client() as c:
        held = c.get_rules(0).version
        stream = c.rules.WatchRules(rules_pb2.GetRulesRequest(since_version=held), timeout=60)
        assert next(stream).version == held
        calls_from(c, subject, 3, "watch-calls")
        for i in range(2):  # two corroborated victims: not enough on their own
            c.report(subject, f"watcher-{i}", "fraud", reporter_number=victim(i))
        start = time.monotonic()
        c.report(subject, "watcher-2", "fraud", reporter_number=victim(2))  # the deciding one: BLOCK
        ruled = False
        try:
            for update in stream:
                if any(r.rule_id == f"{subject}#voice" and r.action == common_pb2.ACTION_BLOCK for r in update.added):
                    ruled = True
                    break
        finally:
            stream.cancel()
        latency = time.monotonic() - start
        assert ruled, "the WatchRules stream ended without the BLOCK rule"
    with open(ROOT / "artifacts" / "e2e-latency.txt", "a") as fh:
        fh.write(f"deciding report -> rule on WatchRules ({platform.settings.store}): {latency:.3f} s\n")
    print(f"\ndeciding report -> rule on WatchRules ({platform.settings.store}): {latency:.3f} s")


def test_reports_ports_and_allocations_in_list_and_rules_out(platform: Platform, tmp_path: Path) -> None:
    """Everything the regulator publishes, end to end over gRPC with the real worker."""
    today = datetime.now(UTC).date()
    ranges = tmp_path / "ranges.csv"
    ranges.write_text(
        "prefix,holder,holder_type,size\n+86 170,China Telecom,operator,100000000\n"
        "1701,Virtual Mobile Co,reseller,10000\nsms:10690,China Unicom,operator,1000000\n"
    )
    ports = tmp_path / "ports.json"
    ports.write_text(
        json.dumps(
            [
                {
                    "port": "10690000999",
                    "enterprise": "Loan Blast Ltd",
                    "reason": "illegal loan ads",
                    "source": "MIIT",
                    "date": today.isoformat(),
                }
            ]
        )
    )
    cli = [sys.executable, "-m", "numrep.cli"]
    for args in (["import-ranges", str(ranges)], ["import-ports", str(ports)]):
        done = subprocess.run(
            [*cli, *args, "--target", platform.address], env=platform.env, cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    with platform.client() as c:
        calls_from(c, "17012345099", 10, "list-calls")
        for i in range(10):
            c.report("17012345099", f"e2e-list-{i}", "loans_finance", reporter_number=victim(i))
        wait_for(lambda: c.lookup("17012345099").action == common_pb2.ACTION_BLOCK)
        wait_for(lambda: c.lookup("sms:10690000999").action == common_pb2.ACTION_BLOCK)
        rules = {r.rule_id for r in c.get_rules(0).added}
    assert {"tel:+8617012345099#voice", "sms:10690000999#sms"} <= rules

    period = f"{today.year}-{today.month:02d}"
    out = tmp_path / "published"
    done = subprocess.run(
        [*cli, "publish", period, "--out", str(out), "--target", platform.address],
        env=platform.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads((out / f"spam-list-{period}.json").read_text())
    top = {r["subject"]: r for r in doc["top_numbers"]}
    assert top["tel:+86170****5099"]["holder"] == "Virtual Mobile Co" and top["tel:+86170****5099"]["flagged"]
    assert [p["port"] for p in doc["ports_shut_down"]] == ["sms:10690000999"]
    assert doc["holders"][0]["holder"] == "Virtual Mobile Co"
    assert (out / f"spam-list-{period}.html").read_bytes().startswith(b"<!DOCTYPE html>")
    again = subprocess.run(
        [*cli, "publish", period, "--out", str(tmp_path / "again"), "--target", platform.address],
        env=platform.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0
    for suffix in ("json", "csv", "html"):
        name = f"spam-list-{period}.{suffix}"
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes()


def test_after_restart_of_server_and_worker_answers_are_the_same(platform: Platform) -> None:
    """Self-contained (whatever ran before): a number it gets blocked, a protected one and an unknown one."""
    blocked = "17055500001"
    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"e2e/restart/{i}")) for i in range(3)]
    subjects = [blocked, "95588", "13800138001"]
    with platform.client() as c:
        calls_from(c, blocked, 3, "restart-calls")
        for i in range(3):  # three corroborated victims: BLOCK
            c.report(blocked, f"restart-{i}", "fraud", report_id=ids[i], reporter_number=victim(i))
        wait_for(lambda: c.lookup(blocked).action == common_pb2.ACTION_BLOCK)
        before = [c.lookup(s) for s in subjects]
    reports_before = store_of(platform).count_reports()
    platform.stop(signal.SIGTERM)
    platform.start_server()
    platform.start_worker()
    with platform.client() as c:
        after = [c.lookup(s) for s in subjects]
        resent = c.report(blocked, "restart-0", "fraud", report_id=ids[0], reporter_number=victim(0))
    strip = lambda r: (r.subject, r.action, r.score, list(r.reasons), r.protected, r.version)  # noqa: E731
    assert [r.action for r in before] == [common_pb2.ACTION_BLOCK, common_pb2.ACTION_ALLOW, common_pb2.ACTION_ALLOW]
    assert before[1].protected
    assert [strip(r) for r in after] == [strip(r) for r in before]
    assert resent.duplicate
    assert store_of(platform).count_reports() == reports_before
