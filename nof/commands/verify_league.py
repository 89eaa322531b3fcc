"""``nof verify-league FILE.csv``: recompute Segment and Rank of a published league table."""

from __future__ import annotations

import argparse
from collections import defaultdict

from nof.csv_formats import CsvError, LeagueRow, read_league_table
from shared.methodology import DEFAULT_VERSION, InvalidInput, get_methodology, league_of
from shared.methodology.ranking import competition_ranks
from shared.methodology.rounding import to_hundredths
from shared.methodology.segments import league_cuts, segment_state


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify-league", help="check Segment and Rank of an NHS England league table",
        description="Recompute Segment and Rank per Trust_type from Average_score and "
                    "Trust_in_financial_deficit; exit 0 only when everything matches.")
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument("--methodology", default=DEFAULT_VERSION, metavar="VERSION")
    p.set_defaults(run=run)


def expected(m, rows: list[LeagueRow]) -> dict[int, tuple[int | None, int | None]]:
    """Line -> (segment, rank) by METHODOLOGY §4-§6. A published segment 5 is a decision
    (intensive support), not a computation, so it is taken as given."""
    averages = {r.line: to_hundredths(r.average) for r in rows if r.average is not None}
    cuts = league_cuts(m, sorted(averages.values()))
    segments = {
        r.line: segment_state(m, averages.get(r.line), cuts, r.in_deficit is True,
                              r.segment == 5).segment
        for r in rows
    }
    ranks = competition_ranks({line: (segments[line], avg) for line, avg in averages.items()})
    return {r.line: (segments[r.line], ranks.get(r.line)) for r in rows}


def run(args: argparse.Namespace) -> int:
    m = get_methodology(args.methodology)
    rows = read_league_table(args.file)
    leagues: dict[str, list[LeagueRow]] = defaultdict(list)
    for row in rows:
        try:
            leagues[league_of(row.trust_type)].append(row)
        except InvalidInput as error:
            raise CsvError(args.file, row.line, "Trust_type", error.reason) from None
    mismatches, differing = 0, set()
    for members in leagues.values():
        want = expected(m, members)
        for row in members:
            segment, rank = want[row.line]
            for column, exp, found in (("Segment", segment, row.segment), ("Rank", rank, row.rank)):
                if exp != found:
                    mismatches += 1
                    differing.add(row.line)
                    print(f"{row.trust_code} {row.trust_name} (line {row.line}): {column} "
                          f"expected {_show(exp)}, found {_show(found)}")
    print(f"checked {len(rows)} trusts: {len(differing)} trust(s) differ, in {mismatches} field(s) (segment or rank)")
    return 0 if mismatches == 0 else 1


def _show(value) -> str:
    return "blank" if value is None else str(value)
