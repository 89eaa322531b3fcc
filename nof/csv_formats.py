"""Readers for NHS England's CSV layouts: league tables, long metric data, finance flags."""

from __future__ import annotations

import csv
import os
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Iterator

PROGRESS_EVERY = 10_000
LARGE_FILE_BYTES = 5_000_000
LEAGUE_COLUMNS = ("Region", "Trust_type", "Trust_subtype", "Trust_code", "Trust_name",
                  "Quarter", "Average_score", "Segment", "Trust_in_financial_deficit", "Rank")
METRIC_COLUMNS = ("Quarter", "Region", "Trust_code", "Trust_name", "Trust_type",
                  "Trust_subtype", "Metric_ID", "Metric_description", "Units", "Value")
FINANCE_COLUMNS = ("Trust_code", "Trust_in_financial_deficit")
# NHS England's files also carry per-metric scores (OF1xxx), domain scores and segments
# (OF4xxx), the adjusted segment (OF5000) and the average score (OF5002).
PUBLISHED_SCORE_ID = re.compile(r"^OF(1\d{3}|4\d{3}|5000|5002)$")
_FLAGS = {"yes": True, "y": True, "true": True, "1": True,
          "no": False, "n": False, "false": False, "0": False, "": None}


class CsvError(Exception):
    """Bad CSV input, located as ``file:line: column X: reason``."""

    def __init__(self, path: str, line: int, column: str | None, reason: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: column {column}: {reason}" if column else f"{where}: {reason}")
        self.path, self.line, self.column, self.reason = path, line, column, reason


@dataclass
class Cell:
    """Locates values of one row for error messages."""

    path: str
    line: int
    row: dict[str, str]

    def text(self, column: str) -> str:
        return (self.row.get(column) or "").strip()

    def fail(self, column: str | None, reason: str) -> CsvError:
        return CsvError(self.path, self.line, column, reason)

    def decimal(self, column: str) -> Decimal | None:
        raw = self.text(column)
        if not raw:
            return None
        try:
            value = Decimal(raw.replace(",", ""))
        except InvalidOperation:
            raise self.fail(column, f"{raw!r} is not a number") from None
        if not value.is_finite():
            raise self.fail(column, f"{raw!r} is not a finite number")
        return value

    def integer(self, column: str) -> int | None:
        value = self.decimal(column)
        if value is not None and value != value.to_integral_value():
            raise self.fail(column, f"{self.text(column)!r} is not a whole number")
        return None if value is None else int(value)

    def flag(self, column: str) -> bool | None:
        raw = self.text(column)
        if raw.lower() not in _FLAGS:
            raise self.fail(column, f"{raw!r} is not Yes, No or blank")
        return _FLAGS[raw.lower()]


def rows(path: str, required: tuple[str, ...]) -> Iterator[Cell]:
    """Rows of a CSV file with the required columns (extra columns are ignored)."""
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as error:
        raise CsvError(path, 0, None, f"cannot read: {error.strerror}") from None
    large = sys.stderr.isatty() or os.path.getsize(path) > LARGE_FILE_BYTES
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or ()]
        missing = [c for c in required if c not in header]
        if missing:
            raise CsvError(path, 1, missing[0], f"missing (header has {', '.join(header)})")
        reader.fieldnames = header
        count = 0
        try:
            for row in reader:
                count += 1
                if large and count % PROGRESS_EVERY == 0:
                    print(f"{path}: {count:,} rows read", file=sys.stderr, flush=True)
                yield Cell(path, reader.line_num, row)
        except csv.Error as error:
            raise CsvError(path, reader.line_num, None, f"malformed CSV: {error}") from None


@dataclass(frozen=True)
class LeagueRow:
    """One row of a published league table."""

    line: int
    trust_type: str
    trust_code: str
    trust_name: str
    average: Decimal | None
    segment: int | None
    in_deficit: bool | None
    rank: int | None


def read_league_table(path: str) -> list[LeagueRow]:
    """NHS England's league-table layout (columns in LEAGUE_COLUMNS)."""
    out = []
    for cell in rows(path, LEAGUE_COLUMNS):
        out.append(LeagueRow(
            cell.line, cell.text("Trust_type"), cell.text("Trust_code"), cell.text("Trust_name"),
            cell.decimal("Average_score"), cell.integer("Segment"),
            cell.flag("Trust_in_financial_deficit"), cell.integer("Rank")))
    return out


@dataclass(frozen=True)
class FinanceRow:
    line: int
    trust_code: str
    in_deficit: bool | None
    intensive_support: bool | None


def read_finance(path: str) -> list[FinanceRow]:
    """``Trust_code, Trust_in_financial_deficit`` and optionally ``Intensive_support``."""
    return [FinanceRow(c.line, c.text("Trust_code"), c.flag("Trust_in_financial_deficit"),
                       c.flag("Intensive_support") if "Intensive_support" in c.row else None)
            for c in rows(path, FINANCE_COLUMNS)]


@dataclass
class MetricRows:
    """The usable rows of a long metric-data file and what was skipped."""

    rows: list[Cell] = field(default_factory=list)
    published_scores: int = 0
    unknown: dict[str, int] = field(default_factory=dict)
    blank: int = 0

    @property
    def skipped(self) -> int:
        return self.published_scores + sum(self.unknown.values()) + self.blank


def read_metric_rows(path: str, scoring_ids) -> MetricRows:
    """Rows of NHS England's long metric layout whose Metric_ID is a scoring metric."""
    found = MetricRows()
    for cell in rows(path, METRIC_COLUMNS):
        metric_id = cell.text("Metric_ID")
        if metric_id not in scoring_ids:
            if PUBLISHED_SCORE_ID.match(metric_id):
                found.published_scores += 1
            else:
                found.unknown[metric_id] = found.unknown.get(metric_id, 0) + 1
        elif not cell.text("Value"):
            found.blank += 1  # suppressed or not reported: left out, never scored as 4
        else:
            found.rows.append(cell)
    return found
