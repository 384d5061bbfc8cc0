"""Typed configuration, validated at start-up.

Sources, later ones winning: defaults, an optional TOML file named by
``NUMREP_CONFIG`` (flat keys, same names as the fields below), then
environment variables ``NUMREP_<FIELD>`` (upper case). Unknown keys in the
file and unknown ``NUMREP_*`` variables are errors, so a typo fails fast with
the variable's name instead of being silently ignored.

With nothing set, numrep runs embedded: SQLite in ``data_dir`` and a Celery
broker on SQLite (kombu's SQLAlchemy transport) that needs no server.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tomllib
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from numrep.errors import ConfigError

ENV_PREFIX = "NUMREP_"
VISIBILITY_MARGIN = 1.5  # broker visibility timeout / longest task budget, at least
CONFIG_ENV = "NUMREP_CONFIG"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "numrep"


class Settings(BaseModel):
    """Every setting of numrep. Field docs are shown by ``numrep config``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(default_factory=_default_data_dir, description="Where embedded state lives.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = Field(
        "text", description="text: key=value lines for people; json: one JSON object a line for log collectors."
    )
    metrics_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Serve Prometheus metrics at /metrics on this port (unset: off). "
        "`numrep up` gives its worker the next port.",
    )
    metrics_host: str = Field("127.0.0.1", description="Address the metrics port listens on (0.0.0.0 in a pod).")
    region: str = Field("CN", description="Default region for numbers without a country code.")

    store: Literal["sqlite", "cassandra"] = Field("sqlite", description="Store backend.")
    sqlite_path: Path | None = Field(None, description="SQLite file (default: <data_dir>/numrep.sqlite3).")
    cassandra_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1"], description="Cassandra contact points.")
    cassandra_port: int = Field(9042, ge=1, le=65535)
    cassandra_keyspace: str = Field("numrep", pattern=r"^[a-z][a-z0-9_]{0,47}$")
    cassandra_consistency: Literal["ONE", "LOCAL_ONE", "QUORUM", "LOCAL_QUORUM", "ALL"] = "LOCAL_QUORUM"
    cassandra_local_dc: str | None = None
    cassandra_replication: str = Field(
        "SimpleStrategy:1",
        pattern=r"^(SimpleStrategy:[1-9]|NetworkTopologyStrategy:[A-Za-z0-9_-]+=[1-9](,[A-Za-z0-9_-]+=[1-9])*)$",
        description="Keyspace replication when `numrep migrate` creates it, e.g. NetworkTopologyStrategy:dc1=3.",
    )
    cassandra_username: str | None = Field(None, description="Cassandra user (PasswordAuthenticator); none: no auth.")
    cassandra_password: SecretStr | None = Field(None, description="That user's password (a secret).")
    cassandra_request_timeout_seconds: float = Field(5.0, gt=0)
    cassandra_lookup_timeout_seconds: float = Field(
        0.25, gt=0, description="Deadline of the store read confirming a filter hit."
    )

    broker_url: SecretStr | None = Field(
        None, description="Celery broker (default: SQLite in data_dir); a secret, as it may hold a password."
    )
    broker_password: SecretStr | None = Field(
        None, description="Password put into broker_url (e.g. Redis requirepass), so it can come from a Secret alone."
    )
    broker_visibility_timeout_seconds: float = Field(
        7200.0,
        gt=0,
        description="Redis: an unacknowledged task is redelivered after this long (a worker died). "
        "Must be at least 1.5x the longest task budget (rescore_budget_seconds, full_rescore_budget_seconds), or a "
        "task still running is delivered a second time (acks are late); settings are refused otherwise.",
    )

    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(50051, ge=0, le=65535)
    grpc_health_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Also serve grpc.health.v1 alone, in plaintext, on this port (kubelet "
        "probes when the main port speaks TLS); its own threads, so probes are answered however busy the server is.",
    )
    insecure_allow_public: bool = Field(
        False, description="Let the server listen on a non-loopback address without auth (refused otherwise)."
    )
    grpc_processes: int = Field(
        1, ge=0, le=256, description="Serving processes sharing the port (SO_REUSEPORT); 0 = one per core."
    )
    grpc_max_workers: int = Field(
        16, ge=3, le=1024, description="Threads serving calls, per process (some always kept for unary calls)."
    )
    grpc_max_watch_streams: int = Field(
        0,
        ge=0,
        description="Concurrent WatchRules streams per process; each holds a thread for its life, so beyond "
        "this they are refused with RESOURCE_EXHAUSTED and lookups keep their threads (0: half of grpc_max_workers).",
    )
    grpc_max_streams: int = Field(
        0,
        ge=0,
        description="Concurrent streams per process other than WatchRules (StreamLookup, imports, filter "
        "snapshots, health Watch, reflection); beyond, RESOURCE_EXHAUSTED (0: a quarter of grpc_max_workers).",
    )
    grpc_stream_idle_seconds: float = Field(
        60.0,
        gt=0,
        description="A stream waiting this long on its client (for a request, or to take a response) "
        "is ended with DEADLINE_EXCEEDED.",
    )
    grpc_stream_max_items: int = Field(
        100_000,
        ge=1,
        description="Requests one stream may send; then it ends with RESOURCE_EXHAUSTED (open a new one).",
    )
    grpc_max_message_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    grpc_grace_seconds: float = Field(
        5.0, ge=0, description="On shutdown, how long in-flight calls may take to finish."
    )
    grpc_drain_seconds: float = Field(
        1.0, ge=0, description="On SIGTERM, serve on this long with health NOT_SERVING before refusing new calls."
    )
    grpc_max_concurrent_rpcs: int = Field(
        1000, ge=1, description="In-flight calls per process; beyond it calls are shed at once with RESOURCE_EXHAUSTED."
    )
    tls_cert_file: Path | None = Field(
        None, description="Server certificate chain (PEM): serve TLS instead of plaintext."
    )
    tls_key_file: Path | None = Field(None, description="The certificate's private key (PEM).")
    tls_client_ca_file: Path | None = Field(None, description="CA of client certificates: require mutual TLS.")
    client_ca_file: Path | None = Field(
        None, description="CLI/SDK clients: trust this CA (PEM) and connect with TLS instead of plaintext."
    )
    client_cert_file: Path | None = Field(None, description="CLI/SDK clients: certificate (PEM) for mutual TLS.")
    client_key_file: Path | None = Field(None, description="CLI/SDK clients: that certificate's private key (PEM).")
    max_batch: int = Field(1000, ge=1, le=100_000)
    reporter_reports_per_minute: float = Field(
        10.0, ge=0, description="Sustained reports one reporter may file (0: no limit); beyond: RESOURCE_EXHAUSTED."
    )
    reporter_report_burst: int = Field(20, ge=1, description="Reports one reporter may file at once.")
    operator_reports_per_second: float = Field(
        500.0, ge=0, description="Sustained reports per operator (API key; per peer address without one), per process."
    )
    operator_report_burst: int = Field(5000, ge=1, description="Reports an operator may send at once.")

    refresh_interval_seconds: float = Field(0.5, gt=0, description="How often services poll for new versions.")
    reputation_cache_seconds: float = Field(2.0, ge=0)
    rules_min_wait_seconds: float = Field(1.0, ge=0)
    rules_log_keep_versions: int = Field(10_000, ge=1)
    rules_delta_max_versions: int = Field(
        256,
        ge=1,
        description="Deltas span at most this many versions (Cassandra reads the log per version); "
        "a client further behind gets the full snapshot the server shares.",
    )
    rules_heartbeat_seconds: float = Field(
        60.0,
        gt=0,
        description="WatchRules sends a signed no-change update this often, so clients see the feed is live.",
    )

    window_days: float = Field(30.0, gt=0, description="Reports older than this do not count.")
    half_life_days: float = Field(7.0, gt=0, description="A report's weight halves every this many days.")
    score_scale: float = Field(5.0, gt=0, description="Weighted reporters at which the score reaches 63.")
    label_threshold: int = Field(50, ge=1, le=100)
    block_threshold: int = Field(80, ge=1, le=100)
    source_weights: dict[str, float] = Field(
        default_factory=lambda: {"app": 1.0, "hotline": 1.0, "web": 0.8, "operator": 1.0},
        description="Reporter trust by report source.",
    )
    scoring: Literal["v1", "v2", "shadow"] = Field(
        "v2",
        description="v2 decides; shadow: v1 decides while v2 scores alongside and the differences are logged; v1: complaints only.",
    )
    tier_weights: dict[str, float] = Field(
        default_factory=lambda: {"corroborated": 0.6, "attested": 0.55, "account": 0.4, "unverified": 0.3},
        description="Scoring v2: what one reporter's complaint weighs, by how much it is vouched for.",
    )
    block_gate: float = Field(
        1.0,
        gt=0,
        description="Scoring v2: strong evidence (corroborated or attested complaints, behaviour, honeypots) needed before BLOCK.",
    )
    label_min_reporters: int = Field(
        3,
        ge=1,
        description="Scoring v2: distinct reporters before complaints alone may flag a subject (LABEL or BLOCK).",
    )
    honeypot_weight: float = Field(
        0.9, gt=0, description="Scoring v2: the weight of each distinct honeypot a subject reached."
    )
    behaviour_window_days: float = Field(7.0, gt=0, description="Call-record behaviour counts over this many days.")
    record_lateness_days: float = Field(
        7.0, gt=0, description="Call records older than this are rejected (allowed lateness)."
    )
    record_retention_days: float = Field(
        35.0,
        gt=0,
        description="Raw call records (hashed callees) are kept this long, for corroboration and early warning.",
    )
    contacts_days: float = Field(
        30.0,
        gt=0,
        description="Early warning: the subscribers a caller reached are kept (and callbacks counted) this long.",
    )
    contacts_cap: int = Field(
        10_000, gt=0, description="Early warning: at most this many distinct subscribers kept per caller."
    )
    report_retention_days: float = Field(
        400.0,
        gt=0,
        description="Reports (and the rows derived from them) are kept this long after receipt, then deleted "
        "(SQLite: the prune-reports beat task; Cassandra: write TTLs, and the task rescores what expired).",
    )
    keep_report_text: bool = Field(
        False,
        description="Keep report texts (SMS bodies), with phone and ID numbers redacted; off: texts are dropped at intake.",
    )
    report_text_retention_days: float = Field(
        90.0,
        gt=0,
        description="Kept report texts are blanked this long after receipt (at most report_retention_days).",
    )
    dispute_statement_retention_days: float = Field(
        365.0,
        gt=0,
        description="Owners' statements of closed disputes are blanked this long after filing (the dispute stays).",
    )
    prune_batch: int = Field(1000, ge=1, le=100_000, description="Rows one step of a retention prune deletes.")
    corroboration_days: float = Field(
        7.0, gt=0, description="A report is corroborated by a call from the subject this long before it."
    )
    account_history_days: float = Field(
        7.0, gt=0, description="An app account seen this long before its report has a history."
    )
    velocity_free_subjects: int = Field(
        3,
        ge=1,
        description="A reporter may report this many subjects in 24 h at full weight; beyond, its weight shrinks.",
    )
    surge_min_reporters: int = Field(20, ge=2, description="Weak reporters in 24 h on one subject that make a surge.")
    surge_weak_share: float = Field(
        0.8, gt=0, le=1, description="... when at least this share of that day's reporters are weak."
    )
    complaint_cap: int = Field(
        2000, ge=10, description="Reporters per subject that scoring reads; beyond, they are counted only."
    )
    max_new_blocks_per_publication: int = Field(
        1000, ge=1, description="New BLOCKs one publication may add; the excess is held at LABEL for review."
    )
    card_limit_per_operator: int = Field(5, ge=1, description="Real-name cards one ID number may hold per operator.")
    card_concentration: int = Field(
        10, ge=2, description="Live cards over all operators at which an ID number is a cross-operator concentration."
    )
    allowlist_extra: list[str] = Field(
        default_factory=list, description="Subjects protected in addition to the built-in list."
    )

    range_rule_density: float = Field(
        0.05, gt=0, le=1, description="Flagged share of a range's allocated numbers that earns the whole range a rule."
    )
    range_rule_min_flagged: int = Field(20, ge=1, description="And at least this many flagged numbers in it.")
    range_rule_action: Literal["LABEL", "BLOCK"] = "LABEL"

    sla_ack_hours: float = Field(24.0, gt=0, description="Holders acknowledge a routed complaint within this long.")
    sla_resolve_hours: float = Field(72.0, gt=0, description="... and resolve it within this long.")
    sla_target_share: float = Field(
        0.9, gt=0, le=1, description="Share of complaints handled on time below which a holder fails."
    )

    redress_url: str = Field(
        "https://numrep.example/disputes",
        description="Where owners dispute a verdict; sent with every LABEL and BLOCK.",
    )
    redress_hotline: str = Field(
        "", description="A hotline for disputes, sent with every LABEL and BLOCK (empty: none)."
    )
    dispute_ack_hours: float = Field(24.0, gt=0, description="Disputes are acknowledged within this long of filing.")
    dispute_decide_hours: float = Field(72.0, gt=0, description="... and decided within this long of filing.")
    dispute_review_label: bool = Field(
        True,
        description="While a dispute is under review, its subject is answered LABEL at most (authoritative "
        "evidence excepted).",
    )
    dispute_max_statement: int = Field(2000, ge=100, le=100_000, description="Characters a dispute statement may have.")
    dispute_code_callbacks: dict[str, str] = Field(
        default_factory=dict,
        description="Per holder operator: the HTTP(S) URL that delivers one-time dispute codes "
        "to its subscribers (a POST of JSON {subject, code, expires_at}).",
    )
    dispute_code_minutes: float = Field(10.0, gt=0, le=1440, description="A one-time dispute code is valid this long.")

    filter_error_rate: float = Field(0.001, gt=0, lt=0.5)
    filter_min_capacity: int = Field(10_000, ge=100)
    filter_impl: Literal["pybloom", "blake2"] = Field(
        "pybloom", description="Bloom filter implementation of new snapshots: pybloom-live, or numrep's faster blake2."
    )
    filter_build_processes: int = Field(
        0, ge=0, description="Processes sharing a full filter rebuild (0: one per core)."
    )
    filter_shard_min_count: int = Field(
        1_000_000, ge=1, description="Rebuilds of at least this many subjects are sharded across processes."
    )

    auth_required: bool = Field(False, description="Require an API key with the right scope on every call but health.")
    auth_cache_seconds: float = Field(30.0, ge=0, description="How long a key lookup (or revocation) may be cached.")
    auth_failures_per_minute: float = Field(
        30.0,
        ge=0,
        description="Failed authentications one peer address may make a minute (0: no limit); beyond, "
        "its calls are refused with RESOURCE_EXHAUSTED without reading the store.",
    )
    auth_failure_burst: int = Field(20, ge=1, description="Failed authentications one peer address may make at once.")
    api_key: SecretStr | None = Field(None, description="The API key CLI and SDK clients send (x-api-key metadata).")

    hash_key: SecretStr | None = Field(
        None, description="HMAC key for reporter identities (default: a file in data_dir)."
    )
    hash_key_file: Path | None = None
    rules_signing_key_file: Path | None = Field(
        None, description="Ed25519 private key (PEM) signing rule versions (default: created in data_dir)."
    )

    rescore_batch: int = Field(500, ge=1)
    rescore_attempts: int = Field(
        3,
        ge=1,
        description="Failed rescores of one subject before it is set aside and a review case opens "
        "(a subject that fails to score never holds up the queue behind it).",
    )
    rescore_interval_seconds: float = Field(5.0, gt=0)
    rescore_budget_seconds: float = Field(30.0, gt=0, description="Time budget of one fast-path rescore task.")
    full_rescore_budget_seconds: float = Field(
        3600.0, gt=0, description="Time budget of the hourly rescore of every flagged subject (the longest task)."
    )
    full_rescore_interval_seconds: float = Field(3600.0, gt=0)
    filter_rebuild_interval_seconds: float = Field(3600.0, gt=0)

    @field_validator("dispute_code_callbacks")
    @classmethod
    def _callbacks(cls, v: dict[str, str]) -> dict[str, str]:
        for operator, url in v.items():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"dispute_code_callbacks[{operator}]: an http:// or https:// URL, got {url!r}")
        return v

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        import phonenumbers

        v = v.upper()
        if v not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {v!r}")
        return v

    @field_validator("source_weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        allowed = {"app", "hotline", "web", "operator"}
        bad = set(v) - allowed
        if bad:
            raise ValueError(f"unknown sources {sorted(bad)} (allowed: {sorted(allowed)})")
        if any(w < 0 or w > 10 for w in v.values()):
            raise ValueError("weights must lie in [0, 10]")
        return v

    @field_validator("tier_weights")
    @classmethod
    def _tier_weights(cls, v: dict[str, float]) -> dict[str, float]:
        from numrep.models import Tier

        allowed = {t.value for t in Tier}
        if set(v) != allowed:
            raise ValueError(f"give a weight for each of {sorted(allowed)}, got {sorted(v)}")
        if any(w < 0 or w > 10 for w in v.values()):
            raise ValueError("weights must lie in [0, 10]")
        return v

    @model_validator(mode="after")
    def _visibility(self) -> Settings:
        longest = max(self.rescore_budget_seconds, self.full_rescore_budget_seconds)
        if self.broker_visibility_timeout_seconds < VISIBILITY_MARGIN * longest:
            raise ValueError(
                f"NUMREP_BROKER_VISIBILITY_TIMEOUT_SECONDS={self.broker_visibility_timeout_seconds:g} is too short: a task "
                f"may run {longest:g} s and would be delivered again while it runs; use at least {VISIBILITY_MARGIN * longest:g} "
                "(or shorten NUMREP_FULL_RESCORE_BUDGET_SECONDS / NUMREP_RESCORE_BUDGET_SECONDS)"
            )
        return self

    @model_validator(mode="after")
    def _tls(self) -> Settings:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("NUMREP_TLS_CERT_FILE and NUMREP_TLS_KEY_FILE go together")
        if self.tls_client_ca_file is not None and self.tls_cert_file is None:
            raise ValueError(
                "NUMREP_TLS_CLIENT_CA_FILE (mutual TLS) needs NUMREP_TLS_CERT_FILE and NUMREP_TLS_KEY_FILE"
            )
        if (self.client_cert_file is None) != (self.client_key_file is None):
            raise ValueError("NUMREP_CLIENT_CERT_FILE and NUMREP_CLIENT_KEY_FILE go together")
        if self.client_cert_file is not None and self.client_ca_file is None:
            raise ValueError("NUMREP_CLIENT_CERT_FILE (mutual TLS) needs NUMREP_CLIENT_CA_FILE")
        for name in (
            "tls_cert_file",
            "tls_key_file",
            "tls_client_ca_file",
            "client_ca_file",
            "client_cert_file",
            "client_key_file",
        ):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"NUMREP_{name.upper()}: {path} is not a readable file")
        return self

    def client_tls(self) -> dict[str, bytes | None]:
        """The client-side TLS material as ``Client`` takes it (all None: plaintext)."""

        def read(path: Path | None) -> bytes | None:
            return Path(path).read_bytes() if path is not None else None

        return {
            "root_ca": read(self.client_ca_file),
            "client_cert": read(self.client_cert_file),
            "client_key": read(self.client_key_file),
        }

    @model_validator(mode="after")
    def _broker_password(self) -> Settings:
        if self.broker_password is not None:
            url = reveal(self.broker_url) or ""
            if "://" not in url or "@" in url.partition("://")[2].split("/", 1)[0]:
                raise ValueError(
                    "NUMREP_BROKER_PASSWORD needs a NUMREP_BROKER_URL like redis://host:6379/0, "
                    "without a user or password of its own"
                )
        return self

    @model_validator(mode="after")
    def _cassandra_auth(self) -> Settings:
        if (self.cassandra_username is None) != (self.cassandra_password is None):
            raise ValueError("NUMREP_CASSANDRA_USERNAME and NUMREP_CASSANDRA_PASSWORD go together")
        return self

    @model_validator(mode="after")
    def _health_port(self) -> Settings:
        if self.grpc_health_port and self.grpc_health_port == self.grpc_port:
            raise ValueError("NUMREP_GRPC_HEALTH_PORT must differ from NUMREP_GRPC_PORT (it serves health alone)")
        return self

    @model_validator(mode="after")
    def _stream_caps(self) -> Settings:
        if self.watch_streams_limit + self.streams_limit >= self.grpc_max_workers:
            raise ValueError(
                f"grpc_max_watch_streams ({self.watch_streams_limit}) plus grpc_max_streams ({self.streams_limit}) must "
                f"leave some of grpc_max_workers ({self.grpc_max_workers}) for unary calls and health checks"
            )
        return self

    @model_validator(mode="after")
    def _thresholds(self) -> Settings:
        if self.label_threshold >= self.block_threshold:
            raise ValueError(
                f"label_threshold ({self.label_threshold}) must be below block_threshold ({self.block_threshold})"
            )
        if self.report_text_retention_days > self.report_retention_days:
            raise ValueError(
                f"NUMREP_REPORT_TEXT_RETENTION_DAYS ({self.report_text_retention_days}) must not exceed "
                f"NUMREP_REPORT_RETENTION_DAYS ({self.report_retention_days})"
            )
        return self

    # ---- derived values -------------------------------------------------
    @property
    def sqlite_file(self) -> Path:
        return self.sqlite_path or self.data_dir / "numrep.sqlite3"

    @property
    def celery_broker_url(self) -> str:
        """The broker URL, password included: for Celery only, never for output (see ``redacted_url``)."""
        url = reveal(self.broker_url)
        password = reveal(self.broker_password)
        if url and password:
            scheme, _, rest = url.partition("://")
            url = f"{scheme}://:{quote(password, safe='')}@{rest}"
        return url or f"sqla+sqlite:///{self.data_dir / 'broker.sqlite3'}"

    def shown(self, name: str) -> str:
        """A setting's value as people may see it: secrets masked, a URL's password masked."""
        value = getattr(self, name)
        if name == "broker_url" and value is not None:
            return redacted_url(reveal(value) or "")
        if isinstance(value, SecretStr):
            return MASK
        return str(value)

    @property
    def watch_streams_limit(self) -> int:
        return self.grpc_max_watch_streams or max(1, self.grpc_max_workers // 2)

    @property
    def streams_limit(self) -> int:
        return self.grpc_max_streams or max(1, self.grpc_max_workers // 4)

    @property
    def grpc_address(self) -> str:
        return f"{self.grpc_host}:{self.grpc_port}"

    @cached_property
    def hmac_key(self) -> bytes:
        """The key for reporter hashes: given, read from a file, or created once in data_dir.

        The key file lives apart from the database file, so a copy of the
        database alone does not let anyone test guesses of reporter ids.
        """
        if self.hash_key:
            return (reveal(self.hash_key) or "").encode()
        path = self.hash_key_file or self.data_dir / "keys" / "reporter-hmac.key"
        if not path.exists():
            if self.hash_key_file is not None:
                raise ConfigError(f"NUMREP_HASH_KEY_FILE: {path} does not exist")
            create_secret_file(path, secrets.token_hex(32).encode())
        key = path.read_text().strip()
        if len(key) < 32:
            raise ConfigError(f"hash key in {path} is too short (need at least 32 characters)")
        return key.encode()

    @cached_property
    def subscriber_key(self) -> bytes:
        """The key for subscriber numbers: reporters' own numbers and callees hash alike, so they match."""
        return derived_key(self.hmac_key, "subscriber-number")

    @cached_property
    def id_number_key(self) -> bytes:
        """The key for ID numbers of real-name card registrations (numrep.regulator.cards), of its own."""
        return derived_key(self.hmac_key, "id-number")


MASK = "********"


def reveal(secret: SecretStr | str | None) -> str | None:
    """The clear value of a secret setting, for the one place that uses it (never for output).

    A plain ``str`` is taken as it is: ``Settings.model_copy(update=...)`` does not validate.
    """
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


def redacted_url(url: str) -> str:
    """``url`` with the password of its user-info masked (``redis://:********@redis:6379/0``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    userinfo, _, host = rest.partition("@")
    user, colon, _password = userinfo.partition(":")
    return f"{scheme}://{user}{':' + MASK if colon else ''}@{host}"


def derived_key(master: bytes, purpose: str) -> bytes:
    """A key of its own for one kind of personal data, derived from the master hash key.

    Subscriber numbers (a reporter's own number, callees in call records)
    share one key so that they match each other; account ids keep the master
    key. The lifecycle issue gives each kind a rotatable key of its own; this
    is the seam.
    """
    return hmac.new(master, f"numrep/{purpose}/v1".encode(), hashlib.sha256).hexdigest().encode()


def create_secret_file(path: Path, data: bytes) -> None:
    """Create ``path`` (mode 0600) with ``data`` unless it exists — atomically, so that
    processes starting together all end up reading the same complete file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)  # fails if another process got there first: theirs wins
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


_LIST_FIELDS = {"cassandra_hosts", "allowlist_extra"}
_DICT_FIELDS = {"source_weights", "tier_weights"}


def _parse_env_value(name: str, raw: str) -> Any:
    if name in _LIST_FIELDS:
        return [item.strip() for item in raw.split(",") if item.strip()]
    if name in _DICT_FIELDS:
        out: dict[str, float] = {}
        for item in raw.split(","):
            key, sep, value = item.partition("=")
            if not sep:
                raise ConfigError(f"{ENV_PREFIX}{name.upper()}: expected key=value pairs, got {item!r}")
            try:
                out[key.strip()] = float(value)
            except ValueError:
                raise ConfigError(f"{ENV_PREFIX}{name.upper()}: {value!r} is not a number") from None
        return out
    return raw


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build and validate settings; raise ConfigError naming the bad variable."""
    env = os.environ if environ is None else environ
    fields = set(Settings.model_fields)
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}

    config_file = env.get(CONFIG_ENV)
    if config_file:
        path = Path(config_file)
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{CONFIG_ENV}: {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{CONFIG_ENV}: {path} is not valid TOML: {exc}") from None
        unknown = sorted(set(data) - fields)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
        for key, value in data.items():
            values[key] = value
            origin[key] = f"{path}: {key}"

    for var, raw in env.items():
        if not var.startswith(ENV_PREFIX) or var == CONFIG_ENV:
            continue
        name = var[len(ENV_PREFIX) :].lower()
        if name not in fields:
            raise ConfigError(f"{var}: unknown setting (known: {', '.join(sorted(fields))})")
        values[name] = _parse_env_value(name, raw)
        origin[name] = var

    for key, value in overrides.items():
        if value is not None:
            values[key] = value
            origin[key] = key

    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = str(err["loc"][0]) if err["loc"] else ""
            where = origin.get(loc, f"{ENV_PREFIX}{loc.upper()}" if loc else "settings")
            problems.append(f"{where}: {err['msg']}")
        raise ConfigError("; ".join(problems)) from None
