"""``python -m evaluation`` (``make eval``): one simulated world through a fresh platform, scored.

Starts the platform on its embedded defaults in a temporary data dir, feeds
the world (all but a live sample of abusers), waits until the worker has
drained, feeds the live sample one by one timing their verdicts, then looks
every number up and prints the figures against their targets.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import grpc

from evaluation import metrics
from evaluation.feed import ADMIN, SWITCH, Feeder, create_keys
from evaluation.platform import Platform
from evaluation.world import World, WorldConfig, generate
from numrep.sdk.client import open_channel
from numrep.v1 import admin_pb2, admin_pb2_grpc

# The platform as the evaluation runs it: keys required (so that operators' reports are attested by
# their own keys) and rate limits out of the way (a world's days of reports arrive in minutes).
EVAL_ENV = {
    "NUMREP_AUTH_REQUIRED": "true",
    "NUMREP_REPORTER_REPORTS_PER_MINUTE": "0",
    "NUMREP_OPERATOR_REPORTS_PER_SECOND": "0",
    "NUMREP_OPERATOR_REPORT_BURST": "1000000",
    "NUMREP_GRPC_MAX_MESSAGE_BYTES": str(32 * 1024 * 1024),
}


def say(text: str) -> None:
    print(text, flush=True)


def wait_drained(platform: Platform, admin: grpc.Channel, timeout: float, settle: float = 6.0) -> float:
    """Wait until no subject is dirty and the rules version has not moved for ``settle`` seconds; returns the wait."""
    started = time.monotonic()
    stub = admin_pb2_grpc.AdminServiceStub(admin)
    last_version, steady_since = -1, time.monotonic()
    while True:
        version = stub.GetStatus(admin_pb2.GetStatusRequest(), timeout=10).rules_version
        dirty = bool(platform.store().dirty_subjects(1))
        now = time.monotonic()
        if dirty or version != last_version:
            last_version, steady_since = version, now
        elif now - steady_since >= settle:
            return now - started
        if now - started > timeout:
            raise TimeoutError(
                f"the worker has not drained within {timeout:.0f} s (dirty: {dirty}); "
                f"see {platform.data_dir / 'worker.log'}"
            )
        time.sleep(0.5)


def explain(platform: Platform, world: World, verdicts: dict[str, str], limit: int = 12) -> None:
    """The false positives and missed evident abusers, each with the platform's own reasons (the store is local)."""
    wrong = [
        (f"false positive ({t.kind.value})", s)
        for s, t in sorted(world.truth.items())
        if t.legitimate and not t.attack and verdicts[s] in metrics.FLAGGED
    ]
    wrong += [
        (f"missed ({t.kind.value}, {t.victims_reported} victims reported)", s)
        for s, t in sorted(world.truth.items())
        if not t.legitimate and t.victims_reported >= 3 and verdicts[s] not in metrics.FLAGGED
    ]
    if not wrong:
        return
    store = platform.store()
    say(f"\n{len(wrong)} wrong verdicts{f' (first {limit})' if len(wrong) > limit else ''}:")
    for why, subject in wrong[:limit]:
        rep = store.get_reputation(subject)
        say(f"  {subject}: {why}: {verdicts[subject]}; " + ("; ".join(rep.reasons) if rep else "never scored"))


def run(
    config: WorldConfig, data_dir: Path, live_timeout: float = 120.0, drain_timeout: float = 1800.0
) -> dict[str, object]:
    """The whole evaluation; returns the JSON figures (also printed as a table)."""
    t_start = time.monotonic()
    world: World = generate(config, end=time.time() - 120)
    say(
        f"world (seed {config.seed}, scale {config.scale}, {config.days} days): "
        + ", ".join(f"{k} {v}" for k, v in world.summary().items())
    )
    say("operators ship: " + ", ".join(f"{op} {mode.value}" for op, mode in sorted(world.shipping.items())))
    say(f"generated in {time.monotonic() - t_start:.1f} s")

    platform = Platform(data_dir, EVAL_ENV)
    feeder: Feeder | None = None
    try:
        platform.migrate()
        keys = create_keys(platform.store(), platform.settings, world.holders)
        platform.start_server()
        platform.start_worker()
        say(f"platform up at {platform.address} (data in {data_dir})")
        admin = open_channel(platform.address, keys.by_sender[ADMIN])
        switch = open_channel(platform.address, keys.by_sender[SWITCH])

        feeder = Feeder(platform.address, keys, platform.settings.max_batch)
        live = sorted(s for s, t in world.truth.items() if t.live)
        t_feed = time.monotonic()
        report = feeder.feed(world, hold=live)
        say(f"fed in {time.monotonic() - t_feed:.1f} s:")
        for line in report.lines():
            say("  " + line)
        say(f"worker drained in {wait_drained(platform, admin, drain_timeout):.1f} s")

        before = metrics.lookup_all(switch, live)
        started = {s: feeder.submit_live(world, s) for s in live}
        timings = metrics.watch(switch, started, before, live_timeout)
        say(f"live phase: {len(live)} abusers fed one by one and watched")
        say(f"worker drained in {wait_drained(platform, admin, drain_timeout):.1f} s")

        subjects = sorted(world.truth)
        verdicts = metrics.lookup_all(switch, subjects)
        rows = metrics.figures(world, verdicts, timings)
        say("")
        say(metrics.table(rows))
        explain(platform, world, verdicts)
        say(f"\ntotal {time.monotonic() - t_start:.0f} s")
        out = metrics.as_json(rows, timings)
        out.update(
            world=world.summary(),
            drawn=world.drawn,
            config={k: v for k, v in vars(config).items()},
            feed=feeder.report.as_dict(),
            seconds=round(time.monotonic() - t_start, 1),
            verdicts={v: sum(1 for x in verdicts.values() if x == v) for v in set(verdicts.values())},
        )
        admin.close()
        switch.close()
        return out
    except Exception:
        say(
            f"failed; server log tail:\n{platform.log('server.log')[-2000:]}\nworker log tail:\n"
            f"{platform.log('worker.log')[-2000:]}"
        )
        raise
    finally:
        if feeder is not None:
            feeder.close()
        platform.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--seed", type=int, default=WorldConfig.seed)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the default sizes (default 1)")
    parser.add_argument("--days", type=int, default=WorldConfig.days, help="days of history (1-6)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--live-timeout", type=float, default=120.0, help="seconds to wait for a live abuser's verdict to change"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    parser.add_argument("--data-dir", type=Path, help="keep the platform's data here (default: a temp dir, removed)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = WorldConfig(seed=args.seed, scale=args.scale, days=args.days)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="numrep-eval-"))
    try:
        out = run(config, data_dir, live_timeout=args.live_timeout)
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")
    figures = out["figures"]
    assert isinstance(figures, list)
    return 1 if args.strict and any(f["met"] is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
