"""The spam reporting list: content, determinism, formats, and charts drawn in headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

from numrep.config import Settings
from numrep.models import (
    Action,
    Allocation,
    AllowlistEntry,
    Category,
    Channel,
    HolderType,
    PortBlacklistEntry,
    Report,
    Reputation,
    Source,
)
from numrep.numbers import mask
from numrep.regulator import spam_list
from numrep.regulator.periods import Period
from numrep.store.base import Store
from tests.conftest import missing_backend

ROOT = Path(__file__).resolve().parents[3]  # the repository: screenshots go to its artifacts/
PERIOD = Period.parse("2026-Q3")
AT = datetime(2026, 8, 15, 10, tzinfo=UTC)
# the complaint center's quarterly mix, scaled to 1,000 complaints
MIX = {
    Category.LOANS_FINANCE: 609,
    Category.RETAIL: 125,
    Category.INSURANCE: 80,
    Category.EDUCATION_TRAINING: 73,
    Category.OTHER: 113,
}


def load(store: Store) -> None:
    store.put_allocations(
        [
            Allocation("tel:+86170", "China Telecom", HolderType.OPERATOR, 10_000_000),
            Allocation("tel:+861700", "Virtual Mobile Co", HolderType.RESELLER, 100_000),
            Allocation("tel:+86138", "China Mobile", HolderType.OPERATOR, 100_000_000),
            Allocation("sms:10657", "China Mobile", HolderType.OPERATOR, 10_000_000),
        ]
    )
    reports, n = [], 0
    for cat, count in MIX.items():
        for i in range(count):
            subject = [f"tel:+86170012{i % 50:05d}", f"tel:+8613800{i % 200:06d}", f"sms:1065700{i % 7:04d}"][i % 3]
            reports.append(
                Report(
                    f"40000000-0000-4000-8000-{n:012d}",
                    f"h1:r{n}",
                    subject,
                    Channel.SMS if subject.startswith("sms:") else Channel.VOICE,
                    cat,
                    AT,
                    AT,
                    Source.APP,
                )
            )
            n += 1
    reports.append(
        Report(
            "40000000-0000-4000-8000-999999999999",
            "h1:x",
            "tel:+8613900000000",
            Channel.VOICE,
            Category.FRAUD,
            datetime(2026, 10, 2, tzinfo=UTC),
            datetime(2026, 10, 2, tzinfo=UTC),
            Source.APP,
        )
    )  # next quarter: not counted
    store.add_reports(reports)
    store.add_port_blacklist(
        [
            PortBlacklistEntry("sms:10657000003", "Acme", "loan ads", "MIIT", date(2026, 8, 1)),
            PortBlacklistEntry("sms:10659000001", "Old Co", "fraud", "MIIT", date(2026, 1, 1)),  # another quarter
        ]
    )
    store.put_reputations(
        [Reputation("tel:+8617001200000", 95, {Channel.VOICE: Action.BLOCK}, {}, 12, 11.0, AT, AT, ("x",), False, AT)]
    )


def test_content_follows_the_period(store: Store) -> None:
    load(store)
    doc = spam_list.build(store, PERIOD)
    assert doc.totals == {
        "complaints": 1000,
        "spam_complaints": 1000,
        "protected_complaints": 0,
        "reported_numbers": 250,
        "reported_ports": 7,
        "protected_reported": 0,
        "flagged_reported": 1,
        "ports_shut_down": 1,
    }
    shares = {c["category"]: c["share"] for c in doc.categories}
    assert shares["loans_finance"] == 0.609 and shares["retail"] == 0.125 and shares["other"] == 0.113
    assert doc.top_numbers[0]["subject"] == "tel:+86170****0000"  # masked by default
    assert doc.top_numbers[0]["holder"] == "Virtual Mobile Co"
    assert [p["port"] for p in doc.ports_shut_down] == ["sms:10657000003"]
    assert doc.holders[0]["holder"] == "Virtual Mobile Co" and doc.holders[0]["tier"] == "C"
    assert [o["holder"] for o in doc.operators] == ["China Mobile", "China Telecom"]
    assert spam_list.build(store, PERIOD, masked=False).top_numbers[0]["subject"].startswith("tel:+8617001200")


def test_publishing_twice_is_byte_identical_in_every_format(store: Store, tmp_path: Path) -> None:
    load(store)
    first = spam_list.render(spam_list.build(store, PERIOD))
    second = spam_list.render(spam_list.build(store, PERIOD))
    assert first == second
    paths = spam_list.publish_to(tmp_path, first, PERIOD.label)
    assert sorted(p.name for p in paths) == [
        "spam-list-2026-Q3.csv",
        "spam-list-2026-Q3.html",
        "spam-list-2026-Q3.json",
    ]
    assert json.loads(first["json"])["period"] == "2026-Q3"
    rows = list(csv.reader(io.StringIO(first["csv"].decode())))
    assert rows[0] == ["section", "rank", "key", "value", "share", "detail"]
    assert ["category", "", "loans_finance", "609", "0.6090", "Loans & finance"] in rows
    assert b"<svg" in first["html"] and b"http" not in first["html"].replace(b"http://www.w3.org/2000/svg", b"")


BANK = "tel:+8695588"  # ICBC's customer line: built-in protected
HOSPITAL = "tel:+8613800009999"  # allowlisted, and in China Mobile's range
HOTLINE_PORT = "sms:106575588"  # a bank's SMS port, allowlisted


def test_protected_numbers_are_in_no_spam_ranking_and_listed_apart_in_every_format(
    store: Store, settings: Settings
) -> None:
    # given: the usual quarter, plus confused users reporting a bank line (the most reported subject of all),
    # an allowlisted hospital line and an allowlisted bank SMS port
    load(store)
    unconfused = spam_list.build(store, PERIOD, masked=False)
    store.add_allowlist(AllowlistEntry(HOSPITAL, "verified hospital line", "test", AT))
    store.add_allowlist(AllowlistEntry(HOTLINE_PORT, "bank notifications", "test", AT))
    confused = [(BANK, Category.FRAUD, 300), (HOSPITAL, Category.LOANS_FINANCE, 40), (HOTLINE_PORT, Category.FRAUD, 60)]
    store.add_reports(
        [
            Report(
                f"50000000-0000-4000-8000-{k:04d}{i:08d}",
                f"h1:c{k}-{i}",
                subject,
                Channel.SMS if subject.startswith("sms:") else Channel.VOICE,
                cat,
                AT,
                AT,
                Source.APP,
            )
            for k, (subject, cat, n) in enumerate(confused)
            for i in range(n)
        ]
    )
    # when: the list is published (masked and unmasked)
    files = {m: spam_list.publish(store, settings, PERIOD, masked=m) for m in (True, False)}
    doc = spam_list.build(store, PERIOD, masked=False)
    # then: in the data, no ranking, share or holder score counts them ...
    assert doc.totals["complaints"] == 1400 and doc.totals["spam_complaints"] == 1000
    assert doc.totals["protected_complaints"] == 400 and doc.totals["protected_reported"] == 3
    assert {c["category"]: c["complaints"] for c in doc.categories}["fraud"] == 0
    assert {c["category"]: c["share"] for c in doc.categories}["loans_finance"] == 0.609
    ranked = {r["subject"] for r in doc.top_numbers + doc.top_ports}
    assert not ranked & {BANK, HOSPITAL, HOTLINE_PORT}
    for section in ("categories", "top_numbers", "top_ports", "holders", "operators"):  # as if nobody had reported them
        assert getattr(doc, section) == getattr(unconfused, section), section
    # ... and the protected section lists them, most reported first, with what protects them
    assert doc.protected["title"] == "Complaints against protected numbers — not spam"
    assert [(r["subject"], r["complaints"]) for r in doc.protected["top"]] == [
        (BANK, 300),
        (HOTLINE_PORT, 60),
        (HOSPITAL, 40),
    ]
    assert doc.protected["top"][0]["protected_as"] == "ICBC"
    for masked, out in files.items():
        shown = {s: mask(s) if masked else s for s in (BANK, HOSPITAL, HOTLINE_PORT)}
        # JSON: absent from the rankings, present in the protected section
        data = json.loads(out["json"])
        for section in ("top_numbers", "top_ports"):
            assert not {r["subject"] for r in data[section]} & {*shown.values(), BANK, HOSPITAL, HOTLINE_PORT}
        assert [r["subject"] for r in data["protected"]["top"]] == [BANK, HOTLINE_PORT, HOSPITAL]
        assert "including those against protected numbers" in data["totals_basis"]["complaints"]
        # CSV: only the protected_not_spam rows name them
        rows = list(csv.reader(io.StringIO(out["csv"].decode())))
        naming = [r for r in rows if r[2] in {*shown.values(), BANK, HOSPITAL, HOTLINE_PORT}]
        assert [(r[0], r[1], r[2], r[3]) for r in naming] == [
            ("protected_not_spam", "1", BANK, "300"),
            ("protected_not_spam", "2", HOTLINE_PORT, "60"),
            ("protected_not_spam", "3", HOSPITAL, "40"),
        ]
        assert ["protected_not_spam", "", "complaints", "400", "", doc.protected["title"]] in rows
        assert ["category", "", "fraud", "0", "0.0000", "Fraud"] in rows
        # HTML: only inside the protected section
        page = out["html"].decode()
        before, protected_part = page.split('<section id="protected">')
        for subject in {*shown.values(), BANK, HOSPITAL, HOTLINE_PORT}:
            assert subject not in before
        assert "<h2>Complaints against protected numbers — not spam</h2>" in protected_part
        assert all(f"<td>{s}</td>" in protected_part for s in (BANK, HOSPITAL, HOTLINE_PORT))
        assert "1,000 spam complaints; excludes 400 against protected numbers" in before


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        missing_backend("Chromium", "not installed (apt-get install chromium)")
    return str(exe)


def test_html_charts_draw_in_headless_chromium(store: Store, tmp_path: Path) -> None:
    load(store)
    [html_path] = [
        p
        for p in spam_list.publish_to(tmp_path, spam_list.render(spam_list.build(store, PERIOD)), PERIOD.label)
        if p.suffix == ".html"
    ]
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [chromium(), *flags, "--dump-dom", html_path.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert 'data-charts-drawn="3"' in dom.stdout, dom.stderr[-2000:]
    shot = ROOT / "artifacts" / f"spam-list-{PERIOD.label}.png"
    shot.parent.mkdir(exist_ok=True)
    subprocess.run(
        [chromium(), *flags, f"--screenshot={shot}", "--window-size=1100,2200", html_path.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000
