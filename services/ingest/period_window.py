"""Which reporting periods ingest takes: none before the methodology's first period, none beyond a horizon
after the current month. A period in the future would become the latest scored period and file every later
real value as old history, so it is refused before it reaches the scorer. No I/O here: the clock is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from shared.methodology import InvalidInput, Period, parse_period


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


def month_label(month_index: int) -> str:
    return f"{month_index // 12}-{month_index % 12 + 1:02d}"


@dataclass(frozen=True)
class PeriodWindow:
    first: str  # the methodology's first period
    ahead_months: int  # how far past the current month a period may end
    methodology: str = ""
    clock: Callable[[], date] = field(default=today_utc, compare=False)

    def check(self, period: Period) -> None:
        """Raises InvalidInput naming ``period`` when it lies outside the window."""
        first = parse_period(self.first)
        if period.end_month < first.end_month:
            raise InvalidInput("period", f"{period} is before {first}, the first period of methodology "
                                         f"{self.methodology or 'in use'}")
        today = self.clock()
        latest = today.year * 12 + today.month - 1 + self.ahead_months
        if period.end_month > latest:
            raise InvalidInput("period", f"{period} ends after {month_label(latest)}: a period may end at most "
                                         f"{self.ahead_months} month(s) after the current month")
