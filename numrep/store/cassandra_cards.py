"""Cassandra tables of the real-name card part (numrep.store.cards; migration ``cql/0012_cards.cql``).

``cards_by_shard`` holds every card, partitioned by a hash of its key so that
one operator's cards spread over CARD_SHARDS partitions; ``cards_by_id`` indexes
them by ID hash. Replacing a card with one of another ID moves its index row.
Scans page through the shards (the driver fetches SCAN_PAGE rows at a time).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from numrep.models import Card
from numrep.store.cards import CardStore
from numrep.store.cassandra_session import CassandraSession
from numrep.store.sqlite_cards import CARD_COLUMNS, card_from, card_values

CARD_SHARDS = 256
SCAN_PAGE = 5000
BATCH = 2000
INSERT_CARD = (
    f"INSERT INTO cards_by_shard (shard, {', '.join(CARD_COLUMNS)}) VALUES (?, {', '.join('?' * len(CARD_COLUMNS))})"
)
SELECT_CARD = "SELECT * FROM cards_by_shard WHERE shard = ? AND operator = ? AND number = ?"
SCAN_SHARD = "SELECT * FROM cards_by_shard WHERE shard = ?"
SCAN_SHARD_OF = "SELECT * FROM cards_by_shard WHERE shard = ? AND operator = ?"
INSERT_BY_ID = "INSERT INTO cards_by_id (id_hash, operator, number) VALUES (?, ?, ?)"
DELETE_BY_ID = "DELETE FROM cards_by_id WHERE id_hash = ? AND operator = ? AND number = ?"
SELECT_BY_ID = "SELECT operator, number FROM cards_by_id WHERE id_hash = ?"


def card_shard(operator: str, number: str) -> int:
    return zlib.crc32(f"{operator}\x00{number}".encode()) % CARD_SHARDS


class CassandraCards(CassandraSession, CardStore):
    """Mixed into CassandraStore, whose session helpers it uses."""

    def put_cards(self, cards: Iterable[Card]) -> int:
        changed = 0
        batch: list[Card] = []
        for card in cards:
            batch.append(card)
            if len(batch) >= BATCH:
                changed += self._put_batch(batch)
                batch = []
        if batch:
            changed += self._put_batch(batch)
        return changed

    def _put_batch(self, batch: list[Card]) -> int:
        existing = self.get_cards(c.key for c in batch)
        fresh = [c for c in {c.key: c for c in batch}.values() if existing.get(c.key) != c]
        moved = [existing[c.key] for c in fresh if c.key in existing and existing[c.key].id_hash != c.id_hash]
        self._many(DELETE_BY_ID, [(c.id_hash, c.operator, c.number) for c in moved])
        self._many(INSERT_CARD, [(card_shard(c.operator, c.number), *card_values(c)) for c in fresh])
        self._many(INSERT_BY_ID, [(c.id_hash, c.operator, c.number) for c in fresh])
        return len(fresh)

    def get_cards(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Card]:
        wanted = sorted(set(keys))
        rows = self._many(SELECT_CARD, [(card_shard(op, n), op, n) for op, n in wanted])
        out: dict[tuple[str, str], Card] = {}
        for found in rows:
            for row in found:
                c = card_from(row)
                out[c.key] = c
        return out

    def iter_cards(self, operator: str | None = None) -> Iterator[Card]:
        stmt = self._stmt(SCAN_SHARD if operator is None else SCAN_SHARD_OF)
        stmt.fetch_size = SCAN_PAGE
        for shard in range(CARD_SHARDS):
            with self._errors():
                rows = self.session.execute(stmt, (shard,) if operator is None else (shard, operator))
                page: list[dict[str, Any]] = list(rows.current_rows)
                while True:
                    for row in page:
                        yield card_from(row)
                    if not rows.has_more_pages:
                        break
                    rows.fetch_next_page()
                    page = list(rows.current_rows)

    def cards_of_ids(self, id_hashes: Iterable[str]) -> dict[str, list[Card]]:
        wanted = sorted(set(id_hashes))
        keys = [(r["operator"], r["number"]) for rows in self._many(SELECT_BY_ID, [(h,) for h in wanted]) for r in rows]
        out: dict[str, list[Card]] = {}
        for c in sorted(self.get_cards(keys).values(), key=lambda c: c.key):
            out.setdefault(c.id_hash, []).append(c)
        return out
