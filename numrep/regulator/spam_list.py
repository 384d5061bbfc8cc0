"""The spam reporting list: what the regulator publishes per period.

``build`` gathers, for one period: totals; the share of each complaint
category (like the complaint center's quarterly notes); the most reported
numbers and SMS ports (masked unless told otherwise); SMS ports shut down in
the period; the holder ranking; operators' governance indicators. ``render``
writes it as JSON, CSV and a self-contained HTML page whose charts are inline
SVG (no scripts or fonts fetched from anywhere).

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
from numrep.regulator.holders import HolderScore, score_holders
from numrep.models import Category, HolderType
from numrep.numbers import SMS, mask
from numrep.regulator.periods import Period
from numrep.regulator.registry import Registry
from numrep.redress.sla import DisputeSLA, for_period
from numrep.regulator.timeliness import SLA, timeliness
from numrep.store.base import Store

TOP_N = 20
DEFAULT_SLA = SLA(timedelta(hours=24), timedelta(hours=72), 0.9)
DEFAULT_DISPUTE_SLA = DisputeSLA(timedelta(hours=24), timedelta(hours=72))
CATEGORY_ORDER = [Category.LOANS_FINANCE, Category.RETAIL, Category.INSURANCE, Category.EDUCATION_TRAINING,
                  Category.REAL_ESTATE, Category.FRAUD, Category.HARASSMENT, Category.OTHER]
CATEGORY_LABEL = {
    Category.LOANS_FINANCE: "Loans & finance", Category.RETAIL: "Retail", Category.INSURANCE: "Insurance",
    Category.EDUCATION_TRAINING: "Education & training", Category.REAL_ESTATE: "Real estate",
    Category.FRAUD: "Fraud", Category.HARASSMENT: "Harassment", Category.OTHER: "Other",
}


@dataclass(frozen=True)
class SpamList:
    period: str
    start: str
    end: str
    totals: dict[str, int]
    categories: list[dict[str, Any]]
    top_numbers: list[dict[str, Any]]
    top_ports: list[dict[str, Any]]
    ports_shut_down: list[dict[str, Any]]
    holders: list[dict[str, Any]]
    operators: list[dict[str, Any]]
    timeliness_failures: list[dict[str, Any]]
    sla: dict[str, float]
    disputes: dict[str, Any] = field(default_factory=dict)  # dispute timeliness (dispute_section)


def _holder_row(rank: int, h: HolderScore) -> dict[str, Any]:
    return {
        "rank": rank, "holder": h.holder, "type": h.holder_type.value, "allocated": h.allocated,
        "complaints": h.complaints, "complaints_per_10k": round(h.complaints_per_10k, 2),
        "flagged_numbers": h.flagged_numbers, "flagged_share": round(h.flagged_share, 4),
        "trend": h.trend, "tier": h.tier, "restrictions": list(h.restrictions), "reasons": list(h.reasons),
        "categories": {c.value: n for c, n in sorted(h.categories.items(), key=lambda kv: kv[0].value)},
    }


def build(store: Store, period: Period, masked: bool = True, top_n: int = TOP_N, sla: SLA = DEFAULT_SLA,
          dispute_sla: DisputeSLA = DEFAULT_DISPUTE_SLA) -> SpamList:
    registry = Registry.load(store)
    per_subject: Counter[str] = Counter()
    per_subject_cat: dict[str, Counter[Category]] = defaultdict(Counter)
    categories: Counter[Category] = Counter()
    for r in store.report_summaries(period.start, period.end):
        per_subject[r.subject] += 1
        per_subject_cat[r.subject][r.category] += 1
        categories[r.category] += 1
    total = sum(categories.values())
    flagged = set(store.flagged_subjects())
    show = mask if masked else (lambda s: s)

    def top(prefix: str) -> list[dict[str, Any]]:
        ranked = sorted((s for s in per_subject if s.startswith(prefix)), key=lambda s: (-per_subject[s], s))[:top_n]
        out = []
        for i, s in enumerate(ranked, start=1):
            cat = min(per_subject_cat[s].items(), key=lambda kv: (-kv[1], kv[0].value))[0]
            owner = registry.holder_of(s)
            out.append({"rank": i, "subject": show(s), "complaints": per_subject[s], "top_category": cat.value,
                        "flagged": s in flagged, "holder": owner.holder if owner else ""})
        return out

    shut = [e for e in store.list_port_blacklist() if period.start <= e.listed_on < period.end]
    scores = score_holders(store, period, registry, flagged)
    holders = [_holder_row(i, h) for i, h in enumerate(scores, start=1)]
    operators = [row for row, h in zip(holders, scores) if h.holder_type is HolderType.OPERATOR]
    return SpamList(
        period=period.label, start=period.start.isoformat(), end=period.end.isoformat(),
        totals={
            "complaints": total,
            "reported_numbers": sum(1 for s in per_subject if not s.startswith(SMS)),
            "reported_ports": sum(1 for s in per_subject if s.startswith(SMS)),
            "flagged_reported": sum(1 for s in per_subject if s in flagged),
            "ports_shut_down": len(shut),
        },
        categories=[
            {"category": c.value, "label": CATEGORY_LABEL[c], "complaints": categories[c],
             "share": round(categories[c] / total, 4) if total else 0.0}
            for c in CATEGORY_ORDER
        ],
        top_numbers=top("tel:"),
        top_ports=top(SMS),
        ports_shut_down=[{"port": e.port, "enterprise": e.enterprise, "reason": e.reason, "source": e.source,
                          "date": e.listed_on.isoformat()} for e in sorted(shut, key=lambda e: (e.listed_on, e.port))],
        holders=holders,
        operators=operators,
        timeliness_failures=[
            {"holder": t.holder, "due": t.due, "on_time": t.on_time, "share": t.share}
            for t in timeliness(store, period, sla, registry=registry) if t.failed
        ],
        sla={"ack_hours": sla.ack.total_seconds() / 3600, "resolve_hours": sla.resolve.total_seconds() / 3600,
             "target_share": sla.target_share},
        disputes=dispute_section(store, period, dispute_sla),
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
            w.writerow([name, r["rank"], r["subject"], r["complaints"], "", f"{r['top_category']}; holder={r['holder']}"])
    for e in doc.ports_shut_down:
        w.writerow(["port_shut_down", "", e["port"], e["date"], "", f"{e['enterprise']}: {e['reason']} ({e['source']})"])
    for h in doc.holders:
        w.writerow(["holder", h["rank"], h["holder"], h["complaints_per_10k"], f"{h['flagged_share']:.4f}",
                    f"tier {h['tier']}; {h['type']}; " + "; ".join(h["restrictions"])])
    for f in doc.timeliness_failures:
        w.writerow(["timeliness_failure", "", f["holder"], f["on_time"], f"{f['share']:.4f}", f"{f['due']} due"])
    for k, v in doc.disputes.items():
        w.writerow(["dispute_timeliness", "", k, v, "", ""])
    return buf.getvalue().encode()


PALETTE = ["#c0392b", "#e67e22", "#f1c40f", "#27ae60", "#16a085", "#2980b9", "#8e44ad", "#7f8c8d"]


def _bar_chart(chart_id: str, title: str, items: list[tuple[str, float]], unit: str = "") -> str:
    """A horizontal bar chart as inline SVG."""
    width, bar_h, gap, label_w = 720, 22, 8, 230
    height = max(1, len(items)) * (bar_h + gap) + 40
    peak = max((v for _, v in items), default=0) or 1
    parts = [f'<svg class="chart" id="{chart_id}" role="img" aria-label="{html.escape(title)}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="0" y="16" class="chart-title">{html.escape(title)}</text>']
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
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or '<tr><td colspan=99>none</td></tr>'}</tbody></table>"


def to_html(doc: SpamList) -> bytes:
    t = doc.totals
    charts = [
        _bar_chart("chart-categories", "Complaints by category (% of all)",
                   [(c["label"], round(100 * c["share"], 1)) for c in doc.categories], "%"),
        _bar_chart("chart-top-numbers", "Most reported numbers (complaints)",
                   [(r["subject"], r["complaints"]) for r in doc.top_numbers[:10]]),
        _bar_chart("chart-holders", "Complaints per 10,000 allocated numbers, by holder",
                   [(h["holder"], h["complaints_per_10k"]) for h in doc.holders[:10]]),
    ]
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Spam reporting list {html.escape(doc.period)}</title>
<style>
body {{ font-family: "Noto Sans", "Noto Sans CJK SC", sans-serif; margin: 2em auto; max-width: 980px; color: #222; }}
h1 {{ font-size: 1.6em; }} h2 {{ margin-top: 1.6em; border-bottom: 1px solid #ccc; }}
.totals {{ display: flex; gap: 1.5em; flex-wrap: wrap; }} .totals div {{ background: #f4f4f4; padding: .6em 1em; border-radius: 6px; }}
.totals b {{ display: block; font-size: 1.5em; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9em; }} td, th {{ border: 1px solid #ddd; padding: 4px 6px; text-align: left; }}
svg.chart text {{ font-size: 13px; fill: #222; }} svg.chart .chart-title {{ font-weight: bold; font-size: 14px; }}
.tier-D {{ color: #c0392b; font-weight: bold; }}
</style></head>
<body>
<h1>Spam reporting list — {html.escape(doc.period)}</h1>
<p>Complaints received from {html.escape(doc.start)} up to (not including) {html.escape(doc.end)}.</p>
<div class="totals">
<div><b>{t['complaints']}</b>complaints</div><div><b>{t['reported_numbers']}</b>numbers reported</div>
<div><b>{t['reported_ports']}</b>SMS ports reported</div><div><b>{t['flagged_reported']}</b>reported and flagged</div>
<div><b>{t['ports_shut_down']}</b>SMS ports shut down</div></div>
<h2>Complaints by category</h2>{charts[0]}
{_table(["category", "complaints", "share"], [[c["label"], c["complaints"], f"{100 * c['share']:.1f}%"] for c in doc.categories])}
<h2>Most reported numbers</h2>{charts[1]}
{_table(["#", "number", "complaints", "main category", "holder"], [[r["rank"], r["subject"], r["complaints"], r["top_category"], r["holder"]] for r in doc.top_numbers])}
<h2>Most reported SMS ports</h2>
{_table(["#", "port", "complaints", "main category", "holder"], [[r["rank"], r["subject"], r["complaints"], r["top_category"], r["holder"]] for r in doc.top_ports])}
<h2>SMS ports shut down</h2>
{_table(["date", "port", "enterprise", "reason", "source"], [[e["date"], e["port"], e["enterprise"], e["reason"], e["source"]] for e in doc.ports_shut_down])}
<h2>Holder ranking</h2>{charts[2]}
{_table(["#", "holder", "type", "complaints / 10k", "flagged share", "trend", "tier", "recommended"], [[h["rank"], h["holder"], h["type"], h["complaints_per_10k"], f"{100 * h['flagged_share']:.0f}%", "" if h["trend"] is None else f"{h['trend']}x", h["tier"], "; ".join(h["restrictions"])] for h in doc.holders])}
<h2>Complaint handling: holders that failed the SLA</h2>
<p>Acknowledge within {doc.sla['ack_hours']:g} h, resolve within {doc.sla['resolve_hours']:g} h; target {100 * doc.sla['target_share']:.0f}% on time.</p>
{_table(["holder", "complaints due", "handled on time", "share"], [[f["holder"], f["due"], f["on_time"], f"{100 * f['share']:.0f}%"] for f in doc.timeliness_failures])}
{_dispute_html(doc.disputes)}
<h2>Operators' governance indicators</h2>
{_table(["operator", "complaints / 10k", "flagged share", "tier", "why"], [[h["holder"], h["complaints_per_10k"], f"{100 * h['flagged_share']:.0f}%", h["tier"], "; ".join(h["reasons"])] for h in doc.operators])}
<script>
// Marks the page once every chart has drawn with a real size (checked by the tests in headless Chromium).
document.body.dataset.chartsDrawn = String(Array.from(document.querySelectorAll("svg.chart"))
  .filter(function (s) {{ var b = s.getBBox(); return b.width > 0 && b.height > 0 && s.querySelectorAll("rect.bar").length > 0; }}).length);
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
    return render(build(store, period, masked=masked, sla=SLA.from_settings(settings),
                        dispute_sla=DisputeSLA.from_settings(settings)))


def dispute_section(store: Store, period: Period, sla: DisputeSLA) -> dict[str, Any]:
    """The platform's own dispute timeliness in ``period`` (numrep.redress.sla), beside the holders' complaint SLA."""
    t = for_period(store, period, sla)
    return {"ack_hours": sla.ack.total_seconds() / 3600, "decide_hours": sla.decide.total_seconds() / 3600,
            "filed": t.filed, "ack_met": t.ack_met, "ack_breached": t.ack_breached, "decide_met": t.decide_met,
            "decide_breached": t.decide_breached, "pending": t.pending, "upheld": t.upheld, "rejected": t.rejected,
            "on_time_share": t.on_time_share}


def _dispute_html(d: dict[str, Any]) -> str:
    if not d:
        return ""
    return (f"<h2>Disputes of verdicts: the platform's timeliness</h2>\n<p>Acknowledge within {d['ack_hours']:g} h, "
            f"decide within {d['decide_hours']:g} h of filing.</p>\n"
            + _table(["filed", "acknowledged on time", "acknowledged late", "decided on time", "decided late",
                      "not yet due", "upheld", "rejected", "on time"],
                     [[d["filed"], d["ack_met"], d["ack_breached"], d["decide_met"], d["decide_breached"], d["pending"],
                       d["upheld"], d["rejected"], f"{100 * d['on_time_share']:.0f}%"]]))


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
