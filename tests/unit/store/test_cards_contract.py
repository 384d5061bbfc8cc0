"""The real-name card part of the store contract: the same tests on every backend."""

from __future__ import annotations

import dataclasses
from datetime import date

from numrep.models import Card, CardStatus
from numrep.store.base import Store

DAY = date(2026, 10, 1)


def card(n: int, operator: str = "China Mobile", id_hash: str = "h1:id-a", seller: str = "Shop 1") -> Card:
    return Card(operator, f"tel:+86138{n:08d}", id_hash, DAY, seller)


class TestCards:
    def test_cards_round_trip_by_key_and_by_id(self, store: Store) -> None:
        # given cards of two IDs at two operators
        a = [card(i) for i in range(3)] + [card(10, "China Unicom")]
        b = [card(20, id_hash="h1:id-b", seller="Reseller X")]
        # when they are put
        assert store.put_cards(a + b) == 5
        # then each reads back by key, by ID, and in a scan
        assert store.get_cards([a[0].key, b[0].key, ("China Mobile", "tel:+8613900000000")]) == {
            a[0].key: a[0],
            b[0].key: b[0],
        }
        assert store.cards_of_ids(["h1:id-a", "h1:id-b", "h1:none"]) == {
            "h1:id-a": sorted(a, key=lambda c: c.key),
            "h1:id-b": b,
        }
        assert sorted(store.iter_cards(), key=lambda c: c.key) == sorted(a + b, key=lambda c: c.key)
        assert sorted(store.iter_cards("China Unicom"), key=lambda c: c.key) == [a[3]]

    def test_putting_the_same_cards_again_changes_nothing(self, store: Store) -> None:
        cards = [card(i) for i in range(4)]
        assert store.put_cards(cards) == 4
        assert store.put_cards(iter(cards)) == 0  # consumed as a stream
        assert store.put_cards(cards + [card(9)]) == 1

    def test_a_status_and_a_new_holder_replace_the_card(self, store: Store) -> None:
        c = card(1)
        store.put_cards([c])
        done = dataclasses.replace(c, status=CardStatus.REVERIFIED, status_on=date(2026, 10, 5))
        assert store.put_cards([done]) == 1
        assert store.get_cards([c.key]) == {c.key: done}
        # the number changes hands: the card moves to the new ID, and the old ID no longer holds it
        moved = dataclasses.replace(c, id_hash="h1:id-new", registered_on=date(2026, 10, 9))
        assert store.put_cards([moved]) == 1
        assert store.cards_of_ids(["h1:id-a", "h1:id-new"]) == {"h1:id-new": [moved]}

    def test_scans_stream_past_one_page(self, store: Store) -> None:
        cards = [card(i, operator=f"Op {i % 3}", id_hash=f"h1:id-{i % 7}") for i in range(12_345)]
        assert store.put_cards(cards) == len(cards)
        assert sum(1 for _ in store.iter_cards()) == len(cards)
        assert sorted(c.number for c in store.iter_cards("Op 1")) == sorted(
            c.number for c in cards if c.operator == "Op 1"
        )
