"""The lookup benchmark (issue 5): numrep against Redis, measured in one run on this machine.

    make bench
    python -m scripts.bench [--flagged 100000] [--seconds 10] [--filter-sizes 10M,100M] [--processes 2]

One run, one machine, everything on 127.0.0.1:

1. an embedded platform is seeded with ``--flagged`` flagged numbers (rules
   published, filter built) and served by ``numrep serve --processes N``;
2. ghz drives unary ``Lookup`` flat out (max QPS), then at half that rate
   (p50/p99 at half the maximum load), then ``BatchLookup`` and
   ``StreamLookup`` (numbers per second);
3. the SDK's local-list client answers the same request mix in-process, one
   client per core;
4. the peer a user would pick instead: ``redis-server`` holding the same
   flagged subjects in a set, driven by ``redis-benchmark SISMEMBER``
   unpipelined and pipelined;
5. the ratios against the issue's targets; the filter's bits per subject
   against the Bloom optimum, its measured false-positive rate, and build
   time and peak memory (all processes) for 10M and 100M subjects, sharded.

The request mix is what switches send: E.164 numbers, ~1 % of them flagged.
Load generators share the 2 cores with what they measure (ghz with the
servers, redis-benchmark with redis-server); the figures say so, and the
ratios compare like with like. Not a test: it prints numbers, it asserts
nothing. ``--json`` also writes them to ``artifacts/bench.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
GHZ_VERSION = "v0.120.0"
CACHE_BIN = Path(os.environ.get("NUMREP_CACHE_DIR", Path.home() / ".cache" / "numrep")) / "bin"
REDIS_KEY = "numrep:flagged"
BATCH = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def say(msg: str) -> None:
    print(msg, flush=True)


# ---- tools -------------------------------------------------------------------
def ghz_path() -> str:
    """ghz from PATH, the cache, or ``go install`` into the cache."""
    found = shutil.which("ghz") or (str(CACHE_BIN / "ghz") if (CACHE_BIN / "ghz").exists() else None)
    if found:
        return found
    if shutil.which("go") is None:
        sys.exit("ghz is missing and Go is not installed to build it (go install github.com/bojand/ghz/cmd/ghz)")
    say(f"installing ghz {GHZ_VERSION} with go install …")
    CACHE_BIN.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["go", "install", f"github.com/bojand/ghz/cmd/ghz@{GHZ_VERSION}"],
        env={**os.environ, "GOBIN": str(CACHE_BIN)},
        check=True,
    )
    return str(CACHE_BIN / "ghz")


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"{tool} is missing: apt-get install redis-server (scripts/system-deps.sh does it)")
    return path


# ---- the platform ------------------------------------------------------------
def flagged_subjects(n: int) -> list[str]:
    return [f"tel:+86170{i:08d}" for i in range(n)]


def seed(env: dict[str, str], flagged: list[str]) -> dict[str, Any]:
    """Flag the subjects (reputations, published rules, filter) in the data dir of ``env``."""
    from numrep import pipeline
    from numrep.config import load_settings
    from numrep.models import Action, Category, Channel, Reputation
    from numrep.store import open_store

    settings = load_settings(environ=env)
    store = open_store(settings, migrate=True)
    now = datetime.now(UTC)
    t = time.perf_counter()
    for i in range(0, len(flagged), 20_000):
        reps = [
            Reputation(
                s,
                92,
                {Channel.VOICE: Action.BLOCK, Channel.SMS: Action.BLOCK},
                {Category.FRAUD: 12},
                12,
                11.5,
                now,
                now,
                ("12 reporters in 30 days (weighted 11.5), mostly fraud",),
                False,
                now,
            )
            for s in flagged[i : i + 20_000]
        ]
        store.put_reputations(reps)
        pipeline.publish_for(store, reps, now)
    meta = pipeline.sync_filter(store, settings, full=True)
    assert meta is not None
    store.close()
    return {"subjects": len(flagged), "seconds": time.perf_counter() - t, "filter_bytes": meta.size_bytes}


def request_mix(flagged: list[str], n: int, rng: random.Random) -> list[str]:
    """E.164 numbers as a switch sends them; ~1 % flagged."""
    out = []
    for _ in range(n):
        if rng.random() < 0.01:
            out.append(rng.choice(flagged)[4:])
        else:
            out.append(f"+86{rng.choice(('138', '139', '150', '186', '135'))}{rng.randrange(10**8):08d}")
    return out


class Server:
    def __init__(self, env: dict[str, str], processes: int, log: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "numrep.cli", "serve", "--processes", str(processes)],
            env=env,
            cwd=ROOT,
            stdout=open(log, "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.address = f"127.0.0.1:{env['NUMREP_GRPC_PORT']}"
        self.log = log
        deadline = time.monotonic() + 60
        serving = 0
        while serving < 10:  # ten answers in a row: every process is up
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")
            try:
                with grpc.insecure_channel(self.address) as ch:
                    ok = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=1).status
                serving = serving + 1 if ok == health_pb2.HealthCheckResponse.SERVING else 0
            except grpc.RpcError:
                serving = 0
                time.sleep(0.2)

    def pids(self) -> list[int]:
        try:
            return [self.proc.pid] + [c.pid for c in psutil.Process(self.proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


# ---- ghz -----------------------------------------------------------------------
@dataclass
class GhzResult:
    rps: float
    count: int
    p50_ms: float
    p99_ms: float
    errors: dict[str, int] = field(default_factory=dict)


def errors_note(r: GhzResult, concurrency: int) -> str:
    """ghz ends a timed run by cutting the calls still in flight; those are its only errors in a clean run."""
    n = sum(r.errors.values())
    if n == 0:
        return "no errors"
    if n <= concurrency:
        return f"{n} calls cut by ghz at the end of the run ({', '.join(r.errors)})"
    return f"ERRORS {r.errors}"


def ghz(
    binary: str,
    address: str,
    method: str,
    data: Any,
    seconds: float,
    concurrency: int,
    connections: int,
    rps: int = 0,
    workdir: Path = Path("."),
) -> GhzResult:
    data_file = workdir / f"ghz-{method}.json"
    data_file.write_text(json.dumps(data))
    args = [
        binary,
        "--insecure",
        "--proto",
        str(ROOT / "protos/numrep/v1/reputation.proto"),
        "--import-paths",
        str(ROOT / "protos"),
        "--call",
        f"numrep.v1.ReputationService.{method}",
        "-D",
        str(data_file),
        "-z",
        f"{seconds}s",
        "-c",
        str(concurrency),
        "--connections",
        str(connections),
        "-O",
        "json",
        "--count-errors",
        "--skipFirst",
        str(concurrency * 2),
    ]
    if rps:
        args += ["--rps", str(rps)]
    done = subprocess.run(args + [address], capture_output=True, text=True)
    if done.returncode != 0 and not done.stdout.strip():
        raise RuntimeError(f"ghz failed: {done.stderr[-2000:]}")
    out = json.loads(done.stdout)
    dist = {int(d["percentage"]): d["latency"] / 1e6 for d in out.get("latencyDistribution") or []}
    return GhzResult(
        float(out["rps"]),
        int(out["count"]),
        dist.get(50, 0.0),
        dist.get(99, 0.0),
        {k: int(v) for k, v in (out.get("statusCodeDistribution") or {}).items() if k != "OK"},
    )


# ---- SDK local list -------------------------------------------------------------
def _local_list_worker(
    address: str, public_key: bytes, numbers: list[str], seconds: float, start_at: float, out: Any
) -> None:
    from numrep.sdk import LocalListClient

    client = LocalListClient(address, public_key=public_key, deadline=0.5)
    client.sync()
    lookup = client.lookup
    while time.time() < start_at:
        time.sleep(0.001)
    n, end = 0, time.perf_counter() + seconds
    t0 = time.perf_counter()
    while time.perf_counter() < end:
        for raw in numbers[:1000]:
            lookup(raw)
        numbers = numbers[1000:] + numbers[:1000]
        n += 1000
    out.put((n, time.perf_counter() - t0, client.service_calls))
    client.close()


def local_list_rate(address: str, numbers: list[str], seconds: float, processes: int) -> dict[str, float]:
    from numrep.v1 import rules_pb2, rules_pb2_grpc

    with grpc.insecure_channel(address) as ch:
        key = rules_pb2_grpc.RulesServiceStub(ch).GetSigningKey(rules_pb2.GetSigningKeyRequest(), timeout=5).public_key
    ctx = get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 8  # every client synced (filter + rules) before the clock starts
    procs = [
        ctx.Process(target=_local_list_worker, args=(address, key, numbers[i::processes], seconds, start_at, out))
        for i in range(processes)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(30)
    total = sum(n for n, _, _ in results)
    return {
        "per_second": sum(n / t for n, t, _ in results),
        "lookups": total,
        "service_calls": sum(c for _, _, c in results),
        "per_process": statistics.median(n / t for n, t, _ in results),
    }


# ---- Redis ----------------------------------------------------------------------
class Redis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                need("redis-server"),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        import redis

        self.client = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def load(self, members: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for i in range(0, len(members), 10_000):
            pipe.sadd(REDIS_KEY, *members[i : i + 10_000])
        pipe.execute()

    def benchmark(self, pipeline: int, requests: int, clients: int = 50, threads: int = 0) -> float:
        """SISMEMBER requests/s; members are random 12-digit numbers in the subjects' shape."""
        args = [
            need("redis-benchmark"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-n",
            str(requests),
            "-c",
            str(clients),
            "-P",
            str(pipeline),
            "-r",
            "100000000",
            "--csv",
        ]
        if threads:
            args += ["--threads", str(threads)]
        done = subprocess.run(
            args + ["SISMEMBER", REDIS_KEY, "tel:+86__rand_int__"], capture_output=True, text=True, check=True
        )
        for line in done.stdout.splitlines():
            cells = [c.strip('"') for c in line.split('","')]
            if cells and cells[0].startswith("SISMEMBER"):
                return float(cells[1])
        raise RuntimeError(f"no SISMEMBER line in redis-benchmark output: {done.stdout!r}")

    def memory(self) -> int:
        return int(self.client.memory_usage(REDIS_KEY) or 0)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# ---- filter builds ----------------------------------------------------------------
def synthetic(count: int, shard: int, shards: int) -> Iterable[str]:
    """``count`` distinct subjects, split into disjoint shards."""
    for i in range(shard, count, shards):
        yield f"tel:+86{13000000000 + i}"


def _filter_build(count: int, shards: int, error_rate: float, impl: str, out: Any) -> None:
    import functools

    from numrep import filter as bloom

    t = time.perf_counter()
    snap = bloom.build_sharded(functools.partial(synthetic, count), count, 1, error_rate, 10_000, shards, impl)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t
    probes = (f"tel:+86{15000000000 + i}" for i in range(1_000_000))
    rate, n = bloom.measured_error_rate(snap, probes)
    out.put(
        {
            "count": snap.count,
            "bits": snap.bits,
            "seconds": seconds,
            "measured_error_rate": rate,
            "probes": n,
            "optimal_bits": bloom.optimal_bits(snap.count, error_rate),
            "bytes": len(snap.to_bytes()),
            "impl": impl,
        }
    )


def filter_build(count: int, shards: int, error_rate: float, impl: str) -> dict[str, Any]:
    """Build in a child process; peak memory is the sum of RSS over its whole process tree."""
    ctx = get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_filter_build, args=(count, shards, error_rate, impl, out))
    proc.start()
    peak = 0
    result = None
    while result is None:
        try:
            result = out.get(timeout=0.2)
        except Exception:  # queue.Empty: sample memory meanwhile
            try:
                p = psutil.Process(proc.pid)
                rss = sum(q.memory_info().rss for q in [p, *p.children(recursive=True)])
                peak = max(peak, rss)
            except psutil.NoSuchProcess:
                pass
            if not proc.is_alive() and out.empty():
                raise RuntimeError(f"filter build of {count} failed (exit {proc.exitcode})") from None
    proc.join(60)
    result["peak_rss"] = peak
    result["shards"] = shards
    return result


def parse_count(text: str) -> int:
    text = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * mult)


# ---- where a lookup's time goes -----------------------------------------------------
def per_lookup_costs(flagged: list[str], mix: list[str]) -> dict[str, float]:
    """Median microseconds per call of each step of the in-process lookup path (misses mostly)."""
    import timeit

    from numrep import filter as bloom
    from numrep.numbers import normalize

    snap = bloom.build(flagged, 1, 0.001, 10_000)
    fast = bloom.build(flagged, 1, 0.001, 10_000, "blake2")
    subjects = [normalize(n) for n in mix]
    exact = set(flagged)

    def each(fn: Any, items: list[str]) -> float:
        runs = timeit.repeat(lambda: [fn(x) for x in items], number=1, repeat=5)
        return statistics.median(runs) / len(items) * 1e6

    return {
        "normalize (E.164 fast path)": each(normalize, mix),
        "filter contains (pybloom-live)": each(snap.__contains__, subjects),
        "filter contains (blake2)": each(fast.__contains__, subjects),
        "set contains (reference)": each(exact.__contains__, subjects),
    }


# ---- report -----------------------------------------------------------------------
def fmt(n: float) -> str:
    return f"{n:,.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flagged", type=int, default=100_000, help="flagged subjects in the platform and the Redis set")
    ap.add_argument("--seconds", type=float, default=10, help="length of each measured run")
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 2, help="serving processes (and SDK clients)")
    ap.add_argument("--filter-sizes", default="10M,100M", help="filter builds to time ('' for none)")
    ap.add_argument("--filter-impls", default="pybloom,blake2", help="filter implementations to build")
    ap.add_argument("--filter-impl", default="", help="the platform's filter (NUMREP_FILTER_IMPL; default: pybloom)")
    ap.add_argument(
        "--grpc-workers",
        type=int,
        default=0,
        help="worker threads per serving process (NUMREP_GRPC_MAX_WORKERS; 0: the platform default)",
    )
    ap.add_argument("--json", action="store_true", help="also write artifacts/bench.json")
    ns = ap.parse_args()
    ghz_bin = ghz_path()
    need("redis-server")
    need("redis-benchmark")
    results: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "flagged": ns.flagged,
        "seconds": ns.seconds,
        "processes": ns.processes,
    }
    rng = random.Random(5)
    flagged = flagged_subjects(ns.flagged)
    mix = request_mix(flagged, 20_000, rng)
    with tempfile.TemporaryDirectory(prefix="numrep-bench-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMREP_")}
        env.update(
            NUMREP_DATA_DIR=str(work / "data"),
            NUMREP_GRPC_PORT=str(free_port()),
            PYTHONPATH=str(ROOT),
            NUMREP_LOG_LEVEL="WARNING",
            NUMREP_GRPC_MAX_CONCURRENT_RPCS="10000",
        )
        if ns.grpc_workers:
            env["NUMREP_GRPC_MAX_WORKERS"] = str(ns.grpc_workers)
        if ns.filter_impl:
            env["NUMREP_FILTER_IMPL"] = ns.filter_impl
        from numrep.config import load_settings

        results["grpc_workers"] = load_settings(environ=env).grpc_max_workers
        results["filter_impl"] = load_settings(environ=env).filter_impl
        say(f"seeding {fmt(ns.flagged)} flagged subjects …")
        results["seed"] = seed(env, flagged)
        say(f"  {results['seed']['seconds']:.1f} s; filter snapshot {fmt(results['seed']['filter_bytes'])} bytes")
        server = Server(env, ns.processes, work / "server.log")
        try:
            addr = server.address
            unary_data = [{"subject": s} for s in mix]
            say(f"ghz: unary Lookup flat out for {ns.seconds:.0f} s …")
            flat = ghz(ghz_bin, addr, "Lookup", unary_data, ns.seconds, 64, 8, workdir=work)
            say(f"  {fmt(flat.rps)}/s  p50 {flat.p50_ms:.2f} ms  p99 {flat.p99_ms:.2f} ms  {errors_note(flat, 64)}")
            half_rate = max(1, int(flat.rps / 2))
            say(f"ghz: unary Lookup at half that ({fmt(half_rate)}/s) …")
            # eight callers, as a few switches with a couple of connections each would be
            half = ghz(ghz_bin, addr, "Lookup", unary_data, ns.seconds, 8, 4, rps=half_rate, workdir=work)
            say(f"  {fmt(half.rps)}/s  p50 {half.p50_ms:.2f} ms  p99 {half.p99_ms:.2f} ms  {errors_note(half, 8)}")
            batches = [{"requests": [{"subject": s} for s in mix[i : i + BATCH]]} for i in range(0, len(mix), BATCH)]
            say(f"ghz: BatchLookup of {BATCH} …")
            batch = ghz(ghz_bin, addr, "BatchLookup", batches, ns.seconds, 2 * ns.processes, ns.processes, workdir=work)
            say(
                f"  {fmt(batch.rps * BATCH)} numbers/s ({batch.rps:.1f} batches/s, p50 {batch.p50_ms:.1f} ms) "
                f"{errors_note(batch, 2 * ns.processes)}"
            )
            say(f"ghz: StreamLookup, {BATCH} messages per stream …")
            stream = ghz(
                ghz_bin,
                addr,
                "StreamLookup",
                unary_data[:BATCH],
                ns.seconds,
                2 * ns.processes,
                ns.processes,
                workdir=work,
            )
            say(
                f"  {fmt(stream.rps * BATCH)} numbers/s ({stream.rps:.1f} streams/s) {errors_note(stream, 2 * ns.processes)}"
            )
            say(f"SDK local list, {ns.processes} client processes …")
            local = local_list_rate(addr, mix, ns.seconds, ns.processes)
            say(
                f"  {fmt(local['per_second'])} lookups/s ({fmt(local['per_process'])} per process), "
                f"{local['service_calls']} of {fmt(local['lookups'])} needed the service"
            )
        finally:
            server.stop()
        results["grpc"] = {
            "unary_max": vars(flat),
            "unary_half": vars(half),
            "batch_numbers_per_second": batch.rps * BATCH,
            "batch": vars(batch),
            "stream_numbers_per_second": stream.rps * BATCH,
            "stream": vars(stream),
            "local_list": local,
        }
        say("redis: SISMEMBER on the same set …")
        redis = Redis(work)
        try:
            redis.load(flagged)
            results["redis_set_bytes"] = redis.memory()
            unpiped = max(redis.benchmark(1, 300_000), redis.benchmark(1, 300_000, threads=2))
            piped = max(redis.benchmark(16, 3_000_000), redis.benchmark(16, 3_000_000, threads=2))
        finally:
            redis.stop()
        results["redis"] = {"unpipelined": unpiped, "pipelined_16": piped}
        say(
            f"  unpipelined {fmt(unpiped)}/s, pipelined (16) {fmt(piped)}/s; "
            f"set of {fmt(ns.flagged)} = {fmt(results['redis_set_bytes'])} bytes in Redis"
        )

    say("in-process costs per lookup step …")
    results["costs_us"] = per_lookup_costs(flagged, mix)
    builds = []
    for size in [parse_count(s) for s in ns.filter_sizes.split(",") if s.strip()]:
        for impl in [i.strip() for i in ns.filter_impls.split(",") if i.strip()]:
            say(f"filter build of {fmt(size)} subjects ({impl}), {ns.processes} shards …")
            b = filter_build(size, ns.processes, 0.001, impl)
            builds.append(b)
            say(
                f"  {b['seconds']:.1f} s, peak {b['peak_rss'] / 2**20:,.0f} MiB, {b['bits'] / b['count']:.2f} bits/subject"
            )
    results["filter_builds"] = builds

    report(results)
    if ns.json:
        (ROOT / "artifacts").mkdir(exist_ok=True)
        (ROOT / "artifacts" / "bench.json").write_text(json.dumps(results, indent=2, default=str))


def report(r: dict[str, Any]) -> None:
    g, rd = r["grpc"], r["redis"]
    unary, half = g["unary_max"], g["unary_half"]
    best_bulk = max(g["batch_numbers_per_second"], g["stream_numbers_per_second"])
    rows = [
        ("unary Lookup (ghz, max)", unary["rps"], rd["unpipelined"], "Redis unpipelined", 0.2),
        ("BatchLookup numbers", g["batch_numbers_per_second"], rd["pipelined_16"], "Redis pipelined", 0.5),
        ("StreamLookup numbers", g["stream_numbers_per_second"], rd["pipelined_16"], "Redis pipelined", 0.5),
        ("SDK local-list lookups", g["local_list"]["per_second"], rd["pipelined_16"], "Redis pipelined", 1.0),
    ]
    say("")
    say(
        f"numrep lookup benchmark — {r['machine']['cores']} cores, Python {r['machine']['python']}, "
        f"{fmt(r['flagged'])} flagged ({r['filter_impl']} filter), {r['processes']} serving processes x "
        f"{r['grpc_workers']} threads, "
        f"{r['seconds']:.0f} s per run"
    )
    say(f"{'measure':<26}{'numrep/s':>14}{'peer/s':>14}  {'peer':<18}{'ratio':>7}{'target':>8}  met")
    for name, ours, peer, peer_name, target in rows:
        ratio = ours / peer if peer else 0.0
        say(
            f"{name:<26}{fmt(ours):>14}{fmt(peer):>14}  {peer_name:<18}{ratio:>7.2f}{target:>7.1f}x  "
            f"{'yes' if ratio >= target else 'NO'}"
        )
    say(f"batched or streamed (best) {fmt(best_bulk):>13}  ratio {best_bulk / rd['pipelined_16']:.2f} (target 0.5x)")
    say(f"unary latency flat out:      p50 {unary['p50_ms']:.2f} ms, p99 {unary['p99_ms']:.2f} ms")
    ok = "yes" if half["p99_ms"] <= 2.0 else "NO"
    say(
        f"unary at half max ({fmt(half['rps'])}/s): p50 {half['p50_ms']:.2f} ms, p99 {half['p99_ms']:.2f} ms "
        f"(target p99 <= 2 ms: {ok})"
    )
    sdk_us = 1e6 / g["local_list"]["per_process"] if g["local_list"]["per_process"] else 0.0
    say(
        f"one SDK local-list lookup: {sdk_us:.2f} us of one core, of which "
        + ", ".join(f"{name} {us:.2f} us" for name, us in r.get("costs_us", {}).items())
    )
    for b in r["filter_builds"]:
        ratio = b["bits"] / b["optimal_bits"]
        from numrep.filter import optimal_bits

        measured_opt = optimal_bits(b["count"], b["measured_error_rate"]) if b["measured_error_rate"] else 0
        say(
            f"filter {fmt(b['count'])} ({b['impl']}): {b['bits'] / b['count']:.2f} bits/subject, {ratio:.3f}x the optimum for "
            f"p=0.001 (target <= 1.05x: {'yes' if ratio <= 1.05 else 'NO'}); measured p={b['measured_error_rate']:.5f} "
            f"over {fmt(b['probes'])} probes ({b['bits'] / measured_opt if measured_opt else 0:.3f}x its optimum); "
            f"build {b['seconds']:.1f} s in {b['shards']} shards, peak {b['peak_rss'] / 2**20:,.0f} MiB, "
            f"{b['bytes'] / 2**20:,.1f} MiB serialised"
        )


if __name__ == "__main__":
    main()
