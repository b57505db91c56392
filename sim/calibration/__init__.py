"""Calibration: targets, ABC-SMC fitting, the posterior and its report."""
