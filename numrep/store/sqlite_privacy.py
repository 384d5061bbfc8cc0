"""The SQLite store's retention and deletion primitives (see ``numrep.store.privacy``).

One table holds a report (``reports``, with its index by reporter), so a
report and its complaint steps go in one transaction with the dirty mark of
its subject: there is no half state to finish.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from numrep.models import DisputeState
from numrep.store.codec import from_micros, to_micros
from numrep.store.privacy import PrivacyStore, ReportKey

_FINAL = tuple(s.value for s in DisputeState if s.final)


def _key(row: sqlite3.Row) -> ReportKey:
    return ReportKey(row["report_id"], row["subject"], from_micros(row["occurred_at"]), from_micros(row["received_at"]))


class SQLitePrivacy(PrivacyStore):
    """Mixed into SQLiteStore, whose connection helpers it uses."""

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    @staticmethod
    def _mark(conn: sqlite3.Connection, subjects: Iterable[str]) -> None:
        raise NotImplementedError

    def _reports_of_reporter(self, reporter_hash: str, limit: int) -> list[ReportKey]:
        rows = self._conn().execute(
            "SELECT report_id, subject, occurred_at, received_at FROM reports WHERE reporter_hash = ? LIMIT ?",
            (reporter_hash, limit),
        )
        return [_key(r) for r in rows]

    def _reports_received_before(self, before: datetime, limit: int) -> list[tuple[str, ReportKey]]:
        rows = self._conn().execute(
            "SELECT report_id, subject, occurred_at, received_at, reporter_hash FROM reports WHERE received_at < ? "
            "ORDER BY received_at LIMIT ?",
            (to_micros(before), limit),
        )
        return [(r["reporter_hash"], _key(r)) for r in rows]

    def _delete_reports(self, reports: Sequence[tuple[str, ReportKey]]) -> tuple[int, int, set[str]]:
        ids = [(k.report_id,) for _, k in reports]
        subjects = {k.subject for _, k in reports}
        with self._write() as conn:
            self._mark(conn, sorted(subjects))
            steps = conn.executemany("DELETE FROM case_events WHERE report_id = ?", ids).rowcount
            deleted = conn.executemany("DELETE FROM reports WHERE report_id = ?", ids).rowcount
        return deleted, steps, subjects

    def _delete_reporter_outcomes(self, reporter_hash: str) -> int:
        with self._write() as conn:
            return int(conn.execute("DELETE FROM reporter_outcomes WHERE reporter_hash = ?", (reporter_hash,)).rowcount)

    def prune_report_texts(self, before: datetime, limit: int) -> int:
        with self._write() as conn:
            return int(
                conn.execute(
                    "UPDATE reports SET text = '' WHERE rowid IN "
                    "(SELECT rowid FROM reports WHERE received_at < ? AND text != '' LIMIT ?)",
                    (to_micros(before), limit),
                ).rowcount
            )

    def prune_dispute_statements(self, before: datetime, limit: int) -> int:
        with self._write() as conn:
            return int(
                conn.execute(
                    "UPDATE disputes SET statement = '' WHERE rowid IN (SELECT rowid FROM disputes WHERE filed_at < ? "
                    f"AND statement != '' AND state IN ({', '.join('?' * len(_FINAL))}) LIMIT ?)",
                    (to_micros(before), *_FINAL, limit),
                ).rowcount
            )
