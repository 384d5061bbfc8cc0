"""Rule derivation, diffs and checksums; Bloom filter snapshots."""

from __future__ import annotations

import math

import pytest

from numrep import filter as bloom
from numrep.models import Action, Category, Channel, Reputation, RuleKind
from numrep.rules import canonical_checksum, diff, rules_for
from tests.conftest import NOW


def rep(subject: str, voice: Action, sms: Action = Action.ALLOW, protected: bool = False) -> Reputation:
    actions = {Channel.SMS: sms} if subject.startswith("sms:") else {Channel.VOICE: voice, Channel.SMS: sms}
    return Reputation(subject, 90, actions, {Category.FRAUD: 5}, 5, 5.0, NOW, NOW, ("5 reporters",), protected, NOW)


def test_rules_for_flagged_channels_only() -> None:
    rules = rules_for(rep("tel:+86a", Action.BLOCK, Action.LABEL), NOW)
    assert {rid: r.action for rid, r in rules.items()} == {"tel:+86a#voice": Action.BLOCK, "tel:+86a#sms": Action.LABEL}
    assert all(r.kind is RuleKind.EXACT and r.category is Category.FRAUD for r in rules.values())
    assert rules_for(rep("tel:+86b", Action.ALLOW), NOW) == {}
    assert rules_for(rep("tel:+86c", Action.BLOCK, protected=True), NOW) == {}
    [port_rule] = rules_for(rep("sms:10657", Action.ALLOW, Action.BLOCK), NOW).values()
    assert port_rule.kind is RuleKind.PORT


def test_diff_ignores_reissue_of_the_same_rule() -> None:
    current = rules_for(rep("tel:+86a", Action.BLOCK), NOW)
    assert diff(current, rules_for(rep("tel:+86a", Action.BLOCK), NOW.replace(year=2027))) == ([], [])
    upserts, removed = diff(current, rules_for(rep("tel:+86a", Action.LABEL), NOW))
    assert [r.action for r in upserts] == [Action.LABEL] and removed == []
    assert diff(current, {}) == ([], ["tel:+86a#voice"])


def test_checksum_is_order_independent_and_sensitive() -> None:
    a = list(rules_for(rep("tel:+86a", Action.BLOCK, Action.LABEL), NOW).values())
    assert canonical_checksum(a) == canonical_checksum(reversed(a))
    assert canonical_checksum(a) != canonical_checksum(a[:1])


IMPLS = pytest.mark.parametrize("impl", ["pybloom", "blake2"])


@IMPLS
def test_filter_has_no_false_negatives_and_round_trips(impl: bloom.Impl) -> None:
    subjects = [f"tel:+86170{i:08d}" for i in range(5000)]
    snap = bloom.build(subjects, version=3, error_rate=0.001, min_capacity=100, impl=impl)
    assert all(s in snap for s in subjects)
    again = bloom.FilterSnapshot.from_bytes(3, 0.001, snap.to_bytes())
    assert all(s in again for s in subjects) and again.count == 5000
    assert type(again.bloom) is type(snap.bloom) and again.bits == snap.bits


@IMPLS
def test_filter_false_positive_rate_is_near_target(impl: bloom.Impl) -> None:
    snap = bloom.build([f"tel:+86170{i:08d}" for i in range(10_000)], 1, 0.01, 10_000, impl)
    probes = [f"tel:+86138{i:08d}" for i in range(20_000)]
    fp = sum(p in snap for p in probes) / len(probes)
    assert fp < 0.03


@IMPLS
def test_extend_adds_without_touching_the_base(impl: bloom.Impl) -> None:
    base = bloom.build(["tel:+86a"], 1, 0.001, 100, impl)
    ext = bloom.extend(base, ["tel:+86b", "tel:+86a"], 2)
    assert ext is not None and ext.version == 2 and ext.count == 2
    assert "tel:+86b" in ext and "tel:+86b" not in base
    assert base.capacity == 1 + bloom.MIN_HEADROOM
    assert bloom.extend(base, [f"tel:+86{i}" for i in range(2000)], 3) is None  # over capacity


@IMPLS
def test_a_fresh_filter_is_within_five_percent_of_the_bloom_optimum(impl: bloom.Impl) -> None:
    subjects = [f"tel:+86170{i:08d}" for i in range(200_000)]
    snap = bloom.build(subjects, 1, 0.001, 10_000, impl)
    assert snap.bits / bloom.optimal_bits(snap.count, 0.001) <= 1.05
    rate, _ = bloom.measured_error_rate(snap, (f"tel:+86138{i:08d}" for i in range(100_000)))
    assert rate < 0.002


@IMPLS
def test_a_sharded_build_is_the_same_filter(impl: bloom.Impl) -> None:
    subjects = [f"tel:+86171{i:08d}" for i in range(30_000)]
    single = bloom.build(subjects, 4, 0.001, 100, impl)
    sharded = bloom.build_from_list(subjects, 4, 0.001, 100, shards=3, impl=impl)
    n = single.bits
    assert sharded.bloom.bitarray[:n] == single.bloom.bitarray[:n] and not sharded.bloom.bitarray[n:].any()
    assert (sharded.count, sharded.capacity, sharded.version) == (30_000, single.capacity, 4)
    again = bloom.FilterSnapshot.from_bytes(4, 0.001, sharded.to_bytes())
    assert all(s in again for s in subjects)


def test_blake2_snapshots_are_checked_on_load() -> None:
    data = bloom.build(["tel:+8613800138000"], 1, 0.001, 100, "blake2").to_bytes()
    with pytest.raises(ValueError, match="truncated"):
        bloom.FilterSnapshot.from_bytes(1, 0.001, data[:-10])


def test_optimal_bits() -> None:
    assert math.isclose(bloom.optimal_bits(1000, 0.01), 9585.06, rel_tol=1e-3)
