"""The redress part of the store interface: owners' disputes of verdicts.

:class:`numrep.store.base.Store` inherits these; each backend implements them
beside its core (``sqlite_redress.py``, ``cassandra_redress.py``) and passes
the same contract tests (``tests/unit/store/test_redress_contract.py``).

* Filing is atomic with the duplicate check: at most one open dispute per
  subject, whatever the races; a second filing gets the open one back.
* A transition is a compare-and-set on the dispute's state: two analysts
  deciding at once cannot both win, and a retried transition is refused, not
  applied twice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime

from numrep.models import Dispute, DisputeState, Transition


class RedressStore(ABC):
    @abstractmethod
    def file_dispute(self, dispute: Dispute) -> Dispute | None:
        """Store a new dispute, unless its subject has an open one: then store nothing and return that one."""

    @abstractmethod
    def get_dispute(self, dispute_id: str) -> Dispute | None:
        """The dispute, or None."""

    @abstractmethod
    def transition_dispute(self, dispute_id: str, expected: DisputeState, step: Transition) -> Dispute | None:
        """Append ``step`` if the dispute is still in ``expected``; the updated dispute, or None if it is not
        (it moved meanwhile, or does not exist)."""

    @abstractmethod
    def disputes_for_subjects(self, subjects: Iterable[str]) -> dict[str, list[Dispute]]:
        """Every dispute of each subject that has any, oldest filing first (subjects without disputes left out)."""

    @abstractmethod
    def open_disputes(self, limit: int) -> list[Dispute]:
        """Up to ``limit`` open disputes, oldest filing first."""

    @abstractmethod
    def disputes_filed(self, start: datetime, end: datetime) -> list[Dispute]:
        """Disputes filed in [start, end), oldest first."""
