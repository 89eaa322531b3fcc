"""NHS England's long metric-data CSV → observations, row by row, with a count of skipped rows by reason.

Columns (extra ones ignored): Quarter, Region, Trust_code, Trust_name, Trust_type, Trust_subtype,
Metric_ID, Metric_description, Units, Value. Published score rows (OF1xxx per-metric scores, OF4xxx
domain scores and segments, OF5000 adjusted segment, OF5002 average) are recognised and skipped.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from pydantic import ValidationError

from services.ingest.accept import Acceptor, Keyed
from services.ingest.schemas import ObservationIn
from shared.errors import FieldError
from shared.methodology import InvalidInput

REQUIRED = ("Quarter", "Trust_code", "Metric_ID", "Value")
PUBLISHED_SCORE = re.compile(r"^OF(1\d{3}|4\d{3}|5000|5002)$")
MAX_EXAMPLES = 20


class CsvLayoutError(ValueError):
    """The file is not in the long metric-data layout (a header is missing)."""


@dataclass
class CsvTally:
    rows: int = 0
    accepted: int = 0
    skipped: Counter = field(default_factory=Counter)
    examples: list[dict[str, object]] = field(default_factory=list)

    def skip(self, line: int, column: str, reason: str, key: str) -> None:
        self.skipped[key] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append({"line": line, "column": column, "reason": reason})


def _number(text: str) -> float:
    cleaned = text.strip().replace(",", "").rstrip("%")
    return float(cleaned)


def read_rows(stream: IO[bytes], acceptor: Acceptor, tally: CsvTally, correlation_id: str) -> Iterator[Keyed]:
    """Yield an event for every acceptable row; count every other row in ``tally`` with its reason."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:  # e.g. a header field longer than the csv module's field limit
        raise CsvLayoutError(f"unreadable header line: {exc}") from None
    missing = [c for c in REQUIRED if c not in fieldnames]
    if missing:
        hint = ""
        if len(fieldnames) == 1 and ";" in fieldnames[0]:
            hint = "; the file looks ';'-delimited: save it with commas as the delimiter"
        raise CsvLayoutError(f"missing column(s) {', '.join(missing)}; found {', '.join(fieldnames)[:300]}{hint}")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # one malformed row (a field over the limit) is skipped; the reader goes on
            tally.rows += 1
            # the reader counts a line only once it has parsed it, so the bad one is the next
            tally.skip(reader.line_num + 1, "row", f"malformed CSV row: {exc}", "malformed row")
            continue
        tally.rows += 1
        line = reader.line_num
        metric_id = (row.get("Metric_ID") or "").strip()
        if PUBLISHED_SCORE.match(metric_id):
            tally.skipped["published score row"] += 1
            continue
        raw_value = (row.get("Value") or "").strip()
        try:
            value = _number(raw_value)
        except ValueError:
            tally.skip(line, "Value", f"{raw_value!r} is not a number", "value not a number")
            continue
        try:
            item = ObservationIn(
                trust_code=(row.get("Trust_code") or "").strip(), metric_id=metric_id,
                period=(row.get("Quarter") or "").strip(), value=value, source="nhse-csv",
            )
            yield acceptor.observation(item, correlation_id)
        except ValidationError as exc:
            err = exc.errors()[0]
            column = {"trust_code": "Trust_code", "metric_id": "Metric_ID", "period": "Quarter"}.get(
                str(err["loc"][0]), str(err["loc"][0]))
            tally.skip(line, column, err["msg"], f"invalid {column}")
        except InvalidInput as exc:
            column = {"trust_code": "Trust_code", "metric_id": "Metric_ID", "period": "Quarter", "value": "Value"}.get(
                exc.field, exc.field)
            key = "unknown metric" if exc.reason.startswith("unknown metric") else (
                "unknown trust" if exc.reason.startswith("unknown trust") else f"invalid {column}")
            tally.skip(line, column, exc.reason, key)


def nothing_accepted(tally: CsvTally) -> list[FieldError]:
    """Why a CSV gave no observation at all: its example rows (line as the index), else its counts by reason."""
    if tally.rows == 0:
        return [FieldError("body", "the CSV has a header line but no rows")]
    errors = [FieldError(str(e["column"]), str(e["reason"]), int(e["line"])) for e in tally.examples]
    return errors or [FieldError("row", f"{count} row(s): {reason}") for reason, count in sorted(tally.skipped.items())]


def import_csv(
    stream: IO[bytes],
    acceptor: Acceptor,
    publish: Callable[[list[Keyed]], None],
    chunk_rows: int,
    correlation_id: str,
) -> CsvTally:
    """Parse and publish in chunks; each chunk is acknowledged before the next is read."""
    tally = CsvTally()
    chunk: list[Keyed] = []
    for record in read_rows(stream, acceptor, tally, correlation_id):
        chunk.append(record)
        if len(chunk) >= chunk_rows:
            publish(chunk)
            tally.accepted += len(chunk)
            chunk = []
    if chunk:
        publish(chunk)
        tally.accepted += len(chunk)
    return tally
