"""Import speed of an SMS-port blacklist file (default 1M rows) into the embedded store.

    python -m scripts.bench_import [--rows 1000000]

Prints validation and apply throughput; the baseline in the same run is a bare
``csv.reader`` pass over the same file (the floor any importer pays).
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from numrep.regulator import port_blacklist
from numrep.store.sqlite import SQLiteStore


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ns = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="numrep-import-bench-"))
    path = tmp / "ports.csv"
    with open(path, "w") as fh:
        fh.write("port,enterprise,reason,source,date\n")
        for i in range(ns.rows):
            fh.write(f"1065{i:010d},Enterprise {i % 5000},illegal marketing SMS,MIIT list,2026-09-30\n")
    size = path.stat().st_size

    t = time.perf_counter()
    with open(path, newline="") as fh:
        n = sum(1 for _ in csv.reader(fh))
    floor = time.perf_counter() - t

    t = time.perf_counter()
    entries = port_blacklist.parse_file(path)
    parse = time.perf_counter() - t
    store = SQLiteStore(tmp / "store.sqlite3")
    store.migrate()
    t = time.perf_counter()
    changed = store.add_port_blacklist(entries)
    apply = time.perf_counter() - t
    t = time.perf_counter()
    again = port_blacklist.import_file(store, path)
    reimport = time.perf_counter() - t

    print(f"file: {ns.rows} rows, {size / 1e6:.0f} MB")
    print(f"csv.reader pass (baseline)   {floor:7.2f} s  {n / floor:10.0f} rows/s")
    print(f"validate (numrep)            {parse:7.2f} s  {ns.rows / parse:10.0f} rows/s  ({parse / floor:.1f}x baseline)")
    print(f"apply, one transaction       {apply:7.2f} s  {ns.rows / apply:10.0f} rows/s  ({changed} new)")
    print(f"total first import           {parse + apply:7.2f} s  {ns.rows / (parse + apply):10.0f} rows/s")
    print(f"re-import (nothing changes)  {reimport:7.2f} s  ({again.changed} changed)")


if __name__ == "__main__":
    main()
