"""Reading import files (CSV, JSON, JSON Lines) row by row, with line numbers.

Shared by every importer (SMS-port blacklists, number-range allocations):
each validates a whole file before anything is applied, and a file with any
bad row is rejected with each problem and its line number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from numrep.errors import ValidationError

MAX_FIELD_CHARS = 200
MAX_ROWS = 5_000_000
MAX_BYTES = 1 << 30
MAX_ERRORS = 100
FORMATS = ("csv", "json", "jsonl")  # the file formats every importer reads

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


T = TypeVar("T")


def check_fields(line: int, obj: object, columns: Sequence[str]) -> dict[str, object] | RowError:
    """The row as a dict with lower-case keys, or an error naming missing or unexpected fields."""
    if not isinstance(obj, dict):
        return RowError(line, f"expected an object, got {type(obj).__name__}")
    row = {str(k).strip().lower(): v for k, v in obj.items()}
    if missing := [c for c in columns if c not in row]:
        return RowError(line, f"missing field(s) {', '.join(missing)}")
    if extra := sorted(set(row) - set(columns)):
        return RowError(line, f"unexpected field(s) {', '.join(extra)}")
    return row


def text_field(line: int, row: dict[str, object], name: str, max_chars: int = MAX_FIELD_CHARS) -> str | RowError:
    value = row[name]
    if not isinstance(value, str) or not value.strip():
        return RowError(line, f"{name}: required")
    if len(value) > max_chars:
        return RowError(line, f"{name}: at most {max_chars} characters")
    return value.strip()


def file_format(path: Path, fmt: str | None) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValidationError(f"{path.name}: unknown format {fmt!r}; use .csv, .json or .jsonl (or --format)")
    return fmt


def _csv_rows(text: io.TextIOBase, columns: Sequence[str], errors: list[RowError]) -> Iterator[tuple[int, dict[str, object]]]:
    reader = csv.DictReader(text)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        return
    missing = [c for c in columns if c not in header]
    extra = [h for h in header if h not in columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected column(s) {', '.join(extra)}")
        errors.append(RowError(1, "; ".join(parts) + f" (expected {','.join(columns)})"))
        return
    reader.fieldnames = header
    for row in reader:
        if None in row:  # more cells than columns
            errors.append(RowError(reader.line_num, f"{len(header) + len(row[None])} cells, expected {len(columns)}"))
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


def parse_file(
    path: Path,
    columns: Sequence[str],
    make: Callable[[int, dict[str, object]], T | RowError],
    key: Callable[[T], str],
    fmt: str | None = None,
    progress: Progress | None = None,
    max_rows: int = MAX_ROWS,
) -> list[T]:
    """Validate a whole file row by row; return its entries or raise ImportRejected.

    ``make`` builds an entry from a row (fields already checked against
    ``columns``) or returns a RowError; ``key`` detects duplicates.
    """
    fmt = file_format(path, fmt)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ImportRejected(path.name, [RowError(0, f"file is {size} bytes; at most {MAX_BYTES}")])
    errors: list[RowError] = []
    more = 0
    entries: list[T] = []
    first_line: dict[str, int] = {}
    with open(path, "rb") as raw_fh:
        stream = io.BufferedReader(_Counting(raw_fh, progress), buffer_size=1 << 20)  # type: ignore[type-var]
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        try:
            rows = _csv_rows(text, columns, errors) if fmt == "csv" else _json_rows(text.read(), fmt == "jsonl", errors)
            for n, (line, obj) in enumerate(rows, start=1):
                if n > max_rows:
                    errors.append(RowError(line, f"more than {max_rows} rows"))
                    break
                checked = check_fields(line, obj, columns)
                result = checked if isinstance(checked, RowError) else make(line, checked)
                if isinstance(result, RowError):
                    if len(errors) < MAX_ERRORS:
                        errors.append(result)
                    else:
                        more += 1
                    continue
                k = key(result)
                if k in first_line:
                    if len(errors) < MAX_ERRORS:
                        errors.append(RowError(line, f"duplicate {k} (first on line {first_line[k]})"))
                    else:
                        more += 1
                    continue
                first_line[k] = line
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
