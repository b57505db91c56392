"""Declared outputs: the time series has exactly the declared columns, one calculator for the
outcomes, the new outputs (initiators, recruits, cell control) and reserved faction ids."""

import numpy as np
import pandas as pd
import pytest

import sim
from sim.model import SahelModel
from sim.outputs import (
    HEADLINE_OUTCOMES,
    OUTCOMES,
    RUN_SUMMARY,
    SERIES,
    headline_outcomes,
    outcome_table,
    scenario_columns,
)

from .conftest import write_short_scenario


@pytest.fixture(scope="module")
def short_run(short_path) -> SahelModel:
    return SahelModel(sim.load_scenario(short_path), rng=7).run()


def test_timeseries_columns_are_the_declared_ones(short_run):
    ts = short_run.timeseries()
    declared = [c for cols in scenario_columns(short_run.spec).values() for c in cols]
    assert list(ts.columns) == ["date", "country", *declared]
    assert len(declared) == len(set(declared))
    assert {s.name for s in SERIES} == set(scenario_columns(short_run.spec))


def test_headline_outcomes_match_the_time_series(short_run):
    ts = short_run.timeseries()
    out = headline_outcomes(ts)
    assert list(out) == HEADLINE_OUTCOMES and len(HEADLINE_OUTCOMES) == 26
    mli = ts[ts["country"] == "MLI"]
    assert out["civilian_fatalities_MLI"] == mli["killed_civilians"].sum() > 0
    assert out["total_fatalities_BFA"] == ts.loc[ts["country"] == "BFA", "killed_total"].sum()
    russians = ts["killed_africa_corps"] + ts["killed_bear_brigade"]
    assert out["russian_fatalities"] == russians.sum() == ts["killed_russians"].sum()
    assert out["territory_outside_state_MLI"] == pytest.approx(1 - mli["territory_state"].iloc[-1])
    assert out["displaced_NER"] == ts.loc[ts["country"] == "NER", "displaced"].iloc[-1]
    table = outcome_table(ts)
    assert list(table.columns) == [o.name for o in OUTCOMES]
    assert set(RUN_SUMMARY) <= set(table.columns)
    end = mli.iloc[-1]
    assert table.at["MLI", "territory_armed_groups"] == pytest.approx(
        1 - end["territory_state"] - end["territory_contested"] - end["territory_ungoverned"])


def test_battles_name_their_initiator_as_actor1(short_run):
    events = short_run.events()
    labels = {f.label: fid for fid, f in short_run.spec.factions.items()}
    kinds = {fid: f.kind for fid, f in short_run.spec.factions.items()}
    ambushes = events[events["mechanism"] == "ambush"]
    assert len(ambushes) > 0
    assert all(kinds[labels[a]] in ("jihadist", "separatist") for a in ambushes["actor1"])
    attacks = events[events["mechanism"] == "complex_attack"]
    assert all(kinds[labels[a]] == "jihadist" for a in attacks["actor1"])
    clashes = events[events["mechanism"] == "clash"]
    # Clashes are started by both sides, not always by the strongest armed group.
    sides = {kinds[labels[a]] in ("jihadist", "separatist") for a in clashes["actor1"]}
    assert sides == {True, False}


def test_recruits_per_armed_group_per_day(short_run):
    ts = short_run.timeseries()
    recruits = scenario_columns(short_run.spec)["recruits"]
    assert recruits and all(c.removeprefix("recruits_") in short_run.spec.factions
                            for c in recruits)
    daily = ts[recruits].sum(axis=1)
    assert (ts[recruits] >= 0).all().all() and daily.sum() > 0
    by_country = ts.assign(daily=daily).groupby("country")["daily"].sum()
    end = ts.groupby("country")["recruited"].last()
    assert np.allclose(by_country.sort_index(), end.sort_index())


def test_cell_control_per_month(short_run):
    table = short_run.cell_control()
    months = sorted(table["month"].unique())
    assert [pd.Timestamp(m).strftime("%Y-%m") for m in months] == [
        "2023-01", "2023-02", "2023-03", "2023-04"]
    last = table[table["month"] == months[-1]]
    assert len(last) == short_run.world.sahel_idx.size
    assert set(last["zone"]) <= {0, 1, 2, 3, 4, 5}
    assert ((last["zone"] == 0) == (last["controller"] == "ungoverned")).all()
    assert set(last["controller"]) <= {*short_run.world.actor_ids, "contested", "ungoverned"}
    # The last month's shares agree with the time series' last day.
    ts = short_run.timeseries()
    end = ts[ts["date"] == ts["date"].max()].set_index("country")
    share = last.groupby("country")["controller"].apply(lambda c: (c == "state").mean())
    for iso in ("MLI", "BFA", "NER"):
        assert share[iso] == pytest.approx(end.at[iso, "territory_state"])
    assert ((last["zone"] == 3) == (last["controller"] == "contested")).all()


@pytest.mark.parametrize("word", ["state", "contested", "civilians", "total", "by_jnim"])
def test_faction_ids_that_clash_with_outputs_are_rejected(tmp_path, word):
    path = write_short_scenario(tmp_path, extra=(
        f'[factions.{word}]\nlabel = "X"\nkind = "jihadist"\n'))
    with pytest.raises(sim.ScenarioError, match=f"faction id '{word}' clashes"):
        sim.load_scenario(path)
