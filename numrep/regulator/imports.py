"""Reading import files (CSV, JSON, JSON Lines) row by row, with line numbers, in bounded memory.

Shared by every importer (SMS-port blacklists, number-range allocations):
each validates a whole file before anything is applied, and a file with any
bad row is rejected with each problem and its line number.

Memory does not grow with the file: rows are read as a stream (a JSON array
too, one element at a time; a row longer than MAX_ROW_CHARS is rejected),
valid entries are staged in a temporary file, and duplicate detection holds
16 bytes per row (a 64-bit hash of the key and the line, in sorted buckets)
rather than the keys. Only a valid file's staged entries are handed to the
store, in batches, to apply as one commit.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import re
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Generic, TypeVar

from numrep.errors import ValidationError

MAX_FIELD_CHARS = 200
MAX_ROWS = 5_000_000
MAX_BYTES = 1 << 30
MAX_ERRORS = 100
MAX_ROW_CHARS = 1 << 16  # one row: a CSV line, a JSON Lines line, an element of a JSON array
MAX_NUMBER_DIGITS = 30  # a JSON integer longer than this is no port, size or date
READ_CHARS = 1 << 16
STAGE_BATCH = 4096  # entries per pickled batch in the staging file (and per batch handed to the store)
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


def file_format(name: str, fmt: str | None) -> str:
    """The format asked for, else the one the file name's suffix says; ValidationError if neither is known."""
    fmt = (fmt or Path(name).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValidationError(f"{name or 'the file'}: unknown format {fmt!r}; use .csv, .json or .jsonl (or --format)")
    return fmt


# ---- reading rows --------------------------------------------------------------------------------
class _RowTooLong(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class _NumberTooLong(ValueError):
    def __init__(self, digits: int) -> None:
        self.digits = digits


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _NumberTooLong(len(text.lstrip("-")))
    return int(text)


_DECODER = json.JSONDecoder(parse_int=_bounded_int)
_WS = re.compile(r"[ \t\r\n]*")


def _decode_problem(exc: Exception) -> str:
    if isinstance(exc, _NumberTooLong):
        return f"a number of {exc.digits} digits (at most {MAX_NUMBER_DIGITS})"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg}"
    return f"invalid JSON: {exc}"


def _lines(text: IO[str], start: int = 1) -> Iterator[str]:
    """The file's lines, each at most MAX_ROW_CHARS long (_RowTooLong names a longer one)."""
    n = start
    while line := text.readline(MAX_ROW_CHARS + 1):
        if len(line) > MAX_ROW_CHARS:
            raise _RowTooLong(n)
        yield line
        n += 1


def _csv_rows(text: IO[str], columns: Sequence[str], errors: list[RowError]) -> Iterator[tuple[int, dict[str, object]]]:
    reader = csv.reader(_lines(text))
    header = [h.strip().lower() for h in next(reader, [])]
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
    for cells in reader:
        if not cells:
            continue  # a blank line
        if len(cells) > len(header):
            errors.append(RowError(reader.line_num, f"{len(cells)} cells, expected {len(columns)}"))
            continue
        yield reader.line_num, dict(zip(header, cells + [None] * (len(header) - len(cells))))


def _jsonl_rows(text: IO[str], errors: list[RowError]) -> Iterator[tuple[int, object]]:
    for n, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        try:
            yield n, _DECODER.decode(line)
        except (ValueError, RecursionError) as exc:
            errors.append(RowError(n, _decode_problem(exc)))


def _json_array_rows(text: IO[str], errors: list[RowError]) -> Iterator[tuple[int, object]]:
    """The elements of a JSON array, one at a time, each with the line it starts on.

    Reads READ_CHARS at a time; each element is decoded from the buffer with
    the standard decoder, and read further only while it is incomplete (up to
    MAX_ROW_CHARS). Lines are counted once per character: linear in the file.
    """
    buf, pos, line, eof = "", 0, 1, False

    def more() -> bool:
        nonlocal buf, pos, eof
        chunk = "" if eof else text.read(READ_CHARS)
        if not chunk:
            eof = True
            return False
        buf, pos = buf[pos:] + chunk, 0
        return True

    def skip_space() -> None:
        nonlocal pos, line
        while True:
            end = _WS.match(buf, pos).end()  # type: ignore[union-attr]  # matches the empty string at least
            line += buf.count("\n", pos, end)
            pos = end
            if pos < len(buf) or not more():
                return

    skip_space()
    if buf[pos : pos + 1] != "[":
        errors.append(RowError(line, "expected a JSON array of objects"))
        return
    pos += 1
    first = True
    while True:
        skip_space()
        if pos >= len(buf):
            errors.append(RowError(line, "unterminated JSON array"))
            return
        if buf[pos] == "]":
            pos += 1
            skip_space()
            if pos < len(buf):
                errors.append(RowError(line, "unexpected text after the JSON array"))
            return
        if not first:
            if buf[pos] != ",":
                errors.append(RowError(line, "invalid JSON: Expecting ',' delimiter"))
                return
            pos += 1
            skip_space()
            if pos >= len(buf):
                errors.append(RowError(line, "unterminated JSON array"))
                return
        first = False
        while True:
            try:
                obj, end = _DECODER.raw_decode(buf, pos)
            except (ValueError, RecursionError) as exc:
                complete = isinstance(exc, (_NumberTooLong, RecursionError))
                if not complete and len(buf) - pos <= MAX_ROW_CHARS and more():
                    continue  # the element may go on in the next block
                if not complete and not eof:
                    errors.append(RowError(line, f"a row longer than {MAX_ROW_CHARS} characters"))
                else:
                    at = exc.pos if isinstance(exc, json.JSONDecodeError) else pos
                    errors.append(RowError(line + buf.count("\n", pos, at), _decode_problem(exc)))
                return
            if end == len(buf) and more():  # a value cut at the block's end (a number) may go on
                continue
            break
        yield line, obj
        line += buf.count("\n", pos, end)
        pos = end


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


# ---- staging and duplicate detection ------------------------------------------------------------------
class _Keys:
    """Which keys occur more than once: 64-bit hashes and lines in 256 buckets (16 bytes per row)."""

    def __init__(self) -> None:
        self.hashes = [array("q") for _ in range(256)]
        self.lines = [array("Q") for _ in range(256)]

    def add(self, key: str, line: int) -> None:
        h = hash(key)  # one process: the same key hashes alike
        self.hashes[h & 0xFF].append(h)
        self.lines[h & 0xFF].append(line)

    def repeats(self) -> Iterator[tuple[int, int]]:
        """(line of a repeat, line of the first occurrence) for every row whose key hash occurred before."""
        for hashes, lines in zip(self.hashes, self.lines):
            order = sorted(range(len(hashes)), key=lambda i: (hashes[i], lines[i]))
            run = 0  # where the current run of equal hashes starts in order
            for k in range(1, len(order)):
                if hashes[order[k]] != hashes[order[run]]:
                    run = k
                else:
                    yield lines[order[k]], lines[order[run]]


class Staged(Generic[T]):
    """A validated file's entries, spooled to a temporary file; iterate to read them back in order."""

    def __init__(self, spool: IO[bytes], rows: int) -> None:
        self._spool = spool
        self.rows = rows

    def batches(self) -> Iterator[list[T]]:
        self._spool.seek(0)
        while True:
            try:
                batch: list[tuple[int, T]] = pickle.load(self._spool)  # our own file, written by stage_file
            except EOFError:
                return
            yield [entry for _, entry in batch]

    def __iter__(self) -> Iterator[T]:
        for batch in self.batches():
            yield from batch

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> Staged[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lines_of(spool: IO[bytes], wanted: set[int], key: Callable[[T], str]) -> dict[int, str]:
    """The keys of the staged entries on these lines."""
    spool.seek(0)
    found: dict[int, str] = {}
    while len(found) < len(wanted):
        try:
            batch: list[tuple[int, T]] = pickle.load(spool)
        except EOFError:
            break
        found.update((line, key(entry)) for line, entry in batch if line in wanted)
    return found


def stage_file(
    path: Path,
    columns: Sequence[str],
    make: Callable[[int, dict[str, object]], T | RowError],
    key: Callable[[T], str],
    fmt: str | None = None,
    progress: Progress | None = None,
    max_rows: int = MAX_ROWS,
    name: str | None = None,
) -> Staged[T]:
    """Validate a whole file row by row into a staging file, or raise ImportRejected.

    ``make`` builds an entry from a row (fields already checked against
    ``columns``) or returns a RowError; ``key`` detects duplicates. ``name``
    is the file's name for messages and its format (default: the path's).
    """
    name = name if name is not None else path.name
    fmt = file_format(name, fmt)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ImportRejected(name, [RowError(0, f"file is {size} bytes; at most {MAX_BYTES}")])
    errors: list[RowError] = []
    more = 0
    keys = _Keys()
    spool = tempfile.TemporaryFile(prefix="numrep-import-")
    rows = 0
    batch: list[tuple[int, T]] = []
    try:
        with open(path, "rb") as raw_fh:
            stream = io.BufferedReader(_Counting(raw_fh, progress), buffer_size=1 << 20)  # type: ignore[type-var]
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            reader: Iterable[tuple[int, object]] = (
                _csv_rows(text, columns, errors)
                if fmt == "csv"
                else _jsonl_rows(text, errors)
                if fmt == "jsonl"
                else _json_array_rows(text, errors)
            )
            try:
                for n, (line, obj) in enumerate(reader, start=1):
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
                    keys.add(key(result), line)
                    rows += 1
                    batch.append((line, result))
                    if len(batch) >= STAGE_BATCH:
                        pickle.dump(batch, spool, protocol=pickle.HIGHEST_PROTOCOL)
                        batch = []
            except _RowTooLong as exc:
                errors.append(RowError(exc.line, f"a line longer than {MAX_ROW_CHARS} characters"))
            except UnicodeDecodeError as exc:
                errors.append(RowError(0, f"not UTF-8 text (byte {exc.start} of a read block)"))
            except csv.Error as exc:
                errors.append(RowError(0, f"malformed CSV: {exc}"))
        if batch:
            pickle.dump(batch, spool, protocol=pickle.HIGHEST_PROTOCOL)
        repeats = sorted(keys.repeats())
        del keys
        if repeats:
            shown = repeats[:MAX_ERRORS]
            texts = _lines_of(spool, {line for pair in shown for line in pair}, key)
            for line, first in shown:
                if texts.get(line) == texts.get(first):  # else two keys with one hash: no duplicate
                    errors.append(RowError(line, f"duplicate {texts[line]} (first on line {first})"))
            more += len(repeats) - len(shown)
        if not rows and not errors:
            errors.append(RowError(0, "the file has no rows"))
        if errors:
            errors.sort(key=lambda e: e.line)
            more += max(0, len(errors) - MAX_ERRORS)
            raise ImportRejected(name, errors[:MAX_ERRORS], more)
    except BaseException:
        spool.close()
        raise
    return Staged(spool, rows)


def parse_file(
    path: Path,
    columns: Sequence[str],
    make: Callable[[int, dict[str, object]], T | RowError],
    key: Callable[[T], str],
    fmt: str | None = None,
    progress: Progress | None = None,
    max_rows: int = MAX_ROWS,
    name: str | None = None,
) -> list[T]:
    """Validate a whole file; return its entries as a list (for small files and tests) or raise ImportRejected."""
    with stage_file(path, columns, make, key, fmt, progress, max_rows, name) as staged:
        return list(staged)
