"""Reporting periods: ISO weeks, months and quarters, as half-open UTC day ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from numrep.errors import ValidationError

Kind = Literal["week", "month", "quarter"]
MIN_YEAR, MAX_YEAR = 1970, 9998
_PATTERNS = {
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
}


@dataclass(frozen=True, slots=True, order=True)
class Period:
    start: date  # first day
    end: date  # first day after
    kind: Kind
    label: str  # 2026-W47, 2026-11, 2026-Q4

    @classmethod
    def parse(cls, label: str) -> Period:
        """``2026-W47`` (ISO week), ``2026-11`` (month) or ``2026-Q4`` (quarter)."""
        for kind, pattern in _PATTERNS.items():
            if m := pattern.match(label.strip()):
                year, n = int(m.group(1)), int(m.group(2))
                if not MIN_YEAR <= year <= MAX_YEAR:  # the period, its predecessor and its end must be dates
                    raise ValidationError(
                        f"period {label.strip()!r}: the year must lie between {MIN_YEAR} and {MAX_YEAR}"
                    )
                try:
                    if kind == "week":
                        return cls.containing(date.fromisocalendar(year, n, 1), "week")
                    if kind == "month":
                        return cls.containing(date(year, n, 1), "month")
                    return cls.containing(date(year, 3 * n - 2, 1), "quarter")
                except ValueError:
                    break
        raise ValidationError(f"period {label!r}: expected YYYY-Www, YYYY-MM or YYYY-Qn")

    @classmethod
    def containing(cls, day: date, kind: Kind) -> Period:
        if kind == "week":
            start = day - timedelta(days=day.isoweekday() - 1)
            iso = start.isocalendar()
            return cls(start, start + timedelta(days=7), kind, f"{iso.year}-W{iso.week:02d}")
        if kind == "month":
            start = day.replace(day=1)
            end = (start + timedelta(days=32)).replace(day=1)
            return cls(start, end, kind, f"{start.year}-{start.month:02d}")
        q = (day.month - 1) // 3
        start = date(day.year, 3 * q + 1, 1)
        end = date(day.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
        return cls(start, end, kind, f"{start.year}-Q{q + 1}")

    def previous(self) -> Period:
        return Period.containing(self.start - timedelta(days=1), self.kind)

    @property
    def days(self) -> int:
        return (self.end - self.start).days
