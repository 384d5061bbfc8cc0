"""Call-record ingest benchmark: records/s into each backend, in-process and over gRPC.

    python -m scripts.bench_ingest [--records 200000] [--rounds 3]
        [--cassandra-hosts 127.0.0.1 | --no-cassandra] [--no-grpc]

Measures, medians over the rounds:
- in-process intake: validation (normalising caller and callee, keyed hashing,
  sketch positions) plus ``store.add_call_records`` in batches of 1,000, on
  SQLite and on Cassandra (a single node is started on 127.0.0.1 unless hosts
  are given);
- the same rows written by a bare ``executemany`` into an equivalent SQLite
  table: the floor numrep's SQLite path is compared with;
- validation alone (normalising, hashing, sketch positions), no store;
- ``SubmitCallRecords`` over gRPC to ``numrep serve`` on the embedded
  default (one serving process, and two), batches of 1,000 from two client
  threads, with a result per record and with ``errors_only``;
- folding the stored records into hourly aggregates and contacts (the
  worker's step), in records per second.
Not a test: it prints figures and ratios, it asserts nothing. Target: at least
50,000 records/s into the embedded default on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from numrep.config import Settings, load_settings
from numrep.evidence import collect
from numrep.evidence.records import RecordInput, validate_record
from numrep.models import Channel
from numrep.store.base import Store

NOW = datetime.now(UTC)
BATCH = 1000
ROOT = Path(__file__).resolve().parent.parent


def inputs(n: int, offset: int) -> list[RecordInput]:
    """A switch's export: 5,000 callers, each callee once, spread over the last ten hours."""
    return [
        RecordInput(
            f"bench-{offset + i}",
            f"+86170{(offset + i) % 5000:08d}",
            f"+86139{offset + i:08d}",
            Channel.VOICE,
            NOW - timedelta(seconds=(i * 7) % 36000),
            2500,
            (i * 13) % 40,
        )
        for i in range(n)
    ]


CPU: dict[str, list[float]] = {}  # records per second of this process's CPU time, by figure (load-independent)


def rate(n: int, fn: Callable[[], object], cpu: str = "") -> float:
    t, c = time.perf_counter(), time.process_time()
    fn()
    if cpu:
        CPU.setdefault(cpu, []).append(n / (time.process_time() - c))
    return n / (time.perf_counter() - t)


def intake(store: Store, settings: Settings, batch: list[RecordInput]) -> None:
    late = timedelta(days=settings.record_lateness_days)
    for i in range(0, len(batch), BATCH):
        callers: dict[str, str] = {}
        prefixes: dict[str, int] = {}
        now = datetime.now(UTC)
        store.add_call_records(
            [
                validate_record(x, settings.subscriber_key, settings.region, "bench", now, late, callers, prefixes)
                for x in batch[i : i + BATCH]
            ]
        )


def bench_store(store: Store, settings: Settings, n: int, rounds: int) -> dict[str, float]:
    rates, aggs = [], []
    for r in range(rounds):
        batch = inputs(n, r * n)
        cpu = "validated and stored (SQLite)" if "SQLite" in type(store).__name__ else ""  # Cassandra works elsewhere
        rates.append(rate(n, lambda: intake(store, settings, batch), cpu))
        aggs.append(rate(n, lambda: collect.fold_call_records(store, settings, time_budget=600)))
    return {
        "records/s, validated and stored": statistics.median(rates),
        "records/s folded (aggregates, contacts)": statistics.median(aggs),
    }


def bare_sqlite(tmp: Path, settings: Settings, n: int, rounds: int) -> float:
    """The floor: the same rows, already validated, by one executemany per batch into an equivalent table."""
    from numrep.store.codec import to_micros
    from numrep.store.sqlite_evidence import EVIDENCE_SCHEMA, _hour_us

    conn = sqlite3.connect(tmp / "bare.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE reports (reporter_hash TEXT, occurred_at INTEGER)")
    conn.executescript(EVIDENCE_SCHEMA)
    late = timedelta(days=settings.record_lateness_days)
    out = []
    for r in range(rounds):
        recs = [
            validate_record(x, settings.subscriber_key, settings.region, "bench", NOW, late) for x in inputs(n, r * n)
        ]
        rows = [
            (
                x.record_id,
                x.caller,
                _hour_us(x.start),
                x.callee_hash,
                x.channel.value,
                to_micros(x.start),
                x.ring_ms,
                x.talk_seconds,
                0,
                x.operator,
                x.callee_reg,
                x.prefix_reg,
                to_micros(x.received_at),
            )
            for x in recs
        ]

        def write() -> None:
            for i in range(0, n, BATCH):
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT INTO call_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows[i : i + BATCH]
                )
                conn.execute("COMMIT")

        out.append(rate(n, write, "bare executemany"))
    return statistics.median(out)


def over_grpc(tmp: Path, n: int, rounds: int, processes: int = 1) -> dict[bool, float]:
    """Records/s over gRPC to ``processes`` serving processes (one port, SO_REUSEPORT), with a result per
    record (False) and with ``errors_only`` (True)."""
    from numrep.sdk.client import Client
    from numrep.v1 import callrecords_pb2

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMREP_")}
    env.update(
        NUMREP_DATA_DIR=str(tmp / f"served-{processes}"),
        NUMREP_GRPC_PORT=str(port),
        NUMREP_HASH_KEY="k" * 64,
        NUMREP_GRPC_PROCESSES=str(processes),
        NUMREP_MAX_BATCH=str(BATCH),
        PYTHONPATH=str(ROOT),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "numrep.cli", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with Client(f"127.0.0.1:{port}", timeout=60) as c:
            c.wait_ready(30)
            out: dict[bool, list[float]] = {False: [], True: []}
            for r, errors_only in ((r, e) for r in range(rounds) for e in (False, True)):
                msgs = []
                for x in inputs(n, (2 * rounds + 2 * r + errors_only) * n):
                    m = callrecords_pb2.CallRecord(
                        record_id=x.record_id,
                        caller=x.caller,
                        callee=x.callee,
                        ring_ms=x.ring_ms,
                        talk_seconds=x.talk_seconds,
                    )
                    assert x.start is not None
                    m.start_time.FromDatetime(x.start)
                    msgs.append(m)
                batches = [
                    callrecords_pb2.SubmitCallRecordsRequest(records=msgs[i : i + BATCH], errors_only=errors_only)
                    for i in range(0, n, BATCH)
                ]

                def send(part: list[callrecords_pb2.SubmitCallRecordsRequest]) -> None:
                    for b in part:
                        c.records.SubmitCallRecords(b, timeout=60)

                def both() -> None:
                    threads = [threading.Thread(target=send, args=(batches[k::2],)) for k in range(2)]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()

                out[errors_only].append(rate(n, both))
            return {k: statistics.median(v) for k, v in out.items()}
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cassandra-hosts", default="")
    ap.add_argument("--no-cassandra", action="store_true")
    ap.add_argument("--no-grpc", action="store_true", help="in-process figures only")
    ns = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="numrep-bench-ingest-"))
    settings = load_settings(environ={}, data_dir=tmp, hash_key="k" * 64)

    from numrep.store.sqlite import SQLiteStore

    sqlite = SQLiteStore(tmp / "bench.sqlite3")
    sqlite.migrate()
    results = {"sqlite": bench_store(sqlite, settings, ns.records, ns.rounds)}
    floor = bare_sqlite(tmp, settings, ns.records, ns.rounds)
    late = timedelta(days=settings.record_lateness_days)
    validate = statistics.median(
        rate(
            ns.records,
            lambda: [
                validate_record(x, settings.subscriber_key, settings.region, "bench", NOW, late, {}, {}) for x in batch
            ],
        )
        for batch in (inputs(ns.records, (10 + r) * ns.records) for r in range(ns.rounds))
    )
    grpc_rate = {} if ns.no_grpc else {p: over_grpc(tmp, ns.records // 2, ns.rounds, p) for p in (1, 2)}

    if not ns.no_cassandra:
        from scripts.cassandra import benchmark_store

        with benchmark_store(settings, tmp, ns.cassandra_hosts, "numrep_bench_ingest") as cs:
            results["cassandra"] = bench_store(cs, settings, ns.records // 4, ns.rounds)

    print(
        f"\ncall-record ingest, medians of {ns.rounds} rounds ({ns.records:,} records per round; Cassandra a quarter)"
    )
    for metric in results["sqlite"]:
        line = f"  {metric:34} sqlite {results['sqlite'][metric]:10,.0f}"
        if "cassandra" in results:
            c = results["cassandra"][metric]
            line += f"   cassandra {c:10,.0f}   ratio {c / results['sqlite'][metric]:.2f}"
        print(line)
    s = results["sqlite"]["records/s, validated and stored"]
    print(f"  bare executemany of validated rows  sqlite {floor:10,.0f}   numrep/bare {s / floor:.2f}")
    print(f"  validation alone (no store)                {validate:10,.0f}   numrep/validation {s / validate:.2f}")
    for processes, by_mode in grpc_rate.items():
        for errors_only, label in ((False, "a result per record"), (True, "errors_only")):
            g = by_mode[errors_only]
            print(
                f"  SubmitCallRecords over gRPC         sqlite {g:10,.0f}   numrep/bare {g / floor:.2f}   "
                f"({processes} serving process{'es' if processes > 1 else ''}, {label}; 2 client threads, "
                f"batches of {BATCH})"
            )
    for figure, rates in CPU.items():
        print(f"  per second of CPU time (the machine's other load aside): {figure} {statistics.median(rates):,.0f}")
    best = max((g for by_mode in grpc_rate.values() for g in by_mode.values()), default=0.0)
    print(
        f"  target >= 50,000 records/s into the embedded default: in-process {s:,.0f} "
        f"({'met' if s >= 50_000 else 'NOT met'}), over gRPC {best:,.0f} ({'met' if best >= 50_000 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
