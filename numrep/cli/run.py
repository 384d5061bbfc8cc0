"""Running the platform: ``up``, ``serve``, ``worker``, ``migrate``, ``demo-data``, ``config``.

The gRPC server (``services.server``) is imported only by the commands that run it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import click
from rich.table import Table

from numrep.cli import console, err_console, main, open_store, settings_of, startup_errors
from numrep.config import Settings, redacted_url
from numrep.regulator.periods import Period

insecure_option = click.option(
    "--insecure-allow-public",
    is_flag=True,
    help="Listen on a non-loopback address without auth (refused otherwise; NUMREP_INSECURE_ALLOW_PUBLIC).",
)


@main.command()
@click.option("--demo/--no-demo", default=False, help="Load the demo data set first (idempotent).")
@click.option("--port", type=int, help="gRPC port (default 50051, NUMREP_GRPC_PORT).")
@click.option("--host", help="gRPC host (default 127.0.0.1).")
@insecure_option
@click.pass_context
def up(ctx: click.Context, demo: bool, port: int | None, host: str | None, insecure_allow_public: bool) -> None:
    """Start the whole platform: gRPC services and a Celery worker with its beat."""
    obj = ctx.ensure_object(dict)
    obj["overrides"].update(grpc_port=port, grpc_host=host, insecure_allow_public=insecure_allow_public or None)
    settings = settings_of(ctx)
    from numrep.logs import setup

    setup("WARNING")  # the console is for people here; the worker logs to worker.log
    with open_store(ctx) as store:
        if demo:
            from numrep import demo as demo_data

            new, dup = demo_data.load(store, settings)
            console.print(f"demo data: {new} new reports, {dup} already loaded")
        from numrep.metrics import serve_metrics
        from services.server import Server

        with startup_errors():  # refused settings (e.g. a public address without auth) stop here, before the worker
            server = Server(settings, store=store)
        worker = _spawn_worker(settings, beat=True)
        server.start()
        serve_metrics(settings)
        server.nudger.poke()
        _banner(settings, server.address, worker.pid)
        done = {"stop": False}

        def _stop(signum: int, _frame: object) -> None:
            done["stop"] = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        try:
            while not done["stop"]:
                if worker.poll() is not None:
                    err_console.print(f"[red]worker exited with code {worker.returncode}; stopping[/red]")
                    break
                time.sleep(0.2)
        finally:
            console.print("stopping …")
            server.stop()
            _stop_process(worker)
    if worker.returncode not in (0, -signal.SIGTERM, None):
        sys.exit(1)


def _worker_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["NUMREP_DATA_DIR"] = str(settings.data_dir)
    if settings.metrics_port:  # the server of `up` serves this port; its worker the next one
        env["NUMREP_METRICS_PORT"] = str(settings.metrics_port + 1)
    return env


def _spawn_worker(settings: Settings, beat: bool) -> subprocess.Popen[bytes]:
    log = settings.data_dir / "worker.log"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "-Q",
        "numrep",
        "--without-mingle",
        "--without-gossip",
    ]
    if beat:
        cmd.append("-B")
    fh = open(log, "ab")
    return subprocess.Popen(cmd, env=_worker_env(settings), stdout=fh, stderr=subprocess.STDOUT)


def _stop_process(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _banner(settings: Settings, address: str, worker_pid: int) -> None:
    t = Table.grid(padding=(0, 2))
    t.add_row("gRPC", address)
    t.add_row("store", f"{settings.store} ({settings.sqlite_file})" if settings.store == "sqlite" else settings.store)
    t.add_row("broker", redacted_url(settings.celery_broker_url))
    t.add_row("worker", f"pid {worker_pid}, log {settings.data_dir / 'worker.log'}")
    if settings.metrics_port:
        host = settings.metrics_host
        t.add_row("metrics", f"http://{host}:{settings.metrics_port}/metrics (worker: :{settings.metrics_port + 1})")
    quarter = Period.containing(datetime.now(UTC).date(), "quarter").label
    published = settings.data_dir.resolve() / "published"
    console.print("[bold]numrep is up[/bold]")
    console.print(t)
    console.print(
        "\nTry, in another terminal:\n"
        "  numrep lookup 17012345678            # BLOCK: loan spam; call records corroborate 24 victims\n"
        "  numrep lookup 13912345678            # BLOCK: reports the operator's hotline attests\n"
        "  numrep lookup sms:10657000123456     # BLOCK on sms: a shut-down retail SMS port\n"
        "  numrep lookup 13800138000            # LABEL: 40 fresh accounts bombed it; held for review\n"
        "  numrep cases list                    # the review queue\n"
        "  numrep lookup 95588                  # ALLOW: a protected bank line\n"
        "  numrep holder 17012345678            # who holds it: Virtual Mobile Co, a reseller (the 170 range)\n"
        f"  numrep publish {quarter} --out {published}   # this quarter's spam reporting list\n"
        f"  # then open {published / f'spam-list-{quarter}.html'} in a browser (also .json, .csv)\n"
        "Press Ctrl-C to stop.",
        highlight=False,
        soft_wrap=True,
    )


@main.command()
@click.option(
    "--processes", type=int, help="Serving processes sharing the port (NUMREP_GRPC_PROCESSES; 0 = one per core)."
)
@insecure_option
@click.pass_context
def serve(ctx: click.Context, processes: int | None, insecure_allow_public: bool) -> None:
    """Run the gRPC services only (workers run separately: `numrep worker`).

    A non-loopback NUMREP_GRPC_HOST needs NUMREP_AUTH_REQUIRED=true (and should
    have TLS), or --insecure-allow-public.
    """
    from numrep.logs import setup
    from services.server import serve_processes

    ctx.ensure_object(dict)["overrides"].update(
        grpc_processes=processes, insecure_allow_public=insecure_allow_public or None
    )
    settings = settings_of(ctx)
    setup(settings.log_level, settings.log_format)
    with startup_errors():
        serve_processes(settings)


@main.command()
@click.option("--beat/--no-beat", default=False, help="Also run the beat scheduler in this worker (one per platform).")
@click.pass_context
def worker(ctx: click.Context, beat: bool) -> None:
    """Run a Celery worker (rescoring, rules publication, filter builds)."""
    settings = settings_of(ctx)
    proc = _spawn_worker(settings, beat)
    console.print(f"worker pid {proc.pid}; log {settings.data_dir / 'worker.log'}")
    try:
        sys.exit(proc.wait())
    except KeyboardInterrupt:
        _stop_process(proc)


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Create or upgrade the store's schema (for Cassandra: the keyspace too). Safe to repeat."""
    settings = settings_of(ctx)
    with startup_errors(), open_store(ctx, migrate=True):
        pass
    where = f"keyspace {settings.cassandra_keyspace}" if settings.store == "cassandra" else str(settings.sqlite_file)
    console.print(f"schema is current ({settings.store}: {where})")


@main.command("demo-data")
@click.pass_context
def demo_data(ctx: click.Context) -> None:
    """Load the demo data set into the store (idempotent)."""
    from numrep import demo

    settings = settings_of(ctx)
    with open_store(ctx) as store:
        new, dup = demo.load(store, settings)
    console.print(f"{new} new reports, {dup} already present")
    t = Table("number", "reporters", "expected")
    for s in demo.SUBJECTS:
        t.add_row(s.number, str(s.reporters), s.note)
    console.print(t)


@main.command()
@click.pass_context
def config(ctx: click.Context) -> None:
    """Show the effective settings (secrets hidden)."""
    settings = settings_of(ctx)
    t = Table("setting", "value", "environment variable")
    for name in Settings.model_fields:
        t.add_row(name, settings.shown(name), f"NUMREP_{name.upper()}")
    console.print(t)
