"""SQLite tables of the real-name card part (numrep.store.cards)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import date

from numrep.models import Card, CardStatus
from numrep.store.cards import CardStore

CARDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS cards (
  operator TEXT NOT NULL, number TEXT NOT NULL, id_hash TEXT NOT NULL, registered_on TEXT NOT NULL,
  seller TEXT NOT NULL, status TEXT NOT NULL, status_on TEXT NOT NULL DEFAULT '', PRIMARY KEY (operator, number));
CREATE INDEX IF NOT EXISTS cards_by_id ON cards (id_hash);
"""
CARD_COLUMNS = ("operator", "number", "id_hash", "registered_on", "seller", "status", "status_on")
BATCH = 5000
READ_ROWS = 10_000  # rows fetched per step when streaming cards


def card_values(c: Card) -> tuple[str, ...]:
    return (
        c.operator,
        c.number,
        c.id_hash,
        c.registered_on.isoformat(),
        c.seller,
        c.status.value,
        c.status_on.isoformat() if c.status_on else "",
    )


def card_from(row: sqlite3.Row | dict[str, object]) -> Card:
    status_on = str(row["status_on"] or "")
    return Card(
        str(row["operator"]),
        str(row["number"]),
        str(row["id_hash"]),
        date.fromisoformat(str(row["registered_on"])),
        str(row["seller"]),
        CardStatus(row["status"]),
        date.fromisoformat(status_on) if status_on else None,
    )


def migrate_cards(conn: sqlite3.Connection) -> None:
    conn.executescript(CARDS_SCHEMA)


class SQLiteCards(CardStore):
    """Mixed into SQLiteStore, whose connection helpers it uses."""

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def put_cards(self, cards: Iterable[Card]) -> int:
        changed = 0
        sql = f"INSERT OR REPLACE INTO cards ({', '.join(CARD_COLUMNS)}) VALUES ({', '.join('?' * len(CARD_COLUMNS))})"
        batch: list[Card] = []
        with self._write() as conn:  # one transaction: the whole import or nothing
            for card in cards:
                batch.append(card)
                if len(batch) >= BATCH:
                    changed += self._put_batch(conn, sql, batch)
                    batch = []
            if batch:
                changed += self._put_batch(conn, sql, batch)
        return changed

    def _put_batch(self, conn: sqlite3.Connection, sql: str, batch: list[Card]) -> int:
        existing = self.get_cards(c.key for c in batch)
        fresh = [c for c in {c.key: c for c in batch}.values() if existing.get(c.key) != c]
        conn.executemany(sql, [card_values(c) for c in fresh])
        return len(fresh)

    def get_cards(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Card]:
        by_operator: dict[str, set[str]] = {}
        for operator, number in keys:
            by_operator.setdefault(operator, set()).add(number)
        conn = self._conn()
        out: dict[tuple[str, str], Card] = {}
        for operator, numbers in sorted(by_operator.items()):
            wanted = sorted(numbers)
            for i in range(0, len(wanted), 500):  # operator = ? AND number IN (...): a search of the primary key
                part = wanted[i : i + 500]
                for row in conn.execute(
                    f"SELECT * FROM cards WHERE operator = ? AND number IN ({', '.join('?' * len(part))})",
                    (operator, *part),
                ):
                    c = card_from(row)
                    out[c.key] = c
        return out

    def iter_cards(self, operator: str | None = None) -> Iterator[Card]:
        # Keyset pagination: no read transaction stays open between steps, and memory holds one step.
        conn = self._conn()
        last: tuple[str, str] = ("", "")
        where = "operator = ? AND number > ?" if operator is not None else "(operator, number) > (?, ?)"
        while True:
            args = (operator, last[1]) if operator is not None else last
            rows = conn.execute(
                f"SELECT * FROM cards WHERE {where} ORDER BY operator, number LIMIT ?", (*args, READ_ROWS)
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield card_from(row)
            last = (rows[-1]["operator"], rows[-1]["number"])

    def cards_of_ids(self, id_hashes: Iterable[str]) -> dict[str, list[Card]]:
        wanted = sorted(set(id_hashes))
        conn = self._conn()
        out: dict[str, list[Card]] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            for row in conn.execute(
                f"SELECT * FROM cards WHERE id_hash IN ({', '.join('?' * len(part))}) ORDER BY operator, number", part
            ):
                out.setdefault(row["id_hash"], []).append(card_from(row))
        return out
