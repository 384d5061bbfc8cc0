"""The real-name card part of the store interface (numrep.regulator.cards).

:class:`numrep.store.base.Store` inherits these; each backend implements them
beside its core (``sqlite_cards.py``, ``cassandra_cards.py``) and passes the
same contract tests (``tests/unit/store/test_cards_contract.py``).

A card is keyed by ``(operator, number)``: registering the number again (to
another ID, after it changed hands) replaces the card. Records hold the ID
number's keyed hash only. Writes are idempotent: putting the same card or
status again changes nothing and is not counted.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator

from numrep.models import Card


class CardStore(ABC):
    @abstractmethod
    def put_cards(self, cards: Iterable[Card]) -> int:
        """Insert or replace cards (keyed by operator and number), consumed in batches; how many were new or changed."""

    @abstractmethod
    def get_cards(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Card]:
        """The cards of these ``(operator, number)`` keys that exist."""

    @abstractmethod
    def iter_cards(self, operator: str | None = None) -> Iterator[Card]:
        """Every card (of one operator, if given), streamed in bounded memory, in no particular order."""

    @abstractmethod
    def cards_of_ids(self, id_hashes: Iterable[str]) -> dict[str, list[Card]]:
        """The cards of each ID hash that has any, sorted by operator and number."""
