"""The privacy lifecycle over the server: deletion on a reporter's request."""

from __future__ import annotations

import click

from numrep.cli import connect, console, grpc_call, main, target_option


@main.group()
def privacy() -> None:
    """Personal data on request: delete what a reporter gave."""


@privacy.command("delete-reporter")
@click.argument("reporter_id")
@target_option
@click.pass_context
def delete_reporter(ctx: click.Context, reporter_id: str, target: str | None) -> None:
    """Delete every report of REPORTER_ID (hashed by the server before any lookup) and what derived from them.

    The subjects they fed are rescored. Running it again removes nothing more.
    """
    from numrep.v1 import admin_pb2

    with connect(ctx, target) as c:
        r = grpc_call(
            lambda: c.admin.DeleteReporter(admin_pb2.DeleteReporterRequest(reporter_id=reporter_id), timeout=c.timeout)
        )
    console.print(
        f"removed {r.reports} reports, {r.case_events} complaint steps, {r.outcomes} trust rows; "
        f"{r.subjects_affected} subjects to rescore"
    )
    for subject in r.subjects:
        console.print(f"  {subject}")
