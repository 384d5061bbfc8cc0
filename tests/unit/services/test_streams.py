"""Long-lived calls: capped per process, ended when idle, bounded in items; cancelled streams log no error."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from numrep.config import Settings
from numrep.errors import ConfigError
from numrep.sdk.client import Client
from numrep.store.base import Store
from numrep.v1 import admin_pb2, reputation_pb2
from services.server import Server


def started(settings: Settings, store: Store, **update: object) -> Server:
    return Server(settings.model_copy(update=update), store=store, nudge=lambda: None).start()


def held_open(feed: queue.Queue[Any]) -> Iterator[Any]:
    """Requests as the test puts them; None ends the stream. Until then the client stays silent (idle)."""
    return iter(feed.get, None)


def lookup_req(subject: str = "13800138000") -> reputation_pb2.LookupRequest:
    return reputation_pb2.LookupRequest(subject=subject, request_id=subject)


def test_idle_streams_cannot_starve_lookups_or_health(settings: Settings, sqlite_store: Store) -> None:
    """Given as many idle StreamLookup calls as serving threads, plus idle imports,
    when lookups and health checks come in, then they are answered at once and the excess streams are refused."""
    workers = 8
    srv = started(settings, sqlite_store, grpc_max_workers=workers)  # 2 streams (a quarter), 4 watchers
    feeds: list[queue.Queue[Any]] = [queue.Queue() for _ in range(workers + 2)]
    try:
        with Client(srv.address, timeout=5) as c:
            calls = [c.reputation.StreamLookup(held_open(f), timeout=60) for f in feeds[:workers]]
            served, refused = [], []
            for feed, call in zip(feeds, calls):
                feed.put(lookup_req())
                try:
                    assert next(call).request_id == "13800138000"
                    served.append(call)
                except grpc.RpcError as exc:
                    assert exc.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, exc
                    assert "already serves 2 streams" in (exc.details() or "")
                    refused.append(call)
            assert (len(served), len(refused)) == (2, workers - 2)
            imports = [c.admin.ImportAllocations.future(held_open(f), timeout=60) for f in feeds[workers:]]
            for imp in imports:
                with pytest.raises(grpc.RpcError) as err:
                    imp.result(timeout=5)
                assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            health = health_pb2_grpc.HealthStub(c.channel)
            for i in range(3 * workers):  # more calls than threads: each one must finish quickly, none queue
                t0 = time.monotonic()
                assert c.reputation.Lookup(lookup_req(f"138001380{i:02d}"), timeout=2).action
                assert (
                    health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                    == health_pb2.HealthCheckResponse.SERVING
                )
                assert time.monotonic() - t0 < 2
            for call in served:  # the held streams still work
                call.cancel()
    finally:
        for f in feeds:
            f.put(None)
        srv.stop(grace=0)


def test_an_idle_stream_is_ended_and_its_slot_freed(settings: Settings, sqlite_store: Store) -> None:
    srv = started(settings, sqlite_store, grpc_max_workers=4, grpc_stream_idle_seconds=0.5)  # one stream
    feeds: list[queue.Queue[Any]] = [queue.Queue(), queue.Queue()]
    try:
        with Client(srv.address, timeout=5) as c:
            busy = c.reputation.StreamLookup(held_open(feeds[0]), timeout=30)
            for i in range(8):  # a stream in use for longer than the idle timeout is not ended
                feeds[0].put(lookup_req(f"138001380{i:02d}"))
                assert next(busy).request_id == f"138001380{i:02d}"
                time.sleep(0.2)
            t0 = time.monotonic()
            with pytest.raises(grpc.RpcError) as exc:
                next(busy)  # now silent: ended
            assert exc.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
            assert "stream idle for more than 0.5 s" in (exc.value.details() or "")
            assert time.monotonic() - t0 < 5
            deadline = time.monotonic() + 5
            while True:  # its slot is free again
                again = c.reputation.StreamLookup(held_open(feeds[1]), timeout=30)
                feeds[1].put(lookup_req())
                try:
                    assert next(again).request_id == "13800138000"
                    break
                except grpc.RpcError as err:
                    assert err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED and time.monotonic() < deadline
                    time.sleep(0.1)
            again.cancel()
    finally:
        for f in feeds:
            f.put(None)
        srv.stop(grace=0)


def test_an_idle_upload_is_ended(settings: Settings, sqlite_store: Store) -> None:
    srv = started(settings, sqlite_store, grpc_stream_idle_seconds=0.5)
    feed: queue.Queue[Any] = queue.Queue()
    try:
        with Client(srv.address, timeout=5) as c:
            feed.put(admin_pb2.ImportChunk(filename="ranges.csv", data=b"prefix,holder,holder_type,size\n"))
            upload = c.admin.ImportAllocations.future(held_open(feed), timeout=30)
            with pytest.raises(grpc.RpcError) as exc:
                upload.result(timeout=10)
            assert exc.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
            assert "idle" in (exc.value.details() or "")
    finally:
        feed.put(None)
        srv.stop(grace=0)


def test_a_stream_answers_a_bounded_number_of_requests(settings: Settings, sqlite_store: Store) -> None:
    srv = started(settings, sqlite_store, grpc_stream_max_items=3)
    try:
        with Client(srv.address, timeout=5) as c:
            got: list[str] = []
            with pytest.raises(grpc.RpcError) as exc:
                for resp in c.stream_lookup((lookup_req(f"138001380{i:02d}") for i in range(10)), timeout=10):
                    got.append(resp.request_id)
            assert got == ["13800138000", "13800138001", "13800138002"]
            assert exc.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "at most 3 requests" in (exc.value.details() or "")
    finally:
        srv.stop(grace=0)


def test_stream_caps_must_leave_threads_for_unary_calls() -> None:
    from numrep.config import load_settings

    with pytest.raises(ConfigError, match="must leave some of grpc_max_workers"):
        load_settings(environ={"NUMREP_GRPC_MAX_WORKERS": "8", "NUMREP_GRPC_MAX_STREAMS": "4"})
    assert load_settings(environ={}).streams_limit == 4  # a quarter of the 16 default threads


def test_a_cancelled_stream_is_not_logged_as_an_error(
    settings: Settings, sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    srv = started(settings, sqlite_store)
    feeds: list[queue.Queue[Any]] = [queue.Queue() for _ in range(3)]
    try:
        with caplog.at_level(logging.DEBUG):
            with Client(srv.address, timeout=5) as c:
                for feed in feeds:
                    call = c.reputation.StreamLookup(held_open(feed), timeout=30)
                    feed.put(lookup_req())
                    assert next(call).request_id == "13800138000"
                    call.cancel()  # the client goes away while the server waits for its next request
                deadline = time.monotonic() + 5
                while srv.streams.active and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert srv.streams.active == 0
                assert c.lookup("13800138000").action  # and the server is fine
    finally:
        for feed in feeds:
            feed.put(None)
        srv.stop(grace=0)
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == [], [r.getMessage() for r in errors]


def test_a_filter_download_the_client_stops_reading_is_ended(settings: Settings, sqlite_store: Store) -> None:
    """Given a filter snapshot of ~5 MB (6 chunks), when the client takes one chunk and then stops reading,
    the server's send blocks on flow control: that is waiting on the client, so the stream is ended."""
    from datetime import datetime

    from numrep import filter as subject_filter
    from numrep.v1 import rules_pb2

    snap = subject_filter.build([], 1, 0.001, 3_000_000)
    data = snap.to_bytes()
    sqlite_store.put_filter_snapshot(1, 0, snap.capacity, 0.001, data, datetime.now(UTC))
    from numrep.v1 import rules_pb2_grpc

    srv = started(settings, sqlite_store, grpc_stream_idle_seconds=0.5)
    try:
        # a client whose receive window does not grow by itself (no BDP probing), so the stall is not buffered away
        with grpc.insecure_channel(srv.address, options=[("grpc.http2.bdp_probe", 0)]) as channel:
            download = rules_pb2_grpc.RulesServiceStub(channel).GetFilterSnapshot(
                rules_pb2.GetFilterSnapshotRequest(), timeout=30
            )
            got = len(next(download).data)
            time.sleep(2)  # the client stalls
            with pytest.raises(grpc.RpcError) as exc:
                for chunk in download:  # what the transport buffered, then the end
                    got += len(chunk.data)
            assert got < len(data)
            assert exc.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
            assert "stream idle for more than 0.5 s" in (exc.value.details() or "")
        deadline = time.monotonic() + 5
        while srv.streams.active and time.monotonic() < deadline:  # and its thread is free again
            time.sleep(0.05)
        assert srv.streams.active == 0
    finally:
        srv.stop(grace=0)
