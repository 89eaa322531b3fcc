"""``nof league show LEAGUE [--json]``: print a league table from the Redis read model."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from shared.methodology import LEAGUES, VERSIONS, get_methodology

COLUMNS = ("rank", "trust_code", "segment", "average", "average_range", "rank_range", "unadjusted_rank",
           "in_deficit", "completeness", "trust_name")


def register(subparsers) -> None:
    p = subparsers.add_parser("league", help="read league tables from the cache")
    sub = p.add_subparsers(dest="league_command", required=True)
    show = sub.add_parser("show", help="print one league table")
    show.add_argument("league", choices=sorted(LEAGUES), metavar="LEAGUE",
                      help="one of: " + ", ".join(sorted(LEAGUES)))
    show.add_argument("--json", action="store_true", help="the stored snapshot as JSON")
    show.set_defaults(run=run_show)


def _cell(entry: dict, column: str) -> str:
    if column == "completeness":
        return f"{entry.get('scored_metrics')}/{entry.get('applicable_metrics')}"
    value = entry.get(column)
    if column == "segment" and entry.get("capped"):
        return f"{value} (cap)"
    if isinstance(value, list):
        return "-".join(str(v) for v in value)
    return "" if value is None else str(value)


def format_table(snapshot: dict) -> str:
    rows = [[_cell(e, c) for c in COLUMNS] for e in snapshot["entries"]]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(COLUMNS)]
    lines = [f"{snapshot['league']} (version {snapshot['version']}, {snapshot['methodology_version']}, "
             f"updated {snapshot['updated_at']})",
             "  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def missing_table(league: str, other: dict | None, redis_url: str) -> str:
    """Why a league has no table: no tables at all (the stack is not running or not loaded), a league the
    methodology in use does not score, or one it scores but has no input for yet."""
    if other is None:
        return f"no {league} table in Redis at {redis_url} (is the stack running? `nof cache rebuild` rewrites it)"
    version = other.get("methodology_version", "")
    if version in VERSIONS and league not in get_methodology(version).leagues:
        scored_by = [v for v in VERSIONS if league in get_methodology(v).leagues]
        return (f"the {league} league has no table under the configured methodology {version} (its leagues: "
                f"{', '.join(get_methodology(version).leagues)}); {league} is scored by {', '.join(scored_by)} "
                "(NOF_SCORING_METHODOLOGY)")
    return f"no {league} table yet: the scorer ({version}) has not scored any input for it"


def run_show(args: argparse.Namespace) -> int:
    from shared import redis_store
    from shared.league_cache import LeagueCache
    from shared.settings import CommonSettings

    settings = CommonSettings()

    async def read() -> tuple[dict | None, dict | None]:
        """The league's snapshot, and when it has none, another league's (to learn the methodology in use)."""
        client = redis_store.connect(settings.redis)
        try:
            cache = LeagueCache(client, settings.redis.key_prefix)
            snapshot = await cache.league(args.league)
            others = [s for s in await cache.versions() if s != args.league]
            return snapshot, (await cache.league(others[0]) if snapshot is None and others else None)
        finally:
            await client.aclose()

    snapshot, other = asyncio.run(read())
    if snapshot is None:
        print(f"nof: {missing_table(args.league, other, settings.redis.url)}", file=sys.stderr)
        return 1
    print(json.dumps(snapshot, indent=2) if args.json else format_table(snapshot))
    return 0
