"""Import speed and memory of SMS-port blacklist files (CSV, JSON array, JSON Lines) at 10k, 100k and 1M rows.

    python -m scripts.bench_import [--sizes 10000,100000,1000000] [--formats csv,json,jsonl]

Each import (validate into the staging file, then apply in one SQLite
transaction) runs in a fresh process, so its peak RSS is its own. Printed per
file: rows/s and peak RSS; linear time shows as rows/s that stay flat as the
file grows, bounded memory as an RSS that does not. Baselines measured in the
same run: a bare ``csv.reader`` / ``json`` pass over the same file (the floor
any importer pays), and the RSS of a process that imports numrep and reads
nothing. Not a test: it prints numbers, it asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write(path: Path, fmt: str, rows: int) -> None:
    with open(path, "w") as fh:
        if fmt == "csv":
            fh.write("port,enterprise,reason,source,date\n")
        elif fmt == "json":
            fh.write("[\n")
        for i in range(rows):
            port, enterprise = f"1065{i:010d}", f"Enterprise {i % 5000}"
            if fmt == "csv":
                fh.write(f"{port},{enterprise},illegal marketing SMS,MIIT list,2026-09-30\n")
            else:
                row = json.dumps(
                    {
                        "port": port,
                        "enterprise": enterprise,
                        "reason": "illegal marketing SMS",
                        "source": "MIIT list",
                        "date": "2026-09-30",
                    }
                )
                fh.write(("," if i and fmt == "json" else "") + row + "\n")
        if fmt == "json":
            fh.write("]\n")


def floor(path: Path, fmt: str) -> float:
    """Seconds of a bare standard-library pass (one decode per row, nothing kept)."""
    t = time.perf_counter()
    with open(path, newline="") as fh:
        if fmt == "csv":
            for _ in csv.reader(fh):
                pass
        elif fmt == "jsonl":
            for line in fh:
                json.loads(line)
        else:
            json.load(fh)  # the whole array at once: fast, but holds every row
    return time.perf_counter() - t


def peak_rss_kib() -> int:
    """This process's peak resident set (VmHWM: unlike ru_maxrss, not inherited from the forking parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(path: Path, store_path: Path) -> None:
    """One import in this process; prints seconds to validate, to apply, and peak RSS (KiB) as JSON."""
    from numrep.regulator import port_blacklist
    from numrep.store.sqlite import SQLiteStore

    store = SQLiteStore(store_path)
    store.migrate()
    t = time.perf_counter()
    with port_blacklist.stage(path) as staged:
        validated = time.perf_counter()
        changed = store.add_port_blacklist(staged)
        rows = staged.rows
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "rows": rows,
                "changed": changed,
                "validate": validated - t,
                "apply": done - validated,
                "rss_kib": peak_rss_kib(),
            }
        )
    )


def idle_rss() -> int:
    code = (
        "import numrep.regulator.port_blacklist, numrep.store.sqlite, phonenumbers, scripts.bench_import as b; "
        "print(b.peak_rss_kib())"
    )
    return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--formats", default="csv,json,jsonl")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.child:
        child(Path(ns.child[0]), Path(ns.child[1]))
        return
    tmp = Path(tempfile.mkdtemp(prefix="numrep-import-bench-"))
    base = idle_rss()
    print(f"baseline: a process with numrep imported, nothing read: peak RSS {base / 1024:.0f} MiB")
    print(
        f"{'file':>18} {'MB':>6} {'stdlib pass':>12} {'validate':>10} {'apply':>10} {'total':>10} "
        f"{'x stdlib':>8} {'peak RSS':>9} {'growth':>8}"
    )
    for fmt in ns.formats.split(","):
        for rows in (int(s) for s in ns.sizes.split(",")):
            path = tmp / f"ports-{rows}.{fmt}"
            write(path, fmt, rows)
            stdlib = floor(path, fmt)
            store = tmp / f"store-{rows}-{fmt}.sqlite3"
            out = subprocess.run(
                [sys.executable, "-m", "scripts.bench_import", "--child", str(path), str(store)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            total = r["validate"] + r["apply"]
            print(
                f"{path.name:>18} {path.stat().st_size / 1e6:6.0f} {rows / stdlib:10.0f}/s {rows / r['validate']:8.0f}/s "
                f"{rows / r['apply']:8.0f}/s {rows / total:8.0f}/s {total / stdlib:8.1f} "
                f"{r['rss_kib'] / 1024:6.0f} MiB {(r['rss_kib'] - base) / 1024:5.0f} MiB"
            )
            path.unlink()
            for p in tmp.glob(f"store-{rows}-{fmt}.sqlite3*"):
                p.unlink()


if __name__ == "__main__":
    main()
