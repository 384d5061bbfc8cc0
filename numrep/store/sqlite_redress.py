"""SQLite tables of the redress part (numrep.store.redress), and the redress columns of the core tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime

from numrep.models import Dispute, DisputeState, Transition
from numrep.store.codec import DISPUTE_COLUMNS, dispute_from, dispute_values, to_micros, transitions_text
from numrep.store.redress import RedressStore

#: Reason codes and the case behind a verdict (numrep.redress), on tables of schema version 1.
ADDED_COLUMNS = {
    "reputations": (("codes", "TEXT NOT NULL DEFAULT '{}'"), ("case_id", "TEXT NOT NULL DEFAULT ''")),
    "rules": (("code", "TEXT NOT NULL DEFAULT ''"),),
    "rule_log": (("code", "TEXT"),),
}

REDRESS_SCHEMA = """
CREATE TABLE IF NOT EXISTS disputes (
  dispute_id TEXT PRIMARY KEY, subject TEXT NOT NULL, proof TEXT NOT NULL, holder TEXT NOT NULL,
  statement TEXT NOT NULL, owner_hash TEXT NOT NULL, filed_at INTEGER NOT NULL, transitions TEXT NOT NULL,
  authoritative TEXT NOT NULL, state TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS disputes_by_subject ON disputes (subject, filed_at);
CREATE INDEX IF NOT EXISTS disputes_by_filed ON disputes (filed_at);
CREATE UNIQUE INDEX IF NOT EXISTS disputes_open ON disputes (subject)
  WHERE state IN ('filed', 'acknowledged', 'under_review');
"""

_OPEN = tuple(s.value for s in DisputeState if not s.final)


def migrate_redress(conn: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, decl in columns:
            if name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
    conn.executescript(REDRESS_SCHEMA)


class SQLiteRedress(RedressStore):
    """Mixed into SQLiteStore, whose connection helpers it uses."""

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def file_dispute(self, dispute: Dispute) -> Dispute | None:
        with self._write() as conn:  # one transaction: the duplicate check and the insert
            row = conn.execute(
                f"SELECT * FROM disputes WHERE subject = ? AND state IN ({', '.join('?' * len(_OPEN))})",
                (dispute.subject, *_OPEN),
            ).fetchone()
            if row is not None:
                return dispute_from(row)
            conn.execute(
                f"INSERT INTO disputes ({', '.join(DISPUTE_COLUMNS)}) VALUES ({', '.join('?' * len(DISPUTE_COLUMNS))})",
                dispute_values(dispute),
            )
        return None

    def get_dispute(self, dispute_id: str) -> Dispute | None:
        row = self._conn().execute("SELECT * FROM disputes WHERE dispute_id = ?", (dispute_id,)).fetchone()
        return dispute_from(row) if row else None

    def transition_dispute(self, dispute_id: str, expected: DisputeState, step: Transition) -> Dispute | None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT * FROM disputes WHERE dispute_id = ? AND state = ?", (dispute_id, expected.value)
            ).fetchone()
            if row is None:
                return None
            d = dispute_from(row)
            steps = (*d.transitions, step)
            conn.execute(
                "UPDATE disputes SET transitions = ?, state = ? WHERE dispute_id = ?",
                (transitions_text(steps), step.state.value, dispute_id),
            )
        return Dispute(
            d.dispute_id, d.subject, d.proof, d.holder, d.statement, d.owner_hash, d.filed_at, steps, d.authoritative
        )

    def disputes_for_subjects(self, subjects: Iterable[str]) -> dict[str, list[Dispute]]:
        wanted = sorted(set(subjects))
        out: dict[str, list[Dispute]] = {}
        conn = self._conn()
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            for row in conn.execute(
                f"SELECT * FROM disputes WHERE subject IN ({', '.join('?' * len(part))}) ORDER BY filed_at, dispute_id",
                part,
            ):
                out.setdefault(row["subject"], []).append(dispute_from(row))
        return out

    def open_disputes(self, limit: int) -> list[Dispute]:
        rows = self._conn().execute(
            f"SELECT * FROM disputes WHERE state IN ({', '.join('?' * len(_OPEN))}) "
            "ORDER BY filed_at, dispute_id LIMIT ?",
            (*_OPEN, limit),
        )
        return [dispute_from(r) for r in rows]

    def disputes_filed(self, start: datetime, end: datetime) -> list[Dispute]:
        rows = self._conn().execute(
            "SELECT * FROM disputes WHERE filed_at >= ? AND filed_at < ? ORDER BY filed_at, dispute_id",
            (to_micros(start), to_micros(end)),
        )
        return [dispute_from(r) for r in rows]
