"""``nof explain TRUST_CODE METRICS.csv``: print how one trust's result was derived."""

from __future__ import annotations

import argparse
import sys

from nof.loading import score_files
from shared.methodology import DEFAULT_VERSION, get_methodology
from shared.methodology.explain import explain_trust


def register(subparsers) -> None:
    p = subparsers.add_parser("explain", help="show the derivation of one trust's result")
    p.add_argument("trust_code", metavar="TRUST_CODE")
    p.add_argument("metrics", metavar="METRICS.csv")
    p.add_argument("--finance", metavar="FINANCE.csv")
    p.add_argument("--methodology", default=DEFAULT_VERSION, metavar="VERSION")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    m = get_methodology(args.methodology)
    scored = score_files(m, args.metrics, args.finance)
    if args.trust_code not in scored.store.trusts:
        print(f"nof: {args.trust_code} has no rows in {args.metrics}", file=sys.stderr)
        return 2
    print(explain_trust(m, scored.store, scored.results, args.trust_code).to_text())
    return 0
