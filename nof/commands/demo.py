"""``nof demo run|calibrate|export|import``: realistic inputs, generated, checked and replayed."""

from __future__ import annotations

import argparse
import asyncio
import sys
from contextlib import nullcontext

from nof.demo.generator import GeneratorParams, Timeline, generate
from shared.methodology import DEFAULT_VERSION, get_methodology, load_trust_register, score_batch

DEFAULT_QUARTER_IN_S = 300.0



def _drive(go):  # noqa: ANN001, ANN202 - an async function with no arguments; (report, exit code)
    """Run one replay or import; ingest's refusal exits 2, ingest staying unavailable exits 1."""
    from nof.demo.replay import Rejected, ReplayError  # httpx comes with them: only for these commands

    try:
        return asyncio.run(go()), 0
    except Rejected as error:
        print(f"nof: {error}", file=sys.stderr)
        return None, 2
    except ReplayError as error:
        print(f"nof: {error}", file=sys.stderr)
        return None, 1

def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="generate, calibrate, export or replay realistic demo data",
        description="Seeded, realistic NOF inputs for the real trust register (docs/DEMO.md).")
    sub = p.add_subparsers(dest="demo_command", metavar="ACTION", required=True)

    run_p = sub.add_parser("run", help="replay the timeline into the ingest API",
                           description="Send the baseline, then monthly releases, paced.")
    _generation(run_p)
    pace = run_p.add_mutually_exclusive_group()
    pace.add_argument("--quarter-in", type=float, metavar="SECONDS",
                      help=f"replay a simulated quarter in this many seconds "
                           f"(default {DEFAULT_QUARTER_IN_S:g})")
    pace.add_argument("--speed", type=float, metavar="X",
                      help="simulated seconds per real second; 0 = as fast as possible")
    run_p.add_argument("--until", type=int, metavar="N",
                       help="stop after N simulated months (0 = the baseline only)")
    run_p.add_argument("--baseline-only", action="store_true",
                       help="send one full baseline (values, finance flags) and stop")
    run_p.add_argument("--dry-run", action="store_true", help="summarise; send nothing")
    _connection(run_p)
    run_p.add_argument("--max-batch", type=int, default=5_000, metavar="N",
                       help="observations per request (default 5000, the API's limit)")
    run_p.set_defaults(run=run)

    cal_p = sub.add_parser("calibrate", help="compare generated averages with NHS England's",
                           description="Score the final state; print target vs generated. "
                                       "Exit 1 if outside the stated tolerance.")
    _generation(cal_p)
    cal_p.set_defaults(run=calibrate)

    exp_p = sub.add_parser("export", help="write the observations as NHS England's long CSV")
    _generation(exp_p)
    exp_p.add_argument("--format", choices=("csv",), default="csv")
    exp_p.add_argument("file", metavar="FILE", help="output path, or - for stdout")
    exp_p.set_defaults(run=export)

    imp_p = sub.add_parser("import", help="stream an NHS England long metric CSV to ingest")
    imp_p.add_argument("file", metavar="FILE.csv")
    _connection(imp_p)
    imp_p.set_defaults(run=import_file)


def _generation(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=GeneratorParams.seed, metavar="N")
    p.add_argument("--months", type=int, default=GeneratorParams.months, metavar="M",
                   help=f"simulated months after the baseline (default {GeneratorParams.months})")
    p.add_argument("--methodology", default=DEFAULT_VERSION, metavar="VERSION")


def _connection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ingest-url", metavar="URL", help="default NOF_DEMO_INGEST_URL or "
                                                       "http://127.0.0.1:8001")
    p.add_argument("--api-key", metavar="KEY", help="default NOF_DEMO_API_KEY, else the local "
                                                    "development key in .local/ingest-dev-key")


def _timeline(args: argparse.Namespace):
    m = get_methodology(args.methodology)
    register = load_trust_register()
    params = GeneratorParams(seed=args.seed, months=args.months)
    return m, register, generate(register, m, params)


def _client(args: argparse.Namespace):
    import httpx  # network clients are imported when a command needs them

    from nof.demo.settings import DemoSettings

    settings = DemoSettings()
    url = args.ingest_url or settings.ingest_url
    key = settings.resolve_key(args.api_key)
    client = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"},
                               timeout=httpx.Timeout(60.0, connect=5.0))
    return settings, url, client


def _speed(args: argparse.Namespace) -> tuple[float, str]:
    from nof.demo.replay import speed_for

    if args.speed is not None:
        if args.speed < 0:
            raise ValueError("--speed must be 0 or positive")
        return args.speed, "as fast as possible" if args.speed == 0 else f"speed {args.speed:g}x"
    quarter = DEFAULT_QUARTER_IN_S if args.quarter_in is None else args.quarter_in
    return speed_for(quarter), f"a quarter in {quarter:g} s"


def _summary(timeline: Timeline) -> str:
    from nof.demo.generator import BASELINE, FINANCE, FLIP, INTENSIVE_SUPPORT, LATE, OBSERVATION, REVISION

    obs = timeline.count(OBSERVATION)
    months = len(timeline.periods) - 1
    span = (f"the {timeline.periods[0]} baseline only" if months == 0 else
            f"{months} month{'s' if months > 1 else ''} after the {timeline.periods[0]} baseline")
    return (f"{len(timeline):,} inputs, {span}: {obs:,} observations "
            f"({timeline.count(OBSERVATION, BASELINE):,} baseline, "
            f"{timeline.count(OBSERVATION, REVISION)} revisions, "
            f"{timeline.count(OBSERVATION, LATE)} late periods), "
            f"{timeline.count(FINANCE):,} finance flags ({timeline.count(FINANCE, FLIP)} flips), "
            f"{timeline.count(INTENSIVE_SUPPORT)} intensive-support decisions")


def run(args: argparse.Namespace) -> int:
    from nof.demo.replay import Replayer, steps

    try:
        speed, pace = _speed(args)
    except ValueError as error:
        print(f"nof: {error}", file=sys.stderr)
        return 2
    _, _, timeline = _timeline(args)
    until = 0 if args.baseline_only else args.until
    if until is not None:
        timeline = timeline.until(until)
    if args.baseline_only:  # sent at once: there is no simulated time to pace
        speed, pace = 0.0, "as fast as possible"
    requests = sum(1 for _ in steps(timeline, args.max_batch))
    if args.dry_run:
        duration = timeline.items[-1].at / speed if speed and timeline.items else 0.0
        print(f"dry run (seed {args.seed}): {_summary(timeline)}; {requests:,} requests; "
              f"{pace}: about {duration:,.0f} s. Nothing sent.")
        return 0
    try:
        settings, url, client = _client(args)
    except ValueError as error:
        print(f"nof: {error}", file=sys.stderr)
        return 2
    print(f"nof demo: replaying seed {args.seed} to {url}, {pace}: {_summary(timeline)}. "
          f"Progress goes to stderr.", flush=True)

    async def go():
        async with client:
            return await Replayer(client, speed=speed, max_batch=args.max_batch).replay(timeline)

    report, code = _drive(go)
    if report is None:
        return code
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in report.sent.items())
    print(f"sent {kinds} in {report.requests:,} requests, {report.retries} retries, "
          f"{report.elapsed_s:,.1f} s. League tables: {settings.publisher_url}/v1/leagues/acute "
          f"(also mental-health-community, ambulance); dashboard {settings.publisher_url}/")
    return 0


def calibrate(args: argparse.Namespace) -> int:
    from nof.demo.calibration import calibrate as compare
    from nof.demo.calibration import published_subset

    m, register, timeline = _timeline(args)
    results = score_batch(m, register, timeline.inputs())
    result = compare(m, timeline, results, published_subset())
    print(f"seed {args.seed}, {m.version}: {_summary(timeline)}")
    print(result.to_text())
    return 0 if result.within_tolerance() else 1


def export(args: argparse.Namespace) -> int:
    from nof.demo.export import write_long_csv

    m, register, timeline = _timeline(args)
    target = nullcontext(sys.stdout) if args.file == "-" else open(
        args.file, "w", newline="", encoding="utf-8")
    with target as out:
        rows = write_long_csv(out, timeline, register, m)
    where = "stdout" if args.file == "-" else args.file
    print(f"wrote {rows:,} rows (NHS England long metric layout, one value per trust, metric "
          f"and quarter) to {where}; load it with: nof demo import {where}", file=sys.stderr)
    return 0


def import_file(args: argparse.Namespace) -> int:
    from nof.demo.replay import import_csv

    try:
        with open(args.file, "rb"):
            pass
    except OSError as error:
        print(f"nof: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        _, url, client = _client(args)
    except ValueError as error:
        print(f"nof: {error}", file=sys.stderr)
        return 2

    async def go():
        async with client:
            return await import_csv(client, args.file,
                                    note=lambda line: print(line, file=sys.stderr))

    report, code = _drive(go)
    if report is None:
        return code
    print(format_csv_report(args.file, url, report))
    return 0


def format_csv_report(path: str, url: str, report: dict) -> str:
    lines = [f"{path} -> {url}: {report['rows']:,} rows, {report['accepted']:,} accepted, "
             f"{report['skipped']:,} skipped"]
    for reason, count in sorted(report.get("skipped_by_reason", {}).items(),
                                key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  skipped {count:,}: {reason}")
    for example in report.get("examples", [])[:10]:
        lines.append(f"  e.g. line {example.get('line')}, {example.get('column')}: "
                     f"{example.get('reason')}")
    return "\n".join(lines)
