"""``nof cache rebuild``: rewrite the Redis league tables from the scorer's changelog."""

from __future__ import annotations

import argparse
import asyncio
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser("cache", help="manage the Redis read model")
    sub = p.add_subparsers(dest="cache_command", required=True)
    rebuild = sub.add_parser("rebuild", help="rebuild every league table in Redis from the scorer's state")
    rebuild.add_argument("--methodology", default=None, metavar="VERSION",
                         help="defaults to the scoring service's setting (NOF_SCORING_METHODOLOGY)")
    rebuild.set_defaults(run=run_rebuild)


def run_rebuild(args: argparse.Namespace) -> int:
    from services.scoring.rebuild import latest, read_changelog, rebuild_cache
    from services.scoring.settings import ScoringSettings
    from shared import redis_store
    from shared.league_cache import LeagueCache
    from shared.methodology import get_methodology

    settings = ScoringSettings()
    methodology = get_methodology(args.methodology or settings.methodology)

    def progress(n: int) -> None:
        print(f"\rread {n} state records", end="", file=sys.stderr, flush=True)

    table = latest(read_changelog(settings.common.kafka, progress=progress))
    print(file=sys.stderr)

    async def write() -> dict[str, int]:
        client = redis_store.connect(settings.common.redis)
        try:
            return await rebuild_cache(methodology, table, LeagueCache(client, settings.common.redis.key_prefix))
        finally:
            await client.aclose()

    written = asyncio.run(write())
    for league, version in sorted(written.items()):
        print(f"rebuilt {league}: version {version}")
    if not written:
        print("nothing to rebuild: the scorer has no state yet")
    return 0
