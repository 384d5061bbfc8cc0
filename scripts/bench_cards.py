"""Import speed and memory of real-name card registration files (CSV) at 100k and 1M rows.

    python -m scripts.bench_cards [--sizes 100000,1000000]

Each import (validate every row, ID checksum and keyed hash included, into the
staging file; then apply in one SQLite transaction) runs in a fresh process,
so its peak RSS (VmHWM) is its own. Printed per file: rows/s of validation, of
applying and in all, and peak RSS; bounded memory shows as an RSS that does not
grow with the file. Baselines measured in the same run: a bare ``csv.reader``
pass over the same file, and the RSS of a process that imports numrep and reads
nothing. Not a test: it prints numbers, it asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.bench_import import peak_rss_kib

KEY = b"bench-key-" + b"k" * 32


def write(path: Path, rows: int) -> None:
    from numrep.regulator.cards import check_digit

    with open(path, "w") as fh:
        fh.write("id_number,operator,number,date,seller\n")
        for i in range(rows):
            body = f"110105{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{(i // 7) % 1000:03d}"
            fh.write(f"{body}{check_digit(body)},Operator {i % 3},+86138{i:08d},2026-10-01,Shop {i % 5000}\n")


def floor(path: Path) -> float:
    t = time.perf_counter()
    with open(path, newline="") as fh:
        for _ in csv.reader(fh):
            pass
    return time.perf_counter() - t


def child(path: Path, store_path: Path) -> None:
    """One import in this process; prints seconds to validate, to apply, and peak RSS (KiB) as JSON."""
    from numrep.regulator import cards
    from numrep.store.sqlite import SQLiteStore

    store = SQLiteStore(store_path)
    store.migrate()
    t = time.perf_counter()
    with cards.stage_registrations(path, KEY) as staged:
        validated = time.perf_counter()
        changed = store.put_cards(staged)
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
    code = "import numrep.regulator.cards, numrep.store.sqlite, phonenumbers, scripts.bench_import as b; print(b.peak_rss_kib())"
    return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.child:
        child(Path(ns.child[0]), Path(ns.child[1]))
        return
    tmp = Path(tempfile.mkdtemp(prefix="numrep-cards-bench-"))
    base = idle_rss()
    print(f"baseline: a process with numrep imported, nothing read: peak RSS {base / 1024:.0f} MiB")
    print(
        f"{'file':>18} {'MB':>6} {'stdlib pass':>12} {'validate':>10} {'apply':>10} {'total':>10} "
        f"{'x stdlib':>8} {'peak RSS':>9} {'growth':>8}"
    )
    for rows in (int(s) for s in ns.sizes.split(",")):
        path = tmp / f"cards-{rows}.csv"
        write(path, rows)
        stdlib = floor(path)
        store = tmp / f"store-{rows}.sqlite3"
        out = subprocess.run(
            [sys.executable, "-m", "scripts.bench_cards", "--child", str(path), str(store)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        assert r["rows"] == r["changed"] == rows, r
        total = r["validate"] + r["apply"]
        print(
            f"{path.name:>18} {path.stat().st_size / 1e6:6.0f} {rows / stdlib:10.0f}/s {rows / r['validate']:8.0f}/s "
            f"{rows / r['apply']:8.0f}/s {rows / total:8.0f}/s {total / stdlib:8.1f} "
            f"{r['rss_kib'] / 1024:6.0f} MiB {(r['rss_kib'] - base) / 1024:5.0f} MiB"
        )
        path.unlink()
        for p in tmp.glob(f"store-{rows}.sqlite3*"):
            p.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
