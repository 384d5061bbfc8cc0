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

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from numrep.errors import InvalidSubject, ValidationError
from numrep.models import PortBlacklistEntry
from numrep.numbers import Namespace, namespace, normalize
from numrep.store.base import Store

COLUMNS = ("port", "enterprise", "reason", "source", "date")
MAX_FIELD_CHARS = 200
MAX_ROWS = 5_000_000
MAX_BYTES = 1 << 30
MAX_ERRORS = 100

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class ImportRejected(ValidationError):
    """The file has problems; ``errors`` lists them (at most MAX_ERRORS) with line numbers."""

    def __init__(self, source: str, errors: list[RowError], more: int = 0) -> None:
        head = f"{source}: {len(errors) + more} problem{'s' if len(errors) + more != 1 else ''}, nothing imported"
        super().__init__(head + "".join(f"\n  {e}" for e in errors) + (f"\n  … and {more} more" if more else ""))
        self.errors = errors
        self.more = more


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int
    changed: int


def _fmt(path: Path, fmt: str | None) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("csv", "json", "jsonl"):
        raise ValidationError(f"{path.name}: unknown format {fmt!r}; use .csv, .json or .jsonl (or --format)")
    return fmt


def _csv_rows(text: io.TextIOBase, errors: list[RowError]) -> Iterator[tuple[int, dict[str, object]]]:
    reader = csv.DictReader(text)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        return
    missing = [c for c in COLUMNS if c not in header]
    extra = [h for h in header if h not in COLUMNS]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected column(s) {', '.join(extra)}")
        errors.append(RowError(1, "; ".join(parts) + f" (expected {','.join(COLUMNS)})"))
        return
    reader.fieldnames = header
    for row in reader:
        if None in row:  # more cells than columns
            errors.append(RowError(reader.line_num, f"{len(header) + len(row[None])} cells, expected {len(COLUMNS)}"))
            continue
        yield reader.line_num, dict(row)


def _json_rows(raw: str, jsonl: bool, errors: list[RowError]) -> Iterator[tuple[int, dict[str, object]]]:
    decoder = json.JSONDecoder()
    if jsonl:
        for n, text_line in enumerate(raw.splitlines(), start=1):
            if not text_line.strip():
                continue
            try:
                yield n, json.loads(text_line)
            except json.JSONDecodeError as exc:
                errors.append(RowError(n, f"invalid JSON: {exc.msg}"))
        return
    pos = len(raw) - len(raw.lstrip())
    if not raw[pos:pos + 1] == "[":
        errors.append(RowError(raw.count("\n", 0, pos) + 1, "expected a JSON array of objects"))
        return
    pos += 1
    while True:
        while pos < len(raw) and raw[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(raw):
            errors.append(RowError(raw.count("\n") + 1, "unterminated JSON array"))
            return
        if raw[pos] == "]":
            return
        line = raw.count("\n", 0, pos) + 1
        try:
            obj, pos = decoder.raw_decode(raw, pos)
        except json.JSONDecodeError as exc:
            errors.append(RowError(exc.lineno, f"invalid JSON: {exc.msg}"))
            return
        yield line, obj


def _entry(line: int, obj: object, region: str) -> PortBlacklistEntry | RowError:
    if not isinstance(obj, dict):
        return RowError(line, f"expected an object, got {type(obj).__name__}")
    keys = {str(k).strip().lower() for k in obj}
    if missing := [c for c in COLUMNS if c not in keys]:
        return RowError(line, f"missing field(s) {', '.join(missing)}")
    if extra := sorted(keys - set(COLUMNS)):
        return RowError(line, f"unexpected field(s) {', '.join(extra)}")
    row = {str(k).strip().lower(): v for k, v in obj.items()}
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
        value = row[field]
        if not isinstance(value, str) or not value.strip():
            return RowError(line, f"{field}: required")
        if len(value) > MAX_FIELD_CHARS:
            return RowError(line, f"{field}: at most {MAX_FIELD_CHARS} characters")
        texts[field] = value.strip()
    try:
        listed_on = date.fromisoformat(str(row["date"]).strip())
    except ValueError:
        return RowError(line, f"date {str(row['date'])[:20]!r}: expected YYYY-MM-DD")
    if listed_on > datetime.now(timezone.utc).date():
        return RowError(line, f"date {listed_on.isoformat()}: lies in the future")
    return PortBlacklistEntry(port, texts["enterprise"], texts["reason"], texts["source"], listed_on)


class _Counting(io.RawIOBase):
    """Reports bytes read to a progress callback."""

    def __init__(self, fh: io.BufferedReader, progress: Progress | None) -> None:
        self.fh, self.progress = fh, progress

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        n = self.fh.readinto(b)
        if self.progress is not None and n:
            self.progress(n)
        return n


def parse_file(path: Path, fmt: str | None = None, region: str = "CN", progress: Progress | None = None,
               max_rows: int = MAX_ROWS) -> list[PortBlacklistEntry]:
    """Validate a whole file; return its entries or raise ImportRejected (nothing is applied here)."""
    fmt = _fmt(path, fmt)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ImportRejected(path.name, [RowError(0, f"file is {size} bytes; at most {MAX_BYTES}")])
    errors: list[RowError] = []
    more = 0
    entries: list[PortBlacklistEntry] = []
    first_line: dict[str, int] = {}
    with open(path, "rb") as raw_fh:
        stream = io.BufferedReader(_Counting(raw_fh, progress), buffer_size=1 << 20)  # type: ignore[type-var]
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        try:
            rows = _csv_rows(text, errors) if fmt == "csv" else _json_rows(text.read(), fmt == "jsonl", errors)
            for n, (line, obj) in enumerate(rows, start=1):
                if n > max_rows:
                    errors.append(RowError(line, f"more than {max_rows} rows"))
                    break
                result = _entry(line, obj, region)
                if isinstance(result, RowError):
                    if len(errors) < MAX_ERRORS:
                        errors.append(result)
                    else:
                        more += 1
                    continue
                if result.port in first_line:
                    if len(errors) < MAX_ERRORS:
                        errors.append(RowError(line, f"duplicate port {result.port} (first on line {first_line[result.port]})"))
                    else:
                        more += 1
                    continue
                first_line[result.port] = line
                entries.append(result)
        except UnicodeDecodeError as exc:
            errors.append(RowError(0, f"not UTF-8 text (byte {exc.start} of a read block)"))
        except csv.Error as exc:
            errors.append(RowError(0, f"malformed CSV: {exc}"))
    if not entries and not errors:
        errors.append(RowError(0, "the file has no rows"))
    if errors:
        raise ImportRejected(path.name, errors, more)
    return entries


def import_file(store: Store, path: Path, fmt: str | None = None, region: str = "CN",
                parse_progress: Progress | None = None) -> ImportResult:
    """Validate ``path`` completely, then apply it. Idempotent: importing it again changes nothing."""
    entries = parse_file(path, fmt, region, parse_progress)
    changed = store.add_port_blacklist(entries)  # one call: one transaction on SQLite
    return ImportResult(len(entries), changed)
