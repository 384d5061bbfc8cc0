"""The dispute commands of the CLI, against a real server: the holder files, an analyst decides, the owner reads."""

from __future__ import annotations

import re

from click.testing import CliRunner

from numrep import auth, pipeline
from numrep.cli import main
from numrep.models import Allocation, HolderType, Scope
from numrep.sdk.client import Client
from numrep.v1 import common_pb2
from services.server import Server
from tests.unit.services.helpers import SPAM, block


def cli(server: Server, *args: str, code: int = 0, api_key: str = "") -> str:
    env = {"NUMREP_DATA_DIR": str(server.settings.data_dir), "NUMREP_HASH_KEY": "k" * 64, "COLUMNS": "200"}
    if api_key:
        env["NUMREP_API_KEY"] = api_key
    done = CliRunner().invoke(main, [*args, "--target", server.address], env=env, catch_exceptions=False)
    assert done.exit_code == code, done.output
    return done.output


def test_dispute_commands_end_to_end(client: Client, server: Server) -> None:
    server.store.put_allocations([Allocation("tel:+86170", "Virtual Mobile Co", HolderType.RESELLER, 10_000_000)])
    holder, _ = auth.create_key(server.store, server.settings, "Virtual Mobile Co", [Scope.HOLDER])
    block(client, server)
    looked = cli(server, "lookup", SPAM)
    assert f"reason code corroborated_complaints; dispute at {server.settings.redress_url}" in looked
    # no proof of control: refused, saying why
    assert "PERMISSION_DENIED: no proof of control" in cli(
        server, "dispute", "file", SPAM, "--statement", "mine", code=1
    )
    # the holder operator attests with its key
    out = cli(server, "dispute", "file", SPAM, "--statement", "our courier line", api_key=holder)
    dispute_id = re.search(r"dsp_[0-9a-f]{16}", out).group(0)  # type: ignore[union-attr]
    token = re.search(r"owner token .*: (nro_\S+)", out).group(1)  # type: ignore[union-attr]
    assert "filed" in out and "proof: attestation via Virtual Mobile Co" in out
    assert "ALREADY_EXISTS" in cli(server, "dispute", "file", SPAM, "--statement", "again", code=1, api_key=holder)
    listed = cli(server, "dispute", "list")
    assert dispute_id in listed and "our courier line" in listed
    assert f"{dispute_id} is acknowledged" in cli(server, "dispute", "ack", dispute_id, "--by", "ana")
    assert f"{dispute_id} is under_review" in cli(server, "dispute", "review", dispute_id, "--by", "ana")
    decided = cli(server, "dispute", "decide", dispute_id, "--uphold", "--reason", "a courier's line", "--by", "ana")
    assert f"{dispute_id} is upheld (a courier's line; by ana): tel:+8617012345678 is cleared" in decided
    pipeline.rescore_dirty(server.store, server.settings)
    server.engine.refresh()
    assert client.lookup(SPAM).action == common_pb2.ACTION_ALLOW
    # the owner reads it with its token; a wrong token is refused
    shown = cli(server, "dispute", "show", dispute_id, "--token", token)
    assert "decision: a courier's line" in shown and "under_review" in shown and "upheld" in shown
    assert "PERMISSION_DENIED" in cli(server, "dispute", "show", dispute_id, "--token", "nro_wrong", code=1)
    assert "no open disputes" in cli(server, "dispute", "list")
    assert dispute_id in cli(server, "dispute", "list", "--subject", SPAM)
