"""AdminService's real-name card calls over a real gRPC channel: imports, the re-verification list, statuses."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import grpc
import pytest

from numrep.regulator import cards
from numrep.sdk.client import Client
from numrep.v1 import admin_pb2, cards_pb2
from services.server import Server


def _chunks(name: str, data: bytes, size: int = 100) -> Iterator[admin_pb2.ImportChunk]:
    for i in range(0, len(data), size):
        yield admin_pb2.ImportChunk(filename=name if i == 0 else "", data=data[i : i + size])


def _id(n: int) -> str:
    body = f"11010519900307{n:03d}"
    return body + cards.check_digit(body)


def test_registrations_reverification_and_statuses_over_grpc(
    client: Client, server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # given six cards of one person at one operator (one over the limit) and one of another person
    rows = [f"{_id(1)},China Mobile,+86138{i:08d},2026-10-01,Shop A" for i in range(6)]
    rows.append(f"{_id(2)},China Mobile,+8613899999999,2026-10-01,Shop A")
    data = ("id_number,operator,number,date,seller\n" + "\n".join(rows) + "\n").encode()
    r = client.admin.ImportCardRegistrations(_chunks("cards.csv", data), timeout=10)
    assert (r.applied, r.rows, r.changed) == (True, 7, 7)
    assert client.admin.ImportCardRegistrations(_chunks("cards.csv", data), timeout=10).changed == 0
    # a bad ID rejects the file: the line and the field, never the ID
    bad_id = _id(3)[:17] + ("0" if _id(3)[17] != "0" else "1")
    r = client.admin.ImportCardRegistrations(
        _chunks("more.csv", data + f"{bad_id},China Mobile,+8613800000099,2026-10-01,S\n".encode()), timeout=10
    )
    assert not r.applied and [(p.line, p.message.split(":")[0]) for p in r.problems] == [(9, "id_number")]
    assert bad_id not in str(r) and bad_id[:17] not in str(r)
    # when the operator asks for its re-verification list
    entries = list(
        client.admin.GetReverificationList(cards_pb2.ReverificationListRequest(operator="China Mobile"), timeout=10)
    )
    # then it holds the six cards of the person over the limit
    assert sorted(e.number for e in entries) == [f"tel:+86138{i:08d}" for i in range(6)]
    assert {tuple(e.reasons) for e in entries} == {("over_limit",)} and {e.cards_at_operator for e in entries} == {6}
    # and the outcomes it reports take those cards off the list
    status = (
        b"operator,number,status,date\nChina Mobile,+8613800000000,reverified,2026-10-10\n"
        b"China Mobile,+8613800000001,cancelled,2026-10-11\n"
    )
    r = client.admin.ImportCardStatuses(_chunks("status.csv", status), timeout=10)
    assert (r.applied, r.changed) == (True, 2)
    assert client.admin.ImportCardStatuses(_chunks("status.csv", status), timeout=10).changed == 0
    left = list(
        client.admin.GetReverificationList(cards_pb2.ReverificationListRequest(operator="China Mobile"), timeout=10)
    )
    assert len(left) == 4
    unknown = b"operator,number,status,date\nChina Mobile,+8613700000000,expired,2026-10-11\n"
    r = client.admin.ImportCardStatuses(_chunks("status.csv", unknown), timeout=10)
    assert not r.applied and [(p.line, p.message) for p in r.problems] == [
        (2, "number: no card of China Mobile registered for it")
    ]
    for n in (1, 2, 3):
        assert _id(n) not in caplog.text and _id(n)[:17] not in caplog.text


def test_reverification_list_needs_an_operator(client: Client) -> None:
    with pytest.raises(grpc.RpcError) as exc:
        list(client.admin.GetReverificationList(cards_pb2.ReverificationListRequest(operator=" "), timeout=5))
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "operator: required" in exc.value.details()
