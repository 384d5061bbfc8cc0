"""Fuzzing every RPC of numrep.v1 over a real channel: the server never answers INTERNAL or UNKNOWN.

The RPCs are found by reflecting over the service descriptors of every
``numrep.v1`` module, so a new RPC is fuzzed without touching this file.
Requests are built from the message descriptors: extreme integers, unknown
enum numbers, odd and long strings (and invalid UTF-8 on the wire), empty and
oversized repeated fields, nested messages. Streaming RPCs get a few messages
and are then closed (or cancelled). Auth off and on (no key, a bogus key, a
key with every scope). Afterwards health is SERVING and lookups are answered.
Bounded: a fixed number of examples per RPC and a deadline per call.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import numrep.v1
from numrep import auth
from numrep.config import Settings
from numrep.models import Scope
from numrep.sdk.client import Client
from numrep.store.sqlite import SQLiteStore
from numrep.v1 import common_pb2
from services.server import Server

FAILING = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
CALL_SECONDS = 20.0  # a unary call slower than this counts as hung
STREAM_SECONDS = 0.5  # long-lived server streams (WatchRules) are cut after this
DEPTH = 3


@dataclass(frozen=True)
class Rpc:
    path: str
    method: MethodDescriptor

    def __str__(self) -> str:
        return self.path


def all_rpcs() -> list[Rpc]:
    rpcs = []
    for info in pkgutil.iter_modules(numrep.v1.__path__):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"numrep.v1.{info.name}")
        for service in module.DESCRIPTOR.services_by_name.values():
            rpcs += [Rpc(f"/{service.full_name}/{m.name}", m) for m in service.methods]
    return sorted(rpcs, key=str)


INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
ODD_STRINGS = [
    "",
    " ",
    "\t\n",
    "0",
    "-1",
    "+86 170 1234 5678",
    "13800138000",
    "tel:+8613800138000",
    "sms:106575551234",
    "106575551234",
    "tel:+",
    "sms:",
    "+",
    "１３８００１３８０００",
    "٠١٢٣٤٥٦٧٨٩",
    "\x00",
    "\ud7ff\ue000",
    "💥" * 50,
    "x" * 10_000,
    "9" * 5000,
    "2026-11",
    "9999-12",
    "9999-W52",
    "0001-01",
    "2026-Q4",
    "..",
    ".",
    "a/../b",
    "open",
    "all",
    "decided",
    "block",
    "label",
    "allow",
    "00000000-0000-4000-8000-000000000001",
    "'; DROP TABLE reports; --",
]


NOW = int(time.time())
NUMBERS = [
    "+86 170 1234 5678",
    "13800138000",
    "tel:+8613800138000",
    "106575551234",
    "sms:10657",
    "+44 20 7946 0958",
    "110",
    "120",
    "+8612345",
    "17012345678",
]
CSV_PORTS = b"port,enterprise,reason,source,date\n10657000123456,Acme,loan ads,MIIT,2026-09-30\n"
CSV_RANGES = b"prefix,holder,holder_type,size\n1700,Virtual Mobile Co,reseller,1000000\n"
JSON_PORTS = b'[{"port": "10657000123457", "enterprise": "A", "reason": "r", "source": "s", "date": "2026-01-01"}]'
HINTS: dict[str, list[Any]] = {  # plausible values by field name, so that calls get past the first check
    **{name: NUMBERS for name in ("subject", "caller", "callee", "number", "reporter_number")},
    "period": ["2026-11", "2026-W47", "2026-Q4", "2025-12", "1970-01", "9998-12", "9999-12", "9999-W52", "0001-01"],
    **{name: [str(uuid.UUID(int=i)) for i in range(3)] for name in ("report_id", "record_id", "case_id")},
    "decision": ["block", "label", "allow", "clear", "hold", "BLOCK", ""],
    "state": ["open", "decided", "all", "none"],
    "format": ["csv", "json", "jsonl", "", "xml"],
    "filename": ["ports.csv", "ranges.csv", "p.json", "p.jsonl", ".", "..", "", "../x.csv", "a/b.csv"],
    "data": [CSV_PORTS, CSV_RANGES, JSON_PORTS, CSV_PORTS[:40], b'[{"port": ' + b"9" * 5000 + b"}]", b"[" * 5000],
    "seconds": [NOW - 3600, NOW - 40 * 86400, NOW + 86400, 0, 2**40, -(2**40), 253402300799, 253402300800],
    "nanos": [0, 999_999_999, 10**9, -1],
    "reporter_id": ["alice", "bob", "13800138000"],
    "holder": ["China Mobile", "fuzzer", ""],
    "operator": ["China Mobile", "fuzzer", ""],
    "since_version": [0, 1, 2**62, -1],
    "limit": [0, 1, 1000, 1001, 2**31 - 1],
    "page_size": [0, 1, 50_000, 50_001, 2**31 - 1],
}


def scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    generic = _generic(field)
    hints = HINTS.get(field.name, [])
    if (
        hints and field.type != FieldDescriptor.TYPE_ENUM
    ):  # an enum of a hinted name (a dispute's decision) draws numbers
        return weighted(st.sampled_from(HINTS[field.name]), generic, 0.25)
    return generic


def weighted(usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], share: float) -> st.SearchStrategy[Any]:
    """``rare`` for about ``share`` of the draws, else ``usual`` (one_of would give each about half)."""
    tenths = round(share * 10)
    return st.sampled_from([True] * tenths + [False] * (10 - tenths)).flatmap(lambda r: rare if r else usual)


def _generic(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    t = field.type
    if t in INT_RANGES:
        lo, hi = INT_RANGES[t]
        return st.one_of(
            st.sampled_from([0, 1, -1 if lo else 2, lo, hi, 2**40 if hi > 2**40 else hi]), st.integers(lo, hi)
        )
    if t == FieldDescriptor.TYPE_ENUM:
        known = st.sampled_from([v.number for v in field.enum_type.values])
        return weighted(known, st.integers(-(2**31), 2**31 - 1), 0.2)
    if t == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(width=32 if t == FieldDescriptor.TYPE_FLOAT else 64)
    if t == FieldDescriptor.TYPE_STRING:
        return st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=40))
    if t == FieldDescriptor.TYPE_BYTES:
        return st.one_of(st.binary(max_size=64), st.just(b"\x00" * 70_000), st.just(b"\xff" * 300))
    raise AssertionError(f"no strategy for {field.full_name} (type {t})")


def message(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of field name to value (absent: unset), values drawn by type; nested messages as dicts."""
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for f in descriptor.fields:
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            if depth >= DEPTH:
                continue
            one = message(f.message_type, depth + 1)
        else:
            one = scalar(f)
        if f.is_repeated:
            oversized = one.flatmap(lambda v: st.integers(1001, 1500).map(lambda n, v=v: [v] * n))
            fields[f.name] = st.one_of(st.just([]), st.lists(one, min_size=1, max_size=3), oversized)
        else:
            fields[f.name] = one
    return st.fixed_dictionaries({}, optional=fields)


def fill(msg: Message, values: dict[str, Any]) -> Message:
    for name, value in values.items():
        field = msg.DESCRIPTOR.fields_by_name[name]
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                for v in value:
                    fill(getattr(msg, name).add(), v)
            else:
                fill(getattr(msg, name), value)
                getattr(msg, name).SetInParent()
        elif field.is_repeated:
            getattr(msg, name).extend(value)
        else:
            setattr(msg, name, value)
    return msg


def bad_utf8(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    """Wire bytes to append: a string field of the message again, with bytes that are not UTF-8 (or nothing)."""
    strings = [f.number for f in descriptor.fields if f.type == FieldDescriptor.TYPE_STRING]
    if not strings:
        return st.just(b"")
    junk = st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"ok\x80", b"\xf8\x88\x80\x80\x80"])
    return weighted(
        st.just(b""),
        st.tuples(st.sampled_from(strings), junk).map(lambda t: bytes([(t[0] << 3) | 2]) + bytes([len(t[1])]) + t[1]),
        0.1,
    )


def requests(rpc: Rpc) -> st.SearchStrategy[list[bytes]]:
    cls = message_factory.GetMessageClass(rpc.method.input_type)
    one = st.tuples(message(rpc.method.input_type), bad_utf8(rpc.method.input_type)).map(
        lambda t: fill(cls(), t[0]).SerializeToString() + t[1]
    )
    if rpc.method.client_streaming:
        return st.lists(one, min_size=0, max_size=3)
    return one.map(lambda b: [b])


def status_of(
    channel: grpc.Channel, rpc: Rpc, payload: list[bytes], metadata: tuple[tuple[str, str], ...]
) -> grpc.StatusCode:
    m = rpc.method
    try:
        if not m.client_streaming and not m.server_streaming:
            channel.unary_unary(rpc.path)(payload[0], timeout=CALL_SECONDS, metadata=metadata)
        elif m.client_streaming and not m.server_streaming:
            channel.stream_unary(rpc.path)(iter(payload), timeout=CALL_SECONDS, metadata=metadata)
        else:
            call = (
                channel.stream_stream(rpc.path)(iter(payload), timeout=CALL_SECONDS, metadata=metadata)
                if m.client_streaming
                else channel.unary_stream(rpc.path)(payload[0], timeout=CALL_SECONDS, metadata=metadata)
            )
            timer = threading.Timer(STREAM_SECONDS, call.cancel)  # a long-lived stream: we hang up
            timer.start()
            try:
                for n, _ in enumerate(call):
                    if n >= 2:
                        call.cancel()
                        break
            finally:
                timer.cancel()
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


@pytest.fixture(params=["auth off", "auth on"])
def fuzzed(
    request: pytest.FixtureRequest, settings: Settings
) -> Iterator[tuple[Server, list[tuple[tuple[str, str], ...]]]]:
    on = request.param == "auth on"
    tuned = settings.model_copy(update={"auth_required": on, "max_batch": 50})
    store = SQLiteStore(tuned.sqlite_file, busy_timeout=5)
    store.migrate()
    keys: list[tuple[tuple[str, str], ...]] = [()]
    if on:
        token, _ = auth.create_key(store, tuned, "fuzzer", list(Scope))
        keys = [
            (("x-api-key", token),),
            (("x-api-key", token),),
            (("x-api-key", token),),
            (),
            (("x-api-key", "nrk_bogus"),),
        ]
    srv = Server(tuned, store=store, nudge=lambda: None).start()
    yield srv, keys
    srv.stop(grace=1)


RPCS = all_rpcs()


def test_every_rpc_is_found() -> None:
    assert len(RPCS) >= 30 and "/numrep.v1.ReputationService/StreamLookup" in {r.path for r in RPCS}


def test_no_rpc_answers_internal_and_the_server_keeps_serving(
    fuzzed: tuple[Server, list[tuple[tuple[str, str], ...]]],
) -> None:
    server, keys = fuzzed
    failures: list[str] = []
    with grpc.insecure_channel(server.address, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
        for rpc in RPCS:
            examples = 8 if rpc.method.server_streaming and not rpc.method.client_streaming else 40

            @hsettings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(payload=requests(rpc), key=st.sampled_from(keys))
            def run(payload: list[bytes], key: tuple[tuple[str, str], ...]) -> None:
                code = status_of(channel, rpc, payload, key)
                if code in FAILING or (code is grpc.StatusCode.DEADLINE_EXCEEDED and not rpc.method.server_streaming):
                    failures.append(f"{rpc}: {code.name} for {[p[:120] for p in payload]!r} (key: {bool(key)})")

            run()
        # then: healthy, and lookups are answered
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    token = next((v for k in keys for _, v in k if v != "nrk_bogus"), None)
    with Client(server.address, timeout=10, api_key=token) as client:
        r = client.lookup("+86 138 0013 8000")
        assert r.subject == "tel:+8613800138000" and r.action == common_pb2.ACTION_ALLOW
    assert not failures, "\n".join(failures[:20])
