"""The rules feed cannot be rolled back, frozen or tampered with, and its calls cost bounded work.

Over a real gRPC channel to an in-process server: a relay replays, freezes
or edits what the server sent; a store copied as a backup and restored shows
the feed epoch at work; counters on the servicer show what each call read.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from numrep import pipeline
from numrep.config import Settings
from numrep.lookup import VerdictSource
from numrep.models import Action, Category, Channel, Rule, RuleKind
from numrep.sdk import LocalListClient, RulesIntegrityError, RulesMirror, RulesRollbackError, RulesStaleError
from numrep.sdk.client import Client
from numrep.signing import raw_public
from numrep.store.base import Store
from numrep.store.sqlite import SQLiteStore
from numrep.v1 import common_pb2, rules_pb2
from services.rules import max_page_size
from services.server import Server

NOW = datetime.now(UTC)


def exact(n: int, action: Action = Action.BLOCK, expires_at: datetime | None = None, reason: str = "x") -> Rule:
    subject = f"tel:+86138{n:08d}"
    return Rule(
        f"{subject}#voice", RuleKind.EXACT, subject, Channel.VOICE, action, Category.FRAUD, reason, NOW, expires_at
    )


def key_of(client: Client) -> bytes:
    return bytes(client.rules.GetSigningKey(rules_pb2.GetSigningKeyRequest(), timeout=5).public_key)


class Relay:
    """Stands between a client and the real stub: replays a recorded update, or edits what passes."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub
        self.replay: rules_pb2.RulesUpdate | None = None
        self.edit: Any = None
        self.edit_filter: Any = None

    def GetRules(self, request: rules_pb2.GetRulesRequest, timeout: float | None = None) -> rules_pb2.RulesUpdate:
        if self.replay is not None:
            out = rules_pb2.RulesUpdate()
            out.CopyFrom(self.replay)
            return out
        update = self.stub.GetRules(request, timeout=timeout)
        if self.edit is not None:
            self.edit(update)
        return update

    def WatchRules(self, request: rules_pb2.GetRulesRequest, **kw: Any) -> Any:
        return self.stub.WatchRules(request, **kw)

    def GetFilterSnapshot(
        self, request: rules_pb2.GetFilterSnapshotRequest, timeout: float | None = None
    ) -> Iterator[rules_pb2.FilterChunk]:
        chunks = list(self.stub.GetFilterSnapshot(request, timeout=timeout))
        if self.edit_filter is not None and chunks:
            self.edit_filter(chunks)
        return iter(chunks)


# ---- item 3: rollback, epochs, tampering, staleness, key rotation ----------------------------------------------
def test_a_replayed_older_snapshot_is_refused_and_the_newer_set_kept(client: Client, store: Store) -> None:
    store.publish_rules([exact(1)], [], NOW)
    v1 = client.rules.GetRules(rules_pb2.GetRulesRequest(), timeout=5)  # recorded by whoever sits on the path
    store.publish_rules([exact(2)], [], NOW)
    store.publish_rules([], [exact(1).rule_id], NOW)
    relay = Relay(client.rules)
    mirror = RulesMirror(relay, key_of(client))  # type: ignore[arg-type]
    assert mirror.sync() == 3 and set(mirror.rules) == {exact(2).rule_id}
    relay.replay = v1  # a genuine, correctly signed snapshot — of version 1
    with pytest.raises(RulesRollbackError, match="older than the epoch"):
        mirror.sync()
    assert mirror.version == 3 and set(mirror.rules) == {exact(2).rule_id} and mirror.rejected == 1


def _server_on(settings: Settings, store: Store) -> Server:
    return Server(
        settings.model_copy(update={"refresh_interval_seconds": 0.05}), store=store, nudge=lambda: None
    ).start()


def test_a_store_restored_from_backup_is_taken_after_a_new_epoch(settings: Settings, tmp_path: Any) -> None:
    live = SQLiteStore(settings.sqlite_file)
    live.migrate()
    live.publish_rules([exact(1)], [], NOW)
    live.feed_epoch()
    backup = tmp_path / "backup.db"
    with sqlite3.connect(settings.sqlite_file) as src, sqlite3.connect(backup) as dst:
        src.backup(dst)  # the backup holds version 1
    live.publish_rules([exact(2)], [], NOW)
    live.publish_rules([exact(3)], [], NOW)
    server = _server_on(settings, live)
    try:
        with Client(server.address, timeout=5) as c:
            mirror = RulesMirror(c.rules, key_of(c))
            assert mirror.sync() == 3
            first_epoch = mirror.epoch
    finally:
        server.stop(grace=0)
        live.close()
    restored = SQLiteStore(backup)  # the platform is restored from the backup: version 1 again
    server = _server_on(settings, restored)  # same data_dir: the same signing key
    try:
        with Client(server.address, timeout=5) as c:
            mirror.stub = c.rules
            with pytest.raises(RulesRollbackError):  # without a new epoch the restored feed looks like a rollback
                mirror.sync()
            assert mirror.version == 3
            restored.start_feed_epoch(datetime.now(UTC))  # `numrep epoch new`, the restore runbook's step
            time.sleep(0.1)  # servers read the epoch again each refresh interval
            assert mirror.sync() == 1
            assert mirror.epoch > first_epoch and set(mirror.rules) == {exact(1).rule_id}
            restored.publish_rules([exact(4)], [], NOW)
            assert mirror.sync() == 2 and mirror.resyncs == 1  # deltas flow again within the new epoch
    finally:
        server.stop(grace=0)
        restored.close()


def _tamper(field: str) -> Any:
    def edit(update: rules_pb2.RulesUpdate) -> None:
        for r in update.added:
            if field == "expires_at":
                r.expires_at.FromDatetime(datetime(2030, 1, 1))
            elif field == "action":
                r.action = common_pb2.ACTION_LABEL
            elif field == "category":
                r.category = common_pb2.CATEGORY_RETAIL

    return edit


@pytest.mark.parametrize("field", ["expires_at", "action", "category"])
def test_a_tampered_field_the_sdk_acts_on_is_refused(client: Client, store: Store, field: str) -> None:
    store.publish_rules([exact(1)], [], NOW)
    relay = Relay(client.rules)
    mirror = RulesMirror(relay, key_of(client))  # type: ignore[arg-type]
    relay.edit = _tamper(field)
    with pytest.raises(RulesIntegrityError, match="checksum"):
        mirror.sync()
    assert mirror.version == 0 and mirror.rules == {}
    relay.edit = None
    store.publish_rules([exact(2)], [], NOW)
    mirror.sync()
    relay.edit = _tamper(field)  # a tampered delta: refused, and the mirror resynchronises from a clean snapshot ...
    store.publish_rules([exact(3)], [], NOW)
    with pytest.raises(RulesIntegrityError):
        mirror.sync()  # ... which the relay tampers with too
    assert mirror.version == 2 and mirror.rejected == 2
    assert {r.action for r in mirror.rules.values()} == {Action.BLOCK}


def test_reasons_are_unsigned_display_text(client: Client, store: Store) -> None:
    """Documented: a rescore that rewords a reason publishes nothing, so reasons are outside the checksum."""
    store.publish_rules([exact(1, reason="10 reporters")], [], NOW)
    assert store.publish_rules([exact(1, reason="11 reporters")], [], NOW) is None


def test_a_rule_with_an_expiry_lapses_at_match_time_without_changing_the_set(client: Client, store: Store) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    store.publish_rules([exact(1, expires_at=soon)], [], NOW)
    clock = [datetime.now(UTC)]
    mirror = RulesMirror(client.rules, key_of(client), clock=lambda: clock[0], max_age=timedelta(days=1))
    mirror.sync()
    assert mirror.match("tel:+8613800000001", Channel.VOICE) == exact(1, expires_at=soon)
    clock[0] = soon + timedelta(seconds=1)
    assert mirror.match("tel:+8613800000001", Channel.VOICE) is None
    assert mirror.checksum == store.rules_since(0).checksum  # the set is unchanged; expiry is applied when matching


def test_a_tampered_filter_snapshot_is_refused(
    client: Client, server: Server, store: Store, settings: Settings
) -> None:
    import hashlib

    store.publish_rules([exact(1)], [], NOW)
    pipeline.sync_filter(store, settings)
    local = LocalListClient(server.address, public_key=key_of(client), deadline=1.0)
    relay = Relay(local.rules)
    local.rules = local.mirror.stub = relay  # type: ignore[assignment]

    def flip(chunks: list[rules_pb2.FilterChunk]) -> None:
        data = bytearray(chunks[0].data)
        data[-1] ^= 0xFF
        chunks[0].data = bytes(data)

    def forge(chunks: list[rules_pb2.FilterChunk]) -> None:  # new data with a matching SHA-256: the signature fails
        flip(chunks)
        digest = hashlib.sha256(b"".join(c.data for c in chunks)).hexdigest()
        for c in chunks:
            c.sha256 = digest

    try:
        for edit, why in ((flip, "SHA-256"), (forge, "signature")):
            relay.edit_filter = edit
            with pytest.raises(RulesIntegrityError, match=why):
                local.sync()
            assert local.mirror.version == 1 and local._filter.version == 0  # rules taken, filter refused
        relay.edit_filter = None
        local.sync()
        assert local._filter.version == 1 and "tel:+8613800000001" in local._filter
    finally:
        local.close()


def test_a_frozen_feed_is_detected_and_the_last_good_set_keeps_answering(client: Client, store: Store) -> None:
    store.publish_rules([exact(1)], [], NOW)
    clock = [datetime.now(UTC)]
    relay = Relay(client.rules)
    mirror = RulesMirror(relay, key_of(client), max_age=timedelta(minutes=10), clock=lambda: clock[0])  # type: ignore[arg-type]
    assert mirror.stale  # nothing verified yet
    mirror.sync()
    assert not mirror.stale and mirror.issued_at is not None
    relay.replay = client.rules.GetRules(rules_pb2.GetRulesRequest(since_version=1), timeout=5)  # frozen from now on
    clock[0] += timedelta(minutes=5)
    mirror.sync()  # the replayed poll is still within the maximum age
    assert not mirror.stale
    clock[0] += timedelta(minutes=10)
    with pytest.raises(RulesStaleError, match="maximum age"):
        mirror.sync()
    assert mirror.stale and mirror.match("tel:+8613800000001", Channel.VOICE) == exact(1)  # last good still answers
    relay.replay = None  # the real feed again: a fresh signed poll clears it
    clock[0] = datetime.now(UTC)
    mirror.sync()
    assert not mirror.stale


def test_watch_rules_heartbeats_renew_freshness_without_new_versions(settings: Settings, sqlite_store: Store) -> None:
    sqlite_store.publish_rules([exact(1)], [], NOW)
    server = Server(
        settings.model_copy(update={"refresh_interval_seconds": 0.05, "rules_heartbeat_seconds": 0.2}),
        store=sqlite_store,
        nudge=lambda: None,
    ).start()
    stop = threading.Event()
    try:
        with Client(server.address, timeout=5) as c:
            mirror = RulesMirror(c.rules, key_of(c))
            t = threading.Thread(target=mirror.watch, args=(stop,), daemon=True)
            t.start()
            try:
                deadline = time.monotonic() + 10
                while mirror.issued_at is None:
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
                first = mirror.issued_at
                while mirror.issued_at == first:
                    assert time.monotonic() < deadline, "no heartbeat renewed the feed"
                    time.sleep(0.02)
                assert mirror.version == 1 and mirror.rejected == 0
            finally:
                stop.set()  # the watch returns quietly before the channel closes
                t.join(5)
    finally:
        server.stop(grace=0)


def test_the_mirror_trusts_a_set_of_keys_during_rotation(
    client: Client, store: Store, settings: Settings, tmp_path: Any
) -> None:
    store.publish_rules([exact(1)], [], NOW)
    current = key_of(client)
    upcoming = raw_public(Ed25519PrivateKey.generate().public_key())
    assert RulesMirror(client.rules, [upcoming, current]).sync() == 1  # both trusted during the overlap
    with pytest.raises(RulesIntegrityError, match="trusted key"):
        RulesMirror(client.rules, [upcoming]).sync()  # only the next key: the current one's updates are refused
    rotated = Server(
        settings.model_copy(update={"data_dir": tmp_path / "rotated"}), store=store, nudge=lambda: None
    ).start()  # another key file: the platform after the switch
    try:
        with Client(rotated.address, timeout=5) as c:
            new_key = key_of(c)
            assert new_key != current
            mirror = RulesMirror(c.rules, [current, new_key])
            assert mirror.sync() == 1
            with pytest.raises(RulesIntegrityError):
                RulesMirror(c.rules, current).sync()  # an SDK that never learnt the new key
    finally:
        rotated.stop(grace=0)


# ---- item 6: the filter is fetched when its version changes, from one shared copy ---------------------------------
def test_the_filter_is_downloaded_only_when_its_version_changes(
    client: Client, server: Server, store: Store, settings: Settings
) -> None:
    store.publish_rules([exact(1)], [], NOW)
    pipeline.sync_filter(store, settings)
    local = LocalListClient(server.address, public_key=key_of(client), deadline=1.0)
    try:
        local.sync()
        assert local.filter_downloads == 1 and server.rules.filter_downloads == 1
        for n in range(2, 6):  # the rules move on; the filter lags behind them
            store.publish_rules([exact(n)], [], NOW)
            local.sync()
        assert local.mirror.version == 5 and local._filter.version == 1
        assert local.filter_downloads == 1 and server.rules.filter_downloads == 1
        pipeline.sync_filter(store, settings)  # a new filter version
        local.sync()
        assert local.filter_downloads == 2 and local._filter.version == 5 and "tel:+8613800000005" in local._filter
        assert server.rules.filter_chunks == 2  # one chunk per download, nothing on the syncs in between
    finally:
        local.close()


def test_concurrent_filter_downloads_share_one_serialized_copy(
    client: Client, server: Server, store: Store, settings: Settings
) -> None:
    from services.rules import FILTER_CHUNK_BYTES

    store.publish_rules([exact(n) for n in range(2000)], [], NOW)
    tuned = settings.model_copy(update={"filter_min_capacity": 2_000_000})  # a filter of several chunks
    meta = pipeline.sync_filter(store, tuned)
    assert meta is not None
    size = len(store.filter_snapshot_data(meta.snapshot_id))
    chunks_each = -(-size // FILTER_CHUNK_BYTES)
    assert chunks_each > 1
    results: list[int] = []

    def download() -> None:
        got = list(client.rules.GetFilterSnapshot(rules_pb2.GetFilterSnapshotRequest(), timeout=30))
        results.append(sum(len(c.data) for c in got))

    threads = [threading.Thread(target=download) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [size] * 4
    assert server.rules.filter_loads == 1  # read and serialized once for every caller
    assert server.rules.filter_chunks == 4 * chunks_each


# ---- item 8: cheap calls cost bounded work ------------------------------------------------------------------------
def test_a_stale_page_token_is_refused_without_reading_the_rule_set(
    client: Client, server: Server, store: Store
) -> None:
    store.publish_rules([exact(n) for n in range(12)], [], NOW)
    first = client.rules.GetRules(rules_pb2.GetRulesRequest(page_size=5), timeout=5)
    store.publish_rules([exact(100)], [], NOW)
    client.rules.GetRules(rules_pb2.GetRulesRequest(page_size=5), timeout=5)  # another client: version 2 is held
    reads = server.rules.full_reads
    for _ in range(20):
        with pytest.raises(grpc.RpcError) as err:
            client.rules.GetRules(rules_pb2.GetRulesRequest(page_token=first.next_page_token, page_size=5), timeout=5)
        assert err.value.code() is grpc.StatusCode.ABORTED
    assert server.rules.full_reads == reads
    server.rules._snapshot = None  # as on a pod that never served version 1
    with pytest.raises(grpc.RpcError) as err:
        client.rules.GetRules(rules_pb2.GetRulesRequest(page_token=first.next_page_token, page_size=5), timeout=5)
    assert err.value.code() is grpc.StatusCode.ABORTED and server.rules.full_reads == reads
    with pytest.raises(grpc.RpcError) as bad:
        client.rules.GetRules(rules_pb2.GetRulesRequest(page_token="2.999999"), timeout=5)
    assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "page_token" in (bad.value.details() or "")


def test_a_client_far_behind_gets_the_shared_snapshot_not_a_long_delta(
    client: Client, server: Server, store: Store
) -> None:
    store.max_delta_versions = 3
    for n in range(10):
        store.publish_rules([exact(n)], [], NOW)
    near = client.rules.GetRules(rules_pb2.GetRulesRequest(since_version=7), timeout=5)
    assert not near.full_snapshot and near.from_version == 7 and len(near.added) == 3
    reads = server.rules.full_reads
    for since in (1, 2, 5, 6):  # beyond the window: one shared snapshot, read once
        far = client.rules.GetRules(rules_pb2.GetRulesRequest(since_version=since), timeout=5)
        assert far.full_snapshot and far.version == 10 and len(far.added) == 10
    assert server.rules.full_reads == reads + 1


def test_page_size_is_capped_by_the_message_limit_and_pages_fit(settings: Settings, sqlite_store: Store) -> None:
    limit = 256 * 1024
    server = Server(
        settings.model_copy(update={"grpc_max_message_bytes": limit}), store=sqlite_store, nudge=lambda: None
    ).start()
    try:
        with Client(server.address, timeout=5) as c:
            with pytest.raises(grpc.RpcError) as err:
                c.rules.GetRules(rules_pb2.GetRulesRequest(page_size=max_page_size(limit) + 1), timeout=5)
            assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "page_size" in (err.value.details() or "")
            long_reason = "r" * 2000  # rules far larger than the cap assumes: pages are cut by bytes too
            sqlite_store.publish_rules([exact(n, reason=long_reason) for n in range(400)], [], NOW)
            first = c.rules.GetRules(rules_pb2.GetRulesRequest(page_size=max_page_size(limit)), timeout=5)
            assert first.ByteSize() <= limit and 0 < len(first.added) < 400 and first.next_page_token
            mirror = RulesMirror(c.rules, key_of(c), page_size=max_page_size(limit))
            assert mirror.sync() == 1 and len(mirror.rules) == 400
    finally:
        server.stop(grace=0)
    assert max_page_size(4 * 1024 * 1024) == 32_256  # the documented maximum at the default limit


# ---- item 14: the allowlist travels in the feed ---------------------------------------------------------------------
def test_an_allowlisted_number_inside_a_range_rule_passes_in_the_sdk_at_once(
    client: Client, server: Server, store: Store
) -> None:
    rng = Rule(
        "tel:+86170#voice", RuleKind.RANGE, "tel:+86170", Channel.VOICE, Action.BLOCK, Category.FRAUD, "range", NOW
    )
    store.publish_rules([rng], [], NOW)
    local = LocalListClient(server.address, public_key=key_of(client), deadline=1.0)
    try:
        local.sync()
        before = local.lookup("17012345678", Channel.VOICE)
        assert (before.action, before.source) == (Action.BLOCK, VerdictSource.RANGE_RULE)
        client.allowlist_add("17012345678", "verified hospital line")
        local.sync()
        after = local.lookup("17012345678", Channel.VOICE)
        assert (after.action, after.source, after.protected) == (Action.ALLOW, VerdictSource.PROTECTED, True)
        assert "verified hospital line" in after.reasons[0]
        assert local.lookup("17012345679", Channel.VOICE).action is Action.BLOCK  # its neighbours still blocked
        assert "tel:+8617012345678#allow" in local.mirror.rules and local.service_calls == 0
        client.allowlist_remove("17012345678")
        local.sync()
        assert local.lookup("17012345678", Channel.VOICE).action is Action.BLOCK
    finally:
        local.close()


def test_the_batch_path_brings_the_allow_rules_to_the_allowlist(store: Store) -> None:
    from numrep.models import AllowlistEntry

    store.add_allowlist(AllowlistEntry("tel:+8613800000001", "bank", "ops", NOW))  # written before the feed carried it
    pipeline.reconcile_rules(store)
    rules = store.active_rules()
    assert rules["tel:+8613800000001#allow"].kind is RuleKind.ALLOW
    store.remove_allowlist("tel:+8613800000001")
    pipeline.reconcile_rules(store)
    assert "tel:+8613800000001#allow" not in store.active_rules()


def test_numrep_epoch_new_begins_a_later_epoch_in_the_configured_store(settings: Settings, sqlite_store: Store) -> None:
    from click.testing import CliRunner

    from numrep.cli import main

    before = sqlite_store.feed_epoch()
    env = {"NUMREP_DATA_DIR": str(settings.data_dir), "NUMREP_HASH_KEY": "k" * 64, "COLUMNS": "200"}
    shown = CliRunner().invoke(main, ["epoch", "show"], env=env, catch_exceptions=False)
    assert shown.exit_code == 0 and f"feed epoch {before}" in shown.output
    began = CliRunner().invoke(main, ["epoch", "new"], env=env, catch_exceptions=False)
    assert began.exit_code == 0 and "began feed epoch" in began.output
    assert sqlite_store.feed_epoch() > before
