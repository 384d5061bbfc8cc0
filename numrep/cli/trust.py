"""Trust and review over the server: honeypots, confirmed fraud, review cases, the safety switch."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import click
from rich.table import Table

from numrep.cli import connect, console, grpc_call, main, target_option
from numrep.models import Decision

actor_option = click.option(
    "--by",
    "actor",
    default=lambda: os.environ.get("USER", ""),
    show_default="$USER",
    help="Who acts (kept with the decision).",
)


def _ts(dt: object) -> str:
    return dt.ToDatetime().strftime("%Y-%m-%d %H:%M") if dt is not None and dt.seconds else ""  # type: ignore[attr-defined]


@main.group()
def honeypot() -> None:
    """Unassigned numbers an operator designates: whoever calls them leaves strong evidence."""


@honeypot.command("add")
@click.argument("number")
@click.option("--operator", default="", help="The holder (default: the API key's operator).")
@click.option("--note", default="", help="A note for analysts.")
@target_option
@click.pass_context
def honeypot_add(ctx: click.Context, number: str, operator: str, note: str, target: str | None) -> None:
    from numrep.v1 import admin_pb2

    with connect(ctx, target) as c:
        pot = grpc_call(
            lambda: c.admin.AddHoneypot(
                admin_pb2.AddHoneypotRequest(number=number, operator=operator, note=note), timeout=c.timeout
            )
        )
    console.print(f"{pot.number} is a honeypot of {pot.operator}")


@honeypot.command("remove")
@click.argument("number")
@target_option
@click.pass_context
def honeypot_remove(ctx: click.Context, number: str, target: str | None) -> None:
    from numrep.v1 import admin_pb2

    with connect(ctx, target) as c:
        pot = grpc_call(
            lambda: c.admin.RemoveHoneypot(admin_pb2.RemoveHoneypotRequest(number=number), timeout=c.timeout)
        )
    console.print(f"{pot.number} is no longer a honeypot")


@honeypot.command("list")
@click.option("--operator", default="", help="Only this operator's.")
@target_option
@click.pass_context
def honeypot_list(ctx: click.Context, operator: str, target: str | None) -> None:
    from numrep.v1 import admin_pb2

    with connect(ctx, target) as c:
        pots = grpc_call(
            lambda: c.admin.ListHoneypots(admin_pb2.ListHoneypotsRequest(operator=operator), timeout=c.timeout)
        ).honeypots
    table = Table("number", "operator", "note", "since")
    for p in pots:
        table.add_row(p.number, p.operator, p.note, _ts(p.added_at))
    console.print(table)


@main.command("confirm-fraud")
@click.argument("subject")
@click.option("--case", "case_id", required=True, help="The analyst's or police case id.")
@click.option(
    "--days", type=click.IntRange(1, 3650), default=90, show_default=True, help="How long the confirmation lasts."
)
@click.option("--reason", required=True)
@actor_option
@target_option
@click.pass_context
def confirm_fraud(
    ctx: click.Context, subject: str, case_id: str, days: int, reason: str, actor: str, target: str | None
) -> None:
    """Mark SUBJECT as confirmed fraud: authoritative, it blocks until it lapses (never a protected number)."""
    from numrep.v1 import admin_pb2

    req = admin_pb2.ConfirmFraudRequest(subject=subject, case_id=case_id, actor=actor, reason=reason)
    req.expires_at.FromDatetime(datetime.now(UTC) + timedelta(days=days))
    with connect(ctx, target) as c:
        f = grpc_call(lambda: c.admin.ConfirmFraud(req, timeout=c.timeout))
    console.print(f"{f.subject}: confirmed fraud in case {f.case_id} until {_ts(f.expires_at)}")


@main.group()
def cases() -> None:
    """The analysts' review queue: report-bombing holds and BLOCKs held over the per-publication cap."""


@cases.command("list")
@click.option("--state", type=click.Choice(["open", "decided", "all"]), default="open", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@target_option
@click.pass_context
def cases_list(ctx: click.Context, state: str, limit: int, target: str | None) -> None:
    from numrep.v1 import admin_pb2

    with connect(ctx, target) as c:
        found = grpc_call(
            lambda: c.admin.ListReviewCases(
                admin_pb2.ListReviewCasesRequest(state=state, limit=limit), timeout=c.timeout
            )
        ).cases
    decided = state != "open"
    table = Table("case", "opened", "summary", *(("decision", "by", "reason") if decided else ()))
    for k in found:  # the case id names its kind and subject: report_bombing:tel:+86...
        table.add_row(
            k.case_id.split("@")[0],
            _ts(k.opened_at),
            k.summary,
            *((k.decision or "open", k.actor, k.reason) if decided else ()),
        )
    console.print(table if found else f"no {state if state != 'all' else ''} review cases".replace("  ", " "))


@cases.command("decide")
@click.argument("case_id")
@click.argument("decision", type=click.Choice([d.value for d in Decision]))
@click.option("--reason", required=True)
@click.option("--days", type=click.IntRange(1, 3650), help="For block: how long it lasts (default 30).")
@actor_option
@target_option
@click.pass_context
def cases_decide(
    ctx: click.Context, case_id: str, decision: str, reason: str, days: int | None, actor: str, target: str | None
) -> None:
    """Decide CASE_ID: block (the analyst's authority), label (keep it held) or clear (its complaints stop counting)."""
    from numrep.v1 import admin_pb2

    req = admin_pb2.DecideReviewCaseRequest(case_id=case_id, decision=decision, actor=actor, reason=reason)
    if days:
        req.expires_at.FromDatetime(datetime.now(UTC) + timedelta(days=days))
    with connect(ctx, target) as c:
        k = grpc_call(lambda: c.admin.DecideReviewCase(req, timeout=c.timeout))
    console.print(f"{k.subject}: {k.decision} ({k.reason}; by {k.actor})")


@main.command("block-switch")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.option("--reason", required=True)
@actor_option
@target_option
@click.pass_context
def block_switch(ctx: click.Context, state: str, reason: str, actor: str, target: str | None) -> None:
    """The platform-wide safety switch: while on, every BLOCK is published and answered as LABEL."""
    from numrep.v1 import admin_pb2

    with connect(ctx, target) as c:
        s = grpc_call(
            lambda: c.admin.SetBlockSwitch(
                admin_pb2.SetBlockSwitchRequest(block_to_label=state == "on", actor=actor, reason=reason),
                timeout=c.timeout,
            )
        )
    console.print(
        "every BLOCK is now LABEL" if s.block_to_label else "BLOCKs apply again", f"({s.reason}; by {s.actor})"
    )


@main.command()
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.pass_context
def shadow(ctx: click.Context, limit: int) -> None:
    """Where scoring v2 would decide differently from v1 (NUMREP_SCORING=shadow), from the configured store."""
    from numrep.cli import open_store, startup_errors

    with startup_errors(), open_store(ctx) as store:
        diffs = store.shadow_diffs(limit)
    if not diffs:
        console.print("no differences recorded (scoring in shadow mode records them as it rescores)")
        return
    counts: dict[str, int] = {}
    for d in diffs:
        counts[f"{d.v1.value} → {d.v2.value}"] = counts.get(f"{d.v1.value} → {d.v2.value}", 0) + 1
    console.print(
        ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())) + (f" (first {limit})" if len(diffs) == limit else "")
    )
    table = Table("subject", "v1", "v2", "v2 score", "v2 reasons")
    for d in diffs:
        table.add_row(d.subject, d.v1.value, d.v2.value, str(d.v2_score), "; ".join(d.v2_reasons))
    console.print(table)
