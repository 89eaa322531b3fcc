"""``python -m tests.soak [--kills N]``: a kill soak on a private broker; its last line is the outcome, and it exits
non-zero on any stall, mismatch or missing event. Knobs: the options below, or KILLS and SOAK_SEED."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tests.soak.run import Soak, SoakConfig, SoakResult
from tests.support.broker import PrivateBroker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--kills", type=int, default=int(os.environ.get("KILLS") or 20))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED") or 7))
    parser.add_argument("--hogs", type=int, default=1, help="busy-loop processes competing for the CPU")
    parser.add_argument("--bootstrap", help="an existing broker to use instead of a private one")
    args = parser.parse_args(argv)
    if args.kills < 1:
        parser.error("--kills must be at least 1")
    config = SoakConfig(kills=args.kills, seed=args.seed, hogs=args.hogs)
    workdir = Path(tempfile.mkdtemp(prefix="nof-soak-"))
    broker = None if args.bootstrap else PrivateBroker(workdir / "broker")
    try:
        if broker is not None:
            broker.start()
        bootstrap = args.bootstrap or broker.bootstrap
        print(f"soak: {config.kills} kills, seed {config.seed}, {config.hogs} CPU hog(s), broker {bootstrap}", flush=True)
        result = Soak(config, bootstrap, workdir / "pipeline", say=lambda line: print(line, flush=True)).run()
    except Exception as exc:  # the private broker did not start
        result = SoakResult(aborted=f"{type(exc).__name__}: {exc}")
        print(f"soak: aborted: {result.aborted}", flush=True)
    finally:
        if broker is not None:
            broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(result.line(), flush=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
