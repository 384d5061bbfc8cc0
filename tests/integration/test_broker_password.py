"""Redis started as the Kubernetes manifest starts it (password on stdin): numrep's broker connection uses
NUMREP_BROKER_PASSWORD, a connection without it is refused, and the readiness probe's redis-cli gets in."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu.exceptions import OperationalError

from numrep.config import load_settings
from tests.conftest import missing_backend
from workers.conf import RESCORE_DIRTY, create_app

pytestmark = pytest.mark.integration
PASSWORD = "s3cret redis/pw"


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    exe = shutil.which("redis-server")
    if exe is None:
        missing_backend("Redis", "redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis-auth")
    proc = subprocess.Popen(  # as k8s/base/redis.yaml: the password on stdin, never on the command line
        [
            str(exe),
            "-",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
            "--dir",
            str(workdir),
        ],
        stdin=subprocess.PIPE,
        stdout=open(workdir / "redis.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    assert proc.stdin is not None
    proc.stdin.write(f'requirepass "{PASSWORD}"\n'.encode())
    proc.stdin.close()
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                missing_backend("Redis", (workdir / "redis.log").read_text())
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(10)


def test_numrep_reaches_a_password_protected_broker(redis_port: int, tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{redis_port}/0"
    settings = load_settings(
        environ={"NUMREP_DATA_DIR": str(tmp_path), "NUMREP_BROKER_URL": url, "NUMREP_BROKER_PASSWORD": PASSWORD}
    )
    app = create_app(settings)
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
    app.send_task(RESCORE_DIRTY)  # a nudge goes through
    import redis

    queued = redis.Redis(host="127.0.0.1", port=redis_port, password=PASSWORD).llen("numrep")
    assert queued >= 1
    without = create_app(load_settings(environ={"NUMREP_DATA_DIR": str(tmp_path), "NUMREP_BROKER_URL": url}))
    with pytest.raises(OperationalError, match="(?i)auth"):  # NOAUTH: Authentication required
        with without.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)


def test_the_readiness_probe_authenticates(redis_port: int) -> None:
    cli = shutil.which("redis-cli")
    if cli is None:
        missing_backend("Redis", "redis-cli is not installed")
    env = {**os.environ, "REDISCLI_AUTH": PASSWORD}
    out = subprocess.run([str(cli), "-p", str(redis_port), "ping"], env=env, capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == "PONG"
    denied = subprocess.run([str(cli), "-p", str(redis_port), "ping"], capture_output=True, text=True, timeout=10)
    assert "NOAUTH" in denied.stdout + denied.stderr
