"""Client-side tools for operators: a verified local copy of the blocking rules."""

from numrep.sdk.local_list import LocalListClient, LocalVerdict
from numrep.sdk.rules_mirror import RulesIntegrityError, RulesMirror, RulesRollbackError, RulesStaleError

__all__ = [
    "LocalListClient",
    "LocalVerdict",
    "RulesIntegrityError",
    "RulesMirror",
    "RulesRollbackError",
    "RulesStaleError",
]
