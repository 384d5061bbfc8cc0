"""Run real Apache Cassandra 5.0 nodes on loopback, for tests and local clusters.

The server comes from Maven Central (``org.apache.cassandra:cassandra-all``
and its runtime dependencies, fetched by Maven with scripts/cassandra/pom.xml)
and is cached, so a second start needs no download. Each node gets a minimal
cassandra.yaml (explicit listen/rpc address, SimpleSeedProvider,
Murmur3Partitioner, SimpleSnitch, periodic commitlog, no auto snapshots) and
is launched as ``org.apache.cassandra.service.CassandraDaemon`` with the JPMS
flags of Cassandra 5.0's conf/jvm17-server.options, a 1 GB heap and jamm as
java agent.

    python -m scripts.cassandra fetch              # download the jars (cached)
    python -m scripts.cassandra start [--nodes 3]  # 127.0.0.1 .. 127.0.0.N, in the foreground
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from numrep.config import Settings
    from numrep.store.base import Store

ROOT = Path(__file__).resolve().parent.parent
POM = ROOT / "scripts" / "cassandra" / "pom.xml"
VERSION = "5.0.9"
CACHE = Path(os.environ.get("NUMREP_CACHE_DIR", Path.home() / ".cache" / "numrep"))
CQL_PORT = 9042

# From Apache Cassandra 5.0 conf/jvm17-server.options (JPMS section) and the Netty options there.
JVM17_OPTIONS = [
    "-Djdk.attach.allowAttachSelf=true",
    "--add-exports",
    "java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports",
    "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
    "--add-exports",
    "java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports",
    "java.rmi/sun.rmi.server=ALL-UNNAMED",
    "--add-exports",
    "java.sql/java.sql=ALL-UNNAMED",
    "--add-exports",
    "java.base/java.lang.ref=ALL-UNNAMED",
    "--add-exports",
    "jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--add-exports",
    "jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports",
    "jdk.attach/sun.tools.attach=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.lang.module=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.loader=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.reflect=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.math=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.module=ALL-UNNAMED",
    "--add-opens",
    "java.base/jdk.internal.util.jar=ALL-UNNAMED",
    "--add-opens",
    "jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "--add-opens",
    "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.io=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens",
    "jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.lang=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.util=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
]

LOGBACK = """<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>{log}</file>
    <encoder><pattern>%d %-5level [%thread] %logger{{20}} %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
  <logger name="org.apache.cassandra" level="INFO"/>
</configuration>
"""


class CassandraError(RuntimeError):
    """Cassandra could not be fetched or started; the message quotes the cause."""


def lib_dir() -> Path:
    return CACHE / f"cassandra-{VERSION}" / "lib"


def fetch() -> Path:
    """Download cassandra-all and its runtime dependencies once; return the jar directory."""
    lib = lib_dir()
    marker = lib / ".complete"
    if marker.exists():
        return lib
    if shutil.which("mvn") is None:
        raise CassandraError("Maven (mvn) is not installed; apt-get install maven")
    tmp = lib.with_name("lib.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [
        "mvn",
        "-q",
        "-B",
        "-f",
        str(POM),
        f"-Dcassandra.version={VERSION}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={tmp}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CassandraError(
            f"Maven could not fetch cassandra-all {VERSION}:\n{proc.stdout[-4000:]}{proc.stderr[-4000:]}"
        )
    if not any(tmp.glob("cassandra-all-*.jar")):
        raise CassandraError(f"Maven ran but no cassandra-all jar is in {tmp}")
    shutil.rmtree(lib, ignore_errors=True)
    tmp.rename(lib)
    marker.write_text(VERSION)
    return lib


def download_size() -> int:
    return sum(p.stat().st_size for p in lib_dir().glob("*.jar"))


@dataclass
class Node:
    """One Cassandra node listening on ``address`` (CQL on port 9042)."""

    address: str
    base: Path
    seeds: list[str]
    cluster_name: str = "numrep-test"
    heap: str = "1G"
    num_tokens: int = 4
    #: Tombstones one read may scan before it fails (Cassandra's default: 100,000); tests lower it so
    #: that a design which piles tombstones up fails at a scale a test can reach.
    tombstone_failure_threshold: int = 100_000
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_file(self) -> Path:
        return self.base / "logs" / "system.log"

    def configure(self) -> Path:
        for d in ("data", "commitlog", "saved_caches", "hints", "cdc_raw", "logs", "conf"):
            (self.base / d).mkdir(parents=True, exist_ok=True)
        conf = self.base / "conf" / "cassandra.yaml"
        conf.write_text(
            f"""cluster_name: {self.cluster_name}
num_tokens: {self.num_tokens}
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
listen_address: {self.address}
rpc_address: {self.address}
broadcast_rpc_address: {self.address}
storage_port: 7000
native_transport_port: {CQL_PORT}
start_native_transport: true
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{",".join(self.seeds)}"
data_file_directories: [{self.base / "data"}]
commitlog_directory: {self.base / "commitlog"}
saved_caches_directory: {self.base / "saved_caches"}
hints_directory: {self.base / "hints"}
cdc_raw_directory: {self.base / "cdc_raw"}
commitlog_sync: periodic
commitlog_sync_period: 10000ms
auto_snapshot: false
snapshot_before_compaction: false
auto_bootstrap: false
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
read_request_timeout: 5000ms
write_request_timeout: 2000ms
request_timeout: 10000ms
cas_contention_timeout: 2000ms
hinted_handoff_enabled: true
max_hint_window: 3h
disk_failure_policy: stop
commit_failure_policy: stop
tombstone_warn_threshold: {max(1, self.tombstone_failure_threshold // 2)}
tombstone_failure_threshold: {self.tombstone_failure_threshold}
"""
        )
        (self.base / "conf" / "logback.xml").write_text(LOGBACK.format(log=self.log_file))
        return conf

    def command(self, lib: Path) -> list[str]:
        jamm = next(lib.glob("jamm-*.jar"), None)
        if jamm is None:
            raise CassandraError(f"no jamm jar in {lib}")
        return [
            "java",
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-Xss512k",
            "-XX:+UseG1GC",
            "-XX:+HeapDumpOnOutOfMemoryError",
            "-XX:ActiveProcessorCount=2",
            f"-javaagent:{jamm}",
            *JVM17_OPTIONS,
            f"-Dcassandra.config=file://{self.base / 'conf' / 'cassandra.yaml'}",
            f"-Dlogback.configurationFile=file://{self.base / 'conf' / 'logback.xml'}",
            f"-Dcassandra.logdir={self.base / 'logs'}",
            f"-Dcassandra.storagedir={self.base}",
            "-Dcassandra-foreground=yes",
            "-Dcassandra.skip_wait_for_gossip_to_settle=0",
            "-Dcassandra.ring_delay_ms=1000",
            "-Dcassandra.superuser_setup_delay_ms=0",
            "-cp",
            f"{self.base / 'conf'}:{lib}/*",
            "org.apache.cassandra.service.CassandraDaemon",
        ]

    def start(self, lib: Path | None = None) -> None:
        lib = lib or fetch()
        self.configure()
        out = open(self.base / "logs" / "stdout.log", "ab")
        self.proc = subprocess.Popen(self.command(lib), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 180) -> float:
        """Wait until a driver session connects to this node; return the seconds it took."""
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import WhiteListRoundRobinPolicy

        start = time.monotonic()
        deadline = start + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise CassandraError(f"Cassandra on {self.address} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                profile = ExecutionProfile(
                    load_balancing_policy=WhiteListRoundRobinPolicy([self.address]), request_timeout=5
                )
                cluster = Cluster(
                    [self.address],
                    port=CQL_PORT,
                    connect_timeout=2,
                    protocol_version=5,
                    execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                )
                try:
                    cluster.connect().execute("SELECT release_version FROM system.local")
                    return time.monotonic() - start
                finally:
                    cluster.shutdown()
            except Exception as exc:  # NoHostAvailable, timeouts, refused: not up yet
                last = exc
                time.sleep(1)
        raise CassandraError(f"Cassandra on {self.address} not ready after {timeout:.0f}s ({last}):\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        texts = []
        for f in (self.base / "logs" / "stdout.log", self.log_file):
            if f.exists():
                texts.append("\n".join(f.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(texts)

    def terminate(self) -> None:
        """Ask for a clean stop (SIGTERM runs Cassandra's shutdown hook: drain, flush)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 60) -> None:
        """Stop cleanly and wait; SIGKILL if it takes longer than ``timeout``."""
        self.terminate()
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: a crash, no flush."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class LocalCluster:
    """N nodes on 127.0.0.1 .. 127.0.0.N, every node a seed (a fresh test ring)."""

    def __init__(
        self, base: Path, nodes: int = 1, heap: str = "1G", tombstone_failure_threshold: int = 100_000
    ) -> None:
        addresses = [f"127.0.0.{i}" for i in range(1, nodes + 1)]
        self.nodes = [
            Node(
                a, base / f"node{i + 1}", addresses, heap=heap, tombstone_failure_threshold=tombstone_failure_threshold
            )
            for i, a in enumerate(addresses)
        ]

    @property
    def contact_points(self) -> list[str]:
        return [n.address for n in self.nodes]

    def start(self, timeout: float = 240) -> float:
        """Start every node, one after the other; return the seconds until all serve CQL.

        A fresh ring joins one node at a time; nodes that ran before (they have
        their tokens) restart all at once.
        """
        lib = fetch()
        start = time.monotonic()
        if all((n.base / "data" / "system").exists() for n in self.nodes):
            for node in self.nodes:
                node.start(lib)
            for node in self.nodes:
                node.wait_ready(timeout)
        else:
            for node in self.nodes:
                node.start(lib)
                node.wait_ready(timeout)
        self.wait_settled(timeout)
        return time.monotonic() - start

    def wait_settled(self, timeout: float = 120) -> None:
        """Wait until a driver sees every node of the ring up (gossip has converged)."""
        from cassandra.cluster import Cluster

        deadline = time.monotonic() + timeout
        while True:
            cluster = Cluster(self.contact_points, port=CQL_PORT, connect_timeout=2, protocol_version=5)
            try:
                cluster.connect()
                hosts = cluster.metadata.all_hosts()
                if len(hosts) == len(self.nodes) and all(h.is_up for h in hosts):
                    return
            except Exception:  # not settled yet
                pass
            finally:
                cluster.shutdown()
            if time.monotonic() > deadline:
                raise CassandraError(f"the ring of {len(self.nodes)} did not settle within {timeout:.0f}s")
            time.sleep(1)

    def stop(self) -> None:
        """Stop every node cleanly, all at once."""
        for node in self.nodes:
            node.terminate()
        for node in self.nodes:
            node.stop()


@contextmanager
def benchmark_store(settings: Settings, workdir: Path, hosts: str, keyspace: str) -> Iterator[Store]:
    """A migrated Cassandra store for a benchmark: on ``hosts`` (comma-separated), or on a single node
    started in ``workdir`` and stopped afterwards; the keyspace is dropped at the end."""
    from numrep.store.cassandra import CassandraStore

    cluster = None
    contact = [h for h in hosts.split(",") if h]
    if not contact:
        cluster = LocalCluster(workdir / "cassandra", nodes=1)
        print(f"Cassandra single node started in {cluster.start():.1f}s")
        contact = cluster.contact_points
    try:
        store = CassandraStore(
            settings.model_copy(
                update={"store": "cassandra", "cassandra_hosts": contact, "cassandra_keyspace": keyspace}
            )
        )
        store.migrate()
        try:
            yield store
        finally:
            store.session.execute(f"DROP KEYSPACE {keyspace}", timeout=60)
            store.close()
    finally:
        if cluster is not None:
            cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Apache Cassandra nodes on loopback.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fetch", help="download the server jars (cached)")
    st = sub.add_parser("start", help="start nodes in the foreground; Ctrl-C stops them cleanly")
    st.add_argument("--nodes", type=int, default=1)
    st.add_argument("--dir", type=Path, default=ROOT / ".numrep" / "cassandra")
    st.add_argument("--heap", default="1G")
    ns = parser.parse_args()
    try:
        if ns.cmd == "fetch":
            t = time.monotonic()
            lib = fetch()
            print(f"{lib} ({download_size() / 1e6:.0f} MB) in {time.monotonic() - t:.1f}s")
            return
        cluster = LocalCluster(ns.dir, ns.nodes, ns.heap)
        took = cluster.start()
        print(
            f"Cassandra {VERSION} up on {', '.join(cluster.contact_points)} (port {CQL_PORT}) in {took:.1f}s; Ctrl-C stops"
        )
        try:
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
        finally:
            cluster.stop()
    except CassandraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
