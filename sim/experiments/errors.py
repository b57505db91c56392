"""The errors an experiment raises (`sim.experiments` and the modules it runs on)."""

from __future__ import annotations


class ExperimentError(ValueError):
    """An experiment that cannot run as asked; the message is one line."""


class ExperimentCancelled(Exception):  # noqa: N818 - the name reads as what happened
    """Raised when the caller's `cancel` event stops an experiment; finished runs are kept."""
