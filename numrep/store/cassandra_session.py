"""What the Cassandra store's parts (queue, evidence, disputes, cards, privacy) use of the store itself.

Each part is a mixin of :class:`numrep.store.cassandra.CassandraStore`, which
defines these: the session, prepared statements, error translation and the
concurrent executor. Declared once here, so every part type-checks alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from cassandra.cluster import EXEC_PROFILE_DEFAULT, Session
from cassandra.query import PreparedStatement

from numrep.config import Settings
from numrep.models import Lane


class CassandraSession:
    """The store's session helpers, as its mixins see them (CassandraStore implements them)."""

    settings: Settings

    @property
    def session(self) -> Session:
        raise NotImplementedError

    def _stmt(self, cql: str) -> PreparedStatement:
        raise NotImplementedError

    def _errors(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _exec(self, cql: str, args: Sequence[Any] = (), profile: object = EXEC_PROFILE_DEFAULT) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _many(self, cql: str, args: Iterable[Sequence[Any]]) -> list[list[dict[str, Any]]]:
        raise NotImplementedError

    def mark_dirty(self, subjects: Iterable[str], lane: Lane = Lane.FRESH) -> None:
        raise NotImplementedError
