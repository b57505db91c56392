"""Random streams per (process, day): draws do not depend on what was drawn before, so paired
runs of a baseline and a counterfactual stay in step where nothing really changed."""

import numpy as np
import pandas as pd

import sim
from sim.model import SahelModel
from sim.streams import PROCESSES, RandomStreams

from .conftest import SCENARIOS


def test_a_days_draws_do_not_depend_on_earlier_consumption():
    a = RandomStreams(np.random.default_rng(5))
    b = RandomStreams(np.random.default_rng(5))
    a.get("violence", 9).random(10_000)  # a long day 9 in one run only
    assert np.array_equal(a.get("violence", 10).random(50), b.get("violence", 10).random(50))


def test_streams_differ_by_process_day_and_seed():
    streams = RandomStreams(np.random.default_rng(1))
    draws = {(p, d): streams.get(p, d).random(4).tobytes() for p in PROCESSES for d in (-1, 0, 1)}
    assert len(set(draws.values())) == len(draws)
    other = RandomStreams(np.random.default_rng(2))
    assert other.get("move", 0).random(4).tobytes() != draws[("move", 0)]


def test_counterfactual_changes_only_what_it_touches(baseline_run):
    # The Bear Brigade guards Ouagadougou: keeping it there must not re-randomise Mali.
    stays = SahelModel(sim.load_scenario(SCENARIOS / "bear_brigade_stays.toml"), rng=11).run()
    a = baseline_run.timeseries().set_index(["date", "country"])
    b = stays.timeseries().set_index(["date", "country"])
    mali = a.index.get_level_values("country") == "MLI"
    pd.testing.assert_series_equal(a.loc[mali, "killed_total"], b.loc[mali, "killed_total"])
    bfa = a.index.get_level_values("country") == "BFA"
    assert (b.loc[bfa, "personnel_bear_brigade"] >= a.loc[bfa, "personnel_bear_brigade"]).all()
    assert b.loc[bfa, "personnel_bear_brigade"].iloc[-1] > 0
