"""The spam reporting list: what the regulator publishes per period.

``build`` gathers, for one period: totals; the share of each complaint
category (like the complaint center's quarterly notes); the most reported
numbers and SMS ports (masked unless told otherwise); SMS ports shut down in
the period; the holder ranking; operators' governance indicators. ``render``
writes it as JSON, CSV and a self-contained HTML page whose charts are inline
SVG (no scripts or fonts fetched from anywhere).

Protected subjects (``numrep.protected``: emergency and public-service lines,
banks' lines, the allowlist) are never spam, whatever confused users report:
they appear in no spam ranking, category share or holder score. Their
complaints are counted apart, in the section "Complaints against protected
numbers — not spam", and the totals say which figures include them.

Output is a pure function of the stored data and the period: nothing reads
the clock, everything is sorted, so publishing the same period twice gives
byte-identical files.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from numrep.config import Settings
from numrep.models import Action, Category, HolderType, Reputation
from numrep.numbers import SMS, mask
from numrep.pipeline import load_protected
from numrep.protected import ProtectedSet
from numrep.redress.sla import DisputeSLA, for_period
from numrep.regulator import cards
from numrep.regulator.holders import HolderScore, score_holders
from numrep.regulator.periods import Period
from numrep.regulator.registry import Registry
from numrep.regulator.timeliness import SLA, timeliness
from numrep.store.base import Store

TOP_N = 20
REVIEW_CASES_READ = 10_000  # open review cases read to mark held subjects (the queue is worked down long before)
ACTION_ORDER = [Action.ALLOW, Action.LABEL, Action.BLOCK]
DEFAULT_SLA = SLA(timedelta(hours=24), timedelta(hours=72), 0.9)
DEFAULT_DISPUTE_SLA = DisputeSLA(timedelta(hours=24), timedelta(hours=72))
CATEGORY_ORDER = [
    Category.LOANS_FINANCE,
    Category.RETAIL,
    Category.INSURANCE,
    Category.EDUCATION_TRAINING,
    Category.REAL_ESTATE,
    Category.FRAUD,
    Category.HARASSMENT,
    Category.OTHER,
]
CATEGORY_LABEL = {
    Category.LOANS_FINANCE: "Loans & finance",
    Category.RETAIL: "Retail",
    Category.INSURANCE: "Insurance",
    Category.EDUCATION_TRAINING: "Education & training",
    Category.REAL_ESTATE: "Real estate",
    Category.FRAUD: "Fraud",
    Category.HARASSMENT: "Harassment",
    Category.OTHER: "Other",
}
PROTECTED_TITLE = "Complaints against protected numbers — not spam"
PROTECTED_NOTE = (
    "Emergency and public-service lines, banks' lines and allowlisted numbers are never spam; "
    "confused users report them. These complaints are counted here and in no spam ranking, "
    "category share or holder score."
)
# What each total counts (published with them, so a reader never has to guess).
TOTALS_BASIS = {
    "complaints": "every complaint received in the period, including those against protected numbers",
    "spam_complaints": "complaints against unprotected numbers and ports; the category shares, rankings and "
    "holder scores count only these",
    "protected_complaints": "complaints against protected numbers (not spam; listed apart)",
    "reported_numbers": "unprotected phone numbers with at least one complaint",
    "reported_ports": "unprotected SMS ports with at least one complaint",
    "protected_reported": "protected numbers with at least one complaint",
    "flagged_reported": "reported numbers and ports the platform labels or blocks",
    "ports_shut_down": "SMS ports on the shut-down list dated in the period",
}


@dataclass(frozen=True)
class SpamList:
    period: str
    start: str
    end: str
    totals: dict[str, int]
    totals_basis: dict[str, str]
    categories: list[dict[str, Any]]
    top_numbers: list[dict[str, Any]]
    top_ports: list[dict[str, Any]]
    ports_shut_down: list[dict[str, Any]]
    holders: list[dict[str, Any]]
    operators: list[dict[str, Any]]
    timeliness_failures: list[dict[str, Any]]
    sla: dict[str, float]
    protected: dict[str, Any]  # the "not spam" section: title, note, complaints, numbers
    disputes: dict[str, Any] = field(default_factory=dict)  # the platform's dispute timeliness (dispute_section)
    cards: dict[str, Any] = field(default_factory=dict)  # real-name card indicators (card_section)


def _holder_row(rank: int, h: HolderScore) -> dict[str, Any]:
    return {
        "rank": rank,
        "holder": h.holder,
        "type": h.holder_type.value,
        "allocated": h.allocated,
        "complaints": h.complaints,
        "complaints_per_10k": round(h.complaints_per_10k, 4),
        "flagged_numbers": h.flagged_numbers,
        "flagged_share": round(h.flagged_share, 4),
        "trend": h.trend,
        "tier": h.tier,
        "restrictions": list(h.restrictions),
        "reasons": list(h.reasons),
        "categories": {c.value: n for c, n in sorted(h.categories.items(), key=lambda kv: kv[0].value)},
    }


def _verdict(rep: Reputation | None, held: str | None) -> str:
    """What the platform decided: the strongest action, and whether an analyst still has to look."""
    action = max((rep.actions.values() if rep else ()), key=ACTION_ORDER.index, default=Action.ALLOW)
    return f"{action.value}, held for review ({held.replace('_', ' ')})" if held else action.value


def build(
    store: Store,
    period: Period,
    masked: bool = True,
    top_n: int = TOP_N,
    sla: SLA = DEFAULT_SLA,
    protected: ProtectedSet | None = None,
    dispute_sla: DisputeSLA = DEFAULT_DISPUTE_SLA,
    card_limits: tuple[int, int] = (cards.DEFAULT_LIMIT, cards.DEFAULT_CONCENTRATION),
) -> SpamList:
    """The list of ``period``; ``protected`` defaults to the built-in list plus the store's allowlist."""
    if protected is None:
        protected = ProtectedSet()
        protected.replace_allowlist({e.subject: f"allowlist: {e.reason}" for e in store.list_allowlist()})
    registry = Registry.load(store)
    per_subject: Counter[str] = Counter()
    per_subject_cat: dict[str, Counter[Category]] = defaultdict(Counter)
    categories: Counter[Category] = Counter()
    for r in store.report_summaries(period.start, period.end):
        per_subject[r.subject] += 1
        per_subject_cat[r.subject][r.category] += 1
        if r.subject not in protected:
            categories[r.category] += 1
    spam = {s for s in per_subject if s not in protected}
    shielded = sorted((s for s in per_subject if s in protected), key=lambda s: (-per_subject[s], s))
    total = sum(categories.values())
    protected_total = sum(per_subject[s] for s in shielded)
    flagged = set(store.flagged_subjects())
    show = mask if masked else (lambda s: s)

    def main_category(s: str) -> Category:
        return min(per_subject_cat[s].items(), key=lambda kv: (-kv[1], kv[0].value))[0]

    held = {c.subject: c.kind.value for c in store.review_cases("open", limit=REVIEW_CASES_READ)}

    def top(prefix: str) -> list[dict[str, Any]]:
        ranked = sorted((s for s in spam if s.startswith(prefix)), key=lambda s: (-per_subject[s], s))[:top_n]
        reputations = store.get_reputations(ranked)
        out = []
        for i, s in enumerate(ranked, start=1):
            owner = registry.holder_of(s)
            out.append(
                {
                    "rank": i,
                    "subject": show(s),
                    "complaints": per_subject[s],
                    "top_category": main_category(s).value,
                    "flagged": s in flagged,
                    "holder": owner.holder if owner else "",
                    "verdict": _verdict(reputations.get(s), held.get(s)),
                }
            )
        return out

    shut = [e for e in store.list_port_blacklist() if period.start <= e.listed_on < period.end]
    scores = score_holders(store, period, registry, flagged, exclude=protected)
    holders = [_holder_row(i, h) for i, h in enumerate(scores, start=1)]
    operators = [row for row, h in zip(holders, scores) if h.holder_type is HolderType.OPERATOR]
    return SpamList(
        period=period.label,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        totals={
            "complaints": total + protected_total,
            "spam_complaints": total,
            "protected_complaints": protected_total,
            "reported_numbers": sum(1 for s in spam if not s.startswith(SMS)),
            "reported_ports": sum(1 for s in spam if s.startswith(SMS)),
            "protected_reported": len(shielded),
            "flagged_reported": sum(1 for s in spam if s in flagged),
            "ports_shut_down": len(shut),
        },
        totals_basis=dict(TOTALS_BASIS),
        categories=[
            {
                "category": c.value,
                "label": CATEGORY_LABEL[c],
                "complaints": categories[c],
                "share": round(categories[c] / total, 4) if total else 0.0,
            }
            for c in CATEGORY_ORDER
        ],
        top_numbers=top("tel:"),
        top_ports=top(SMS),
        ports_shut_down=[
            {
                "port": e.port,
                "enterprise": e.enterprise,
                "reason": e.reason,
                "source": e.source,
                "date": e.listed_on.isoformat(),
            }
            for e in sorted(shut, key=lambda e: (e.listed_on, e.port))
        ],
        holders=holders,
        operators=operators,
        timeliness_failures=[
            {"holder": t.holder, "due": t.due, "on_time": t.on_time, "share": t.share}
            for t in timeliness(store, period, sla, registry=registry)
            if t.failed
        ],
        sla={
            "ack_hours": sla.ack.total_seconds() / 3600,
            "resolve_hours": sla.resolve.total_seconds() / 3600,
            "target_share": sla.target_share,
        },
        protected={
            "title": PROTECTED_TITLE,
            "note": PROTECTED_NOTE,
            "complaints": protected_total,
            "numbers": len(shielded),
            # public lines by definition (emergency, banks, verified businesses), so never masked
            "top": [
                {
                    "rank": i,
                    "subject": s,
                    "protected_as": protected.reason(s) or "",
                    "complaints": per_subject[s],
                    "top_category": main_category(s).value,
                    "categories": {
                        c.value: n for c, n in sorted(per_subject_cat[s].items(), key=lambda kv: kv[0].value)
                    },
                }
                for i, s in enumerate(shielded[:top_n], start=1)
            ],
        },
        disputes=dispute_section(store, period, dispute_sla),
        cards=card_section(store, period, *card_limits),
    )


# ---- rendering ------------------------------------------------------------------
def to_json(doc: SpamList) -> bytes:
    return (json.dumps(asdict(doc), ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def to_csv(doc: SpamList) -> bytes:
    """One table: section, rank, key, value, share, detail."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "rank", "key", "value", "share", "detail"])
    for k, v in doc.totals.items():
        w.writerow(["totals", "", k, v, "", ""])
    for c in doc.categories:
        w.writerow(["category", "", c["category"], c["complaints"], f"{c['share']:.4f}", c["label"]])
    for name, rows in (("top_number", doc.top_numbers), ("top_port", doc.top_ports)):
        for r in rows:
            w.writerow(
                [
                    name,
                    r["rank"],
                    r["subject"],
                    r["complaints"],
                    "",
                    f"{r['top_category']}; holder={r['holder']}; verdict={r['verdict']}",
                ]
            )
    for e in doc.ports_shut_down:
        w.writerow(
            ["port_shut_down", "", e["port"], e["date"], "", f"{e['enterprise']}: {e['reason']} ({e['source']})"]
        )
    for h in doc.holders:
        w.writerow(
            [
                "holder",
                h["rank"],
                h["holder"],
                h["complaints_per_10k"],
                f"{h['flagged_share']:.4f}",
                f"tier {h['tier']}; {h['type']}; " + "; ".join(h["restrictions"]),
            ]
        )
    for f in doc.timeliness_failures:
        w.writerow(["timeliness_failure", "", f["holder"], f["on_time"], f"{f['share']:.4f}", f"{f['due']} due"])
    p = doc.protected
    w.writerow(["protected_not_spam", "", "complaints", p["complaints"], "", p["title"]])
    for r in p["top"]:
        w.writerow(
            [
                "protected_not_spam",
                r["rank"],
                r["subject"],
                r["complaints"],
                "",
                f"{r['top_category']}; protected as {r['protected_as']}",
            ]
        )
    for k, v in doc.disputes.items():
        w.writerow(["dispute_timeliness", "", k, v, "", ""])
    for o in doc.cards.get("operators", []):
        w.writerow(
            ["cards_operator", "", o["operator"], o["cards_over_limit"], f"{o['progress']:.4f}", _card_detail(o)]
        )
    for o in doc.cards.get("sellers", []):
        w.writerow(
            [
                "cards_seller",
                "",
                f"{o['operator']} / {o['seller']}",
                o["cards_over_limit"],
                f"{o['progress']:.4f}",
                _card_detail(o),
            ]
        )
    return buf.getvalue().encode()


PALETTE = ["#c0392b", "#e67e22", "#f1c40f", "#27ae60", "#16a085", "#2980b9", "#8e44ad", "#7f8c8d"]


def _bar_chart(chart_id: str, title: str, items: list[tuple[str, float]], unit: str = "") -> str:
    """A horizontal bar chart as inline SVG."""
    width, bar_h, gap, label_w = 720, 22, 8, 230
    height = max(1, len(items)) * (bar_h + gap) + 40
    peak = max((v for _, v in items), default=0) or 1
    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-label="{html.escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="16" class="chart-title">{html.escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 30 + i * (bar_h + gap)
        w = max(1.0, (width - label_w - 90) * value / peak)
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{html.escape(label)}</text>')
        parts.append(f'<rect class="bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}">{value:g}{unit}</text>')
    if not items:
        parts.append('<text x="0" y="40">no data in this period</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f"<table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body or '<tr class=empty><td colspan=99>none</td></tr>'}</tbody></table>"
    )


def _section(section_id: str, title: str, body: str) -> str:
    return f'<section id="{section_id}"><h2>{html.escape(title)}</h2>\n{body}\n</section>'


def to_html(doc: SpamList) -> bytes:
    t, p = doc.totals, doc.protected
    spam_basis = (
        f"{t['spam_complaints']:,} spam complaints; excludes {t['protected_complaints']:,} against protected numbers"
    )
    charts = [
        _bar_chart(
            "chart-categories",
            f"Spam complaints by category (% of {spam_basis})",
            [(c["label"], round(100 * c["share"], 1)) for c in doc.categories],
            "%",
        ),
        _bar_chart(
            "chart-top-numbers",
            "Most reported numbers (complaints)",
            [(r["subject"], r["complaints"]) for r in doc.top_numbers[:10]],
        ),
        _bar_chart(
            "chart-holders",
            "Spam complaints per 10,000 allocated numbers, by holder",
            [(h["holder"], h["complaints_per_10k"]) for h in doc.holders[:10]],
        ),
    ]
    sections = [
        _section(
            "categories",
            "Spam complaints by category",
            f"<p>Shares of the {spam_basis} (listed apart below).</p>{charts[0]}\n"
            + _table(
                ["category", "spam complaints", "share"],
                [[c["label"], c["complaints"], f"{100 * c['share']:.1f}%"] for c in doc.categories],
            ),
        ),
        _section(
            "top-numbers",
            "Most reported numbers",
            "<p>By complaints received. The verdict is the platform's (a number held for review may be the target "
            "of a report-bombing attack rather than a spammer). Protected numbers are never ranked here.</p>"
            + charts[1]
            + "\n"
            + _table(
                ["#", "number", "complaints", "main category", "verdict", "holder"],
                [
                    [r["rank"], r["subject"], r["complaints"], r["top_category"], r["verdict"], r["holder"]]
                    for r in doc.top_numbers
                ],
            ),
        ),
        _section(
            "top-ports",
            "Most reported SMS ports",
            _table(
                ["#", "port", "complaints", "main category", "verdict", "holder"],
                [
                    [r["rank"], r["subject"], r["complaints"], r["top_category"], r["verdict"], r["holder"]]
                    for r in doc.top_ports
                ],
            ),
        ),
        _section(
            "ports-shut-down",
            "SMS ports shut down",
            _table(
                ["date", "port", "enterprise", "reason", "source"],
                [[e["date"], e["port"], e["enterprise"], e["reason"], e["source"]] for e in doc.ports_shut_down],
            ),
        ),
        _section(
            "holders",
            "Holder ranking",
            charts[2]
            + "\n"
            + _table(
                ["#", "holder", "type", "complaints / 10k", "flagged share", "trend", "tier", "recommended"],
                [
                    [
                        h["rank"],
                        h["holder"],
                        h["type"],
                        h["complaints_per_10k"],
                        f"{100 * h['flagged_share']:.0f}%",
                        "" if h["trend"] is None else f"{h['trend']}x",
                        h["tier"],
                        "; ".join(h["restrictions"]),
                    ]
                    for h in doc.holders
                ],
            ),
        ),
        _section(
            "sla",
            "Complaint handling: holders that failed the SLA",
            f"<p>Acknowledge within {doc.sla['ack_hours']:g} h, resolve within {doc.sla['resolve_hours']:g} h; "
            f"target {100 * doc.sla['target_share']:.0f}% on time.</p>\n"
            + _table(
                ["holder", "complaints due", "handled on time", "share"],
                [[f["holder"], f["due"], f["on_time"], f"{100 * f['share']:.0f}%"] for f in doc.timeliness_failures],
            ),
        ),
        *_dispute_sections(doc.disputes),
        *_card_sections(doc.cards),
        _section(
            "operators",
            "Operators' governance indicators",
            _table(
                ["operator", "complaints / 10k", "flagged share", "tier", "why"],
                [
                    [
                        h["holder"],
                        h["complaints_per_10k"],
                        f"{100 * h['flagged_share']:.0f}%",
                        h["tier"],
                        "; ".join(h["reasons"]),
                    ]
                    for h in doc.operators
                ],
            ),
        ),
        _section(
            "protected",
            p["title"],
            f'<p class="not-spam">{html.escape(p["note"])} <b>{p["complaints"]:,}</b> complaints against '
            f"<b>{p['numbers']:,}</b> protected numbers in this period.</p>\n"
            + _table(
                ["#", "protected number", "protected as", "complaints", "main category"],
                [[r["rank"], r["subject"], r["protected_as"], r["complaints"], r["top_category"]] for r in p["top"]],
            ),
        ),
    ]
    boxes = [
        (t["complaints"], "complaints received (all, incl. protected)"),
        (t["spam_complaints"], "spam complaints (excl. protected)"),
        (t["protected_complaints"], "against protected numbers — not spam"),
        (t["reported_numbers"], "numbers reported"),
        (t["reported_ports"], "SMS ports reported"),
        (t["flagged_reported"], "reported and flagged"),
        (t["ports_shut_down"], "SMS ports shut down"),
    ]
    totals = "".join(f"<div><b>{n:,}</b>{html.escape(label)}</div>" for n, label in boxes)
    body = "\n".join(sections)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Spam reporting list {html.escape(doc.period)}</title>
<style>
body {{ font-family: "Noto Sans", "Noto Sans CJK SC", sans-serif; margin: 2em auto; max-width: 980px; color: #222; }}
h1 {{ font-size: 1.6em; }} h2 {{ margin-top: 1.6em; border-bottom: 1px solid #ccc; }}
.totals {{ display: flex; gap: 1em; flex-wrap: wrap; }} .totals div {{ background: #f4f4f4; padding: .6em 1em; border-radius: 6px; }}
.totals b {{ display: block; font-size: 1.5em; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9em; }} td, th {{ border: 1px solid #ddd; padding: 4px 6px; text-align: left; }}
svg.chart text {{ font-size: 13px; fill: #222; }} svg.chart .chart-title {{ font-weight: bold; font-size: 14px; }}
section#protected {{ background: #eef5fb; padding: 0 1em 1em; border-radius: 6px; margin-top: 2em; }}
</style></head>
<body>
<h1>Spam reporting list — {html.escape(doc.period)}</h1>
<p>Complaints received from {html.escape(doc.start)} up to (not including) {html.escape(doc.end)}.
Protected numbers (emergency and public-service lines, banks, the allowlist) are never spam: their complaints are
counted apart, at the end.</p>
<div class="totals">{totals}</div>
{body}
<script>
// Marks the page once every chart has drawn with a real size, and names the sections left without content
// (both checked by the tests in headless Chromium).
document.body.dataset.chartsDrawn = String(Array.from(document.querySelectorAll("svg.chart"))
  .filter(function (s) {{ var b = s.getBBox(); return b.width > 0 && b.height > 0 && s.querySelectorAll("rect.bar").length > 0; }}).length);
document.body.dataset.emptySections = Array.from(document.querySelectorAll("section"))
  .filter(function (s) {{ var r = s.querySelector("tbody tr"); return !r || r.classList.contains("empty") || s.getBoundingClientRect().height === 0; }})
  .map(function (s) {{ return s.id; }}).join(" ");
document.body.dataset.sections = String(document.querySelectorAll("section").length);
</script>
</body></html>
"""
    return page.encode()


def render(doc: SpamList) -> dict[str, bytes]:
    """The three formats, by file suffix."""
    return {"json": to_json(doc), "csv": to_csv(doc), "html": to_html(doc)}


def publish(store: Store, settings: Settings, period: Period, masked: bool = True) -> dict[str, bytes]:
    """The spam reporting list of ``period`` as its files by suffix, under the SLA ``settings`` configure.

    The one way to publish: the Celery task, ``numrep publish --direct`` and
    ``AdminService.PublishSpamList`` all call it, so the same store, period and
    settings give the same bytes whichever way the list is asked for.
    """
    return render(
        build(
            store,
            period,
            masked=masked,
            sla=SLA.from_settings(settings),
            protected=load_protected(store, settings),
            dispute_sla=DisputeSLA.from_settings(settings),
            card_limits=(settings.card_limit_per_operator, settings.card_concentration),
        )
    )


def dispute_section(store: Store, period: Period, sla: DisputeSLA) -> dict[str, Any]:
    """The platform's own dispute timeliness in ``period`` (numrep.redress.sla), beside the holders' complaint SLA."""
    t = for_period(store, period, sla)
    return {
        "ack_hours": sla.ack.total_seconds() / 3600,
        "decide_hours": sla.decide.total_seconds() / 3600,
        "filed": t.filed,
        "ack_met": t.ack_met,
        "ack_breached": t.ack_breached,
        "decide_met": t.decide_met,
        "decide_breached": t.decide_breached,
        "pending": t.pending,
        "upheld": t.upheld,
        "rejected": t.rejected,
        "on_time_share": t.on_time_share,
    }


def _dispute_sections(d: dict[str, Any]) -> list[str]:
    if not d:
        return []
    return [
        _section(
            "disputes",
            "Disputes of verdicts: the platform's own timeliness",
            f"<p>Owners' disputes filed in the period: acknowledge within {d['ack_hours']:g} h, decide within "
            f"{d['decide_hours']:g} h of filing.</p>\n"
            + _table(
                [
                    "filed",
                    "acknowledged on time",
                    "acknowledged late",
                    "decided on time",
                    "decided late",
                    "not yet due",
                    "upheld",
                    "rejected",
                    "on time",
                ],
                [
                    [
                        d["filed"],
                        d["ack_met"],
                        d["ack_breached"],
                        d["decide_met"],
                        d["decide_breached"],
                        d["pending"],
                        d["upheld"],
                        d["rejected"],
                        f"{100 * d['on_time_share']:.0f}%" if d["filed"] > d["pending"] else "none due",
                    ]
                ],
            ),
        )
    ]


def publish_to(directory: Path, files: dict[str, bytes], period: str) -> list[Path]:
    """Write ``spam-list-<period>.{json,csv,html}`` into ``directory``; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for suffix, data in sorted(files.items()):
        path = directory / f"spam-list-{period}.{suffix}"
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see a half-written file
        out.append(path)
    return out


def card_section(
    store: Store, period: Period, limit: int = cards.DEFAULT_LIMIT, concentration: int = cards.DEFAULT_CONCENTRATION
) -> dict[str, Any]:
    """Real-name card indicators per operator and per seller (point of sale or reseller) as of the period's end:
    cards over the limit and the re-verification progress of the cards found (numrep.regulator.cards)."""
    return cards.indicators(store, before=period.end, limit=limit, concentration=concentration)


def _card_detail(o: dict[str, Any]) -> str:
    return (
        f"{o['cards']} cards; {o['ids_over_limit']} IDs over the limit; {o['high_risk']} found; "
        f"{o['reverified']} re-verified; {o['cancelled']} cancelled; {o['expired']} expired; {o['pending']} pending"
    )


def _card_sections(c: dict[str, Any]) -> list[str]:
    if not c.get("operators"):
        return []
    headers = [
        "cards",
        "IDs over the limit",
        "their cards",
        "cards found",
        "re-verified",
        "cancelled",
        "expired",
        "pending",
        "progress",
    ]

    def cells(o: dict[str, Any]) -> list[Any]:
        return [
            o["cards"],
            o["ids_over_limit"],
            o["cards_over_limit"],
            o["high_risk"],
            o["reverified"],
            o["cancelled"],
            o["expired"],
            o["pending"],
            f"{100 * o['progress']:.0f}%" if o["high_risk"] else "none found",
        ]

    found = c["ids_found"]
    return [
        _section(
            "cards",
            "Real-name cards: over the limit and re-verification",
            f"<p>At most {c['limit']} cards per person and operator. ID numbers found: "
            f"{found['over_limit']:,} over the limit, {found['concentration']:,} with {c['concentration']} or more "
            f"cards across operators, {found['later_flagged']:,} holding numbers later flagged. Progress is the "
            "share of the cards found that were re-verified, cancelled or expired.</p>\n"
            + _table(["operator", *headers], [[o["operator"], *cells(o)] for o in c["operators"]])
            + "\n<h3>By point of sale or reseller</h3>\n"
            + _table(["operator", "seller", *headers], [[o["operator"], o["seller"], *cells(o)] for o in c["sellers"]]),
        )
    ]
