"""Import uploads over a real channel: odd file names are only names; bad files are rejected with line numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import grpc
import pytest

from numrep.regulator.imports import MAX_ROW_CHARS
from numrep.sdk.client import Client
from numrep.store.base import Store
from numrep.v1 import admin_pb2

ROW = {"port": "10657000123456", "enterprise": "Acme", "reason": "loan ads", "source": "MIIT", "date": "2026-09-30"}
HEADER = "port,enterprise,reason,source,date\n"


def _chunks(name: str, data: bytes, fmt: str = "") -> Iterator[admin_pb2.ImportChunk]:
    for i in range(0, max(len(data), 1), 1 << 16):
        yield admin_pb2.ImportChunk(
            filename=name if i == 0 else "", format=fmt if i == 0 else "", data=data[i : i + (1 << 16)]
        )


@pytest.mark.parametrize("name", [".", "..", "../../etc/passwd", "a/b/", ""])
def test_odd_upload_names_are_only_names(client: Client, store: Store, name: str) -> None:
    good = (HEADER + "10657000123456,Acme,loan ads,MIIT,2026-09-30\n").encode()
    r = client.admin.ImportPortBlacklist(_chunks(name, good, "csv"), timeout=30)
    assert (r.applied, r.rows) == (True, 1)
    bad = (HEADER + "10657000123456,Acme,loan ads,MIIT,2026-09-30\nbad,X,y,z,2026-01-01\n").encode()
    r = client.admin.ImportPortBlacklist(_chunks(name, bad, "csv"), timeout=30)
    assert not r.applied and [(p.line, p.message[:10]) for p in r.problems] == [(3, "port 'bad'")]
    with pytest.raises(grpc.RpcError) as exc:
        client.admin.ImportPortBlacklist(_chunks(name, good), timeout=30)  # no format, and no suffix to tell it
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "unknown format" in exc.value.details()


def test_bad_uploads_are_rejected_with_line_numbers_over_grpc(client: Client, store: Store) -> None:
    cases = {
        "n.json": ("[\n" + json.dumps(ROW) + ',\n{"port": ' + "9" * 5000 + "}]", 3, "a number of 5000 digits"),
        "deep.json": ("[\n\n" + "[" * 50_000 + "]" * 50_000 + "]", 3, "nested too deeply"),
        "big.jsonl": (json.dumps(ROW) + "\n" + "x" * (MAX_ROW_CHARS + 1) + "\n", 2, "a line longer"),
    }
    for name, (body, line, message) in cases.items():
        r = client.admin.ImportPortBlacklist(_chunks(name, body.encode()), timeout=30)
        assert not r.applied, name
        assert [(p.line, p.message[: len(message)]) for p in r.problems] == [(line, message)], name
    assert store.port_blacklist(["sms:10657000123456"]) == {}  # nothing applied
