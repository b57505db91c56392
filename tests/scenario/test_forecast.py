"""The 2025 forecast scenario: the baseline's history run on through 2025 with its known events."""

from __future__ import annotations

import datetime as dt

import pytest

import sim
from sim.model import SahelModel

from ..conftest import SCENARIOS

RUSSIANS_IN_MALI = ("ac_mali_centre", "ac_mali_north", "ac_mali_bamako")


@pytest.fixture(scope="module")
def forecast() -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / "forecast_2025.toml")


def test_it_extends_the_baseline_to_the_end_of_2025(forecast: sim.Scenario,
                                                    baseline: sim.Scenario) -> None:
    assert (forecast.start, forecast.end) == (dt.date(2023, 1, 1), dt.date(2025, 12, 31))
    assert forecast.days == 1096
    assert [e.id for e in forecast.events[:len(baseline.events)]] == [
        e.id for e in baseline.events]
    assert forecast.units == baseline.units and forecast.parameters == baseline.parameters
    (new,) = forecast.events[len(baseline.events):]
    assert (new.id, new.date, new.action, new.unit, new.strength) == (
        "africa_corps_takes_over_mali", dt.date(2025, 6, 6), "reinforce", "ac_mali_centre", 500)
    assert "FACTS B: 6 Jun 2025" in new.source and "FACTS C" in new.source


def test_the_handover_brings_russians_in_mali_to_about_two_thousand(
        forecast: sim.Scenario) -> None:
    # Without the spin-up, whose losses would lower the strengths the handover builds on.
    model = SahelModel(forecast.model_copy(update={"spin_up_days": 0}), rng=1)
    events = {e.id: e for e in forecast.events}
    for name in ("africa_corps_mali_reinforced", "africa_corps_takes_over_mali"):
        before = sum(model.unit_table().query("unit == @u")["strength"].sum()
                     for u in RUSSIANS_IN_MALI)
        model.apply_event(events[name])
        after = sum(model.unit_table().query("unit == @u")["strength"].sum()
                    for u in RUSSIANS_IN_MALI)
        assert after - before == pytest.approx(500)
    assert after == pytest.approx(2000)  # FACTS C: ~2,000 in 2025


@pytest.mark.slow
def test_it_runs_to_the_end_of_2025(forecast: sim.Scenario) -> None:
    model = SahelModel(forecast, rng=3).run()
    ts = model.timeseries()
    assert ts["date"].max() == dt.datetime(2025, 12, 31)
    mali = ts[ts["country"] == "MLI"].set_index("date")["personnel_africa_corps"]
    assert mali["2025-06-06"] - mali["2025-06-05"] > 400  # +500 less a day's losses
    assert ts.loc[ts["date"].dt.year == 2025, "killed_total"].sum() > 0
