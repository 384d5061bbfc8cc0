"""The trust commands of the CLI, against a real server: honeypots, confirmed fraud, cases, the switch."""

from __future__ import annotations

from click.testing import CliRunner

from numrep import pipeline
from numrep.cli import main
from numrep.models import Allocation, HolderType
from numrep.sdk.client import Client
from numrep.v1 import common_pb2
from services.server import Server
from tests.unit.services.helpers import SPAM, block


def cli(server: Server, *args: str, code: int = 0) -> str:
    env = {"NUMREP_DATA_DIR": str(server.settings.data_dir), "NUMREP_HASH_KEY": "k" * 64, "COLUMNS": "200"}
    done = CliRunner().invoke(main, [*args, "--target", server.address], env=env, catch_exceptions=False)
    assert done.exit_code == code, done.output
    return done.output


def test_analyst_commands_end_to_end(client: Client, server: Server) -> None:
    server.store.put_allocations([Allocation("tel:+86139", "China Mobile", HolderType.OPERATOR, 100_000_000)])
    assert "is a honeypot of China Mobile" in cli(
        server, "honeypot", "add", "13900000009", "--operator", "China Mobile"
    )
    assert "tel:+8613900000009" in cli(server, "honeypot", "list")
    assert "PERMISSION_DENIED" in cli(server, "honeypot", "add", "13800000009", "--operator", "China Mobile", code=1)
    assert "no longer a honeypot" in cli(server, "honeypot", "remove", "13900000009")

    out = cli(
        server, "confirm-fraud", "13900001111", "--case", "police-7", "--reason", "bank impersonation", "--by", "ana"
    )
    assert "confirmed fraud in case police-7" in out

    for i in range(25):
        client.report("13812345678", f"bot-{i}", "fraud")
    pipeline.rescore_dirty(server.store, server.settings)
    listed = cli(server, "cases", "list")
    assert "report_bombing:tel:+8613812345678" in listed and "25 of 25 reporters" in listed
    assert "clear (looks like bombing; by ana)" in cli(
        server,
        "cases",
        "decide",
        "report_bombing:tel:+8613812345678",
        "clear",
        "--reason",
        "looks like bombing",
        "--by",
        "ana",
    )
    assert "no open review cases" in cli(server, "cases", "list")
    assert "clear" in cli(server, "cases", "list", "--state", "decided")

    block(client, server)
    assert "every BLOCK is now LABEL" in cli(server, "block-switch", "on", "--reason", "incident 42", "--by", "ops")
    pipeline.rescore_dirty(server.store, server.settings)
    server.engine.refresh()
    assert client.lookup(SPAM).action == common_pb2.ACTION_LABEL
    assert "BLOCKs apply again" in cli(server, "block-switch", "off", "--reason", "over", "--by", "ops")
