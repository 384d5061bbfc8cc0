"""Store benchmark: writes/s and reads/s of each backend, measured in one run.

    python -m scripts.bench_store [--reports 20000] [--rounds 3] [--cassandra-hosts 127.0.0.1]

Without --cassandra-hosts a single Cassandra node is started on 127.0.0.1
(scripts/cassandra.py) and stopped afterwards. SQLite runs the same workload
as the baseline; figures are medians over the rounds, with the ratio.
Not a test: it prints numbers, it asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from numrep.config import load_settings
from numrep.models import Action, Category, Channel, Report, Reputation, Source
from numrep.store.base import Store

NOW = datetime.now(UTC)


def reports(n: int, offset: int) -> list[Report]:
    return [
        Report(
            f"20000000-0000-4000-8000-{offset + i:012d}",
            f"h1:r{i % 997}",
            f"tel:+86170{(offset + i) % 5000:08d}",
            Channel.VOICE,
            Category.LOANS_FINANCE,
            NOW - timedelta(minutes=i % 600),
            NOW,
            Source.APP,
        )
        for i in range(n)
    ]


def reputations(n: int) -> list[Reputation]:
    return [
        Reputation(
            f"tel:+86170{i:08d}",
            90,
            {Channel.VOICE: Action.BLOCK, Channel.SMS: Action.ALLOW},
            {Category.FRAUD: 9},
            9,
            8.5,
            NOW,
            NOW,
            ("9 reporters",),
            False,
            NOW,
        )
        for i in range(n)
    ]


def rate(n: int, fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def bench(store: Store, n: int, rounds: int) -> dict[str, float]:
    store.put_reputations(reputations(5000))
    subjects = [f"tel:+86170{i:08d}" for i in range(5000)]
    rnd = random.Random(7)
    writes, reads, scans = [], [], []
    for r in range(rounds):
        batch = reports(n, offset=r * n)
        writes.append(rate(n, lambda: [store.add_reports(batch[i : i + 500]) for i in range(0, n, 500)]))
        probe = [rnd.choice(subjects) for _ in range(2000)]
        reads.append(rate(len(probe), lambda: [store.get_reputation(s) for s in probe]))
        scan = probe[:200]
        scans.append(rate(len(scan), lambda: [store.reports_for_subject(s, NOW - timedelta(days=30)) for s in scan]))
    return {
        "report writes/s (batches of 500)": statistics.median(writes),
        "reputation reads/s (one at a time)": statistics.median(reads),
        "30-day report scans/s": statistics.median(scans),
    }


def durability(tmp: Path, n: int, rounds: int) -> dict[str, dict[str, float]]:
    """SQLite report intake with synchronous=NORMAL (the baseline) and FULL (the default), in the same run."""
    from numrep.store.sqlite import SQLiteStore

    out: dict[str, dict[str, float]] = {}
    for mode in ("NORMAL", "FULL"):
        store = SQLiteStore(tmp / f"sync-{mode.lower()}.sqlite3", synchronous=mode)
        store.migrate()
        singles, batches = [], []
        for r in range(rounds):
            one = reports(n // 10, offset=(2 * r) * n)
            singles.append(rate(len(one), lambda: [store.add_reports([rep]) for rep in one]))
            many = reports(n, offset=(2 * r + 1) * n)
            batches.append(rate(n, lambda: [store.add_reports(many[i : i + 500]) for i in range(0, n, 500)]))
        store.close()
        out[mode] = {
            "reports/s, one per transaction": statistics.median(singles),
            "reports/s, batches of 500": statistics.median(batches),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cassandra-hosts", default="")
    ap.add_argument("--sqlite-only", action="store_true", help="only the SQLite durability comparison")
    ns = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="numrep-bench-"))
    settings = load_settings(environ={}, data_dir=tmp, hash_key="k" * 64)

    sync = durability(tmp, ns.reports, ns.rounds)
    print(f"\n{'SQLite intake (WAL)':38} {'NORMAL':>10} {'FULL':>10} {'ratio':>7}   (medians of {ns.rounds} rounds)")
    for metric in sync["NORMAL"]:
        a, b = sync["NORMAL"][metric], sync["FULL"][metric]
        print(f"{metric:38} {a:10.0f} {b:10.0f} {b / a:7.2f}")
    if ns.sqlite_only:
        return

    from numrep.store.sqlite import SQLiteStore

    sqlite = SQLiteStore(tmp / "bench.sqlite3")
    sqlite.migrate()
    results = {"sqlite": bench(sqlite, ns.reports, ns.rounds)}

    from scripts.cassandra import benchmark_store

    with benchmark_store(settings, tmp, ns.cassandra_hosts, "numrep_bench") as cs:
        results["cassandra"] = bench(cs, ns.reports, ns.rounds)

    print(
        f"\n{'metric':38} {'sqlite':>10} {'cassandra':>10} {'ratio':>7}   (medians of {ns.rounds} rounds, {ns.reports} reports each)"
    )
    for metric in results["sqlite"]:
        a, b = results["sqlite"][metric], results["cassandra"][metric]
        print(f"{metric:38} {a:10.0f} {b:10.0f} {b / a:7.2f}")


if __name__ == "__main__":
    main()
