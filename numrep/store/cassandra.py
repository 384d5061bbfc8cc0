"""Cassandra store: the backend for national scale.

Query-first tables (``store/cql/*.cql``, applied by ``numrep migrate``):
reports by id (the idempotency key, written with a lightweight transaction),
by ``(subject, day)`` and by ``(day, shard)``, with retention TTLs from the
settings (``numrep.store.cassandra_privacy``); no
counters — counts derive from idempotent rows. Writes and reads run at the
configured consistency (``LOCAL_QUORUM`` by default) with prepared statements
cached per instance; bulk work goes through ``execute_concurrent_with_args``.
Driver failures are raised as :class:`StoreUnavailable`, never turned into
empty answers.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

from cassandra import ConsistencyLevel, DriverException
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable, Session
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.policies import (
    DCAwareRoundRobinPolicy,
    ExponentialReconnectionPolicy,
    RoundRobinPolicy,
    TokenAwarePolicy,
)
from cassandra.protocol import ErrorMessage
from cassandra.query import PreparedStatement, dict_factory

from numrep.config import Settings, reveal
from numrep.errors import NotFound, StoreError, StoreUnavailable
from numrep.models import (
    Allocation,
    AllowlistEntry,
    ApiKey,
    CaseEvent,
    FilterSnapshotMeta,
    PortBlacklistEntry,
    Report,
    ReportSummary,
    Reputation,
    Rule,
)
from numrep.rules import EMPTY_CHECKSUM
from numrep.store.base import IMPORT_BATCH, Store, batches
from numrep.store.cassandra_cards import CassandraCards
from numrep.store.cassandra_evidence import CassandraEvidence
from numrep.store.cassandra_privacy import CassandraPrivacy
from numrep.store.cassandra_queue import CassandraQueue
from numrep.store.cassandra_redress import CassandraRedress
from numrep.store.codec import (
    LOG_COLUMNS,
    REPORT_COLUMNS,
    REPUTATION_COLUMNS,
    RULE_COLUMNS,
    LogEntry,
    allocation_from,
    allocation_values,
    allowlist_from,
    allowlist_values,
    api_key_from,
    api_key_values,
    case_event_from,
    case_event_values,
    log_entry_from,
    log_values,
    port_from,
    port_values,
    report_from,
    report_values,
    reputation_from,
    reputation_values,
    rule_from,
    rule_values,
    snapshot_from,
    summary_from,
    to_micros,
)

log = logging.getLogger(__name__)

SHARDS = 16
CHUNK_BYTES = 256 * 1024
LEASE_SECONDS = 30
LOOKUP_PROFILE = "lookup"
CONCURRENCY = 64

# ---- CQL, as named constants ----------------------------------------------
INSERT_REPORT_IF_NEW = (
    f"INSERT INTO reports_by_id ({', '.join(REPORT_COLUMNS)}) VALUES ({', '.join('?' * len(REPORT_COLUMNS))}) IF NOT EXISTS "
    "USING TTL ?"
)
INSERT_REPORT_BY_SUBJECT = (
    "INSERT INTO reports_by_subject (subject, day, occurred_at, report_id, reporter_hash, channel, category, received_at, source, text, "
    "reporter_number_hash, attested_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?"
)
INSERT_REPORT_BY_DAY = (
    "INSERT INTO reports_by_day (day, shard, report_id, subject, category, channel, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "USING TTL ?"
)
# A kept text lives shorter than its report: rewritten with its own TTL.
UPDATE_TEXT_BY_ID = "UPDATE reports_by_id USING TTL ? SET text = ? WHERE report_id = ?"
UPDATE_TEXT_BY_SUBJECT = "UPDATE reports_by_subject USING TTL ? SET text = ? WHERE subject = ? AND day = ? AND occurred_at = ? AND report_id = ?"
SELECT_REPORT = "SELECT * FROM reports_by_id WHERE report_id = ?"
INSERT_CASE_EVENT = "INSERT INTO case_events (report_id, step, holder, at, note) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS"
SELECT_CASE_EVENTS = "SELECT * FROM case_events WHERE report_id = ?"
SELECT_REPORTS = "SELECT * FROM reports_by_subject WHERE subject = ? AND day IN ? AND occurred_at >= ?"
SELECT_REPORTS_OF_DAY = (
    "SELECT report_id, subject, category, channel, received_at FROM reports_by_day WHERE day = ? AND shard = ?"
)
COUNT_REPORTS = "SELECT COUNT(*) AS n FROM reports_by_id"
INSERT_REPUTATION = (
    f"INSERT INTO reputations ({', '.join(REPUTATION_COLUMNS)}) VALUES ({', '.join('?' * len(REPUTATION_COLUMNS))})"
)
SELECT_REPUTATION = "SELECT * FROM reputations WHERE subject = ?"
SELECT_REPUTATIONS = "SELECT * FROM reputations WHERE subject IN ?"
IN_KEYS = 100  # partition keys per IN of a batch read (one request instead of a hundred)
SELECT_LATEST_VERSION = "SELECT version, checksum FROM rule_versions WHERE bucket = 0 LIMIT 1"
# IF NOT EXISTS: two publishers can never both write one version (the lease's fence, with HOLD_LEASE).
INSERT_VERSION = "INSERT INTO rule_versions (bucket, version, created_at, checksum, added, removed) VALUES (0, ?, ?, ?, ?, ?) IF NOT EXISTS"
SELECT_ALL_RULES = f"SELECT {', '.join(RULE_COLUMNS)} FROM rules_by_subject"
SELECT_RULES_OF = f"SELECT {', '.join(RULE_COLUMNS)} FROM rules_by_subject WHERE subject = ?"
INSERT_RULE = f"INSERT INTO rules_by_subject ({', '.join(RULE_COLUMNS)}, version) VALUES ({', '.join('?' * len(RULE_COLUMNS))}, ?)"
DELETE_RULE = "DELETE FROM rules_by_subject WHERE subject = ? AND rule_id = ?"
INSERT_LOG = f"INSERT INTO rule_log ({', '.join(LOG_COLUMNS)}) VALUES ({', '.join('?' * len(LOG_COLUMNS))})"
SELECT_LOG = "SELECT * FROM rule_log WHERE version = ?"
DELETE_LOG = "DELETE FROM rule_log WHERE version = ?"
SELECT_EPOCH = "SELECT value FROM feed_meta WHERE name = 'epoch'"
UPDATE_EPOCH = "UPDATE feed_meta SET value = ? WHERE name = 'epoch'"
UPDATE_CHECKSUM = "UPDATE rule_versions SET checksum = ? WHERE bucket = 0 AND version = ?"
ACQUIRE_LEASE = "INSERT INTO leases (name, owner) VALUES (?, ?) IF NOT EXISTS USING TTL ?"
HOLD_LEASE = "UPDATE leases USING TTL ? SET owner = ? WHERE name = ? IF owner = ?"  # renew, and prove we still hold it
RELEASE_LEASE = "DELETE FROM leases WHERE name = ? IF owner = ?"
INSERT_ALLOW = (
    "INSERT INTO allowlist (bucket, subject, reason, added_by, added_at) VALUES (0, ?, ?, ?, ?) IF NOT EXISTS"
)
SELECT_ALLOW_ONE = "SELECT * FROM allowlist WHERE bucket = 0 AND subject = ?"
DELETE_ALLOW = "DELETE FROM allowlist WHERE bucket = 0 AND subject = ? IF EXISTS"
SELECT_ALLOW = "SELECT * FROM allowlist WHERE bucket = 0"
INSERT_SNAPSHOT = (
    "INSERT INTO filter_snapshots (bucket, version, snapshot_id, count, capacity, error_rate, created_at, size_bytes, chunks) "
    "VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SELECT_SNAPSHOTS = "SELECT * FROM filter_snapshots WHERE bucket = 0"
SELECT_LATEST_SNAPSHOT = "SELECT * FROM filter_snapshots WHERE bucket = 0 LIMIT 1"
INSERT_CHUNK = "INSERT INTO filter_chunks (snapshot_id, idx, data) VALUES (?, ?, ?)"
SELECT_CHUNKS = "SELECT idx, data FROM filter_chunks WHERE snapshot_id = ?"
DELETE_CHUNKS = "DELETE FROM filter_chunks WHERE snapshot_id = ?"
DELETE_SNAPSHOT = "DELETE FROM filter_snapshots WHERE bucket = 0 AND version = ? AND snapshot_id = ?"
INSERT_PORT = "INSERT INTO port_blacklist (port, enterprise, reason, source, listed_on) VALUES (?, ?, ?, ?, ?)"
INSERT_PORT_INDEX = "INSERT INTO port_blacklist_by_shard (shard, port) VALUES (?, ?)"
SELECT_PORT = "SELECT * FROM port_blacklist WHERE port = ?"
SELECT_ALL_PORTS = "SELECT * FROM port_blacklist"
COUNT_PORTS = "SELECT COUNT(*) AS n FROM port_blacklist_by_shard WHERE shard = ?"
INSERT_ALLOCATION = "INSERT INTO allocations (bucket, prefix, holder, holder_type, size) VALUES (0, ?, ?, ?, ?)"
SELECT_ALLOCATIONS = "SELECT * FROM allocations WHERE bucket = 0"
INSERT_API_KEY = "INSERT INTO api_keys (key_hash, operator, scopes, created_at, revoked) VALUES (?, ?, ?, ?, ?)"
SELECT_API_KEY = "SELECT * FROM api_keys WHERE key_hash = ?"
SELECT_ALL_API_KEYS = "SELECT * FROM api_keys"
QUEUE_DATA_MIGRATION = "0010_queues.data"  # the rows of dirty and flagged, carried into the 0010 tables
SCHEMA_MIGRATIONS = "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamp)"


def shard_of(key: str) -> int:
    return zlib.crc32(key.encode()) % SHARDS


def day_of(dt: datetime) -> date:
    return dt.astimezone(UTC).date()


def replication_map(spec: str) -> dict[str, Any]:
    """``SimpleStrategy:3`` or ``NetworkTopologyStrategy:dc1=3,dc2=3`` → CQL replication map."""
    strategy, _, rest = spec.partition(":")
    if strategy == "SimpleStrategy":
        return {"class": "SimpleStrategy", "replication_factor": int(rest)}
    out: dict[str, Any] = {"class": "NetworkTopologyStrategy"}
    for item in rest.split(","):
        dc, _, n = item.partition("=")
        out[dc] = int(n)
    return out


def migrations() -> list[tuple[str, list[str]]]:
    """The versioned CQL files, in order, split into statements."""
    out = []
    files = sorted(
        (p for p in resources.files("numrep.store").joinpath("cql").iterdir() if p.name.endswith(".cql")),
        key=lambda p: p.name,
    )
    for f in files:
        text = "\n".join(line.split("--", 1)[0] for line in f.read_text().splitlines())
        out.append((f.name, [s.strip() for s in text.split(";") if s.strip()]))
    return out


class CassandraStore(CassandraQueue, CassandraPrivacy, CassandraEvidence, CassandraRedress, CassandraCards, Store):
    name = "cassandra"
    # Publishers hold a lease and check the version, so the set they published last is
    # reused instead of scanning rules_by_subject on every publication.
    cache_published_rules = True
    #: TTL of a lease; its holder renews it every third of this.
    lease_seconds: int = LEASE_SECONDS

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.keyspace = settings.cassandra_keyspace
        self.keep_versions = settings.rules_log_keep_versions
        self.max_delta_versions = settings.rules_delta_max_versions
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._prepared: dict[str, PreparedStatement] = {}
        self._lock = threading.RLock()
        self._held = threading.local()  # the lease this thread publishes under
        self._init_queue()

    # ---- session ---------------------------------------------------------
    def _cluster_for(self) -> Cluster:
        s = self.settings
        policy = TokenAwarePolicy(
            DCAwareRoundRobinPolicy(local_dc=s.cassandra_local_dc) if s.cassandra_local_dc else RoundRobinPolicy()
        )
        consistency = getattr(ConsistencyLevel, s.cassandra_consistency)
        serial = ConsistencyLevel.LOCAL_SERIAL
        profiles = {
            EXEC_PROFILE_DEFAULT: ExecutionProfile(
                load_balancing_policy=policy,
                consistency_level=consistency,
                serial_consistency_level=serial,
                request_timeout=s.cassandra_request_timeout_seconds,
                row_factory=dict_factory,
            ),
            LOOKUP_PROFILE: ExecutionProfile(
                load_balancing_policy=policy,
                consistency_level=consistency,
                request_timeout=s.cassandra_lookup_timeout_seconds,
                row_factory=dict_factory,
            ),
        }
        auth = None
        if s.cassandra_username is not None:  # PasswordAuthenticator on the ring
            from cassandra.auth import PlainTextAuthProvider

            auth = PlainTextAuthProvider(username=s.cassandra_username, password=reveal(s.cassandra_password) or "")
        return Cluster(
            s.cassandra_hosts,
            port=s.cassandra_port,
            execution_profiles=profiles,
            connect_timeout=3,
            auth_provider=auth,
            control_connection_timeout=3,
            idle_heartbeat_interval=5,
            protocol_version=5,
            # Come back quickly after an outage: the lookup service recovers by itself.
            reconnection_policy=ExponentialReconnectionPolicy(base_delay=0.5, max_delay=10),
        )

    def _connect(self, keyspace: str | None) -> Session:
        with self._lock:
            if self._session is None:
                try:
                    self._cluster = self._cluster_for()
                    self._session = self._cluster.connect()
                except (NoHostAvailable, DriverException, OSError) as exc:
                    self._cluster = None
                    raise StoreUnavailable(
                        f"cannot reach Cassandra at {', '.join(self.settings.cassandra_hosts)}: {exc}"
                    ) from exc
            if keyspace and self._session.keyspace != keyspace:
                with self._errors():
                    self._session.set_keyspace(keyspace)
            return self._session

    @property
    def session(self) -> Session:
        """The session, created on first use (the keyspace must exist: run `numrep migrate`)."""
        if self._session is None or self._session.keyspace != self.keyspace:
            return self._connect(self.keyspace)
        return self._session

    def _stmt(self, cql: str) -> PreparedStatement:
        stmt = self._prepared.get(cql)
        if stmt is None:
            with self._errors():
                stmt = self.session.prepare(cql)
            self._prepared[cql] = stmt
        return stmt

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (NoHostAvailable, DriverException, ErrorMessage, OSError) as exc:
            # ErrorMessage: server errors without a driver class of their own, such as
            # "CAS operation result is unknown" while a replica restarts. Retryable.
            raise StoreUnavailable(f"Cassandra: {type(exc).__name__}: {exc}") from exc

    def _exec(self, cql: str, args: Sequence[Any] = (), profile: object = EXEC_PROFILE_DEFAULT) -> list[dict[str, Any]]:
        with self._errors():
            return list(self.session.execute(self._stmt(cql), args, execution_profile=profile))

    def _many(self, cql: str, args: Iterable[Sequence[Any]]) -> list[list[dict[str, Any]]]:
        args = list(args)
        if not args:
            return []
        with self._errors():
            results = execute_concurrent_with_args(
                self.session, self._stmt(cql), args, concurrency=CONCURRENCY, raise_on_first_error=True
            )
        return [list(r.result_or_exc) for r in results]

    def migrate(self, attempts: int = 4) -> None:
        """Create the keyspace (with the configured replication) and apply new CQL files.

        Schema changes on a ring that is still settling can time out; every step
        is idempotent, so the whole migration is retried with a fresh session.
        """
        for attempt in range(attempts):
            try:
                self._migrate_once()
                return
            except StoreUnavailable as exc:
                if attempt == attempts - 1:
                    raise
                log.warning("CQL migration failed; retrying", extra={"attempt": attempt + 1, "error": str(exc)})
                self.close()
                time.sleep(2.0 * (attempt + 1))

    def _migrate_once(self) -> None:
        session = self._connect(None)
        repl = replication_map(self.settings.cassandra_replication)
        with self._errors():
            session.execute(f"CREATE KEYSPACE IF NOT EXISTS {self.keyspace} WITH replication = {repl!r}")
            session.set_keyspace(self.keyspace)
            session.execute(SCHEMA_MIGRATIONS)
            applied = {row["name"] for row in session.execute("SELECT name FROM schema_migrations")}
            for name, statements in migrations():
                if name in applied:
                    continue
                for stmt in statements:
                    session.execute(stmt, timeout=60)
                session.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (%s, %s)", (name, datetime.now(UTC))
                )
                log.info("CQL migration applied", extra={"migration": name, "keyspace": self.keyspace})
            if QUEUE_DATA_MIGRATION not in applied:
                self._migrate_old_queue()  # idempotent: marks and index rows written again change nothing that matters
                session.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (%s, %s)",
                    (QUEUE_DATA_MIGRATION, datetime.now(UTC)),
                )
            self._cluster.control_connection.wait_for_schema_agreement(wait_time=30)  # type: ignore[union-attr]

    def close(self) -> None:
        with self._lock:
            if self._cluster is not None:
                self._cluster.shutdown()
            self._cluster = self._session = None
            self._prepared = {}

    # ---- reports ---------------------------------------------------------
    def add_reports(self, reports: Sequence[Report]) -> list[bool]:
        now = datetime.now(UTC)
        results = self._many(
            INSERT_REPORT_IF_NEW, [(*report_values(r), self.report_ttl(r.received_at, now)) for r in reports]
        )
        new = [bool(rows[0]["[applied]"]) for rows in results]
        # Whether new or not, (re)write the derived rows from the stored report: a crash
        # between the LWT and these writes is repaired by the client's retry.
        stored = []
        for r, rows, is_new in zip(reports, results, new):
            stored.append(r if is_new else report_from(rows[0]))
        self._many(
            INSERT_REPORT_BY_SUBJECT,
            [
                (
                    r.subject,
                    day_of(r.occurred_at),
                    to_micros(r.occurred_at),
                    r.report_id,
                    r.reporter_hash,
                    r.channel.value,
                    r.category.value,
                    to_micros(r.received_at),
                    r.source.value,
                    r.text,
                    r.reporter_number_hash,
                    r.attested_by,
                    self.report_ttl(r.received_at, now),
                )
                for r in stored
            ],
        )
        texts = [r for r in stored if r.text]
        self._many(UPDATE_TEXT_BY_ID, [(self.report_text_ttl(r.received_at, now), r.text, r.report_id) for r in texts])
        self._many(
            UPDATE_TEXT_BY_SUBJECT,
            [
                (
                    self.report_text_ttl(r.received_at, now),
                    r.text,
                    r.subject,
                    day_of(r.occurred_at),
                    to_micros(r.occurred_at),
                    r.report_id,
                )
                for r in texts
            ],
        )
        self._many(
            INSERT_REPORT_BY_DAY,
            [
                (
                    day_of(r.received_at),
                    shard_of(r.report_id),
                    r.report_id,
                    r.subject,
                    r.category.value,
                    r.channel.value,
                    to_micros(r.received_at),
                    self.report_index_ttl(r.received_at, now),
                )
                for r in stored
            ],
        )
        self._write_reports_by_reporter(stored)
        self.mark_dirty({r.subject for r in stored})
        return new

    def reports_for_subjects(self, subjects: Iterable[str], since: datetime) -> dict[str, list[Report]]:
        """One concurrent round of (subject, days) partition reads for the whole batch."""
        wanted = list(dict.fromkeys(subjects))
        today = datetime.now(UTC).date()
        first = max(day_of(since), today - timedelta(days=self.settings.report_retention_days + 1))
        last = max(today, first) + timedelta(days=1)
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        chunks = [days[i : i + 31] for i in range(0, len(days), 31)]
        args = [(s, c, to_micros(since)) for s in wanted for c in chunks]
        out: dict[str, list[Report]] = {s: [] for s in wanted}
        for (subject, _, _), rows in zip(args, self._many(SELECT_REPORTS, args)):
            out[subject] += (report_from(row) for row in rows)
        for reports in out.values():
            reports.sort(key=lambda r: (r.occurred_at, r.report_id))
        return out

    def report_summaries(self, start: date, end: date) -> Iterator[ReportSummary]:
        days = [start + timedelta(days=i) for i in range((end - start).days)]
        for day in days:
            for part in self._many(SELECT_REPORTS_OF_DAY, [(day, shard) for shard in range(SHARDS)]):
                for r in part:
                    yield summary_from(r, day)

    def count_reports(self) -> int:
        """Exact, but a full scan of reports_by_id: for tests and administration, not the hot path."""
        with self._errors():
            rows = list(self.session.execute(COUNT_REPORTS, timeout=120))
        return int(rows[0]["n"])

    # ---- dirty subjects: numrep.store.cassandra_queue -----------------------

    # ---- reputations ----------------------------------------------------
    def put_reputations(self, reputations: Sequence[Reputation]) -> None:
        self._many(INSERT_REPUTATION, [reputation_values(r) for r in reputations])
        self._write_flagged(reputations)

    def get_reputation(self, subject: str) -> Reputation | None:
        rows = self._exec(SELECT_REPUTATION, (subject,), LOOKUP_PROFILE)
        return reputation_from(rows[0]) if rows else None

    def get_reputations(self, subjects: Iterable[str]) -> dict[str, Reputation]:
        wanted = list(dict.fromkeys(subjects))
        parts = self._many(SELECT_REPUTATIONS, [(wanted[i : i + IN_KEYS],) for i in range(0, len(wanted), IN_KEYS)])
        return {row["subject"]: reputation_from(row) for part in parts for row in part}

    # ---- rules ----------------------------------------------------------
    def active_rules(self, subjects: Iterable[str] | None = None) -> dict[str, Rule]:
        if subjects is None:
            return self._read_rules()
        parts = self._many(SELECT_RULES_OF, [(s,) for s in sorted(set(subjects))])
        return {row["rule_id"]: rule_from(row) for part in parts for row in part}

    @contextmanager
    def _lease(self, name: str, wait: float | None = None) -> Iterator[None]:
        """Hold the lease ``name`` for the duration: acquired with LWT and a TTL, renewed by a thread every third
        of it. :meth:`_still_holding` proves it is held right before a write that must not be made without it."""
        ttl = self.lease_seconds
        owner = secrets.token_hex(8)
        deadline = time.monotonic() + (2 * ttl if wait is None else wait)
        delay = 0.02
        while True:
            if self._exec(ACQUIRE_LEASE, (name, owner, ttl))[0]["[applied]"]:
                break
            if time.monotonic() > deadline:
                raise StoreError(f"could not acquire the {name} lease within {2 * ttl if wait is None else wait:.0f}s")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(ttl / 3):
                try:
                    if not self._exec(HOLD_LEASE, (ttl, owner, name, owner))[0]["[applied]"]:
                        return  # lost: the holder finds out at its next _still_holding
                except StoreError as exc:  # the store is unreachable: retry; the TTL decides
                    log.warning("lease renewal failed", extra={"lease": name, "error": str(exc)})

        renewer = threading.Thread(target=renew, name=f"lease-{name}", daemon=True)
        renewer.start()
        self._held.lease = (name, owner)
        try:
            yield
        finally:
            self._held.lease = None
            stop.set()
            renewer.join()
            self._exec(RELEASE_LEASE, (name, owner))

    def _still_holding(self) -> None:
        """Renew the lease this thread holds, raising StoreError if it was lost (it expired and someone took it)."""
        held: tuple[str, str] | None = getattr(self._held, "lease", None)
        if held is None:
            raise StoreError("no lease held for this publication")
        name, owner = held
        if not self._exec(HOLD_LEASE, (self.lease_seconds, owner, name, owner))[0]["[applied]"]:
            raise StoreError(f"lost the {name} lease (it expired while publishing); publication abandoned")

    # The primitives of publish_rules and rules_since (numrep.store.base). No
    # multi-row transactions here: publishers are serialised by a lease, and a
    # version becomes visible when its rule_versions row is written, last.
    def _publishing(self) -> AbstractContextManager[None]:
        return self._lease("publish_rules")

    def _reading_rules(self) -> AbstractContextManager[None]:
        return nullcontext()  # no read snapshots; the checksum lets a client detect a torn read

    def _latest_version(self) -> tuple[int, str]:
        rows = self._exec(SELECT_LATEST_VERSION)
        return (int(rows[0]["version"]), rows[0]["checksum"]) if rows else (0, EMPTY_CHECKSUM)

    def _read_rules(self) -> dict[str, Rule]:
        with self._errors():
            rows = self.session.execute(SELECT_ALL_RULES, timeout=120)
            return {row["rule_id"]: rule_from(row) for row in rows}

    def _append_log(self, version: int, upserts: Sequence[Rule], removed: Sequence[str]) -> None:
        self._exec(DELETE_LOG, (version,))  # leftovers of a publisher that died before finishing
        self._many(INSERT_LOG, log_values(version, upserts, removed))

    def _apply_rules(self, version: int, upserts: Sequence[Rule], removed: Sequence[Rule]) -> None:
        self._still_holding()
        self._many(INSERT_RULE, [(*rule_values(r), version) for r in upserts])
        self._many(DELETE_RULE, [(r.subject, r.rule_id) for r in removed])

    def _write_version(self, version: int, created_at: datetime, checksum: str, added: int, removed: int) -> None:
        self._still_holding()
        rows = self._exec(INSERT_VERSION, (version, to_micros(created_at), checksum, added, removed))
        if not rows[0]["[applied]"]:
            raise StoreError(f"rules version {version} was published by another publisher; publication abandoned")

    def _prune_log(self, version: int) -> None:
        if version > self.keep_versions:
            self._exec(DELETE_LOG, (version - self.keep_versions,))

    def _oldest_delta_base(self, latest: int) -> int:
        # The log keeps versions latest-keep+1..latest; reads are not isolated from a
        # publication pruning the oldest of them meanwhile, so keep one version of margin.
        return latest - self.keep_versions + 1

    def _read_log(self, since: int, until: int) -> list[LogEntry]:
        parts = self._many(SELECT_LOG, [(v,) for v in range(since + 1, until + 1)])
        return [log_entry_from(row) for part in parts for row in part]  # in version order

    def _read_epoch(self) -> int | None:
        rows = self._exec(SELECT_EPOCH)
        return int(rows[0]["value"]) if rows and rows[0]["value"] is not None else None

    def _write_epoch(self, epoch: int) -> None:
        self._exec(UPDATE_EPOCH, (epoch,))

    def _rewrite_checksum(self, version: int, checksum: str) -> None:
        self._exec(UPDATE_CHECKSUM, (checksum, version))

    # ---- SMS-port blacklist ---------------------------------------------
    def add_port_blacklist(self, entries: Iterable[PortBlacklistEntry]) -> int:
        """Idempotent upserts; a failed call is completed by running it again (no multi-row transactions here)."""
        count = 0
        for batch in batches(entries, IMPORT_BATCH):
            existing = self.port_blacklist(e.port for e in batch)
            changed = list({e.port: e for e in batch if existing.get(e.port) != e}.values())
            self._many(INSERT_PORT, [port_values(e) for e in changed])
            self._many(INSERT_PORT_INDEX, [(shard_of(e.port), e.port) for e in changed])
            self.mark_dirty(e.port for e in changed)
            count += len(changed)
        return count

    def port_blacklist(self, ports: Iterable[str]) -> dict[str, PortBlacklistEntry]:
        parts = self._many(SELECT_PORT, [(p,) for p in sorted(set(ports))])
        return {r["port"]: port_from(r) for part in parts for r in part}

    def list_port_blacklist(self) -> list[PortBlacklistEntry]:
        with self._errors():
            rows = self.session.execute(SELECT_ALL_PORTS, timeout=120)
            return sorted((port_from(r) for r in rows), key=lambda e: e.port)

    def count_port_blacklist(self) -> int:
        """How many ports are blacklisted (for tests and administration)."""
        return sum(int(part[0]["n"]) for part in self._many(COUNT_PORTS, [(i,) for i in range(SHARDS)]))

    # ---- number-resource registry ----------------------------------------
    def put_allocations(self, allocations: Iterable[Allocation]) -> int:
        existing = {a.prefix: a for a in self.allocations()}  # the registry is small (one partition)
        count = 0
        for batch in batches(allocations, IMPORT_BATCH):
            changed = [a for a in {a.prefix: a for a in batch}.values() if existing.get(a.prefix) != a]
            self._many(INSERT_ALLOCATION, [allocation_values(a) for a in changed])
            count += len(changed)
        return count

    def allocations(self) -> list[Allocation]:
        return [allocation_from(r) for r in self._exec(SELECT_ALLOCATIONS)]

    # ---- complaint handling -----------------------------------------------
    def get_report(self, report_id: str) -> ReportSummary | None:
        rows = self._exec(SELECT_REPORT, (report_id,))
        return summary_from(rows[0]) if rows else None

    def add_case_event(self, event: CaseEvent) -> CaseEvent:
        rows = self._exec(INSERT_CASE_EVENT, case_event_values(event))
        if rows[0]["[applied]"]:
            return event
        return case_event_from(rows[0])  # the first event of this step

    def case_events(self, report_ids: Iterable[str]) -> list[CaseEvent]:
        parts = self._many(SELECT_CASE_EVENTS, [(rid,) for rid in sorted(set(report_ids))])
        return [case_event_from(r) for part in parts for r in part]

    # ---- API keys ---------------------------------------------------------
    def put_api_key(self, key: ApiKey) -> None:
        self._exec(INSERT_API_KEY, api_key_values(key))

    def get_api_key(self, key_hash: str) -> ApiKey | None:
        rows = self._exec(SELECT_API_KEY, (key_hash,), LOOKUP_PROFILE)
        return api_key_from(rows[0]) if rows else None

    def list_api_keys(self) -> list[ApiKey]:
        with self._errors():
            rows = list(self.session.execute(SELECT_ALL_API_KEYS, timeout=60))
        return sorted((api_key_from(r) for r in rows), key=lambda k: (k.operator, k.key_hash))

    # ---- allowlist ------------------------------------------------------
    def add_allowlist(self, entry: AllowlistEntry) -> AllowlistEntry:
        self._exec(INSERT_ALLOW, allowlist_values(entry))
        self.mark_dirty([entry.subject])
        return allowlist_from(self._exec(SELECT_ALLOW_ONE, (entry.subject,))[0])

    def remove_allowlist(self, subject: str) -> bool:
        gone = bool(self._exec(DELETE_ALLOW, (subject,))[0]["[applied]"])
        if gone:
            self.mark_dirty([subject])
        return gone

    def list_allowlist(self) -> list[AllowlistEntry]:
        return [allowlist_from(r) for r in self._exec(SELECT_ALLOW)]

    # ---- filter snapshots ----------------------------------------------
    def put_filter_snapshot(
        self, version: int, count: int, capacity: int, error_rate: float, data: bytes, created_at: datetime
    ) -> FilterSnapshotMeta:
        sid = time.time_ns() // 1000 * 1000 + secrets.randbelow(1000)
        chunks = [data[off : off + CHUNK_BYTES] for off in range(0, max(len(data), 1), CHUNK_BYTES)]
        self._many(INSERT_CHUNK, [(sid, i, c) for i, c in enumerate(chunks)])
        self._exec(
            INSERT_SNAPSHOT, (version, sid, count, capacity, error_rate, to_micros(created_at), len(data), len(chunks))
        )
        return FilterSnapshotMeta(sid, version, count, capacity, error_rate, created_at, len(data))

    def latest_filter_snapshot(self) -> FilterSnapshotMeta | None:
        rows = self._exec(SELECT_LATEST_SNAPSHOT)
        return snapshot_from(rows[0]) if rows else None

    def filter_snapshot_data(self, snapshot_id: int) -> bytes:
        rows = self._exec(SELECT_CHUNKS, (snapshot_id,))
        if not rows:
            raise NotFound(f"filter snapshot {snapshot_id} not found")
        return b"".join(bytes(r["data"]) for r in sorted(rows, key=lambda r: r["idx"]))

    def prune_filter_snapshots(self, keep: int) -> int:
        metas = self._exec(SELECT_SNAPSHOTS)[keep:]
        self._many(DELETE_SNAPSHOT, [(m["version"], m["snapshot_id"]) for m in metas])
        self._many(DELETE_CHUNKS, [(m["snapshot_id"],) for m in metas])
        return len(metas)
