"""Compare the generated averages with NHS England's published Q3 2025/26 distribution.

Targets (docs/DEMO.md): the national average 2.37 [published]; national quartiles 2.10,
2.35, 2.70 [the 2025/26 manual "quartiles" the averages, and these fixed cut-offs reproduce
the published table (METHODOLOGY §4), so we take them as the national quartiles], hence
25 % of trusts per raw segment; and the mental health and community league as published
(the 19 rows of that type in the packaged subset; that league has 20 trusts).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Iterable, Mapping, Sequence

from nof.csv_formats import LeagueRow, read_league_table
from shared.methodology import Methodology, Results, league_of

from .generator import Timeline

OVERALL = "all trusts"
NATIONAL_MEAN = Decimal("2.37")
NATIONAL_QUARTILES = (Decimal("2.10"), Decimal("2.35"), Decimal("2.70"))
SUBSET_FILE = "nof-league-table-q3-2025-26-subset.csv"
STATISTICS = ("mean", "q1", "median", "q3", "iqr", "segment 1", "segment 2", "segment 3",
              "segment 4")
#: How close the generated overall distribution must come (docs/DEMO.md explains why the
#: mean cannot come closer under rank-linear scoring).
TOLERANCE = {"mean": Decimal("0.10"), "iqr": Decimal("0.20")}


@dataclass(frozen=True)
class Distribution:
    """Summary of 2-dp averages: n, mean, quartiles (inclusive method) and the share of
    trusts per raw segment (by average alone, before the financial cap)."""

    n: int
    values: Mapping[str, Decimal]

    @classmethod
    def of(cls, averages: Sequence[Decimal], thresholds: Sequence[Decimal]) -> "Distribution":
        if not averages:
            return cls(0, {})
        ordered = sorted(averages)
        q1, median, q3 = (statistics.quantiles(ordered, n=4, method="inclusive")
                          if len(ordered) > 1 else (ordered[0],) * 3)
        values = {"mean": sum(ordered) / len(ordered), "q1": q1, "median": median, "q3": q3,
                  "iqr": q3 - q1}
        counts = [0, 0, 0, 0]
        for avg in ordered:
            counts[next((s for s, cut in enumerate(thresholds) if avg <= cut), 3)] += 1
        for segment, count in enumerate(counts, start=1):
            values[f"segment {segment}"] = Decimal(count) / len(ordered)
        return cls(len(ordered), {k: Decimal(v) for k, v in values.items()})


@dataclass(frozen=True)
class Row:
    scope: str
    n: int
    statistic: str
    target: Decimal | None
    generated: Decimal | None
    basis: str

    @property
    def difference(self) -> Decimal | None:
        if self.target is None or self.generated is None:
            return None
        return self.generated - self.target


@dataclass(frozen=True)
class Calibration:
    """Target against generated, per scope (``all trusts`` and each league)."""

    rows: tuple[Row, ...]
    generated: Mapping[str, Distribution]
    targets: Mapping[str, Distribution]
    deficit_share: Decimal

    def row(self, scope: str, statistic: str) -> Row:
        """One statistic of one scope; raises StopIteration if absent."""
        return next(r for r in self.rows if r.scope == scope and r.statistic == statistic)

    def within_tolerance(self) -> bool:
        return all(abs(self.row(OVERALL, s).difference) <= limit
                   for s, limit in TOLERANCE.items())

    def to_text(self) -> str:
        """A table per scope with a target (target, generated, difference); one line for
        each scope without one."""
        lines = []
        for scope, dist in self.generated.items():
            rows = [r for r in self.rows if r.scope == scope]
            if scope not in self.targets:
                lines.append(f"{scope} (n={dist.n}), no published target offline: "
                             + ", ".join(f"{r.statistic} {_show(r.generated, r.statistic)}"
                                         for r in rows))
                continue
            lines.append(f"{scope} (n={dist.n}) against {rows[0].basis}")
            lines.append(f"  {'statistic':<11}{'target':>8}{'generated':>11}{'diff':>8}")
            for r in rows:
                lines.append(f"  {r.statistic:<11}{_show(r.target, r.statistic):>8}"
                             f"{_show(r.generated, r.statistic):>11}"
                             f"{_show(r.difference, r.statistic, signed=True):>8}")
        verdict = "within" if self.within_tolerance() else "OUTSIDE"
        limits = ", ".join(f"{s} ±{v}" for s, v in TOLERANCE.items())
        lines.append(f"all trusts: {verdict} tolerance ({limits}); in deficit at the end: "
                     f"{self.deficit_share:.0%} of trusts")
        return "\n".join(lines)


def _show(value: Decimal | None, statistic: str, signed: bool = False) -> str:
    if value is None:
        return "-"
    if statistic.startswith("segment"):
        return f"{value * 100:+.0f}%" if signed else f"{value * 100:.0f}%"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def published_subset() -> list[LeagueRow]:
    """The 20 published rows packaged with ``shared`` (a copy of the real subset)."""
    with resources.as_file(resources.files("shared").joinpath("data", SUBSET_FILE)) as path:
        return read_league_table(str(path))


def published_targets(m: Methodology, rows: Iterable[LeagueRow]) -> dict[str, Distribution]:
    """National quartile targets, and each league's published rows when it has 5 or more."""
    by_league: dict[str, list[Decimal]] = {}
    for row in rows:
        if row.average is not None:
            by_league.setdefault(league_of(row.trust_type), []).append(row.average)
    q1, median, q3 = NATIONAL_QUARTILES
    targets = {OVERALL: Distribution(0, {
        "mean": NATIONAL_MEAN, "q1": q1, "median": median, "q3": q3, "iqr": q3 - q1,
        **{f"segment {s}": Decimal("0.25") for s in (1, 2, 3, 4)}})}
    for league, averages in by_league.items():
        if len(averages) >= 5:
            targets[league] = Distribution.of(averages, m.thresholds)
    return targets


def generated_distributions(m: Methodology, results: Results) -> dict[str, Distribution]:
    out = {OVERALL: Distribution.of([e.average for e in results if e.average is not None],
                                    m.thresholds)}
    for league, table in results.leagues.items():
        out[league] = Distribution.of([e.average for e in table.entries
                                       if e.average is not None], m.thresholds)
    return out


def calibrate(m: Methodology, timeline: Timeline, results: Results,
              published: Iterable[LeagueRow]) -> Calibration:
    """Target vs generated for every scope; leagues without a published target show only
    the generated values."""
    targets = published_targets(m, published)
    generated = generated_distributions(m, results)
    rows = []
    for scope, dist in generated.items():
        target = targets.get(scope)
        basis = _basis(scope, target)
        for statistic in STATISTICS:
            rows.append(Row(scope, dist.n, statistic,
                            target.values.get(statistic) if target else None,
                            dist.values.get(statistic), basis))
    flagged = [e for e in results if e.in_deficit]
    total = sum(1 for _ in results)
    return Calibration(tuple(rows), generated, targets,
                       Decimal(len(flagged)) / total if total else Decimal(0))


def _basis(scope: str, target: Distribution | None) -> str:
    if scope == OVERALL:
        return "NHS England's national average 2.37 and quartiles 2.10/2.35/2.70"
    if target is None:
        return "no published target offline"
    return f"NHS England's published Q3 2025/26 rows (n={target.n})"
