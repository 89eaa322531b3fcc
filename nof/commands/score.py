"""``nof score METRICS.csv``: score trusts from NHS England's long metric-data layout."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from nof.loading import score_files
from shared.methodology import DEFAULT_VERSION, get_methodology
from shared.methodology.explain import explain_trust

COLUMNS = ("Trust_type", "Trust_code", "Average_score", "Segment", "Rank",
           "Unadjusted_rank", "Scored_metrics")


def register(subparsers) -> None:
    p = subparsers.add_parser("score", help="score trusts from a metric-data CSV")
    p.add_argument("metrics", metavar="METRICS.csv")
    p.add_argument("--finance", metavar="FINANCE.csv",
                   help="Trust_code, Trust_in_financial_deficit[, Intensive_support]")
    p.add_argument("--methodology", default=DEFAULT_VERSION, metavar="VERSION")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.set_defaults(run=run)


def _blank(value) -> str:
    return "" if value is None else str(value)


def run(args: argparse.Namespace) -> int:
    m = get_methodology(args.methodology)
    scored = score_files(m, args.metrics, args.finance)
    rows = []
    for r in scored.results:
        rows.append({
            "Trust_type": scored.store.trusts[r.trust_code].trust_type,
            "Trust_code": r.trust_code, "Average_score": _blank(r.average),
            "Segment": _blank(r.segment), "Rank": _blank(r.rank),
            "Unadjusted_rank": _blank(r.unadjusted_rank),
            "Scored_metrics": r.scored_metrics,
        })
    if args.format == "json":
        for row in rows:
            row["explanation"] = explain_trust(m, scored.store, scored.results,
                                               row["Trust_code"]).to_dict()
        json.dump({"methodology_version": m.version, "trusts": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return 0
