"""Entry point of the ``nof`` command line: builds the parser and maps errors to exit codes.

Each subcommand lives in its own module under ``nof.commands`` with a
``register(subparsers)`` function that adds its parser and sets ``run=``; adding a command
is one line in COMMANDS. Command modules import network or storage clients lazily inside
their run function, never at import time.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from nof.csv_formats import CsvError
from shared.methodology import MethodologyError

COMMANDS = (
    "nof.commands.verify_league",
    "nof.commands.score",
    "nof.commands.explain",
    "nof.commands.league",
    "nof.commands.cache",
    "nof.commands.topics",
    "nof.commands.demo",
)

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nof", description="NHS Oversight Framework scoring and league tables.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 success, 1 a check failed, 2 bad input or usage."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help and usage errors
        return int(exit_.code or 0)
    try:
        return int(args.run(args))
    except CsvError as error:
        print(f"nof: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MethodologyError as error:
        print(f"nof: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
