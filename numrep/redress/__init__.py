"""Redress: reason codes on verdicts, and owners' disputes of them (docs/ARCHITECTURE.md §12)."""
