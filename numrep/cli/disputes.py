"""Disputes over the server: owners and operators file and follow them; analysts acknowledge, review, decide."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click
from rich.table import Table

from numrep.cli import connect, console, enum_name, grpc_call, main, target_option

if TYPE_CHECKING:
    from google.protobuf.timestamp_pb2 import Timestamp

    from numrep.v1.disputes_pb2 import Dispute

actor_option = click.option(
    "--by",
    "actor",
    default=lambda: os.environ.get("USER", ""),
    show_default="$USER",
    help="The analyst who acts (kept with the step).",
)
token_option = click.option(
    "--token",
    default="",
    envvar="NUMREP_DISPUTE_TOKEN",
    help="The owner token FileDispute returned (not needed with the holder's or an analyst's key).",
)


def _ts(dt: Timestamp) -> str:
    return dt.ToDatetime().strftime("%Y-%m-%d %H:%M") if dt.seconds else ""


def _state(value: int) -> str:
    from numrep.v1 import disputes_pb2

    return enum_name(disputes_pb2.DisputeState, value, "DISPUTE_STATE_").lower()


def _show(d: Dispute) -> None:
    console.print(
        f"[bold]{d.dispute_id}[/bold] {d.subject}: {_state(d.state)}  "
        f"(proof: {d.proof} via {d.holder}; filed {_ts(d.filed_at)}, acknowledge by {_ts(d.ack_due)}, "
        f"decide by {_ts(d.decide_due)} UTC)",
        highlight=False,
    )
    console.print(f"statement: {d.statement}", highlight=False)
    if d.reason:
        console.print(f"decision: {d.reason}", highlight=False)
    for a in d.authoritative:
        console.print(
            f"[yellow]authoritative (an analyst's, not the dispute's to clear):[/yellow] {a}", highlight=False
        )
    table = Table("state", "at (UTC)", "by", "note")
    for t in d.transitions:
        table.add_row(_state(t.state), _ts(t.at), t.actor, t.note)
    console.print(table)


@main.group()
def dispute() -> None:
    """Disputes of verdicts: an owner contests a LABEL or BLOCK with proof of control of the number.

    \b
    The holder operator attests (NUMREP_API_KEY with the holder scope):
      numrep dispute file 17012345678 --statement "our shop's delivery line"
    Or the owner proves control with a one-time code sent through the holder's channel:
      numrep dispute code 17012345678
      numrep dispute file 17012345678 --statement "..." --challenge chl_... --code 12345678
    Analysts (admin scope when keys are required):
      numrep dispute list
      numrep dispute decide dsp_... --uphold --reason "a courier's line"
    """


@dispute.command("code")
@click.argument("subject")
@target_option
@click.pass_context
def dispute_code(ctx: click.Context, subject: str, target: str | None) -> None:
    """Have a one-time code sent to SUBJECT's owner through its holder operator."""
    from numrep.v1 import disputes_pb2

    with connect(ctx, target, timeout=15) as c:
        r = grpc_call(
            lambda: c.disputes.RequestCode(disputes_pb2.RequestCodeRequest(subject=subject), timeout=c.timeout)
        )
    console.print(
        f"a code is on its way through {r.holder}; valid until {_ts(r.expires_at)} UTC\nchallenge: {r.challenge_id}",
        highlight=False,
    )


@dispute.command("file")
@click.argument("subject")
@click.option("--statement", required=True, help="Why the verdict is wrong.")
@click.option(
    "--challenge", "challenge_id", default="", help="With a one-time code: the challenge `dispute code` printed."
)
@click.option("--code", default="", help="With a one-time code: the code the owner received.")
@target_option
@click.pass_context
def dispute_file(
    ctx: click.Context, subject: str, statement: str, challenge_id: str, code: str, target: str | None
) -> None:
    """File a dispute of SUBJECT's verdict (the holder's key attests, or a one-time code proves control)."""
    from numrep.v1 import disputes_pb2

    req = disputes_pb2.FileDisputeRequest(subject=subject, statement=statement, challenge_id=challenge_id, code=code)
    with connect(ctx, target) as c:
        r = grpc_call(lambda: c.disputes.FileDispute(req, timeout=c.timeout))
    _show(r.dispute)
    console.print(f"owner token (shown once; it reads and withdraws the dispute): {r.owner_token}", highlight=False)


@dispute.command("show")
@click.argument("dispute_id")
@token_option
@target_option
@click.pass_context
def dispute_show(ctx: click.Context, dispute_id: str, token: str, target: str | None) -> None:
    """A dispute with its steps."""
    from numrep.v1 import disputes_pb2

    with connect(ctx, target) as c:
        d = grpc_call(
            lambda: c.disputes.GetDispute(
                disputes_pb2.GetDisputeRequest(dispute_id=dispute_id, owner_token=token), timeout=c.timeout
            )
        )
    _show(d)


@dispute.command("list")
@click.option("--subject", default="", help="Every dispute of one number (default: the open queue).")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@target_option
@click.pass_context
def dispute_list(ctx: click.Context, subject: str, limit: int, target: str | None) -> None:
    """The analysts' queue: open disputes, the most urgent SLA deadline first."""
    from numrep.v1 import disputes_pb2

    with connect(ctx, target) as c:
        found = grpc_call(
            lambda: c.disputes.ListDisputes(
                disputes_pb2.ListDisputesRequest(subject=subject, limit=limit), timeout=c.timeout
            )
        ).disputes
    if not found:
        console.print("no open disputes" if not subject else f"no disputes of {subject}")
        return
    table = Table("dispute", "number", "state", "filed (UTC)", "acknowledge by", "decide by", "statement")
    for d in found:
        table.add_row(
            d.dispute_id,
            d.subject,
            _state(d.state),
            _ts(d.filed_at),
            _ts(d.ack_due),
            _ts(d.decide_due),
            d.statement[:60],
        )
    console.print(table)


def _step(ctx: click.Context, method: str, dispute_id: str, actor: str, note: str, target: str | None) -> None:
    from numrep.v1 import disputes_pb2

    req = disputes_pb2.DisputeStepRequest(dispute_id=dispute_id, actor=actor, note=note)
    with connect(ctx, target) as c:
        d = grpc_call(lambda: getattr(c.disputes, method)(req, timeout=c.timeout))
    console.print(f"{d.dispute_id} is {_state(d.state)}", highlight=False)


@dispute.command("ack")
@click.argument("dispute_id")
@click.option("--note", default="")
@actor_option
@target_option
@click.pass_context
def dispute_ack(ctx: click.Context, dispute_id: str, note: str, actor: str, target: str | None) -> None:
    """Acknowledge a filed dispute."""
    _step(ctx, "AcknowledgeDispute", dispute_id, actor, note, target)


@dispute.command("review")
@click.argument("dispute_id")
@click.option("--note", default="")
@actor_option
@target_option
@click.pass_context
def dispute_review(ctx: click.Context, dispute_id: str, note: str, actor: str, target: str | None) -> None:
    """Start reviewing a dispute (its number is answered LABEL at most meanwhile, by default)."""
    _step(ctx, "StartReview", dispute_id, actor, note, target)


@dispute.command("decide")
@click.argument("dispute_id")
@click.option("--uphold/--reject", required=True, help="Uphold (clear the number) or reject.")
@click.option("--reason", required=True, help="Why; the owner reads it.")
@actor_option
@target_option
@click.pass_context
def dispute_decide(
    ctx: click.Context, dispute_id: str, uphold: bool, reason: str, actor: str, target: str | None
) -> None:
    """Decide a dispute."""
    from numrep.v1 import disputes_pb2

    decision = disputes_pb2.DISPUTE_DECISION_UPHOLD if uphold else disputes_pb2.DISPUTE_DECISION_REJECT
    req = disputes_pb2.DecideDisputeRequest(dispute_id=dispute_id, decision=decision, actor=actor, reason=reason)
    with connect(ctx, target) as c:
        d = grpc_call(lambda: c.disputes.DecideDispute(req, timeout=c.timeout))
    console.print(
        f"{d.dispute_id} is {_state(d.state)} ({d.reason}; by {actor})"
        + (f": {d.subject} is cleared" if uphold else ""),
        highlight=False,
    )


@dispute.command("withdraw")
@click.argument("dispute_id")
@click.option("--note", default="")
@token_option
@target_option
@click.pass_context
def dispute_withdraw(ctx: click.Context, dispute_id: str, note: str, token: str, target: str | None) -> None:
    """Withdraw an open dispute (its owner or its holder operator)."""
    from numrep.v1 import disputes_pb2

    req = disputes_pb2.WithdrawDisputeRequest(dispute_id=dispute_id, owner_token=token, note=note)
    with connect(ctx, target) as c:
        d = grpc_call(lambda: c.disputes.WithdrawDispute(req, timeout=c.timeout))
    console.print(f"{d.dispute_id} is {_state(d.state)}", highlight=False)
