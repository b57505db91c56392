"""The `sahel-sim` command line: the parser, the entry point and its exit codes.

Exit codes: 0 success, 1 a run failed, 2 bad input (a one-line message, no traceback), 130
interrupted (Ctrl-C), 143 terminated (SIGTERM), 141 output pipe closed (as `| head` does; no
message, like other Unix tools). The commands live in `sim.cli.model` (one scenario at a time),
`sim.cli.experiments` (many runs), `sim.cli.calibration` (targets, calibrate, its report),
`sim.cli.reachability` (the prior predictive sweep) and `sim.cli.acled` (a user's ACLED
export: scoring, targets);
`sim.cli.common` holds what they share.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence

from sim.calibration.errors import CalibrationError
from sim.cli.acled import register_acled_commands
from sim.cli.calibration import register_calibration_commands
from sim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    UsageError,
)
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
    register_calibration_commands(sub)
    register_acled_commands(sub)
    return parser


def _version() -> str:
    from sim import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `sahel-sim` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    terminated = threading.Event()
    try:
        with _sigterm_as_interrupt(terminated):
            code = int(args.func(args))
            sys.stdout.flush()  # a closed pipe shows here, not at exit
    except (ScenarioError, CalibrationError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("terminated" if terminated.is_set() else "interrupted", file=sys.stderr)
        return EXIT_TERMINATED if terminated.is_set() else EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    if terminated.is_set() and code == EXIT_INTERRUPTED:
        return EXIT_TERMINATED
    return code


@contextlib.contextmanager
def _sigterm_as_interrupt(flag: threading.Event) -> Iterator[None]:
    """SIGTERM stops a command as Ctrl-C does (it cleans up and keeps finished runs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        flag.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so that flushing at exit prints nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
