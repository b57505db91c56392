"""The error calibration input raises (`sim.calibration`)."""

from __future__ import annotations


class CalibrationError(ValueError):
    """Bad calibration input (targets, posterior): one line naming the file and field."""
