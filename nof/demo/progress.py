"""Progress of a replay on stderr: one updating line on a terminal, periodic lines otherwise."""

from __future__ import annotations

import sys
from typing import Callable, TextIO


class Progress:
    """Shows percentage, inputs sent, rate and the current simulated month.

    On a terminal the line is rewritten in place (at most 10 times a second); in a log
    file a line is written every ``every_s`` seconds and whenever the month changes.
    """

    def __init__(self, total: int, months: int, clock: Callable[[], float],
                 stream: TextIO | None = None, tty: bool | None = None,
                 every_s: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total, self.months, self.clock, self.every_s = total, months, clock, every_s
        self.started = clock()
        self.sent, self.month, self.label = 0, 0, ""
        self._shown_at: float | None = None
        self._shown_month = -1

    def update(self, sent: int, month: int, label: str) -> None:
        self.sent, self.month, self.label = sent, month, label
        now = self.clock()
        interval = 0.1 if self.tty else self.every_s
        if (self._shown_at is None or now - self._shown_at >= interval
                or month != self._shown_month):
            self._show(now)

    def note(self, message: str) -> None:
        """A message on its own line (a retry, a warning), without losing the progress line."""
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(message + "\n")
        self.stream.flush()
        self._shown_at = None

    def finish(self) -> None:
        self._show(self.clock())
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        share = self.sent / self.total if self.total else 1.0
        where = "baseline" if self.month == 0 else f"month {self.month}/{self.months}"
        return (f"replay {share:6.1%}  {self.sent:,}/{self.total:,} inputs  "
                f"{self.sent / elapsed:,.0f}/s  simulated {self.label} ({where})")

    def _show(self, now: float) -> None:
        text = self.line(now)
        self.stream.write(f"\r\x1b[K{text}" if self.tty else text + "\n")
        self.stream.flush()
        self._shown_at, self._shown_month = now, self.month
