"""The fault tier's summary: one row per injected fault, filled from what the run measured."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Row:
    fault: str
    injected: str = "not reached"
    accepted: str = "-"  # inputs answered 202 (and how many 503 answers the client retried)
    events: str = "-"  # distinct change events on nof.changes.v1 (and re-sent copies there)
    subscribers: dict[str, str] = field(default_factory=dict)  # name → "received/required (+duplicates)"
    tables: str = "-"  # league tables (Redis and the read API) equal the batch result
    seconds: float = 0.0
    outcome: str = "ERROR"
    notes: list[str] = field(default_factory=list)


ROWS: list[Row] = []
SUBSCRIBERS = ("sse", "webhook", "public topic")
HEADER = ("fault", "injected", "accepted", "change events", *SUBSCRIBERS, "tables = batch", "time", "outcome")


def _cells(row: Row) -> tuple[str, ...]:
    subs = tuple(row.subscribers.get(name, "-") for name in SUBSCRIBERS)
    return (row.fault, row.injected, row.accepted, row.events, *subs, row.tables, f"{row.seconds:.0f} s", row.outcome)


def markdown(rows: list[Row]) -> str:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"

    out = [
        "# Fault tier summary",
        "",
        "Subscriber cells: change events received / change events required (+ duplicate copies, same id and "
        "payload). Required of every subscriber after every fault: every change event on nof.changes.v1.",
        "",
        line(HEADER),
        line(tuple("---" for _ in HEADER)),
    ]
    out += [line(_cells(r)) for r in rows]
    notes = [(r.fault, n) for r in rows for n in r.notes]
    if notes:
        out += ["", "Notes:", ""] + [f"- {fault}: {note}" for fault, note in notes]
    return "\n".join(out) + "\n"


def text(rows: list[Row]) -> list[str]:
    """The same table as aligned plain text, for the terminal."""
    table = [HEADER] + [_cells(r) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {r.fault}: {n}" for r in rows for n in r.notes]
    return lines + (["", "notes:"] + notes if notes else [])


def write(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(rows))
