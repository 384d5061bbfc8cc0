"""Several serving processes share one port (SO_REUSEPORT) and stop together."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from numrep.sdk.client import Client
from tests.e2e.conftest import ROOT, Platform

pytestmark = [pytest.mark.e2e]


def test_two_processes_share_the_port_and_stop_on_sigterm(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = Platform(tmp_path / "mp")
    p.data_dir.mkdir(parents=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "numrep.cli", "serve", "--processes", "2"],
        env=p.env,
        cwd=ROOT,
        stdout=open(tmp_path / "serve.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        pids: set[int] = set()
        deadline = time.monotonic() + 60
        while len(pids) < 2:  # fresh connections are spread over the processes by the kernel
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, f"only saw {pids}"
            try:
                with Client(p.address, timeout=2) as c:
                    pids.add(c.status().server_pid)
                    assert c.lookup("110").protected
            except grpc.RpcError:
                time.sleep(0.2)
        assert proc.pid not in pids  # the parent only supervises
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        with grpc.insecure_channel(p.address) as ch:
            with pytest.raises(grpc.RpcError):
                health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=1)
    finally:
        if proc.poll() is None:
            proc.kill()
        subprocess.run(["pkill", "-KILL", "-s", str(proc.pid)], check=False)
