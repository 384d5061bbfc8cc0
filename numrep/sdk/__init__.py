"""Client-side tools for operators: a verified local copy of the blocking rules."""

from numrep.sdk.rules_mirror import RulesIntegrityError, RulesMirror

__all__ = ["RulesIntegrityError", "RulesMirror"]
