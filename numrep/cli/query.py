"""Querying the server: ``lookup``, ``report``, ``status``, ``rules``, ``holder``."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from numrep.cli import ACTION_STYLE, choice_of, connect, console, enum_name, grpc_call, json_option, main, target_option
from numrep.models import Category, Channel, Source


@main.command()
@click.argument("subjects", nargs=-1, required=True)
@click.option("--channel", type=choice_of(Channel), help="Default: voice for numbers, sms for ports.")
@target_option
@json_option
@click.pass_context
def lookup(
    ctx: click.Context, subjects: tuple[str, ...], channel: str | None, target: str | None, as_json: bool
) -> None:
    """Ask "block, label or pass?" for one or more numbers or SMS ports."""
    from google.protobuf.json_format import MessageToDict

    from numrep.v1 import common_pb2, reputation_pb2

    with connect(ctx, target) as client:
        if len(subjects) == 1:
            try:
                results = [grpc_call(lambda: client.lookup(subjects[0], channel))]
            except click.ClickException as exc:
                raise click.ClickException(f"{subjects[0]}: {exc.message}") from None
        else:
            results = grpc_call(lambda: client.batch_lookup(subjects, channel))
    if as_json:
        click.echo(
            json.dumps(
                [MessageToDict(r, preserving_proto_field_name=True) for r in results], indent=2, ensure_ascii=False
            )
        )
        return
    failed = False
    for raw, r in zip(subjects, results):
        if r.HasField("error"):
            failed = True
            console.print(f"[bold]{raw}[/bold]  [red]error[/red]  {r.error.message}", highlight=False)
            continue
        action = enum_name(common_pb2.Action, r.action, "ACTION_")
        parts = [
            f"[bold]{r.subject}[/bold]",
            enum_name(common_pb2.Channel, r.channel, "CHANNEL_").lower(),
            f"[{ACTION_STYLE[action]}]{action}[/]",
            f"score {r.score}",
        ]
        if r.top_category:
            parts.append(enum_name(common_pb2.Category, r.top_category, "CATEGORY_").lower())
        parts.append(
            f"(decided by {enum_name(reputation_pb2.VerdictSource, r.source, 'VERDICT_SOURCE_').lower()}, version {r.version})"
        )
        console.print("  ".join(parts), highlight=False)
        for reason in r.reasons:
            console.print(f"    {reason}", highlight=False)
        if r.reason_code:
            code = enum_name(common_pb2.ReasonCode, r.reason_code, "REASON_CODE_").lower()
            where = ", ".join(x for x in (r.redress.url, r.redress.hotline) if x)
            case = f" (case {r.redress.case_id})" if r.redress.case_id else ""
            console.print(f"    reason code {code}; dispute at {where or 'the operator'}{case}", highlight=False)
    if failed:
        sys.exit(1)


@main.command()
@click.argument("subject")
@click.option("--reporter", required=True, help="The reporter's id; only a keyed hash of it is stored.")
@click.option("--category", type=choice_of(Category), default=Category.OTHER.value, show_default=True)
@click.option("--channel", type=choice_of(Channel))
@click.option("--source", type=choice_of(Source), default=Source.APP.value, show_default=True)
@click.option("--report-id", help="Idempotency key (a UUID); generated when omitted.")
@click.option("--text", default="", help="The SMS body or a note.")
@click.option(
    "--reporter-number", default="", help="The reporter's own number (hashed): call records can corroborate it."
)
@target_option
@click.pass_context
def report(
    ctx: click.Context,
    subject: str,
    reporter: str,
    category: str,
    channel: str | None,
    source: str,
    report_id: str | None,
    text: str,
    reporter_number: str,
    target: str | None,
) -> None:
    """Submit a complaint about a number or SMS port."""

    with connect(ctx, target) as client:
        r = grpc_call(
            lambda: client.report(
                subject, reporter, category, channel, report_id, source, text, reporter_number=reporter_number
            )
        )
    state = "already received (not counted again)" if r.duplicate else "accepted"
    console.print(f"report {r.report_id} about {r.subject}: {state}")


@main.command()
@click.argument("subject")
@target_option
@click.pass_context
def holder(ctx: click.Context, subject: str, target: str | None) -> None:
    """Show which operator or reseller holds a number (longest allocated prefix)."""
    from numrep.v1 import admin_pb2

    with connect(ctx, target) as client:
        a = grpc_call(lambda: client.admin.ResolveHolder(admin_pb2.ResolveHolderRequest(subject=subject), timeout=5))
    console.print(
        f"{subject}: {a.holder} ({a.holder_type}), range {a.prefix}, {a.size} numbers allocated", highlight=False
    )


@main.command()
@target_option
@click.pass_context
def status(ctx: click.Context, target: str | None) -> None:
    """Show the versions and counts the server holds."""

    with connect(ctx, target) as client:
        s = grpc_call(client.status)
    t = Table.grid(padding=(0, 2))
    for k in (
        "rules_version",
        "rules_count",
        "filter_version",
        "filter_count",
        "store",
        "store_healthy",
        "signing_key_id",
    ):
        t.add_row(k, str(getattr(s, k)))
    console.print(t)


@main.command()
@click.option(
    "--since", "since_version", type=int, default=0, show_default=True, help="Version held (0: full snapshot)."
)
@target_option
@json_option
@click.pass_context
def rules(ctx: click.Context, since_version: int, target: str | None, as_json: bool) -> None:
    """Fetch the blocking rules (a delta since a version, or a full snapshot)."""
    from google.protobuf.json_format import MessageToDict

    from numrep.v1 import common_pb2

    with connect(ctx, target) as client:
        u = grpc_call(lambda: client.get_rules(since_version))
    if as_json:
        click.echo(json.dumps(MessageToDict(u, preserving_proto_field_name=True), indent=2, ensure_ascii=False))
        return
    kind = "full snapshot" if u.full_snapshot else f"delta from {u.from_version}"
    console.print(
        f"version {u.version} ({kind}), checksum {u.checksum[:16]}…, {len(u.added)} added, {len(u.removed)} removed"
    )
    t = Table("rule", "action", "category", "reason")
    for r in u.added:
        action = enum_name(common_pb2.Action, r.action, "ACTION_")
        t.add_row(
            r.rule_id,
            f"[{ACTION_STYLE[action]}]{action}[/]",
            enum_name(common_pb2.Category, r.category, "CATEGORY_").lower(),
            r.reason,
        )
    console.print(t)
    for rid in u.removed:
        console.print(f"removed {rid}")
