"""Real-name cards: ``numrep cards import``, ``status``, ``reverify`` and ``findings``.

Imports and lists go through the server, or with ``--direct`` straight to the
configured store; imports show a progress bar (files of millions of rows).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from numrep.cli import connect, console, grpc_call, main, open_store, settings_of, startup_errors, target_option
from numrep.cli.admin import import_direct_option, import_file_argument, import_format_option, run_import


@main.group("cards")
def cards_group() -> None:
    """Real-name card limits: registrations, re-verification lists, outcomes."""


def _upload(ctx: click.Context, kind: str, file: Path, fmt: str | None, direct: bool, target: str | None) -> None:
    from numrep.regulator import cards

    def apply(store: Any, region: str, advance: Callable[[int], None]) -> Any:
        if kind == "registrations":
            return cards.registration_importer(settings_of(ctx).id_number_key)(store, file, fmt, region, advance, None)
        return cards.import_statuses(store, file, fmt, region, advance, None)

    run_import(
        ctx,
        file,
        fmt,
        direct,
        target,
        "cards" if kind == "registrations" else "outcomes",
        apply,
        lambda client: (
            client.admin.ImportCardRegistrations if kind == "registrations" else client.admin.ImportCardStatuses
        ),
    )


@cards_group.command("import")
@import_file_argument
@import_format_option
@import_direct_option
@target_option
@click.pass_context
def cards_import(ctx: click.Context, file: Path, fmt: str | None, direct: bool, target: str | None) -> None:
    """Import card registrations (CSV or JSON: id_number, operator, number, date, seller).

    ID numbers are validated (18 characters, ISO 7064 MOD 11-2 check character,
    a birth date inside) and kept only as keyed hashes. The whole file is
    validated first; any bad row rejects it with line numbers. Idempotent.
    """
    _upload(ctx, "registrations", file, fmt, direct, target)


@cards_group.command("status")
@import_file_argument
@import_format_option
@import_direct_option
@target_option
@click.pass_context
def cards_status(ctx: click.Context, file: Path, fmt: str | None, direct: bool, target: str | None) -> None:
    """Import card outcomes (CSV or JSON: operator, number, status, date; reverified, cancelled or expired)."""
    _upload(ctx, "statuses", file, fmt, direct, target)


@cards_group.command("reverify")
@click.option("--operator", required=True, help="The operator whose list to write.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The CSV file to write.")
@click.option("--direct", is_flag=True, help="Read the configured store on this machine instead of via the server.")
@target_option
@click.pass_context
def cards_reverify(ctx: click.Context, operator: str, out: Path, direct: bool, target: str | None) -> None:
    """Write OPERATOR's re-verification list as CSV: its active cards of ID numbers found
    (over the limit there, concentrated across operators, or holding numbers later flagged)."""
    import csv
    import io

    from numrep.regulator import cards

    if direct:
        settings = settings_of(ctx)
        with startup_errors(), open_store(ctx) as store:
            data = cards.reverification_csv(
                cards.reverification_list(
                    store, operator.strip(), settings.card_limit_per_operator, settings.card_concentration
                )
            )
    else:
        from numrep.v1 import cards_pb2

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cards.REVERIFY_COLUMNS)
        with connect(ctx, target, timeout=600) as client:
            entries = grpc_call(
                lambda: list(
                    client.admin.GetReverificationList(
                        cards_pb2.ReverificationListRequest(operator=operator), timeout=600
                    )
                )
            )
        for e in entries:
            w.writerow(
                [e.number, e.id_ref, e.registered_on, e.seller, e.cards_at_operator, e.cards_total, ";".join(e.reasons)]
            )
        data = buf.getvalue().encode()
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    rows = data.count(b"\n") - 1
    console.print(f"{rows} cards to re-verify: wrote {out}")


@cards_group.command("findings")
@click.pass_context
def cards_findings(ctx: click.Context) -> None:
    """Count the ID numbers found, and per operator the cards over the limit and re-verification progress."""
    from numrep.regulator import cards

    settings = settings_of(ctx)
    with startup_errors(), open_store(ctx) as store:
        ind = cards.indicators(store, limit=settings.card_limit_per_operator, concentration=settings.card_concentration)
    found = ind["ids_found"]
    console.print(
        f"ID numbers over the limit: {found['over_limit']}; concentrated across operators: "
        f"{found['concentration']}; holding numbers later flagged: {found['later_flagged']}"
    )
    for o in ind["operators"]:
        console.print(
            f"{o['operator']}: {o['cards']} cards; {o['ids_over_limit']} IDs over the limit holding "
            f"{o['cards_over_limit']}; {o['high_risk']} cards found: {o['reverified']} re-verified, "
            f"{o['cancelled']} cancelled, {o['expired']} expired, {o['pending']} pending "
            f"({100 * o['progress']:.0f}% handled)",
            highlight=False,
        )
