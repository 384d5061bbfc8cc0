"""``numrep``: run the platform, query it, feed it, administer it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from numrep.config import Settings, load_settings

if TYPE_CHECKING:
    from numrep.sdk.client import Client
from numrep.errors import ConfigError

console = Console()
err_console = Console(stderr=True)

ACTION_STYLE = {"ALLOW": "green", "LABEL": "yellow", "BLOCK": "bold red"}


def _settings(ctx: click.Context) -> Settings:
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        try:
            obj["settings"] = load_settings(**obj.get("overrides", {}))
        except ConfigError as exc:
            raise click.ClickException(f"configuration: {exc.message}") from None
    settings: Settings = obj["settings"]
    return settings


@contextmanager
def _startup_errors() -> Iterator[None]:
    """Turn start-up failures (bad settings, unreachable store) into one clear line and exit 2."""
    from numrep.errors import NumrepError

    try:
        yield
    except NumrepError as exc:
        err_console.print(f"[red]numrep cannot start:[/red] {exc.message}", highlight=False)
        sys.exit(2)


def _target(ctx: click.Context, target: str | None) -> str:
    return target or _settings(ctx).grpc_address


def _client(ctx: click.Context, target: str | None, timeout: float = 5.0) -> "Client":
    """A client for the server, sending NUMREP_API_KEY and using NUMREP_CLIENT_{CA,CERT,KEY}_FILE when set."""
    from numrep.sdk.client import Client

    settings = _settings(ctx)
    return Client(_target(ctx, target), timeout=timeout, api_key=settings.api_key, **settings.client_tls())


def _grpc_call(fn: Callable[[], Any]) -> Any:
    import grpc

    try:
        return fn()
    except grpc.RpcError as exc:
        code = exc.code().name if hasattr(exc, "code") else "ERROR"
        details = exc.details() if hasattr(exc, "details") else str(exc)
        raise click.ClickException(f"{code}: {details}") from None


def _enum_name(enum_type: Any, value: int, prefix: str) -> str:
    return str(enum_type.Name(value)).removeprefix(prefix)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--data-dir", type=click.Path(path_type=Path), help="Where embedded state lives (NUMREP_DATA_DIR).")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """numrep — phone-number and SMS-port reputation for operators and regulators.

    \b
    Run everything on a laptop (SQLite, embedded broker, demo data):
      numrep up --demo
    Then, in another terminal:
      numrep lookup 17012345678
      numrep report 13812345678 --reporter alice --category loans_finance
      numrep allowlist add 4006001234 --reason "verified hospital line"

    Settings come from NUMREP_* environment variables and an optional TOML
    file named by NUMREP_CONFIG; `numrep config` shows the effective values.
    """
    ctx.ensure_object(dict)["overrides"] = {"data_dir": data_dir}


# ---- running the platform ---------------------------------------------------
@main.command()
@click.option("--demo/--no-demo", default=False, help="Load the demo data set first (idempotent).")
@click.option("--port", type=int, help="gRPC port (default 50051, NUMREP_GRPC_PORT).")
@click.option("--host", help="gRPC host (default 127.0.0.1).")
@click.pass_context
def up(ctx: click.Context, demo: bool, port: int | None, host: str | None) -> None:
    """Start the whole platform: gRPC services and a Celery worker with its beat."""
    obj = ctx.ensure_object(dict)
    obj["overrides"].update(grpc_port=port, grpc_host=host)
    settings = _settings(ctx)
    from numrep.logs import setup
    from numrep.store import open_store

    setup("WARNING")  # the console is for people here; the worker logs to worker.log
    store = open_store(settings)
    if demo:
        from numrep import demo as demo_data

        new, dup = demo_data.load(store, settings)
        console.print(f"demo data: {new} new reports, {dup} already loaded")
    worker = _spawn_worker(settings, beat=True)
    from services.server import Server

    server = Server(settings, store=store).start()
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
    return env


def _spawn_worker(settings: Settings, beat: bool) -> subprocess.Popen[bytes]:
    log = settings.data_dir / "worker.log"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool", "solo",
           "--loglevel", "INFO", "-Q", "numrep", "--without-mingle", "--without-gossip"]
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
    t.add_row("broker", settings.celery_broker_url)
    t.add_row("worker", f"pid {worker_pid}, log {settings.data_dir / 'worker.log'}")
    console.print("[bold]numrep is up[/bold]")
    console.print(t)
    console.print(
        "\nTry, in another terminal:\n"
        "  numrep lookup 17012345678            # BLOCK: virtual-operator loan spam\n"
        "  numrep lookup sms:10657000123456     # BLOCK on sms: a retail SMS port\n"
        "  numrep lookup 95588                  # ALLOW: a protected bank line\n"
        "  numrep lookup 13800138000            # ALLOW: nothing known\n"
        "Press Ctrl-C to stop."
    )


@main.command()
@click.option("--processes", type=int, help="Serving processes sharing the port (NUMREP_GRPC_PROCESSES; 0 = one per core).")
@click.pass_context
def serve(ctx: click.Context, processes: int | None) -> None:
    """Run the gRPC services only (workers run separately: `numrep worker`)."""
    from numrep.logs import setup
    from services.server import serve_processes

    ctx.ensure_object(dict)["overrides"].update(grpc_processes=processes)
    settings = _settings(ctx)
    setup(settings.log_level)
    with _startup_errors():
        serve_processes(settings)


@main.command()
@click.option("--beat/--no-beat", default=False, help="Also run the beat scheduler in this worker (one per platform).")
@click.pass_context
def worker(ctx: click.Context, beat: bool) -> None:
    """Run a Celery worker (rescoring, rules publication, filter builds)."""
    settings = _settings(ctx)
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
    from numrep.store import open_store

    settings = _settings(ctx)
    with _startup_errors():
        open_store(settings, migrate=True).close()
    where = f"keyspace {settings.cassandra_keyspace}" if settings.store == "cassandra" else str(settings.sqlite_file)
    console.print(f"schema is current ({settings.store}: {where})")


@main.command("demo-data")
@click.pass_context
def demo_data(ctx: click.Context) -> None:
    """Load the demo data set into the store (idempotent)."""
    from numrep import demo
    from numrep.store import open_store

    settings = _settings(ctx)
    store = open_store(settings)
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
    settings = _settings(ctx)
    t = Table("setting", "value", "environment variable")
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name == "hash_key" and value:
            value = "********"
        t.add_row(name, str(value), f"NUMREP_{name.upper()}")
    console.print(t)


# ---- querying ---------------------------------------------------------------
target_option = click.option("--target", help="Server address (default: NUMREP_GRPC_HOST:NUMREP_GRPC_PORT).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


@main.command()
@click.argument("subjects", nargs=-1, required=True)
@click.option("--channel", type=click.Choice(["voice", "sms"]), help="Default: voice for numbers, sms for ports.")
@target_option
@json_option
@click.pass_context
def lookup(ctx: click.Context, subjects: tuple[str, ...], channel: str | None, target: str | None, as_json: bool) -> None:
    """Ask "block, label or pass?" for one or more numbers or SMS ports."""
    from google.protobuf.json_format import MessageToDict

    from numrep.v1 import common_pb2, reputation_pb2

    with _client(ctx, target) as client:
        if len(subjects) == 1:
            try:
                results = [_grpc_call(lambda: client.lookup(subjects[0], channel))]
            except click.ClickException as exc:
                raise click.ClickException(f"{subjects[0]}: {exc.message}") from None
        else:
            results = _grpc_call(lambda: client.batch_lookup(subjects, channel))
    if as_json:
        click.echo(json.dumps([MessageToDict(r, preserving_proto_field_name=True) for r in results], indent=2, ensure_ascii=False))
        return
    failed = False
    for raw, r in zip(subjects, results):
        if r.HasField("error"):
            failed = True
            console.print(f"[bold]{raw}[/bold]  [red]error[/red]  {r.error.message}", highlight=False)
            continue
        action = _enum_name(common_pb2.Action, r.action, "ACTION_")
        parts = [
            f"[bold]{r.subject}[/bold]",
            _enum_name(common_pb2.Channel, r.channel, "CHANNEL_").lower(),
            f"[{ACTION_STYLE[action]}]{action}[/]",
            f"score {r.score}",
        ]
        if r.top_category:
            parts.append(_enum_name(common_pb2.Category, r.top_category, "CATEGORY_").lower())
        parts.append(f"(decided by {_enum_name(reputation_pb2.VerdictSource, r.source, 'VERDICT_SOURCE_').lower()}, version {r.version})")
        console.print("  ".join(parts), highlight=False)
        for reason in r.reasons:
            console.print(f"    {reason}", highlight=False)
    if failed:
        sys.exit(1)


CATEGORIES = ["fraud", "loans_finance", "retail", "insurance", "education_training", "real_estate", "harassment", "other"]


@main.command()
@click.argument("subject")
@click.option("--reporter", required=True, help="The reporter's id; only a keyed hash of it is stored.")
@click.option("--category", type=click.Choice(CATEGORIES), default="other", show_default=True)
@click.option("--channel", type=click.Choice(["voice", "sms"]))
@click.option("--source", type=click.Choice(["app", "hotline", "web", "operator"]), default="app", show_default=True)
@click.option("--report-id", help="Idempotency key (a UUID); generated when omitted.")
@click.option("--text", default="", help="The SMS body or a note.")
@target_option
@click.pass_context
def report(ctx: click.Context, subject: str, reporter: str, category: str, channel: str | None, source: str,
           report_id: str | None, text: str, target: str | None) -> None:
    """Submit a complaint about a number or SMS port."""

    with _client(ctx, target) as client:
        r = _grpc_call(lambda: client.report(subject, reporter, category, channel, report_id, source, text))
    state = "already received (not counted again)" if r.duplicate else "accepted"
    console.print(f"report {r.report_id} about {r.subject}: {state}")


@main.group()
def allowlist() -> None:
    """Protect subjects from ever being blocked or labelled."""


@allowlist.command("add")
@click.argument("subject")
@click.option("--reason", required=True, help="Why it is protected.")
@click.option("--by", "added_by", default=lambda: os.environ.get("USER", ""), help="Who adds it.")
@target_option
@click.pass_context
def allowlist_add(ctx: click.Context, subject: str, reason: str, added_by: str, target: str | None) -> None:
    """Add SUBJECT to the allowlist."""

    with _client(ctx, target) as client:
        e = _grpc_call(lambda: client.allowlist_add(subject, reason, added_by))
    console.print(f"{e.subject} is protected: {e.reason}")


@allowlist.command("remove")
@click.argument("subject")
@target_option
@click.pass_context
def allowlist_remove(ctx: click.Context, subject: str, target: str | None) -> None:
    """Remove SUBJECT from the allowlist."""

    with _client(ctx, target) as client:
        r = _grpc_call(lambda: client.allowlist_remove(subject))
    console.print(f"{r.subject} removed from the allowlist")


@allowlist.command("list")
@target_option
@click.pass_context
def allowlist_list(ctx: click.Context, target: str | None) -> None:
    """List the allowlist (the built-in emergency and bank numbers always apply too)."""

    with _client(ctx, target) as client:
        entries = _grpc_call(client.allowlist)
    t = Table("subject", "reason", "added by", "added at")
    for e in entries:
        t.add_row(e.subject, e.reason, e.added_by, e.added_at.ToDatetime().isoformat(timespec="seconds") + "Z")
    console.print(t)


def _import_command(ctx: click.Context, kind: str, file: Path, fmt: str | None, direct: bool, target: str | None) -> None:
    """Validate and apply an import file, directly or through AdminService, with a progress bar."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    from numrep.regulator import port_blacklist, registry
    from numrep.regulator.imports import ImportRejected

    importer = {"ports": port_blacklist.import_file, "ranges": registry.import_file}[kind]
    noun = {"ports": "ports", "ranges": "ranges"}[kind]
    size = file.stat().st_size
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    if direct:
        from numrep.store import open_store

        settings = _settings(ctx)
        with _startup_errors(), Progress(*columns, console=err_console) as bar:
            task = bar.add_task(f"validating {file.name}", total=size)
            store = open_store(settings)
            try:
                result = importer(store, file, fmt, settings.region, lambda n: bar.advance(task, n))
            except ImportRejected as exc:
                bar.stop()
                _print_problems(file.name, [(e.line, e.message) for e in exc.errors], exc.more)
                sys.exit(1)
            finally:
                store.close()
        console.print(f"{file.name}: {result.rows} {noun} valid, {result.changed} new or changed")
        return

    from numrep.v1 import admin_pb2

    def chunks(advance: Callable[[int], None]) -> Iterator[admin_pb2.ImportChunk]:
        with open(file, "rb") as fh:
            first = True
            while data := fh.read(1 << 20):
                yield admin_pb2.ImportChunk(filename=file.name if first else "", format=fmt or "" if first else "", data=data)
                first = False
                advance(len(data))

    with _client(ctx, target, timeout=3600) as client, Progress(*columns, console=err_console) as bar:
        task = bar.add_task(f"uploading {file.name}", total=size)
        call = client.admin.ImportPortBlacklist if kind == "ports" else client.admin.ImportAllocations
        r = _grpc_call(lambda: call(chunks(lambda n: bar.advance(task, n)), timeout=3600))
    if not r.applied:
        _print_problems(file.name, [(p.line, p.message) for p in r.problems], r.more_problems)
        sys.exit(1)
    console.print(f"{file.name}: {r.rows} {noun} valid, {r.changed} new or changed")


import_file_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
import_format_option = click.option("--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]), help="Default: from the file's suffix.")
import_direct_option = click.option("--direct", is_flag=True, help="Apply to the configured store from this machine instead of via the server.")


@main.command("import-ports")
@import_file_argument
@import_format_option
@import_direct_option
@target_option
@click.pass_context
def import_ports(ctx: click.Context, file: Path, fmt: str | None, direct: bool, target: str | None) -> None:
    """Import an SMS-port blacklist (CSV or JSON: port, enterprise, reason, source, date).

    The whole file is validated first; any bad row rejects it with line
    numbers and nothing changes. Importing the same file again changes nothing.
    Blacklisted ports are blocked on the SMS channel once the worker rescores them.
    """
    _import_command(ctx, "ports", file, fmt, direct, target)


@main.command("import-ranges")
@import_file_argument
@import_format_option
@import_direct_option
@target_option
@click.pass_context
def import_ranges(ctx: click.Context, file: Path, fmt: str | None, direct: bool, target: str | None) -> None:
    """Import number-range allocations (CSV or JSON: prefix, holder, holder_type, size).

    holder_type is operator or reseller; prefixes are like +86 170, 1700 (national)
    or sms:10657. Validated whole, like import-ports.
    """
    _import_command(ctx, "ranges", file, fmt, direct, target)


@main.command()
@click.argument("period")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Directory for spam-list-<period>.{json,csv,html}.")
@click.option("--unmasked", is_flag=True, help="Publish full numbers instead of masking their middle digits.")
@click.option("--direct", is_flag=True, help="Build from the configured store on this machine instead of via the server.")
@target_option
@click.pass_context
def publish(ctx: click.Context, period: str, out: Path, unmasked: bool, direct: bool, target: str | None) -> None:
    """Publish the spam reporting list of PERIOD (2026-W47, 2026-11 or 2026-Q4) as JSON, CSV and HTML."""
    from numrep.regulator import spam_list
    from numrep.regulator.periods import Period

    if direct:
        from numrep.store import open_store

        with _startup_errors():
            p = Period.parse(period)
            store = open_store(_settings(ctx))
            try:
                files = spam_list.render(spam_list.build(store, p, masked=not unmasked))
            finally:
                store.close()
        label = p.label
    else:
        from numrep.v1 import admin_pb2

        with _client(ctx, target, timeout=300) as client:
            r = _grpc_call(lambda: client.admin.PublishSpamList(
                admin_pb2.PublishSpamListRequest(period=period, unmasked=unmasked), timeout=300))
        files, label = {"json": r.json, "csv": r.csv, "html": r.html}, r.period
    for path in spam_list.publish_to(out, files, label):
        console.print(f"wrote {path} ({path.stat().st_size:,} bytes)")


@main.command()
@click.argument("subject")
@target_option
@click.pass_context
def holder(ctx: click.Context, subject: str, target: str | None) -> None:
    """Show which operator or reseller holds a number (longest allocated prefix)."""
    from numrep.v1 import admin_pb2

    with _client(ctx, target) as client:
        a = _grpc_call(lambda: client.admin.ResolveHolder(admin_pb2.ResolveHolderRequest(subject=subject), timeout=5))
    console.print(f"{subject}: {a.holder} ({a.holder_type}), range {a.prefix}, {a.size} numbers allocated", highlight=False)


def _print_problems(name: str, problems: list[tuple[int, str]], more: int) -> None:
    err_console.print(f"[red]{name}: rejected, nothing imported[/red]")
    t = Table("line", "problem")
    for line, message in problems:
        t.add_row(str(line) if line else "-", message)
    err_console.print(t)
    if more:
        err_console.print(f"… and {more} more problems")


@main.group()
def keys() -> None:
    """Operators' API keys (stored hashed; a key is shown once, at creation)."""


@keys.command("create")
@click.option("--operator", required=True, help="Who the key is for.")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(["lookup", "report", "rules", "admin", "holder"]),
              help="What it may call; repeat for several. 'holder': the holder named by --operator handles "
                   "its own complaints.")
@click.pass_context
def keys_create(ctx: click.Context, operator: str, scopes: tuple[str, ...]) -> None:
    """Create an API key in the configured store and print it once."""
    from numrep import auth
    from numrep.models import Scope
    from numrep.store import open_store

    settings = _settings(ctx)
    with _startup_errors():
        store = open_store(settings)
        raw, key = auth.create_key(store, settings, operator, [Scope(s) for s in scopes])
        store.close()
    console.print(f"API key for {key.operator} ({', '.join(sorted(s.value for s in key.scopes))}); shown only now:")
    click.echo(raw)


@keys.command("list")
@click.pass_context
def keys_list(ctx: click.Context) -> None:
    """List keys by operator (hashes only)."""
    from numrep.store import open_store

    with _startup_errors():
        store = open_store(_settings(ctx))
        rows = store.list_api_keys()
        store.close()
    t = Table("key hash", "operator", "scopes", "created", "state")
    for k in rows:
        t.add_row(k.key_hash[3:19], k.operator, ",".join(sorted(s.value for s in k.scopes)),
                  k.created_at.isoformat(timespec="seconds"), "revoked" if k.revoked else "active")
    console.print(t)


@keys.command("revoke")
@click.argument("key_hash")
@click.pass_context
def keys_revoke(ctx: click.Context, key_hash: str) -> None:
    """Revoke the key whose hash starts with KEY_HASH (as `numrep keys list` shows it)."""
    from numrep import auth
    from numrep.store import open_store

    with _startup_errors():
        store = open_store(_settings(ctx))
        key = auth.revoke(store, "h1:" + key_hash.removeprefix("h1:"))
        store.close()
    console.print(f"revoked the key of {key.operator}; servers stop accepting it within NUMREP_AUTH_CACHE_SECONDS")


@main.command()
@target_option
@click.pass_context
def status(ctx: click.Context, target: str | None) -> None:
    """Show the versions and counts the server holds."""

    with _client(ctx, target) as client:
        s = _grpc_call(client.status)
    t = Table.grid(padding=(0, 2))
    for k in ("rules_version", "rules_count", "filter_version", "filter_count", "store", "store_healthy", "signing_key_id"):
        t.add_row(k, str(getattr(s, k)))
    console.print(t)


@main.command()
@click.option("--since", "since_version", type=int, default=0, show_default=True, help="Version held (0: full snapshot).")
@target_option
@json_option
@click.pass_context
def rules(ctx: click.Context, since_version: int, target: str | None, as_json: bool) -> None:
    """Fetch the blocking rules (a delta since a version, or a full snapshot)."""
    from google.protobuf.json_format import MessageToDict

    from numrep.v1 import common_pb2

    with _client(ctx, target) as client:
        u = _grpc_call(lambda: client.get_rules(since_version))
    if as_json:
        click.echo(json.dumps(MessageToDict(u, preserving_proto_field_name=True), indent=2, ensure_ascii=False))
        return
    kind = "full snapshot" if u.full_snapshot else f"delta from {u.from_version}"
    console.print(f"version {u.version} ({kind}), checksum {u.checksum[:16]}…, {len(u.added)} added, {len(u.removed)} removed")
    t = Table("rule", "action", "category", "reason")
    for r in u.added:
        action = _enum_name(common_pb2.Action, r.action, "ACTION_")
        t.add_row(r.rule_id, f"[{ACTION_STYLE[action]}]{action}[/]",
                  _enum_name(common_pb2.Category, r.category, "CATEGORY_").lower(), r.reason)
    console.print(t)
    for rid in u.removed:
        console.print(f"removed {rid}")


if __name__ == "__main__":
    main()
