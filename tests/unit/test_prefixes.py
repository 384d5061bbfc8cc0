"""PrefixMap: the longest covering prefix wins; a proper map ignores a prefix equal to the subject."""

from __future__ import annotations

from numrep.prefixes import PrefixMap


def test_longest_prefix_and_all_covering_prefixes() -> None:
    m = PrefixMap([("tel:+86170", "block"), ("tel:+861701", "sub-block"), ("sms:10657", "port")])
    assert m.longest("tel:+8617012345678") == "sub-block"
    assert m.longest("tel:+8617098765432") == "block"
    assert m.longest("tel:+8613800138000") is None
    assert m.covering("tel:+8617012345678") == ["sub-block", "block"]
    assert m.longest("tel:+86170") == "block" and len(m) == 3


def test_a_proper_map_matches_only_shorter_prefixes() -> None:
    m = PrefixMap([("tel:+86170", "range")], proper=True)
    assert m.longest("tel:+86170") is None and m.covering("tel:+86170") == []
    assert m.longest("tel:+861700") == "range"
    assert PrefixMap[str]([]).longest("tel:+86170") is None
