"""The posterior the compare view offers: where it is looked for, and its one-line summary."""

from __future__ import annotations

import os
from pathlib import Path

from sim.calibration.errors import CalibrationError
from sim.calibration.posterior import default_posterior_path, read_posterior
from sim.dashboard.state import public_message

POSTERIOR_ENV = "SAHEL_POSTERIOR"  # the posterior file offered (else see `posterior_file`)


def shown_path(path: Path) -> str:
    """A path relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def posterior_file(baseline: Path | None) -> Path | None:
    """The posterior the compare view offers, or None when there is none.

    `$SAHEL_POSTERIOR` when set (and the file exists); else `posterior.csv` beside the
    baseline scenario; else `calibration/posterior.csv` in the working folder or the project's.
    """
    chosen = os.environ.get(POSTERIOR_ENV, "").strip()
    if chosen:
        return Path(chosen) if Path(chosen).is_file() else None
    if baseline is not None and (baseline.parent / "posterior.csv").is_file():
        return baseline.parent / "posterior.csv"
    try:
        return default_posterior_path()
    except CalibrationError:
        return None


def modified(path: Path | None) -> int:
    """A file's modification time (ns), 0 if there is none: a changed file is read again."""
    try:
        return path.stat().st_mtime_ns if path is not None else 0
    except OSError:
        return 0


def posterior_summary(path: Path | None) -> tuple[str, str]:
    """'PATH (N draws, ESS x)' of a posterior file and its sha256, or why it cannot be used."""
    if path is None:
        where = os.environ.get(POSTERIOR_ENV, "").strip() or "calibration/posterior.csv"
        return f"no posterior: {shown_path(Path(where))} does not exist (run the calibration)", ""
    try:
        posterior = read_posterior(path)
    except CalibrationError as exc:
        return f"unusable posterior: {public_message(str(exc))}", ""
    return f"from {shown_path(path)} ({len(posterior)} draws, ESS {posterior.ess:.1f})", \
        posterior.sha256
