"""The demo data set: each subject ends as its note says, every BLOCK rests on evidence v2 trusts, and its spam
reporting list shows every part of numrep (registry, port blacklist, category mix, trends, complaint handling,
protected numbers apart) — byte-identical for the same data, with every section drawn in headless Chromium."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from numrep import demo, pipeline
from numrep.config import Settings
from numrep.models import Action, CaseStep, HolderType
from numrep.numbers import normalize
from numrep.regulator import spam_list
from numrep.regulator.periods import Period
from numrep.regulator.timeliness import SLA, cases
from numrep.store.base import Store
from tests.conftest import _sqlite
from tests.unit.regulator.test_spam_list import chromium

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # mid Q4: the current quarter 2026-Q4, the previous 2026-Q3
CURRENT, PREVIOUS = Period.parse("2026-Q4"), Period.parse("2026-Q3")
BANK = "tel:+8695588"


def test_demo_verdicts_rest_on_trusted_evidence(sqlite_store: Store, settings: Settings) -> None:
    assert demo.load(sqlite_store, settings)[1] == 0
    assert demo.load(sqlite_store, settings)[0] == 0  # loading twice changes nothing
    pipeline.rescore_dirty(sqlite_store, settings)
    for subj in demo.SUBJECTS:
        rep = sqlite_store.get_reputation(normalize(subj.number))
        assert rep is not None
        expected = Action(subj.note.rsplit("→ ", 1)[1].split()[0])
        assert rep.action(subj.channel) is expected, (subj.number, rep.reasons)
        if expected is Action.BLOCK:
            assert "unverified" not in rep.reasons[0]
            assert any(word in rep.reasons[0] for word in ("corroborated", "attested", "SMS port shut down"))
    port = sqlite_store.get_reputation("sms:10657000123456")
    assert port is not None and port.reasons[0].startswith("SMS port shut down")
    assert [c.subject for c in sqlite_store.review_cases()] == ["tel:+8613800138000"]
    # the background complaints (fresh app ids, at most 14 a subject, over days) label some numbers, block none:
    # what blocks is the featured subjects that say so and the shut-down ports
    blocked = {
        s
        for s in sqlite_store.flagged_subjects()
        if (r := sqlite_store.get_reputation(s)) is not None and Action.BLOCK in r.actions.values()
    }
    assert blocked == (
        {normalize(s.number) for s in demo.SUBJECTS if "→ BLOCK" in s.note}
        | {e.port for e in sqlite_store.list_port_blacklist()}
    )
    assert len(sqlite_store.flagged_subjects()) > len(blocked) + 10


def load_demo(store: Store, settings: Settings) -> None:
    demo.load(store, settings, NOW)
    pipeline.rescore_dirty(store, settings, time_budget=300, as_of=NOW)


def test_demo_loads_registry_blacklist_category_mix_two_quarters_and_late_handling(
    sqlite_store: Store, settings: Settings
) -> None:
    load_demo(sqlite_store, settings)
    kinds = {(a.holder, a.holder_type) for a in sqlite_store.allocations()}
    assert sum(t is HolderType.OPERATOR for _, t in kinds) >= 2 and sum(t is HolderType.RESELLER for _, t in kinds) >= 2
    listed = [e.listed_on for e in sqlite_store.list_port_blacklist()]
    assert any(CURRENT.start <= d < CURRENT.end for d in listed) and any(
        PREVIOUS.start <= d < PREVIOUS.end for d in listed
    )
    doc = spam_list.build(sqlite_store, CURRENT, protected=pipeline.load_protected(sqlite_store, settings))
    # the complaint center's mix (fraud counted under "other"), within a point
    share = {c["category"]: c["share"] for c in doc.categories}
    assert abs(share["loans_finance"] - 0.609) < 0.01 and abs(share["retail"] - 0.125) < 0.01
    assert abs(share["insurance"] - 0.080) < 0.01 and abs(share["education_training"] - 0.073) < 0.01
    assert abs(share["other"] + share["fraud"] - 0.113) < 0.01
    # the 170/171 resellers carry about 40 % of it, and more than the quarter before: the trends compare
    resold = sum(h["complaints"] for h in doc.holders if h["type"] == "reseller")
    assert 0.35 <= resold / doc.totals["spam_complaints"] <= 0.45
    trend = {h["type"]: [] for h in doc.holders}
    for h in doc.holders:
        trend[h["type"]].append(h["trend"])
    assert min(trend["reseller"]) > max(trend["operator"]) > 0
    assert spam_list.build(sqlite_store, PREVIOUS).totals["spam_complaints"] >= 500
    # complaint handling: some acknowledged and resolved late; the resellers fail the SLA, the operators pass
    handled = cases(sqlite_store, CURRENT, SLA.from_settings(settings))
    late = [c for c in handled if c.resolved_at is not None and not c.on_time()]
    assert len(late) >= 10 and any(c.acknowledged_at and c.acknowledged_at > c.ack_due for c in late)
    assert {f["holder"] for f in doc.timeliness_failures} == set(demo.RESELLERS)
    # the bank line confused users report is not spam: listed apart
    assert [(r["subject"], r["complaints"]) for r in doc.protected["top"]] == [(BANK, 200), ("tel:+8610086", 15)]
    assert doc.protected["complaints"] == doc.totals["protected_complaints"] == 215
    assert BANK not in {r["subject"] for r in doc.top_numbers}
    assert Counter(e.step for e in sqlite_store.case_events([c.report_id for c in late]))[CaseStep.RESOLVED] == len(
        late
    )


def test_the_demo_list_is_byte_identical_for_the_same_data(store: Store, settings: Settings, tmp_path: Path) -> None:
    # given: the demo loaded at the same moment into this backend and into a second, SQLite store
    load_demo(store, settings)
    other_settings = settings.model_copy(update={"data_dir": tmp_path / "other"})
    other_settings.data_dir.mkdir(parents=True)
    other = _sqlite(other_settings)
    try:
        load_demo(other, other_settings)
        # when: each publishes the current quarter (twice on the first)
        first = spam_list.publish(store, settings, CURRENT)
        again = spam_list.publish(store, settings, CURRENT)
        elsewhere = spam_list.publish(other, other_settings, CURRENT)
    finally:
        other.close()
    # then: the same bytes in every format
    assert first == again == elsewhere
    assert json.loads(first["json"])["totals"]["protected_complaints"] == 215


SECTIONS = [
    "categories",
    "top-numbers",
    "top-ports",
    "ports-shut-down",
    "holders",
    "sla",
    "disputes",
    "operators",
    "protected",
]


def test_the_demo_list_draws_every_section_with_content_in_headless_chromium(
    sqlite_store: Store, settings: Settings, tmp_path: Path
) -> None:
    load_demo(sqlite_store, settings)
    files = spam_list.publish(sqlite_store, settings, CURRENT)
    [html_path] = [p for p in spam_list.publish_to(tmp_path, files, CURRENT.label) if p.suffix == ".html"]
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
    assert f'data-sections="{len(SECTIONS)}"' in dom.stdout, dom.stderr[-2000:]
    assert 'data-empty-sections=""' in dom.stdout  # every section has rows, none says "none"
    assert 'data-charts-drawn="3"' in dom.stdout
    for section in SECTIONS:
        assert f'<section id="{section}">' in dom.stdout
    shot = ROOT / "artifacts" / "spam-list-demo.png"
    shot.parent.mkdir(exist_ok=True)
    subprocess.run(
        [
            chromium(),
            *flags,
            f"--screenshot={shot}",
            "--window-size=1100,4000",
            "--hide-scrollbars",
            html_path.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 50_000
