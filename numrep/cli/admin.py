"""Administering: ``allowlist``, ``import-ports``, ``import-ranges``, ``publish``, ``keys``, ``epoch``.

The allowlist goes through the server; imports and publications go through it
too, or with ``--direct`` straight to the configured store; API keys are kept
in the configured store.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from numrep.cli import (
    choice_of,
    connect,
    console,
    err_console,
    grpc_call,
    main,
    open_store,
    settings_of,
    startup_errors,
    target_option,
)
from numrep.models import Scope
from numrep.regulator.imports import FORMATS


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

    with connect(ctx, target) as client:
        e = grpc_call(lambda: client.allowlist_add(subject, reason, added_by))
    console.print(f"{e.subject} is protected: {e.reason}")


@allowlist.command("remove")
@click.argument("subject")
@target_option
@click.pass_context
def allowlist_remove(ctx: click.Context, subject: str, target: str | None) -> None:
    """Remove SUBJECT from the allowlist."""

    with connect(ctx, target) as client:
        r = grpc_call(lambda: client.allowlist_remove(subject))
    console.print(f"{r.subject} removed from the allowlist")


@allowlist.command("list")
@target_option
@click.pass_context
def allowlist_list(ctx: click.Context, target: str | None) -> None:
    """List the allowlist (the built-in emergency and bank numbers always apply too)."""

    with connect(ctx, target) as client:
        entries = grpc_call(client.allowlist)
    t = Table("subject", "reason", "added by", "added at")
    for e in entries:
        t.add_row(e.subject, e.reason, e.added_by, e.added_at.ToDatetime().isoformat(timespec="seconds") + "Z")
    console.print(t)


def _import_command(
    ctx: click.Context, kind: str, file: Path, fmt: str | None, direct: bool, target: str | None
) -> None:
    """Validate and apply a port-blacklist or registry file, directly or through AdminService."""
    from numrep.regulator import port_blacklist, registry

    importer = {"ports": port_blacklist.import_file, "ranges": registry.import_file}[kind]
    run_import(
        ctx,
        file,
        fmt,
        direct,
        target,
        kind,
        lambda store, region, advance: importer(store, file, fmt, region, advance),
        lambda client: client.admin.ImportPortBlacklist if kind == "ports" else client.admin.ImportAllocations,
    )


def run_import(
    ctx: click.Context,
    file: Path,
    fmt: str | None,
    direct: bool,
    target: str | None,
    noun: str,
    apply: Callable[[Any, str, Callable[[int], None]], Any],
    rpc: Callable[[Any], Any],
) -> None:
    """Validate and apply an import file with a progress bar: ``apply(store, region, advance)`` with ``--direct``,
    else streamed in chunks to the AdminService call ``rpc(client)``; problems are printed with their lines."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    from numrep.regulator.imports import ImportRejected

    size = file.stat().st_size
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    if direct:
        settings = settings_of(ctx)
        with startup_errors(), Progress(*columns, console=err_console) as bar:
            task = bar.add_task(f"validating {file.name}", total=size)
            with open_store(ctx) as store:
                try:
                    result = apply(store, settings.region, lambda n: bar.advance(task, n))
                except ImportRejected as exc:
                    bar.stop()
                    _print_problems(file.name, [(e.line, e.message) for e in exc.errors], exc.more)
                    sys.exit(1)
        console.print(f"{file.name}: {result.rows} {noun} valid, {result.changed} new or changed")
        return

    from numrep.v1 import admin_pb2

    def chunks(advance: Callable[[int], None]) -> Iterator[admin_pb2.ImportChunk]:
        with open(file, "rb") as fh:
            first = True
            while data := fh.read(1 << 20):
                yield admin_pb2.ImportChunk(
                    filename=file.name if first else "", format=fmt or "" if first else "", data=data
                )
                first = False
                advance(len(data))

    with connect(ctx, target, timeout=3600) as client, Progress(*columns, console=err_console) as bar:
        task = bar.add_task(f"uploading {file.name}", total=size)
        call = rpc(client)
        r = grpc_call(lambda: call(chunks(lambda n: bar.advance(task, n)), timeout=3600))
    if not r.applied:
        _print_problems(file.name, [(p.line, p.message) for p in r.problems], r.more_problems)
        sys.exit(1)
    console.print(f"{file.name}: {r.rows} {noun} valid, {r.changed} new or changed")


def _print_problems(name: str, problems: list[tuple[int, str]], more: int) -> None:
    err_console.print(f"[red]{name}: rejected, nothing imported[/red]")
    t = Table("line", "problem")
    for line, message in problems:
        t.add_row(str(line) if line else "-", message)
    err_console.print(t)
    if more:
        err_console.print(f"… and {more} more problems")


import_file_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
import_format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), help="Default: from the file's suffix."
)
import_direct_option = click.option(
    "--direct", is_flag=True, help="Apply to the configured store from this machine instead of via the server."
)


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
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory for spam-list-<period>.{json,csv,html}.",
)
@click.option("--unmasked", is_flag=True, help="Publish full numbers instead of masking their middle digits.")
@click.option(
    "--direct", is_flag=True, help="Build from the configured store on this machine instead of via the server."
)
@target_option
@click.pass_context
def publish(ctx: click.Context, period: str, out: Path, unmasked: bool, direct: bool, target: str | None) -> None:
    """Publish the spam reporting list of PERIOD (2026-W47, 2026-11 or 2026-Q4) as JSON, CSV and HTML."""
    from numrep.regulator import spam_list
    from numrep.regulator.periods import Period

    if direct:
        with startup_errors():
            p = Period.parse(period)
            with open_store(ctx) as store:
                files = spam_list.publish(store, settings_of(ctx), p, masked=not unmasked)
        label = p.label
    else:
        from numrep.v1 import admin_pb2

        with connect(ctx, target, timeout=300) as client:
            r = grpc_call(
                lambda: client.admin.PublishSpamList(
                    admin_pb2.PublishSpamListRequest(period=period, unmasked=unmasked), timeout=300
                )
            )
        files, label = {"json": r.json, "csv": r.csv, "html": r.html}, r.period
    for path in spam_list.publish_to(out, files, label):
        console.print(f"wrote {path} ({path.stat().st_size:,} bytes)")


@main.group()
def keys() -> None:
    """Operators' API keys (stored hashed; a key is shown once, at creation)."""


@keys.command("create")
@click.option("--operator", required=True, help="Who the key is for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=choice_of(Scope),
    help="What it may call; repeat for several. 'holder': the holder named by --operator handles its own complaints.",
)
@click.pass_context
def keys_create(ctx: click.Context, operator: str, scopes: tuple[str, ...]) -> None:
    """Create an API key in the configured store and print it once."""
    from numrep import auth

    settings = settings_of(ctx)
    with startup_errors(), open_store(ctx) as store:
        raw, key = auth.create_key(store, settings, operator, [Scope(s) for s in scopes])
    console.print(f"API key for {key.operator} ({', '.join(sorted(s.value for s in key.scopes))}); shown only now:")
    click.echo(raw)


@keys.command("list")
@click.pass_context
def keys_list(ctx: click.Context) -> None:
    """List keys by operator (hashes only)."""
    with startup_errors(), open_store(ctx) as store:
        rows = store.list_api_keys()
    t = Table("key hash", "operator", "scopes", "created", "state")
    for k in rows:
        t.add_row(
            k.key_hash[3:19],
            k.operator,
            ",".join(sorted(s.value for s in k.scopes)),
            k.created_at.isoformat(timespec="seconds"),
            "revoked" if k.revoked else "active",
        )
    console.print(t)


@keys.command("revoke")
@click.argument("key_hash")
@click.pass_context
def keys_revoke(ctx: click.Context, key_hash: str) -> None:
    """Revoke the key whose hash starts with KEY_HASH (as `numrep keys list` shows it)."""
    from numrep import auth

    with startup_errors(), open_store(ctx) as store:
        key = auth.revoke(store, "h1:" + key_hash.removeprefix("h1:"))
    console.print(f"revoked the key of {key.operator}; servers stop accepting it within NUMREP_AUTH_CACHE_SECONDS")


@main.group()
def epoch() -> None:
    """The rules feed's epoch (begin a new one after restoring the store from a backup)."""


@epoch.command("show")
@click.pass_context
def epoch_show(ctx: click.Context) -> None:
    """Print the current feed epoch."""
    with startup_errors(), open_store(ctx) as store:
        current = store.feed_epoch()
    console.print(f"feed epoch {current} (began {datetime.fromtimestamp(current / 1e6, UTC):%Y-%m-%d %H:%M:%S} UTC)")


@epoch.command("new")
@click.pass_context
def epoch_new(ctx: click.Context) -> None:
    """Begin a new feed epoch in the configured store.

    Run it once after restoring a backup, before serving: operators' SDKs hold
    newer versions than the restored store and would refuse its feed as a
    rollback; in the new epoch they take the restored rule set as a full
    snapshot. Servers pick the new epoch up within seconds.
    """
    with startup_errors(), open_store(ctx) as store:
        began = store.start_feed_epoch(datetime.now(UTC))
    console.print(f"began feed epoch {began}; SDKs resynchronise from a full snapshot")
