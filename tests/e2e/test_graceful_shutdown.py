"""SIGTERM under load: health turns NOT_SERVING first, and no call the server accepted is dropped.

Eight client threads hammer unary Lookup and two long StreamLookup calls are
mid-stream when the server gets SIGTERM. Expected, in order: health
NOT_SERVING; for the drain period every new call is still served; then new
calls are refused with UNAVAILABLE (clients retry those elsewhere) — never
CANCELLED, which is what gRPC answers calls still queued when a server
stops — while the open streams receive every answer and end OK within the
grace period.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from numrep.v1 import reputation_pb2, reputation_pb2_grpc
from tests.e2e.conftest import Platform

pytestmark = [pytest.mark.e2e]

DRAIN = 1.5


@dataclass
class Call:
    started: float
    ended: float
    code: grpc.StatusCode


def test_sigterm_under_load_drops_no_accepted_call(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = Platform(tmp_path / "gs", {"NUMREP_GRPC_DRAIN_SECONDS": str(DRAIN), "NUMREP_GRPC_GRACE_SECONDS": "10"})
    p.start_server()
    assert p.server is not None
    stop = threading.Event()
    calls: list[Call] = []
    streams: list[tuple[int, int, grpc.StatusCode]] = []
    not_serving_at: list[float] = []
    lock = threading.Lock()

    def hammer() -> None:
        with grpc.insecure_channel(p.address) as ch:
            stub = reputation_pb2_grpc.ReputationServiceStub(ch)
            while not stop.is_set():
                t = time.monotonic()
                try:
                    stub.Lookup(reputation_pb2.LookupRequest(subject="+8613800138000"), timeout=10)
                    code = grpc.StatusCode.OK
                except grpc.RpcError as exc:
                    code = exc.code()
                with lock:
                    calls.append(Call(t, time.monotonic(), code))
                if code is not grpc.StatusCode.OK:
                    time.sleep(0.05)

    def stream(n: int) -> None:
        def requests():  # type: ignore[no-untyped-def]
            for i in range(n):
                time.sleep(0.02)  # ~3 s of stream: across SIGTERM, the drain and into the grace period
                yield reputation_pb2.LookupRequest(subject=f"+86138001{i:05d}", request_id=str(i))

        with grpc.insecure_channel(p.address) as ch:
            got = 0
            try:
                for _ in reputation_pb2_grpc.ReputationServiceStub(ch).StreamLookup(requests(), timeout=30):
                    got += 1
                code = grpc.StatusCode.OK
            except grpc.RpcError as exc:
                code = exc.code()
            with lock:
                streams.append((n, got, code))

    def watch_health() -> None:
        with grpc.insecure_channel(p.address) as ch:
            try:
                for r in health_pb2_grpc.HealthStub(ch).Watch(health_pb2.HealthCheckRequest(), timeout=30):
                    if r.status == health_pb2.HealthCheckResponse.NOT_SERVING:
                        not_serving_at.append(time.monotonic())
                        return
            except grpc.RpcError:
                pass

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    threads += [threading.Thread(target=stream, args=(150,)) for _ in range(2)]
    threads.append(threading.Thread(target=watch_health))
    try:
        for t in threads:
            t.start()
        time.sleep(0.8)  # under load, streams open
        sigterm_at = time.monotonic()
        p.server.send_signal(signal.SIGTERM)
        assert p.server.wait(30) == 0
        exited_at = time.monotonic()
        stop.set()
        for t in threads:
            t.join(30)
    finally:
        stop.set()
        p.stop()

    assert not_serving_at, "health never said NOT_SERVING"
    turned = not_serving_at[0]
    assert sigterm_at <= turned < sigterm_at + DRAIN
    failed = [c for c in calls if c.code is not grpc.StatusCode.OK]
    assert {c.code for c in failed} <= {grpc.StatusCode.UNAVAILABLE}, {c.code for c in failed}
    # nothing failed before health said NOT_SERVING, and the drain served every call started in it
    assert all(c.started >= turned + DRAIN * 0.9 for c in failed), min(c.started - turned for c in failed)
    served_while_draining = [c for c in calls if c.code is grpc.StatusCode.OK and c.started > turned]
    assert len(served_while_draining) > 10
    # a call that got in finished: every OK call ended before the process exited, none was cut mid-way
    assert not [c for c in failed if c.ended - c.started > 1.0]
    # the open streams got every answer and ended OK, although the server stopped taking new calls meanwhile
    assert sorted(streams) == [(150, 150, grpc.StatusCode.OK)] * 2, streams
    assert exited_at - sigterm_at > DRAIN
