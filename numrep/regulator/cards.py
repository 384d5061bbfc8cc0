"""Real-name card limits: registrations, findings, re-verification lists, status tracking.

Each person may hold at most ``card_limit_per_operator`` (five) cards per
operator. Operators import their card registrations (``REGISTRATION_COLUMNS``:
ID number, operator, number, date, point of sale or reseller) with the rules of
every import (numrep.regulator.imports: whole-file validation with line
numbers, all-or-nothing, idempotent, bounded memory). The ID number is
validated (18 characters: 17 digits and a check character, ``X`` for ten, by
ISO 7064 MOD 11-2, with a plausible birth date inside) and replaced by its
keyed hash (``Settings.id_number_key``) before anything is staged: the raw ID
reaches no store, log or error message (an error names the line and the field).

Findings are computed over the registrations on record (a card cancelled
since still counts as found, so progress is never lost by handling it):

* ``over_limit``: an ID with more than the limit at one operator;
* ``concentration``: an ID with ``card_concentration`` or more cards over all
  operators (at two or more of them);
* ``later_flagged``: an ID holding a number that the platform flagged (LABEL or
  BLOCK) on evidence first seen on or after the card's registration.

An operator's re-verification list holds its cards still ``active`` of the
IDs found (over the limit at that operator, concentrated, or later flagged).
Operators report each card's outcome (``STATUS_COLUMNS``: re-verified,
cancelled or expired), by import or RPC; a repeated status changes nothing,
and a final status (cancelled, expired) does not change.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from numrep.errors import InvalidSubject
from numrep.models import Card, CardStatus
from numrep.numbers import TEL, normalize
from numrep.privacy import keyed_hash
from numrep.regulator.imports import (
    MAX_ERRORS,
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

REGISTRATION_COLUMNS = ("id_number", "operator", "number", "date", "seller")
STATUS_COLUMNS = ("operator", "number", "status", "date")
ID_LENGTH = 18
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2**(17 - i) mod 11
ID_CHECK = "10X98765432"  # the check character for each remainder mod 11
EARLIEST_BIRTH = date(1900, 1, 1)
DEFAULT_LIMIT = 5
DEFAULT_CONCENTRATION = 10
FINDINGS = ("over_limit", "concentration", "later_flagged")
UPDATABLE = (CardStatus.REVERIFIED, CardStatus.CANCELLED, CardStatus.EXPIRED)


# ---- ID numbers ------------------------------------------------------------------
def id_problem(raw: str, registered_on: date | None = None) -> str | None:
    """What is wrong with an ID number, in words that never quote it; None when it is valid.

    The birth date inside (characters 7-14, YYYYMMDD) must be a date between
    1900-01-01 and the registration date (today when not given).
    """
    text = raw.strip().upper()
    if len(text) != ID_LENGTH:
        return f"{len(text)} characters, expected {ID_LENGTH}"
    body, check = text[:17], text[17]
    if not (body.isascii() and body.isdigit()):
        return "the first 17 characters must be digits"
    if not (check == "X" or (check.isascii() and check.isdigit())):
        return "the check character must be a digit or X"
    if ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS)) % 11] != check:
        return "check character does not match (ISO 7064 MOD 11-2)"
    try:
        born = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        return "the birth date inside is not a date"
    latest = registered_on or datetime.now(UTC).date()
    if not EARLIEST_BIRTH <= born <= latest:
        return "the birth date inside lies before 1900 or after the registration date"
    return None


def id_hash(key: bytes, raw: str) -> str:
    """The keyed hash of a (valid) ID number; a lower-case ``x`` hashes like ``X``."""
    return keyed_hash(key, raw.strip().upper())


def check_digit(body: str) -> str:
    """The check character of 17 digits (for tests, demos and benchmarks that make valid IDs)."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS)) % 11]


# ---- registrations ---------------------------------------------------------------
def _day(line: int, row: dict[str, object], name: str, today: date) -> date | RowError:
    try:
        day = date.fromisoformat(str(row[name]).strip())
    except ValueError:
        return RowError(line, f"{name}: expected YYYY-MM-DD")
    if day > today:
        return RowError(line, f"{name} {day.isoformat()}: lies in the future")
    return day


def _number(line: int, row: dict[str, object], region: str) -> str | RowError:
    raw = row["number"]
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        return RowError(line, "number: expected text")
    try:
        number = normalize(raw, region)
    except InvalidSubject as exc:
        return RowError(line, f"number: {exc.reason}")  # a subscriber's number: not quoted
    if not number.startswith(TEL):
        return RowError(line, "number: not a phone number")
    return number


def _registration(key: bytes, region: str, today: date, line: int, row: dict[str, object]) -> Card | RowError:
    raw_id = row["id_number"]
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if not isinstance(raw_id, str) or not raw_id.strip():
        return RowError(line, "id_number: required")
    operator = text_field(line, row, "operator")
    if isinstance(operator, RowError):
        return operator
    number = _number(line, row, region)
    if isinstance(number, RowError):
        return number
    day = _day(line, row, "date", today)
    if isinstance(day, RowError):
        return day
    if problem := id_problem(raw_id, day):
        return RowError(line, f"id_number: {problem}")
    seller = text_field(line, row, "seller")
    if isinstance(seller, RowError):
        return seller
    return Card(operator, number, id_hash(key, raw_id), day, seller)


def _card_key(c: Card) -> str:
    return f"card of {c.operator} for number {c.number}"


def stage_registrations(
    path: Path,
    key: bytes,
    fmt: str | None = None,
    region: str = "CN",
    progress: Progress | None = None,
    max_rows: int = MAX_ROWS,
    name: str | None = None,
    today: date | None = None,
) -> Staged[Card]:
    """Validate a whole registration file into a staging file (ID numbers already hashed), or raise ImportRejected."""
    today = today or datetime.now(UTC).date()
    return stage_file(
        path, REGISTRATION_COLUMNS, partial(_registration, key, region, today), _card_key, fmt, progress, max_rows, name
    )


def import_registrations(
    store: Store,
    key: bytes,
    path: Path,
    fmt: str | None = None,
    region: str = "CN",
    progress: Progress | None = None,
    name: str | None = None,
) -> ImportResult:
    """Validate ``path`` completely, then apply it. Idempotent: importing it again changes nothing.

    A number registered again (to another ID after it changed hands) replaces its card, as active.
    """
    with stage_registrations(path, key, fmt, region, progress, name=name) as staged:
        return ImportResult(staged.rows, store.put_cards(_keeping_status(store, staged.batches())))


def _keeping_status(store: Store, batches: Iterable[list[Card]]) -> Iterator[Card]:
    """The registrations, each keeping the status of the same registration already stored (a re-import
    must not undo re-verification); a number registered anew (another ID or date) starts active."""
    for batch in batches:
        stored = store.get_cards(c.key for c in batch)
        for c in batch:
            old = stored.get(c.key)
            same = old is not None and (old.id_hash, old.registered_on) == (c.id_hash, c.registered_on)
            yield replace(c, status=old.status, status_on=old.status_on) if same and old else c


# ---- statuses ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StatusUpdate:
    operator: str
    number: str
    status: CardStatus
    on: date
    line: int = 0


def _status_row(region: str, today: date, line: int, row: dict[str, object]) -> StatusUpdate | RowError:
    operator = text_field(line, row, "operator")
    if isinstance(operator, RowError):
        return operator
    number = _number(line, row, region)
    if isinstance(number, RowError):
        return number
    try:
        status = CardStatus(str(row["status"]).strip().lower())
    except ValueError:
        status = CardStatus.ACTIVE
    if status not in UPDATABLE:
        return RowError(line, f"status: expected {', '.join(s.value for s in UPDATABLE)}")
    day = _day(line, row, "date", today)
    if isinstance(day, RowError):
        return day
    return StatusUpdate(operator, number, status, day, line)


def _status_key(u: StatusUpdate) -> str:
    return f"card of {u.operator} for number {u.number}"


def apply_status(card: Card, u: StatusUpdate) -> Card | str:
    """The card after ``u`` (the same card when it already has that status), or what forbids it."""
    if card.status is u.status:
        return card
    if card.status.final:
        return f"status: the card is {card.status.value} since {card.status_on}; that does not change"
    if u.on < card.registered_on:
        return f"date {u.on.isoformat()}: before the card's registration ({card.registered_on.isoformat()})"
    return replace(card, status=u.status, status_on=u.on)


def update_statuses(
    store: Store, updates: Iterable[StatusUpdate], source: str = "status updates", batch_size: int = 4096
) -> ImportResult:
    """Check every update against the stored cards, then apply them all, or raise ImportRejected (nothing applied).

    ``updates`` is read twice (a staged file's entries, or a list): once to check, once to apply.
    """
    errors: list[RowError] = []
    more, rows = 0, 0
    for batch in _batches(updates, batch_size):
        cards = store.get_cards((u.operator, u.number) for u in batch)
        for u in batch:
            rows += 1
            card = cards.get((u.operator, u.number))
            outcome = apply_status(card, u) if card else f"number: no card of {u.operator} registered for it"
            if isinstance(outcome, str):
                if len(errors) < MAX_ERRORS:
                    errors.append(RowError(u.line, outcome))
                else:
                    more += 1
    if errors:
        raise ImportRejected(source, errors, more)
    changed = 0
    for batch in _batches(updates, batch_size):
        cards = store.get_cards((u.operator, u.number) for u in batch)
        changed += store.put_cards(
            o for u in batch if isinstance(o := apply_status(cards[(u.operator, u.number)], u), Card)
        )
    return ImportResult(rows, changed)


def _batches(items: Iterable[StatusUpdate], size: int) -> Iterator[list[StatusUpdate]]:
    batch: list[StatusUpdate] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_statuses(
    store: Store,
    path: Path,
    fmt: str | None = None,
    region: str = "CN",
    progress: Progress | None = None,
    name: str | None = None,
) -> ImportResult:
    """Validate a status file (operator, number, status, date) whole, against the stored cards too, then apply it."""
    today = datetime.now(UTC).date()
    with stage_file(
        path, STATUS_COLUMNS, partial(_status_row, region, today), _status_key, fmt, progress, name=name
    ) as staged:
        return update_statuses(store, staged, name or path.name)


# ---- findings ------------------------------------------------------------------------
@dataclass(frozen=True)
class IdFinding:
    """An ID number (by its hash) found by one or more of FINDINGS."""

    id_hash: str
    kinds: tuple[str, ...]
    cards: int  # registrations on record over all operators
    live: int  # cards in service now (active or re-verified)
    per_operator: dict[str, int]  # registrations on record per operator
    over_at: tuple[str, ...]  # operators where it is over the limit
    flagged: tuple[str, ...] = ()  # its numbers flagged after registration

    @property
    def ref(self) -> str:
        """A short reference for lists (a prefix of the keyed hash, never the ID)."""
        return self.id_hash.split(":", 1)[-1][:16]


def as_of(card: Card, day: date | None) -> Card:
    """The card as it stood before ``day`` (a status dated later is not yet known); None: as it is."""
    if day is None or card.status_on is None or card.status_on < day:
        return card
    return replace(card, status=CardStatus.ACTIVE, status_on=None)


def _later_flagged(store: Store, hits: list[Card]) -> dict[str, list[str]]:
    """ID hash → its numbers (``hits``: cards whose numbers are flagged) flagged on evidence first seen on or
    after the card's registration."""
    reps = store.get_reputations(sorted({c.number for c in hits}))
    out: dict[str, list[str]] = defaultdict(list)
    for c in hits:
        rep = reps.get(c.number)
        if rep is None:
            continue
        seen = rep.first_seen or rep.updated_at
        if seen.date() >= c.registered_on:
            out[c.id_hash].append(c.number)
    return out


def find(
    store: Store, limit: int = DEFAULT_LIMIT, concentration: int = DEFAULT_CONCENTRATION, before: date | None = None
) -> dict[str, IdFinding]:
    """The IDs found, by hash. ``before``: only cards registered before that day, with statuses known then.

    One streamed pass over the cards; memory grows with the number of distinct
    IDs (a counter per ID and operator), not with the cards read.
    """
    per: dict[str, Counter[str]] = defaultdict(Counter)
    live: Counter[str] = Counter()
    flagged_candidates: list[Card] = []
    flagged_numbers = set(store.flagged_subjects())
    for card in store.iter_cards():
        if before is not None and card.registered_on >= before:
            continue
        card = as_of(card, before)
        per[card.id_hash][card.operator] += 1
        if card.status.live:
            live[card.id_hash] += 1
        if card.number in flagged_numbers:
            flagged_candidates.append(card)
    later = _later_flagged(store, flagged_candidates)
    out: dict[str, IdFinding] = {}
    for h, ops in per.items():
        over = tuple(sorted(op for op, n in ops.items() if n > limit))
        kinds = []
        if over:
            kinds.append("over_limit")
        if sum(ops.values()) >= concentration and len(ops) >= 2:
            kinds.append("concentration")
        if h in later:
            kinds.append("later_flagged")
        if kinds:
            out[h] = IdFinding(
                h,
                tuple(kinds),
                sum(ops.values()),
                live[h],
                dict(sorted(ops.items())),
                over,
                tuple(sorted(later.get(h, []))),
            )
    return out


def _reasons_at(f: IdFinding, operator: str) -> list[str]:
    reasons = []
    if operator in f.over_at:
        reasons.append("over_limit")
    if "concentration" in f.kinds and operator in f.per_operator:
        reasons.append("concentration")
    if "later_flagged" in f.kinds:
        reasons.append("later_flagged")
    return reasons


# ---- re-verification lists -----------------------------------------------------------------
REVERIFY_COLUMNS = ("number", "id_ref", "registered_on", "seller", "cards_at_operator", "cards_total", "reasons")


@dataclass(frozen=True, slots=True)
class ReverifyEntry:
    card: Card
    finding: IdFinding
    reasons: tuple[str, ...]

    def row(self) -> list[Any]:
        c, f = self.card, self.finding
        return [
            c.number,
            f.ref,
            c.registered_on.isoformat(),
            c.seller,
            f.per_operator.get(c.operator, 0),
            f.cards,
            ";".join(self.reasons),
        ]


def reverification_list(
    store: Store, operator: str, limit: int = DEFAULT_LIMIT, concentration: int = DEFAULT_CONCENTRATION
) -> list[ReverifyEntry]:
    """``operator``'s active cards of the IDs found, sorted by ID reference and number."""
    findings = find(store, limit, concentration)
    held = store.cards_of_ids(findings)
    out = []
    for h, f in findings.items():
        reasons = tuple(_reasons_at(f, operator))
        if not reasons:
            continue
        for c in held.get(h, []):
            if c.operator == operator and c.status is CardStatus.ACTIVE:
                out.append(ReverifyEntry(c, f, reasons))
    return sorted(out, key=lambda e: (e.finding.ref, e.card.number))


def reverification_csv(entries: Iterable[ReverifyEntry]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REVERIFY_COLUMNS)
    for e in entries:
        w.writerow(e.row())
    return buf.getvalue().encode()


# ---- indicators (the spam reporting list) -----------------------------------------------------
@dataclass
class Indicators:
    """Per operator, or per operator and seller: cards, those found high-risk, and how their handling goes."""

    cards: int = 0
    ids_over_limit: int = 0
    cards_over_limit: int = 0
    high_risk: int = 0
    reverified: int = 0
    cancelled: int = 0
    expired: int = 0
    _ids: set[str] = field(default_factory=set, repr=False)

    @property
    def pending(self) -> int:
        return self.high_risk - self.reverified - self.cancelled - self.expired

    @property
    def progress(self) -> float:
        return round((self.high_risk - self.pending) / self.high_risk, 4) if self.high_risk else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "cards": self.cards,
            "ids_over_limit": self.ids_over_limit,
            "cards_over_limit": self.cards_over_limit,
            "high_risk": self.high_risk,
            "reverified": self.reverified,
            "cancelled": self.cancelled,
            "expired": self.expired,
            "pending": self.pending,
            "progress": self.progress,
        }


def indicators(
    store: Store, before: date | None = None, limit: int = DEFAULT_LIMIT, concentration: int = DEFAULT_CONCENTRATION
) -> dict[str, Any]:
    """Per operator and per seller (point of sale or reseller): cards, over the limit, re-verification progress.

    ``before``: as of that day (cards registered before it, statuses dated before it). A pure function
    of the stored data: sorted, no clock, so the same data gives the same output.
    """
    findings = find(store, limit, concentration, before)
    ops: dict[str, Indicators] = defaultdict(Indicators)
    sellers: dict[tuple[str, str], Indicators] = defaultdict(Indicators)
    for card in store.iter_cards():
        if before is not None and card.registered_on >= before:
            continue
        card = as_of(card, before)
        f = findings.get(card.id_hash)
        for ind in (ops[card.operator], sellers[(card.operator, card.seller)]):
            ind.cards += 1
            if f is None or not _reasons_at(f, card.operator):
                continue
            ind.high_risk += 1
            if card.operator in f.over_at:
                ind.cards_over_limit += 1
                ind._ids.add(f.id_hash)
            if card.status is CardStatus.REVERIFIED:
                ind.reverified += 1
            elif card.status is CardStatus.CANCELLED:
                ind.cancelled += 1
            elif card.status is CardStatus.EXPIRED:
                ind.expired += 1
    for ind in (*ops.values(), *sellers.values()):
        ind.ids_over_limit = len(ind._ids)
    return {
        "limit": limit,
        "concentration": concentration,
        "ids_found": {k: sum(1 for f in findings.values() if k in f.kinds) for k in FINDINGS},
        "operators": [{"operator": op, **ind.as_dict()} for op, ind in sorted(ops.items())],
        "sellers": [{"operator": op, "seller": s, **ind.as_dict()} for (op, s), ind in sorted(sellers.items())],
    }


Importer = Callable[[Store, Path, "str | None", str, "Progress | None", "str | None"], ImportResult]


def registration_importer(key: bytes) -> Importer:
    """``import_registrations`` with its key bound, in the shape AdminService's uploads take."""

    def run(
        store: Store, path: Path, fmt: str | None, region: str, progress: Progress | None, name: str | None
    ) -> ImportResult:
        return import_registrations(store, key, path, fmt, region, progress, name)

    return run
