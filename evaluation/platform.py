"""A running platform: the gRPC server and a real Celery worker (with beat) as processes.

Used by the end-to-end tests and by the evaluation harness (``python -m evaluation``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from numrep.config import load_settings
from numrep.sdk.client import Client
from numrep.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Platform:
    """Starts, stops and kills the server and worker processes of one data dir."""

    def __init__(
        self, data_dir: Path, extra_env: dict[str, str] | None = None, worker_env: dict[str, str] | None = None
    ) -> None:
        """``extra_env`` goes to every process; ``worker_env`` to the worker only (e.g. its own metrics port)."""
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NUMREP_")}
        self.env.update(
            NUMREP_DATA_DIR=str(data_dir),
            NUMREP_GRPC_PORT=str(self.port),
            NUMREP_RESCORE_INTERVAL_SECONDS="2",
            NUMREP_REFRESH_INTERVAL_SECONDS="0.2",
            PYTHONPATH=str(ROOT),
            **(extra_env or {}),
        )
        self.worker_env = worker_env or {}
        self.settings = load_settings(environ=self.env)
        self._store: Store | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.address = f"127.0.0.1:{self.port}"

    def _spawn(self, args: list[str], log_name: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.data_dir / log_name, "ab")
        # A session of its own, so that a kill reaches the worker's embedded beat process too.
        return subprocess.Popen(
            args,
            env={**self.env, **(env or {})},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def migrate(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "numrep.cli", "migrate"], env=self.env, cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"numrep migrate failed:\n{done.stdout}\n{done.stderr[-3000:]}")

    def start_server(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.server = self._spawn([sys.executable, "-m", "numrep.cli", "serve"], "server.log")
        deadline = time.monotonic() + 30
        with grpc.insecure_channel(self.address) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            while True:
                try:
                    if (
                        stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                        == health_pb2.HealthCheckResponse.SERVING
                    ):
                        return
                except grpc.RpcError:
                    pass
                if self.server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{self.log('server.log')}")
                time.sleep(0.1)

    def start_worker(self) -> None:
        self.worker = self._spawn(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "-B",
                "--pool",
                "solo",
                "-Q",
                "numrep",
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
            ],
            "worker.log",
            self.worker_env,
        )
        deadline = time.monotonic() + 60
        while "ready." not in self.log("worker.log"):
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.log('worker.log')}")
            time.sleep(0.1)

    def log(self, name: str) -> str:
        path = self.data_dir / name
        return path.read_text(errors="replace") if path.exists() else ""

    @staticmethod
    def _end(proc: subprocess.Popen[bytes] | None, sig: int) -> None:
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        try:  # whatever the process left behind in its session (the embedded beat)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        self._end(self.server, sig)
        self._end(self.worker, sig)

    def kill_worker(self) -> None:
        self._end(self.worker, signal.SIGKILL)

    def store(self) -> Store:
        """The platform's store, opened once from this process (no schema changes)."""
        if self._store is None:
            self._store = open_store(self.settings, migrate=False)
        return self._store

    def client(self) -> Client:
        c = Client(self.address, timeout=5)
        c.wait_ready()
        return c
