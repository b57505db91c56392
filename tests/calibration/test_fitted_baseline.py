"""The baseline uses the calibration's fitted values (calibration/fitted.toml) as defaults."""

import tomllib

import pytest

from sim.calibration.targets import CALIBRATION_DIR
from sim.scenario.shares import share_members
from sim.scenario.tunable import parameter_value

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
    data = baseline.model_dump(mode="json")
    units = fitted.get("units", {})
    shared = {f"units.{u['id']}.strength" for uid, values in units.items() if "share" in values
              for u in share_members(data, uid)}  # a share rescales its faction's strengths
    for unit, values in units.items():
        if "strength" in values and f"units.{unit}.strength" not in shared:
            assert strengths[unit] == values["strength"], \
                f"units.{unit}.strength: run scripts/apply_fitted.py"
        if "share" in values:  # to within one fighter of the faction's total
            total = sum(u["strength"] for u in share_members(data, unit))
            assert parameter_value(data, f"units.{unit}.share") == pytest.approx(
                values["share"], abs=1 / total), f"units.{unit}.share: run scripts/apply_fitted.py"
