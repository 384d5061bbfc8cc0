"""Check numrep against a real Cassandra node running PasswordAuthenticator, as the k8s base runs the ring.

    python -m scripts.cassandra_auth_check     # about a minute; takes the test ring's lock, so it waits its turn

A node on 127.0.0.1 with PasswordAuthenticator; the role steps of the
``numrep-migrate`` init container (k8s/base/cassandra-keyspace-job.yaml) done
through the driver — create numrep's role only if it cannot log in, alter it
only if it still cannot, change the default superuser password; then
``numrep``'s Cassandra store migrates, writes and reads as that role, and a
wrong password or none is refused with StoreUnavailable.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from pathlib import Path

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, Session

from numrep import auth
from numrep.config import load_settings
from numrep.errors import StoreUnavailable
from numrep.models import Scope
from numrep.store import open_store
from scripts.cassandra import Node

ADDRESS = "127.0.0.1"
LOCK = Path(os.environ.get("TMPDIR", "/tmp")) / "numrep-cassandra.lock"


class PasswordNode(Node):
    def configure(self) -> Path:
        conf = super().configure()
        conf.write_text(
            conf.read_text().replace("authenticator: AllowAllAuthenticator", "authenticator: PasswordAuthenticator")
        )
        return conf


def session_as(user: str, password: str) -> Session:
    cluster = Cluster(
        [ADDRESS], auth_provider=PlainTextAuthProvider(user, password), protocol_version=5, connect_timeout=3
    )
    session = cluster.connect()
    session.execute("SELECT release_version FROM system.local")
    return session


def logs_in(user: str, password: str) -> bool:
    try:
        session_as(user, password).cluster.shutdown()
        return True
    except Exception:  # the driver's NoHostAvailable wrapping AuthenticationFailed
        return False


def wait_until(what: str, check: object, timeout: float) -> float:
    t0 = time.monotonic()
    while not check():  # type: ignore[operator]
        if time.monotonic() - t0 > timeout:
            raise SystemExit(f"FAILED: {what} within {timeout:.0f} s")
        time.sleep(0.5)
    return time.monotonic() - t0


def check(base: Path) -> None:
    admin = session_as("cassandra", "cassandra")
    password = "dev-pw-with'quote"
    secret = "'" + password.replace("'", "''") + "'"  # as the init script escapes
    assert not logs_in("numrep", password)
    admin.execute(f"CREATE ROLE IF NOT EXISTS numrep WITH LOGIN = true AND PASSWORD = {secret}")
    assert logs_in("numrep", password), "a created role cannot log in"
    time.sleep(6)  # Cassandra refuses a second password change of one role within 5 s
    admin.execute("ALTER ROLE numrep WITH PASSWORD = 'other'")  # as if the role pre-existed with another password
    wait_until("the old password stops working", lambda: not logs_in("numrep", password), 15)
    admin.execute(f"CREATE ROLE IF NOT EXISTS numrep WITH LOGIN = true AND PASSWORD = {secret}")  # a no-op then
    time.sleep(6)
    admin.execute(f"ALTER ROLE numrep WITH LOGIN = true AND PASSWORD = {secret}")
    took = wait_until("the altered role logs in", lambda: logs_in("numrep", password), 15)
    print(f"role steps of the init script: OK (an altered password works after {took:.1f} s: credentials cache)")
    admin.execute("ALTER ROLE cassandra WITH PASSWORD = 'new-admin-pw'")
    admin.cluster.shutdown()

    env = {
        "NUMREP_STORE": "cassandra",
        "NUMREP_CASSANDRA_HOSTS": ADDRESS,
        "NUMREP_CASSANDRA_KEYSPACE": "numrep_auth",
        "NUMREP_CASSANDRA_CONSISTENCY": "ONE",
        "NUMREP_DATA_DIR": str(base / "data"),
        "NUMREP_HASH_KEY": "k" * 64,
    }
    settings = load_settings(
        environ={**env, "NUMREP_CASSANDRA_USERNAME": "numrep", "NUMREP_CASSANDRA_PASSWORD": password}
    )
    store = open_store(settings, migrate=True)
    _, key = auth.create_key(store, settings, "switch", [Scope.LOOKUP])
    stored = store.get_api_key(key.key_hash)
    assert stored is not None and stored.operator == "switch"
    store.close()
    print("numrep's store as role numrep: migrate, write, read: OK")
    for label, extra in (
        ("a wrong password", {"NUMREP_CASSANDRA_USERNAME": "numrep", "NUMREP_CASSANDRA_PASSWORD": "no"}),
        ("no credentials", {}),
    ):
        try:
            open_store(load_settings(environ={**env, **extra})).get_api_key(key.key_hash)
        except StoreUnavailable:
            print(f"{label}: refused with StoreUnavailable: OK")
        else:
            raise SystemExit(f"FAILED: {label} was let in")
    assert not logs_in("cassandra", "cassandra"), "the default superuser password still works"
    print("the default superuser password is refused: OK")


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="numrep-cassandra-auth-"))
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the test ring's fixed ports: one ring at a time on this machine
        node = PasswordNode(ADDRESS, base / "node", [ADDRESS])
        node.start()
        try:
            took = wait_until("the node accepts the default superuser", lambda: logs_in("cassandra", "cassandra"), 240)
            print(f"node up with PasswordAuthenticator in {took:.0f} s")
            check(base)
            print("ALL OK")
        finally:
            node.stop()


if __name__ == "__main__":
    main()
