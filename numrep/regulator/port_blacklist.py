"""Import of SMS-port blacklists (ports shut down by the regulator) from CSV and JSON.

Files carry one entry per row with the columns ``port, enterprise, reason,
source, date`` (date as YYYY-MM-DD). Every row is validated before anything is
applied: a file with any bad row — wrong or missing columns, a malformed port,
a duplicate, a bad date — is rejected whole with each problem and its line
number, and changes nothing. Re-importing a file changes nothing either.

CSV: a header line, UTF-8 (a BOM is fine). JSON: an array of objects, or JSON
Lines (one object per line, ``.jsonl``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

from numrep.errors import InvalidSubject, ValidationError
from numrep.models import PortBlacklistEntry
from numrep.numbers import Namespace, namespace, normalize
from numrep.regulator.imports import (
    MAX_BYTES,
    MAX_ROWS,
    ImportRejected,
    ImportResult,
    Progress,
    RowError,
    Staged,
    stage_file,
    text_field,
)
from numrep.store.base import Store

__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "ImportRejected",
    "ImportResult",
    "RowError",
    "ValidationError",
    "import_file",
    "parse_file",
]

COLUMNS = ("port", "enterprise", "reason", "source", "date")


def _entry(region: str, line: int, row: dict[str, object]) -> PortBlacklistEntry | RowError:
    raw_port = row["port"]
    if isinstance(raw_port, int):
        raw_port = str(raw_port)
    if not isinstance(raw_port, str):
        return RowError(line, "port: expected text")
    try:
        port = normalize(raw_port if raw_port.strip().lower().startswith("sms:") else f"sms:{raw_port}", region)
    except InvalidSubject as exc:
        return RowError(line, f"port {raw_port.strip()[:30]!r}: {exc.reason}")
    if namespace(port) is not Namespace.SMS:
        return RowError(line, "port: not an SMS port")
    texts: dict[str, str] = {}
    for field in ("enterprise", "reason", "source"):
        value = text_field(line, row, field)
        if isinstance(value, RowError):
            return value
        texts[field] = value
    try:
        listed_on = date.fromisoformat(str(row["date"]).strip())
    except ValueError:
        return RowError(line, f"date {str(row['date'])[:20]!r}: expected YYYY-MM-DD")
    if listed_on > datetime.now(UTC).date():
        return RowError(line, f"date {listed_on.isoformat()}: lies in the future")
    return PortBlacklistEntry(port, texts["enterprise"], texts["reason"], texts["source"], listed_on)


def _key(e: PortBlacklistEntry) -> str:
    return f"port {e.port}"


def stage(
    path: Path,
    fmt: str | None = None,
    region: str = "CN",
    progress: Progress | None = None,
    max_rows: int = MAX_ROWS,
    name: str | None = None,
) -> Staged[PortBlacklistEntry]:
    """Validate a whole blacklist file into a staging file, or raise ImportRejected (nothing is applied here)."""
    return stage_file(path, COLUMNS, partial(_entry, region), _key, fmt, progress, max_rows, name)


def parse_file(
    path: Path, fmt: str | None = None, region: str = "CN", progress: Progress | None = None, max_rows: int = MAX_ROWS
) -> list[PortBlacklistEntry]:
    """Validate a whole blacklist file; return its entries (a list: for small files) or raise ImportRejected."""
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
    """Validate ``path`` completely, then apply it. Idempotent: importing it again changes nothing.

    ``name`` is the file's name for messages and its format (an upload's, spooled under another name).
    """
    with stage(path, fmt, region, parse_progress, name=name) as staged:
        changed = store.add_port_blacklist(staged)  # one call: one transaction on SQLite
        return ImportResult(staged.rows, changed)
