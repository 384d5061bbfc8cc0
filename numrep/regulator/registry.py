"""The number-resource registry: which operator or reseller holds each range.

Import files carry ``prefix, holder, holder_type, size``: the prefix of the
range (``+86 170``, ``tel:+861700``, a national ``1700`` in the default
region, or an SMS port prefix ``sms:10657``), the holder's name, ``operator``
or ``reseller``, and how many numbers were allocated. Validation and
all-or-nothing behaviour are those of every importer (numrep.regulator.imports).

:class:`Registry` resolves any subject to its holder by the longest prefix:
a reseller's sub-allocation inside an operator's block wins over the block.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

import phonenumbers

from numrep.errors import InvalidSubject
from numrep.models import Allocation, HolderType
from numrep.numbers import MAX_E164_DIGITS, SMS, SMS_PORT_MAX_DIGITS, TEL, normalize_prefix
from numrep.prefixes import PrefixMap
from numrep.regulator.imports import MAX_ROWS, ImportResult, Progress, RowError, Staged, stage_file, text_field
from numrep.store.base import Store

COLUMNS = ("prefix", "holder", "holder_type", "size")


def parse_prefix(raw: str, region: str) -> str:
    """``+86 170`` / ``tel:+86170`` / national ``170`` / ``sms:10657`` / bare ``10657`` → a normalised prefix."""
    text = raw.strip()
    low = text.lower()
    if low.startswith((TEL, SMS)) or text.startswith("+"):
        return normalize_prefix(text if low.startswith((TEL, SMS)) else f"tel:{text}")
    digits = "".join(ch for ch in text if not ch.isspace() and ch not in "-")
    if digits.startswith("106"):
        return normalize_prefix(f"sms:{digits}")
    code = phonenumbers.country_code_for_region(region)
    return normalize_prefix(f"tel:+{code}{digits.lstrip('0')}")


def _entry(region: str, line: int, row: dict[str, object]) -> Allocation | RowError:
    raw = str(row["prefix"]) if isinstance(row["prefix"], (str, int)) else None
    if raw is None:
        return RowError(line, "prefix: expected text")
    try:
        prefix = parse_prefix(raw, region)
    except InvalidSubject as exc:
        return RowError(line, f"prefix {raw.strip()[:30]!r}: {exc.reason}")
    holder = text_field(line, row, "holder")
    if isinstance(holder, RowError):
        return holder
    try:
        holder_type = HolderType(str(row["holder_type"]).strip().lower())
    except ValueError:
        return RowError(line, f"holder_type {str(row['holder_type'])[:20]!r}: expected operator or reseller")
    try:
        size = int(str(row["size"]).strip())
    except ValueError:
        return RowError(line, f"size {str(row['size'])[:20]!r}: expected a whole number")
    digits = len(prefix) - len(TEL) - 1 if prefix.startswith(TEL) else len(prefix) - len(SMS)
    room = 10 ** ((MAX_E164_DIGITS if prefix.startswith(TEL) else SMS_PORT_MAX_DIGITS) - digits)
    if not 0 < size <= room:
        return RowError(line, f"size {size}: must lie between 1 and {room} for prefix {prefix}")
    return Allocation(prefix, holder, holder_type, size)


def _key(a: Allocation) -> str:
    return f"prefix {a.prefix}"


def stage(
    path: Path,
    fmt: str | None = None,
    region: str = "CN",
    progress: Progress | None = None,
    max_rows: int = MAX_ROWS,
    name: str | None = None,
) -> Staged[Allocation]:
    """Validate a whole registry file into a staging file, or raise ImportRejected."""
    return stage_file(path, COLUMNS, partial(_entry, region), _key, fmt, progress, max_rows, name)


def parse_file(
    path: Path, fmt: str | None = None, region: str = "CN", progress: Progress | None = None, max_rows: int = MAX_ROWS
) -> list[Allocation]:
    """Validate a whole registry file; return its allocations or raise ImportRejected."""
    with stage(path, fmt, region, progress, max_rows) as staged:
        return list(staged)


def import_file(
    store: Store,
    path: Path,
    fmt: str | None = None,
    region: str = "CN",
    parse_progress: Progress | None = None,
    name: str | None = None,
) -> ImportResult:
    """Validate ``path`` completely, then apply it. Idempotent."""
    with stage(path, fmt, region, parse_progress, name=name) as staged:
        return ImportResult(staged.rows, store.put_allocations(staged))


class Registry:
    """Resolves subjects to holders by the longest allocated prefix."""

    def __init__(self, allocations: Iterable[Allocation]) -> None:
        self._prefixes = PrefixMap((a.prefix, a) for a in allocations)

    def __len__(self) -> int:
        return len(self._prefixes)

    @property
    def allocations(self) -> list[Allocation]:
        return sorted(self._prefixes.values(), key=lambda a: a.prefix)

    def covering(self, subject: str) -> list[Allocation]:
        """Every allocation whose prefix covers ``subject``, longest first."""
        return self._prefixes.covering(subject)

    def holder_of(self, subject: str) -> Allocation | None:
        return self._prefixes.longest(subject)

    @classmethod
    def load(cls, store: Store) -> Registry:
        return cls(store.allocations())
