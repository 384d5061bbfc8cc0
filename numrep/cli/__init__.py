"""``numrep``: run the platform, query it, feed it, administer it.

The ``main`` group and the helpers its commands share live here; the commands
live by job in ``run`` (processes), ``query`` (asking the server) and
``admin`` (the allowlist, imports, publications, API keys) and ``trust``
(honeypots, confirmed fraud, review cases, the safety switch), imported at the
end of this module so that they register on ``main``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from numrep.config import Settings, load_settings, reveal
from numrep.errors import ConfigError

if TYPE_CHECKING:
    from numrep.sdk.client import Client
    from numrep.store.base import Store

console = Console()
err_console = Console(stderr=True)

ACTION_STYLE = {"ALLOW": "green", "LABEL": "yellow", "BLOCK": "bold red"}

target_option = click.option("--target", help="Server address (default: NUMREP_GRPC_HOST:NUMREP_GRPC_PORT).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def choice_of(enum_type: type[Enum]) -> click.Choice:
    """A click choice of an enum's values, in the enum's order."""
    return click.Choice([member.value for member in enum_type])


def settings_of(ctx: click.Context) -> Settings:
    """The effective settings (read once per invocation, with the command line's overrides)."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        try:
            obj["settings"] = load_settings(**obj.get("overrides", {}))
        except ConfigError as exc:
            raise click.ClickException(f"configuration: {exc.message}") from None
    settings: Settings = obj["settings"]
    return settings


@contextmanager
def startup_errors() -> Iterator[None]:
    """Turn start-up failures (bad settings, unreachable store) into one clear line and exit 2."""
    from numrep.errors import NumrepError

    try:
        yield
    except NumrepError as exc:
        err_console.print(f"[red]numrep cannot start:[/red] {exc.message}", highlight=False)
        sys.exit(2)


@contextmanager
def open_store(ctx: click.Context, migrate: bool | None = None) -> Iterator[Store]:
    """The configured store, closed on the way out (errors opening it propagate: see ``startup_errors``).

    ``migrate`` as for ``numrep.store.open_store``: by default only SQLite creates its schema on open.
    """
    from numrep.store import open_store as _open

    store = _open(settings_of(ctx), migrate=migrate)
    try:
        yield store
    finally:
        store.close()


def connect(ctx: click.Context, target: str | None, timeout: float = 5.0) -> Client:
    """A client for the server, sending NUMREP_API_KEY and using NUMREP_CLIENT_{CA,CERT,KEY}_FILE when set."""
    from numrep.sdk.client import Client

    settings = settings_of(ctx)
    return Client(
        target or settings.grpc_address, timeout=timeout, api_key=reveal(settings.api_key), **settings.client_tls()
    )


def grpc_call(fn: Callable[[], Any]) -> Any:
    """Call ``fn``; a failed RPC becomes a one-line error (``CODE: details``)."""
    import grpc

    try:
        return fn()
    except grpc.RpcError as exc:
        code = exc.code().name if hasattr(exc, "code") else "ERROR"
        details = exc.details() if hasattr(exc, "details") else str(exc)
        raise click.ClickException(f"{code}: {details}") from None


def enum_name(enum_type: Any, value: int, prefix: str) -> str:
    """A protobuf enum value's name without its prefix (``ACTION_BLOCK`` → ``BLOCK``)."""
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


# The commands register themselves on ``main`` when their modules are imported.
from numrep.cli import admin, cards, disputes, privacy, query, run, trust  # noqa: E402,F401
