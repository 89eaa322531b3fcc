"""Reporting periods: parse, order and print months and financial-year quarters (METHODOLOGY §2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .errors import InvalidInput

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_FY_QUARTER = re.compile(r"^(\d{4})[-/](\d{2})\s+Q([1-4])$")  # 2025-26 Q3, 2025/26 Q3
_NHSE_QUARTER = re.compile(r"^Q([1-4])\s+(\d{4})[-/](\d{2})$")  # Q3 2025/26 (NHS England)


@dataclass(frozen=True, order=True)
class Period:
    """A month or a financial-year quarter, totally ordered by when it ends.

    Ordering is by the last calendar month covered, then by span (a month sorts before
    the quarter ending in that month, since the quarter is the later, fuller report).
    """

    end_month: int  # year * 12 + (month - 1)
    span: int  # 1 for a month, 3 for a quarter
    text: str = field(compare=False)

    def __str__(self) -> str:
        return self.text


def _fy_quarter(start_year: int, end_yy: int, quarter: int, raw: str) -> Period:
    if (start_year + 1) % 100 != end_yy:
        raise InvalidInput("period", f"{raw!r}: financial year must span consecutive years")
    # Financial years start in April: Q1 is Apr-Jun, so Q1 ends in June (month index 5).
    end_month = start_year * 12 + 5 + 3 * (quarter - 1)
    return Period(end_month, 3, f"{start_year}-{end_yy:02d} Q{quarter}")


def parse_period(raw: str) -> Period:
    """Parse ``2025-12``, ``2025-26 Q3`` or NHS England's ``Q3 2025/26`` (METHODOLOGY §2)."""
    if not isinstance(raw, str):
        raise InvalidInput("period", f"{raw!r} is not a string")
    return _parse(raw)


@lru_cache(maxsize=4096)  # a feed repeats a handful of periods
def _parse(raw: str) -> Period:
    text = raw.strip()
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise InvalidInput("period", f"{raw!r}: month must be 01-12")
        return Period(year * 12 + month - 1, 1, f"{year}-{month:02d}")
    if m := _FY_QUARTER.match(text):
        return _fy_quarter(int(m[1]), int(m[2]), int(m[3]), raw)
    if m := _NHSE_QUARTER.match(text):
        return _fy_quarter(int(m[2]), int(m[3]), int(m[1]), raw)
    raise InvalidInput("period", f"{raw!r} is not a month (2025-12) or quarter (2025-26 Q3)")
