"""The baseline uses the calibration's fitted values (calibration/fitted.toml) as defaults."""

import tomllib

import pytest

from sim.calibration.targets import CALIBRATION_DIR

FITTED = CALIBRATION_DIR / "fitted.toml"


@pytest.mark.skipif(not FITTED.exists(), reason="no calibration has been run")
def test_the_baseline_sets_every_fitted_value(baseline):
    fitted = tomllib.loads(FITTED.read_text(encoding="utf-8"))
    groups = fitted["parameters"]
    assert groups  # the file holds values
    for group, values in groups.items():
        for name, value in values.items():
            assert getattr(getattr(baseline.parameters, group), name) == pytest.approx(value), \
                f"parameters.{group}.{name}: run scripts/apply_fitted.py"
    for faction, values in fitted.get("factions", {}).items():
        for name, value in values.items():
            assert getattr(baseline.factions[faction], name) == pytest.approx(value), \
                f"factions.{faction}.{name}: run scripts/apply_fitted.py"
    strengths = {unit.id: unit.strength for unit in baseline.units}
    for unit, values in fitted.get("units", {}).items():
        assert strengths[unit] == values["strength"], \
            f"units.{unit}.strength: run scripts/apply_fitted.py"
