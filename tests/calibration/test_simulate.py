"""Many runs' statistics: in a process pool the same as in process, each run's overrides, and
bad input refused before any run."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import sim
from sim.calibration.simulate import simulate_statistics
from sim.calibration.statistics import target_statistics
from sim.scenario import ScenarioError

from ..conftest import write_short_scenario
from .target_factory import target

D = dt.date


@pytest.fixture(scope="module")
def short_scenario(tmp_path_factory):
    return sim.load_scenario(write_short_scenario(tmp_path_factory.mktemp("s"), "2023-02-28"))


def short_targets():
    window = {"start": D(2023, 1, 1), "end": D(2023, 2, 28)}
    return [target("deaths", name="deaths", country="all", **window),
            target("civilian_death_share", name="share", country="BFA",
                   perpetrators=("jihadist",), **window),
            target("max_event_deaths", name="largest", country="all", **window)]


def test_simulate_statistics_in_process_and_in_a_pool_agree(short_scenario):
    targets = short_targets()
    seeds = [3, 4, 5]
    calls = []
    inline = simulate_statistics(short_scenario, targets, seeds, workers=1,
                                 progress=lambda done, total: calls.append((done, total)))
    assert list(inline.columns) == ["deaths", "share", "largest", "seed", "draw"]
    assert inline["seed"].tolist() == seeds and inline["draw"].tolist() == [None] * 3
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert inline.attrs["errors"] == {}
    assert inline["deaths"].nunique() == 3  # different seeds, different runs
    pooled = simulate_statistics(short_scenario, targets, seeds, workers=2)
    pd.testing.assert_frame_equal(inline, pooled)
    model = sim.SahelModel(short_scenario, rng=4).run()
    assert inline.loc[1, "deaths"] == target_statistics(model, targets)["deaths"]


def test_simulate_statistics_applies_each_runs_overrides(short_scenario):
    targets = short_targets()
    overrides = [{}, {"parameters.violence.base_rate": 0.0},
                 {"parameters.violence.base_rate": 0.0}]
    frame = simulate_statistics(short_scenario, targets, [7, 7, 8], overrides_per_run=overrides,
                                draws=["a", "b", "c"])
    assert frame["draw"].tolist() == ["a", "b", "c"]
    plain = simulate_statistics(short_scenario, targets, [7])
    assert frame.loc[0, "deaths"] == plain.loc[0, "deaths"]
    assert frame.loc[1, "deaths"] != frame.loc[0, "deaths"]
    numbered = simulate_statistics(short_scenario, targets, [7], overrides_per_run=[{}])
    assert numbered["draw"].tolist() == [0]


def test_simulate_statistics_refuses_bad_input_before_running(short_scenario):
    with pytest.raises(ScenarioError, match=r"parameters\.violence\.base_rat: not a tunable"):
        simulate_statistics(short_scenario, short_targets(), [1],
                            overrides_per_run=[{"parameters.violence.base_rat": 0.1}])
    with pytest.raises(ValueError, match=r"overrides_per_run has 1 entries for 2 seeds"):
        simulate_statistics(short_scenario, short_targets(), [1, 2], overrides_per_run=[{}])
