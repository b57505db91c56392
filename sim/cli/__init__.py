"""The `sahel-sim` command line: the parser, the entry point and its exit codes.

Exit codes: 0 success, 1 a run failed, 2 bad input (a one-line message, no traceback), 130
interrupted. The commands live in `sim.cli.model` (one scenario at a time) and
`sim.cli.experiments` (many runs); `sim.cli.common` holds what they share.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sim.cli.common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, UsageError
from sim.cli.experiments import register_experiment_commands
from sim.cli.model import register_model_commands
from sim.scenario import ScenarioError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="sahel-sim",
        description="Agent-based scenario simulator of the central Sahel (Mali, Burkina Faso, "
                    "Niger). Scenarios are TOML files; see `sahel-sim scenarios`.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_model_commands(sub)
    register_experiment_commands(sub)
    return parser


def _version() -> str:
    from sim import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `sahel-sim` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ScenarioError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
