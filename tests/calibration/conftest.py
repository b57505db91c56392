"""Fixtures shared by the calibration's tests."""

import pytest

from .toy_stage import first_stage_posterior


@pytest.fixture
def posterior(tmp_path):
    """The toy first stage's posterior (tests/calibration/toy_stage.py)."""
    return first_stage_posterior(tmp_path)
