"""An operator's RulesMirror stays identical to the server's rule set.

100 random rule changes over a real gRPC channel, with a forced gap (the
server's delta log no longer reaches the mirror's version), a relay that
hands over a delta from the wrong version, a corrupted delta and a forged
signature.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from numrep import convert
from numrep.models import Action, Category, Channel, Rule, RuleKind
from numrep.sdk import RulesIntegrityError, RulesMirror
from numrep.sdk.client import Client
from numrep.store.base import Store
from numrep.v1 import common_pb2, rules_pb2
from services.server import Server

NOW = datetime.now(UTC)


def public_key(client: Client) -> bytes:
    key = client.rules.GetSigningKey(rules_pb2.GetSigningKeyRequest(), timeout=5)
    assert key.algorithm == "Ed25519" and len(key.public_key) == 32
    return bytes(key.public_key)


def random_change(rnd: random.Random, active: dict[str, Rule]) -> tuple[list[Rule], list[str]]:
    upserts = []
    for _ in range(rnd.randint(0, 3)):
        if rnd.random() < 0.15:
            subject, kind = f"tel:+86{rnd.choice(['170', '171', '1701'])}", RuleKind.RANGE
        else:
            subject, kind = f"tel:+8613{rnd.randint(0, 40):09d}", RuleKind.EXACT
        channel = rnd.choice(list(Channel))
        upserts.append(
            Rule(
                f"{subject}#{channel.value}",
                kind,
                subject,
                channel,
                rnd.choice([Action.LABEL, Action.BLOCK]),
                rnd.choice(list(Category)),
                "random",
                NOW,
            )
        )
    removed = rnd.sample(sorted(active), k=min(len(active), rnd.randint(0, 2)))
    if not upserts and not removed:
        upserts.append(
            Rule(
                "tel:+8613999999999#voice",
                RuleKind.EXACT,
                "tel:+8613999999999",
                Channel.VOICE,
                rnd.choice([Action.LABEL, Action.BLOCK]),
                Category.OTHER,
                "filler",
                NOW,
            )
        )
    return upserts, removed


class Relay:
    """Stands between the mirror and the real stub and misbehaves on request."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub
        self.mode = ""

    def GetRules(self, request: rules_pb2.GetRulesRequest, timeout: float | None = None) -> rules_pb2.RulesUpdate:
        mode, self.mode = self.mode, ""
        if mode == "wrong-base" and request.since_version > 1:
            return self.stub.GetRules(
                rules_pb2.GetRulesRequest(since_version=request.since_version - 1), timeout=timeout
            )
        update = self.stub.GetRules(request, timeout=timeout)
        if mode == "corrupt" and update.added:
            update.added[0].action = (
                common_pb2.ACTION_ALLOW
                if update.added[0].action != common_pb2.ACTION_ALLOW
                else common_pb2.ACTION_BLOCK
            )
        if mode == "corrupt" and not update.added:
            update.removed.append("tel:+8600000000000#voice")
            update.checksum = "0" * 64
        if mode == "forge":
            update.signature = bytes(64)
        if mode == "forge-always":
            self.mode = "forge-always"
            update.signature = bytes(64)
        return update

    def WatchRules(self, request: rules_pb2.GetRulesRequest, **kw: Any) -> Any:
        return self.stub.WatchRules(request, **kw)


def test_mirror_follows_100_random_changes_through_gaps_and_corruption(
    client: Client, server: Server, store: Store
) -> None:
    rnd = random.Random(20261122)
    relay = Relay(client.rules)
    mirror = RulesMirror(relay, public_key(client))  # type: ignore[arg-type]
    store.keep_versions = 5  # type: ignore[attr-defined]  # a short delta log, so a lagging mirror meets a gap
    mirror.sync()
    assert mirror.version == 0 and mirror.rules == {}
    for step in range(1, 101):
        upserts, removed = random_change(rnd, store.active_rules())
        store.publish_rules(upserts, removed, NOW)
        if step == 30:
            continue  # lag behind ...
        if 30 < step < 40:
            continue  # ... more versions than the server keeps deltas for: a forced gap at step 40
        relay.mode = {50: "wrong-base", 60: "corrupt", 70: "forge"}.get(step, "")
        mirror.sync()
        expected = store.active_rules()
        assert mirror.version == store.rules_version(), f"step {step}"
        assert {k: r.canonical() for k, r in mirror.rules.items()} == {k: r.canonical() for k, r in expected.items()}, (
            f"step {step}"
        )
        assert mirror.checksum == store.rules_since(0).checksum
    assert mirror.rejected == 3  # the wrong base, the corrupted delta and the forged signature
    assert mirror.resyncs == 3


def test_a_forged_snapshot_raises_and_keeps_the_verified_set(client: Client, store: Store) -> None:
    relay = Relay(client.rules)
    mirror = RulesMirror(relay, public_key(client))  # type: ignore[arg-type]
    rule = Rule(
        "tel:+8613800000001#voice",
        RuleKind.EXACT,
        "tel:+8613800000001",
        Channel.VOICE,
        Action.BLOCK,
        Category.FRAUD,
        "x",
        NOW,
    )
    store.publish_rules([rule], [], NOW)
    mirror.sync()
    store.publish_rules([], [rule.rule_id], NOW)
    relay.mode = "forge-always"
    with pytest.raises(RulesIntegrityError, match="failed verification; keeping version 1"):
        mirror.sync()
    assert mirror.version == 1 and mirror.match("tel:+8613800000001", Channel.VOICE) == rule


def test_wrong_public_key_is_never_trusted(client: Client, store: Store) -> None:
    store.publish_rules(
        [
            Rule(
                "tel:+8613800000001#voice",
                RuleKind.EXACT,
                "tel:+8613800000001",
                Channel.VOICE,
                Action.BLOCK,
                Category.FRAUD,
                "x",
                NOW,
            )
        ],
        [],
        NOW,
    )
    mirror = RulesMirror(client.rules, bytes(range(32)))
    with pytest.raises(RulesIntegrityError):
        mirror.sync()
    assert mirror.version == 0


def test_watch_applies_streamed_updates_and_match_uses_ranges(client: Client, store: Store) -> None:
    mirror = RulesMirror(client.rules, public_key(client))
    stop = threading.Event()
    t = threading.Thread(target=mirror.watch, args=(stop,), daemon=True)
    t.start()
    rng = Rule(
        "tel:+86170#voice", RuleKind.RANGE, "tel:+86170", Channel.VOICE, Action.LABEL, Category.FRAUD, "range", NOW
    )
    exact = Rule(
        "tel:+8617012345678#voice",
        RuleKind.EXACT,
        "tel:+8617012345678",
        Channel.VOICE,
        Action.BLOCK,
        Category.LOANS_FINANCE,
        "exact",
        NOW,
    )
    store.publish_rules([rng, exact], [], NOW)
    import time

    deadline = time.monotonic() + 10
    while mirror.version < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    stop.set()
    assert mirror.match("tel:+8617012345678", Channel.VOICE) == exact
    assert mirror.match("tel:+8617099999999", Channel.VOICE) == rng
    assert mirror.match("tel:+8617099999999", Channel.SMS) is None
    assert convert.rule(exact).rule_id == exact.rule_id


def _exact_rules(n: int, prefix: str = "13") -> list[Rule]:
    return [
        Rule(
            f"tel:+86{prefix}{i:09d}#voice",
            RuleKind.EXACT,
            f"tel:+86{prefix}{i:09d}",
            Channel.VOICE,
            Action.BLOCK,
            Category.FRAUD,
            "paged",
            NOW,
        )
        for i in range(n)
    ]


def test_large_snapshots_come_in_pages_and_assemble(client: Client, store: Store) -> None:
    store.publish_rules(_exact_rules(23), [], NOW)
    first = client.rules.GetRules(rules_pb2.GetRulesRequest(page_size=10), timeout=5)
    assert first.full_snapshot and len(first.added) == 10 and first.next_page_token
    pages = [first]
    while pages[-1].next_page_token:
        pages.append(
            client.rules.GetRules(
                rules_pb2.GetRulesRequest(page_token=pages[-1].next_page_token, page_size=10), timeout=5
            )
        )
    assert [len(p.added) for p in pages] == [10, 10, 3]
    assert len({r.rule_id for p in pages for r in p.added}) == 23
    mirror = RulesMirror(client.rules, public_key(client), page_size=10)
    assert mirror.sync() == store.rules_version() and len(mirror.rules) == 23
    # a delta larger than a page comes as a paged snapshot too; a small one as a delta
    store.publish_rules(_exact_rules(15, "15"), [], NOW)
    mirror.sync()
    store.publish_rules(_exact_rules(2, "18"), [], NOW)
    mirror.sync()
    assert mirror.checksum == store.rules_since(0).checksum and len(mirror.rules) == 40
    assert mirror.resyncs == 0 and mirror.rejected == 0


def test_a_page_of_a_superseded_version_is_aborted_and_the_mirror_starts_again(client: Client, store: Store) -> None:
    import grpc

    store.publish_rules(_exact_rules(12), [], NOW)
    first = client.rules.GetRules(rules_pb2.GetRulesRequest(page_size=5), timeout=5)
    # Pages are served from the snapshot kept for that version: consistent even if the rules move on ...
    store.publish_rules(_exact_rules(1, "15"), [], NOW)
    second = client.rules.GetRules(rules_pb2.GetRulesRequest(page_token=first.next_page_token, page_size=5), timeout=5)
    assert second.version == first.version and len(second.added) == 5
    # ... until the service no longer holds it (another client fetched the newer snapshot, or another pod answers)
    client.rules.GetRules(rules_pb2.GetRulesRequest(page_size=5), timeout=5)
    with pytest.raises(grpc.RpcError) as err:
        client.rules.GetRules(rules_pb2.GetRulesRequest(page_token=first.next_page_token, page_size=5), timeout=5)
    assert err.value.code() is grpc.StatusCode.ABORTED and "start again" in (err.value.details() or "")
    with pytest.raises(grpc.RpcError) as bad:
        client.rules.GetRules(rules_pb2.GetRulesRequest(page_token="nonsense"), timeout=5)
    assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT

    class MovingRelay(Relay):
        """Publishes a new version right after the first page has been served."""

        moved = False

        def GetRules(self, request: rules_pb2.GetRulesRequest, timeout: float | None = None) -> rules_pb2.RulesUpdate:
            update = self.stub.GetRules(request, timeout=timeout)
            if not self.moved and update.next_page_token:
                self.moved = True
                store.publish_rules(_exact_rules(1, "18"), [], NOW)
                self.stub.GetRules(rules_pb2.GetRulesRequest(page_size=5), timeout=timeout)  # another client
            return update

    mirror = RulesMirror(MovingRelay(client.rules), public_key(client), page_size=5)  # type: ignore[arg-type]
    assert mirror.sync() == store.rules_version()
    assert mirror.checksum == store.rules_since(0).checksum and len(mirror.rules) == 14


def test_watch_assembles_paged_snapshots(client: Client, store: Store) -> None:
    import time

    store.publish_rules(_exact_rules(17), [], NOW)
    mirror = RulesMirror(client.rules, public_key(client), page_size=4)
    stop = threading.Event()
    t = threading.Thread(target=mirror.watch, args=(stop,), daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while mirror.version < store.rules_version():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    store.publish_rules(_exact_rules(9, "15"), [], NOW)  # larger than a page: a paged snapshot on the stream
    while mirror.version < store.rules_version():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    stop.set()
    t.join(5)
    assert len(mirror.rules) == 26 and mirror.checksum == store.rules_since(0).checksum and mirror.rejected == 0
