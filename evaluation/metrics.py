"""Verdicts against the ground truth: recall, false positives, safety, and time to flag.

The figures, each with its target where ARCHITECTURE §11 sets one:

* spammers flagged — abusers (spam and fraud) at LABEL or BLOCK;
* evident spammers flagged (≥ 95 %) — abusers that at least three distinct
  real victims reported;
* spammers with call records flagged (≥ 90 %) — abusers some operator
  shipped records or aggregates of;
* fraud blocked — share of fraud numbers at BLOCK;
* legitimate flagged (≤ 0.01 %) — legitimate numbers at LABEL or BLOCK,
  leaving out the targets of attacks (counted on their own);
* protected numbers blocked (0), attack targets blocked (0), attack targets
  held at LABEL (reported, not a false positive);
* time from the deciding evidence to LABEL (median ≤ 60 s, p90) and to BLOCK
  (median, p90), measured in the live phase.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import grpc

from evaluation.world import Kind, Truth, World
from numrep.v1 import common_pb2, reputation_pb2, reputation_pb2_grpc

FLAGGED = ("LABEL", "BLOCK")


def lookup_all(
    channel: grpc.Channel, subjects: Sequence[str], batch: int = 1000, timeout: float = 60.0
) -> dict[str, str]:
    """The voice action (ALLOW, LABEL, BLOCK, or ERROR: reason) of every subject, by BatchLookup."""
    stub = reputation_pb2_grpc.ReputationServiceStub(channel)
    out: dict[str, str] = {}
    for i in range(0, len(subjects), batch):
        part = subjects[i : i + batch]
        res = stub.BatchLookup(
            reputation_pb2.BatchLookupRequest(
                requests=[reputation_pb2.LookupRequest(subject=s, channel=common_pb2.CHANNEL_VOICE) for s in part]
            ),
            timeout=timeout,
        )
        if len(res.results) != len(part):
            raise RuntimeError(f"BatchLookup answered {len(res.results)} results for {len(part)} requests")
        for s, r in zip(part, res.results):
            out[s] = f"ERROR: {r.error.message}" if r.HasField("error") else common_pb2.Action.Name(r.action)[7:]
    return out


@dataclass
class LiveTiming:
    """One abuser of the live phase: when its deciding evidence went in, and when its verdict changed."""

    subject: str
    before: str
    submitted: float
    label_after: float | None = None
    block_after: float | None = None


def watch(
    channel: grpc.Channel, started: dict[str, float], before: dict[str, str], timeout: float, interval: float = 0.25
) -> list[LiveTiming]:
    """Poll lookups of the live subjects until each is blocked or ``timeout`` passes after its submit."""
    timings = {s: LiveTiming(s, before[s], t) for s, t in started.items()}
    pending = {s for s, t in timings.items() if t.before not in FLAGGED}
    while pending:
        now = time.time()
        actions = lookup_all(channel, sorted(pending))
        for s, action in actions.items():
            t = timings[s]
            if action in FLAGGED and t.label_after is None:
                t.label_after = now - t.submitted
            if action == "BLOCK":
                t.block_after = now - t.submitted
                pending.discard(s)
            elif now - t.submitted > timeout:
                pending.discard(s)
        time.sleep(interval)
    return list(timings.values())


@dataclass
class Figure:
    """One line of the table."""

    name: str
    value: float | None
    shown: str
    target: str = ""
    met: bool | None = None  # None: no target

    @property
    def verdict(self) -> str:
        return "" if self.met is None else ("met" if self.met else "NOT met")


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def _pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f} %"


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (nearest rank); inf values stand for 'never'."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _secs(x: float | None) -> str:
    if x is None:
        return "n/a"
    return "never" if math.isinf(x) else f"{x:.1f} s"


def figures(world: World, verdicts: dict[str, str], live: Iterable[LiveTiming]) -> list[Figure]:
    truth = world.truth
    missing = [s for s in truth if s not in verdicts]
    if missing:
        raise RuntimeError(f"{len(missing)} numbers were not looked up, e.g. {missing[:3]}")

    def recall(name: str, group: list[Truth], target: float | None = None, action: tuple[str, ...] = FLAGGED) -> Figure:
        hits = sum(1 for t in group if verdicts[t.subject] in action)
        share = _share(hits, len(group))
        met = None if target is None else (share is not None and share >= target)
        return Figure(
            name, share, f"{_pct(share)} ({hits}/{len(group)})", f"≥ {100 * target:.0f} %" if target else "", met
        )

    abusers = [t for t in truth.values() if t.abuser]
    out = [
        recall("spammers flagged (LABEL or BLOCK)", abusers),
        recall(
            "evident spammers flagged (≥ 3 victims reported)", [t for t in abusers if t.victims_reported >= 3], 0.95
        ),
        recall("spammers with call records flagged", [t for t in abusers if t.records > 0], 0.90),
        recall("spammers without call records flagged", [t for t in abusers if t.records == 0]),
        recall("spammers in reseller ranges flagged", [t for t in abusers if t.holder not in world.shipping]),
        recall("fraud blocked", [t for t in abusers if t.kind is Kind.FRAUD], action=("BLOCK",)),
    ]
    legit = [t for t in truth.values() if t.legitimate and not t.attack]
    fp = sum(1 for t in legit if verdicts[t.subject] in FLAGGED)
    rate = _share(fp, len(legit))
    out.append(
        Figure(
            "legitimate numbers flagged (not attack targets)",
            rate,
            f"{_pct(rate, 4)} ({fp} of {len(legit)})",
            "≤ 0.0100 %",
            rate is not None and rate <= 0.0001,
        )
    )
    busy = [t for t in legit if t.kind is Kind.BUSY_LEGIT]
    busy_fp = sum(1 for t in busy if verdicts[t.subject] in FLAGGED)
    out.append(Figure("  of which busy legitimate lines", float(busy_fp), f"{busy_fp} of {len(busy)}"))
    protected = [t for t in truth.values() if t.kind is Kind.PROTECTED]
    p_block = sum(1 for t in protected if verdicts[t.subject] == "BLOCK")
    out.append(Figure("protected numbers blocked", float(p_block), f"{p_block} of {len(protected)}", "0", p_block == 0))
    targets = [t for t in truth.values() if t.attack]
    blocked = [t for t in targets if verdicts[t.subject] == "BLOCK"]
    labelled = [t for t in targets if verdicts[t.subject] == "LABEL"]
    out.append(
        Figure(
            "attack targets blocked",
            float(len(blocked)),
            f"{len(blocked)} of {len(targets)}"
            + (f" ({', '.join(sorted({t.attack for t in blocked}))})" if blocked else ""),
            "0",
            not blocked,
        )
    )
    out.append(
        Figure(
            "attack targets held at LABEL",
            float(len(labelled)),
            f"{len(labelled)} of {len(targets)}"
            + (f" ({', '.join(sorted({t.attack for t in labelled}))})" if labelled else ""),
        )
    )
    timed = [t for t in live if t.before not in FLAGGED]
    to_label = [math.inf if t.label_after is None else t.label_after for t in timed]
    to_block = [math.inf if t.block_after is None else t.block_after for t in timed]
    med = quantile(to_label, 0.5)
    n_label = sum(1 for x in to_label if not math.isinf(x))
    n_block = sum(1 for x in to_block if not math.isinf(x))
    out += [
        Figure(
            "time to LABEL, median",
            med,
            f"{_secs(med)} ({n_label}/{len(timed)} flagged)",
            "≤ 60 s",
            med is not None and med <= 60,
        ),
        Figure("time to LABEL, p90", quantile(to_label, 0.9), _secs(quantile(to_label, 0.9))),
        Figure(
            "time to BLOCK, median",
            quantile(to_block, 0.5),
            f"{_secs(quantile(to_block, 0.5))} ({n_block}/{len(timed)} blocked)",
        ),
        Figure("time to BLOCK, p90", quantile(to_block, 0.9), _secs(quantile(to_block, 0.9))),
    ]
    errors = sum(1 for v in verdicts.values() if v.startswith("ERROR"))
    if errors:
        out.append(Figure("lookups that failed", float(errors), str(errors), "0", False))
    return out


def table(rows: Sequence[Figure]) -> str:
    width = max(len(f.name) for f in rows)
    shown = max(len(f.shown) for f in rows)
    lines = [f"{'figure':<{width}}  {'value':<{shown}}  {'target':<10}  ", "-" * (width + shown + 24)]
    lines += [f"{f.name:<{width}}  {f.shown:<{shown}}  {f.target:<10}  {f.verdict}" for f in rows]
    return "\n".join(lines)


def as_json(rows: Sequence[Figure], live: Iterable[LiveTiming]) -> dict[str, object]:
    def clean(x: float | None) -> float | None:
        return None if x is None or math.isinf(x) else x

    return {
        "figures": [{**asdict(f), "value": clean(f.value), "verdict": f.verdict} for f in rows],
        "live": [asdict(t) for t in live],
    }
