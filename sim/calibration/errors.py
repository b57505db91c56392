"""The error calibration inputs raise: one line, turned into exit code 2 by the CLI."""

from __future__ import annotations


class CalibrationError(ValueError):
    """Bad calibration input (targets, posterior): one line naming the file and field."""
