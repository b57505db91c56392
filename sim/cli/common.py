"""What `sahel-sim` commands share: exit codes, the bad-input error and common options.

Options: `--posterior [FILE]` and those several commands take (`--workers`, `--seed`,
`--out`, `--targets`, `--runs`, ...); also the root seed's check and the tables' short
numbers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.calibration.posterior import DEFAULT_POSTERIOR
from sim.calibration.targets import DEFAULT_TARGETS

# 0 success, 1 a run failed, 2 bad input (a one-line message, no traceback), 130 interrupted,
# 141 the output pipe was closed (SIGPIPE), 143 terminated (SIGTERM).
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_BROKEN_PIPE, EXIT_TERMINATED = 141, 143


class UsageError(Exception):
    """Bad input detected by a command (printed as one line, exit code 2)."""


class _DefaultPosterior:
    """What `--posterior` without FILE gives: not a string, so no FILE can be taken for it."""

    def __repr__(self) -> str:
        return "--posterior"


# `--posterior` given without a FILE: the default posterior (see `posterior_path`).
DEFAULT_POSTERIOR_FLAG = _DefaultPosterior()
POSTERIOR_HELP = (
    "draw each run's parameters from a calibrated posterior: a CSV with one column per "
    "parameter name of `sahel-sim parameters` and a 'weight' column; draws are picked by "
    "weight with the root seed, run i of every scenario gets the same draw, and a drawn value "
    "replaces the scenario's own, except where a counterfactual sets a parameter to another "
    "value than the baseline (its lever): it keeps its value, and the output says so. "
    f"FILE defaults to {DEFAULT_POSTERIOR.as_posix()} in the working "
    "folder, else in the project's folder. Put the flag after the scenarios, or write "
    "--posterior=FILE")


def add_posterior_option(parser: argparse.ArgumentParser, help_text: str = POSTERIOR_HELP
                         ) -> None:
    """Add `--posterior [FILE]` to a command."""
    parser.add_argument("--posterior", nargs="?", const=DEFAULT_POSTERIOR_FLAG, default=None,
                        metavar="FILE", help=help_text)


def posterior_path(value: str | _DefaultPosterior | None) -> Path | None:
    """The posterior file `--posterior` names: None without the flag, the default without FILE.

    Raises:
        CalibrationError: the flag without FILE and no default posterior exists.
    """
    if value is None:
        return None
    if value is DEFAULT_POSTERIOR_FLAG:
        from sim.calibration.posterior import default_posterior_path

        return default_posterior_path()
    return Path(value)


# Options several commands share (same names, types and metavars; each command its own help).

def add_workers_option(parser: argparse.ArgumentParser,
                       help_text: str = "local worker processes (default: all cores)") -> None:
    """Add `--workers W` (default None: all cores)."""
    parser.add_argument("--workers", type=int, default=None, metavar="W", help=help_text)


def add_scheduler_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """Add `--scheduler tcp://HOST:PORT` (a Dask scheduler)."""
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT", help=help_text)


def add_seed_option(parser: argparse.ArgumentParser, help_text: str,
                    default: int | None = None) -> None:
    """Add `--seed S`."""
    parser.add_argument("--seed", type=int, default=default, metavar="S", help=help_text)


def add_out_option(parser: argparse.ArgumentParser, help_text: str,
                   default: Path | None = None, metavar: str = "DIR") -> None:
    """Add `--out DIR` (a path)."""
    parser.add_argument("--out", type=Path, default=default, metavar=metavar, help=help_text)


def add_no_plots_option(parser: argparse.ArgumentParser) -> None:
    """Add `--no-plots`."""
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")


def check_root_seed(seed: int) -> None:
    """A root seed numpy's SeedSequence and pyabc take, or a usage error."""
    if not 0 <= seed < 2**63:
        raise UsageError(f"--seed must be between 0 and 2**63 - 1, got {seed}")


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def short_number(x: object) -> str:
    """Three significant digits; "-" for a missing or non-numeric value."""
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "-"
    return "-" if value != value else f"{value:.3g}"


def add_targets_option(p: argparse.ArgumentParser) -> None:
    """`--targets FILE`, the project's targets by default."""
    p.add_argument("--targets", default=str(DEFAULT_TARGETS), metavar="FILE",
                   help="targets file (default: %(default)s)")


def add_priors_option(p: argparse.ArgumentParser, help_text: str) -> None:
    """`--priors FILE` (default None: the command's own)."""
    p.add_argument("--priors", default=None, metavar="FILE", help=help_text)


def add_runs_option(p: argparse.ArgumentParser, default: int) -> None:
    """`--runs N`, a whole number >= 1."""
    p.add_argument("--runs", type=positive_int, default=default, metavar="N",
                   help="runs (default: %(default)s)")


def add_scenario_and_targets(p: argparse.ArgumentParser) -> None:
    """The optional SCENARIO (default: baseline) and `--targets`."""
    p.add_argument("scenario", nargs="?", default="baseline", metavar="SCENARIO",
                   help="scenario file or bundled name (default: baseline)")
    add_targets_option(p)
