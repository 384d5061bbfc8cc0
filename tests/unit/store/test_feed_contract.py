"""The rules feed's store contract (every backend): the epoch, bounded deltas, expiry and ALLOW rules in the set."""

from __future__ import annotations

from datetime import timedelta

from numrep.models import Action, Category, Channel, Rule, RuleKind
from numrep.rules import canonical_checksum
from numrep.store.base import Store
from tests.conftest import NOW


def rule(n: int, expires_in: timedelta | None = None, kind: RuleKind = RuleKind.EXACT) -> Rule:
    subject = f"tel:+86138{n:08d}"
    rid = f"{subject}#allow" if kind is RuleKind.ALLOW else f"{subject}#voice"
    action = Action.ALLOW if kind is RuleKind.ALLOW else Action.BLOCK
    return Rule(
        rid,
        kind,
        subject,
        Channel.VOICE,
        action,
        Category.FRAUD,
        "because",
        NOW,
        NOW + expires_in if expires_in is not None else None,
    )


def test_the_feed_epoch_is_begun_once_and_a_new_one_is_later(store: Store) -> None:
    first = store.feed_epoch()
    assert first > 0 and store.feed_epoch() == first
    second = store.start_feed_epoch(NOW - timedelta(days=365))  # even with a clock behind: later than the last
    assert second > first and store.feed_epoch() == second


def test_a_new_epoch_derives_the_latest_checksum_again(store: Store) -> None:
    version = store.publish_rules([rule(1), rule(2)], [], NOW)
    assert version == 1
    with store._publishing():  # a checksum written under an older canonical form
        store._rewrite_checksum(1, "0" * 64)
    assert store.rules_since(0).checksum == "0" * 64
    store.start_feed_epoch(NOW)
    assert store.rules_since(0).checksum == canonical_checksum(store.active_rules().values())


def test_deltas_span_at_most_max_delta_versions(store: Store) -> None:
    store.max_delta_versions = 3
    for n in range(8):
        store.publish_rules([rule(n)], [], NOW)
    near = store.rules_since(5)
    assert not near.full_snapshot and len(near.added) == 3
    far = store.rules_since(4)
    assert far.full_snapshot and len(far.added) == 8 and far.checksum == near.checksum


def test_expiry_is_stored_and_in_the_checksum(store: Store) -> None:
    store.publish_rules([rule(1, timedelta(days=7))], [], NOW)
    assert store.active_rules()[rule(1).rule_id].expires_at == NOW + timedelta(days=7)
    assert store.publish_rules([rule(1, timedelta(days=7))], [], NOW) is None
    assert store.publish_rules([rule(1, timedelta(days=30))], [], NOW) == 2  # a changed expiry is a change
    assert store.rules_since(0).checksum == canonical_checksum([rule(1, timedelta(days=30))])


def test_allow_rules_round_trip_beside_blocking_rules(store: Store) -> None:
    store.publish_rules([rule(1), rule(1, kind=RuleKind.ALLOW)], [], NOW)
    rules = store.active_rules({"tel:+8613800000001"})
    assert {r.kind for r in rules.values()} == {RuleKind.EXACT, RuleKind.ALLOW}
    assert rules["tel:+8613800000001#allow"].action is Action.ALLOW
