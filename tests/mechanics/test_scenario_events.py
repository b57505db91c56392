"""Scenario events: a junta's coup and its recall of troops to the capital (ODD 7.1)."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim.forces import GARRISON, MOBILE
from sim.geography import COUNTRIES
from sim.mechanics import scenario_events
from sim.model import SahelModel
from sim.scenario.tunable import apply_overrides

NIGER = list(COUNTRIES).index("NER")
COUP = dt.date(2023, 7, 26)


def _niger_mobile(model: SahelModel) -> np.ndarray:
    world, units = model.world, model.world.forces
    return np.flatnonzero((units.role == MOBILE) & units.present & world.unit_state_side
                          & ~world.russian[units.faction]
                          & (world.country_bucket[units.base] == NIGER))


def _with(scenario, **junta):
    data = apply_overrides(scenario.model_dump(mode="json"),
                           {f"parameters.junta.{k}": v for k, v in junta.items()})
    return type(scenario).model_validate(data)


def _recall_events(model: SahelModel) -> pd.DataFrame:
    events = model.events()
    return events[events["notes"].str.contains("rows to the capital|rows back to their",
                                               na=False)]


@pytest.mark.parametrize("share", [0.0, 0.25, 0.5, 0.9])
def test_recall_takes_its_share_from_every_sector_and_end_recall_sends_it_home(
        baseline_at_setup, share):
    model = SahelModel(baseline_at_setup, rng=1)
    world, units, ledger = model.world, model.world.forces, model.ledger
    mobile = _niger_mobile(model)
    bases, cells = units.base.copy(), units.cell.copy()
    ledger.open_day(0)
    recall = scenario_events.recall_to_capital(world, ledger, NIGER, share)
    assert recall.rows.size == round(share * mobile.size)
    assert np.unique(recall.rows).size == recall.rows.size
    assert set(recall.rows) <= set(mobile)
    capital = world.capital_cell[NIGER]
    assert (units.base[recall.rows] == capital).all() and (units.cell[recall.rows] == capital).all()
    assert (units.role[recall.rows] == GARRISON).all()
    # Every sector (unit) gives up about its share of rows.
    for spec in np.unique(units.spec[mobile]):
        mine = mobile[units.spec[mobile] == spec]
        taken = np.isin(mine, recall.rows).sum()
        assert abs(taken - share * mine.size) <= 1
    others = np.setdiff1d(np.arange(units.size), recall.rows)
    assert (units.base[others] == bases[others]).all()  # nothing else moves
    assert (units.cell[others] == cells[others]).all()
    scenario_events.end_recall(world, ledger, recall, NIGER)
    assert (units.base == bases).all()
    assert (units.cell[recall.rows] == bases[recall.rows]).all()  # home at once
    assert (units.role[mobile] == MOBILE).all()


def test_recall_spares_absent_russian_and_released_rows_and_keeps_an_advance(
        baseline_at_setup):
    model = SahelModel(baseline_at_setup, rng=1)
    world, units, ledger = model.world, model.world.forces, model.ledger
    mobile = _niger_mobile(model)
    gone, freed = mobile[0], mobile[1]
    units.present[gone] = False
    world.released[freed] = True  # as if Russian guards had freed it (juntas.release_garrisons)
    ledger.open_day(0)
    recall = scenario_events.recall_to_capital(world, ledger, NIGER, 0.9)
    assert gone not in recall.rows and freed not in recall.rows
    assert not world.russian[units.faction[recall.rows]].any()
    moved, town = recall.rows[0], int(units.base[mobile[-1]] + 1)
    units.base[moved] = town  # an advance during the recall
    scenario_events.end_recall(world, ledger, recall, NIGER)
    assert units.base[moved] == town and units.role[moved] == MOBILE


def test_niger_junta_recalls_troops_to_niamey_after_the_coup_until_they_return(baseline):
    model = SahelModel(baseline, rng=2)
    units = model.world.forces
    capital = model.world.capital_cell[NIGER]
    while model.date < COUP:
        model.step()
    mobile = _niger_mobile(model)
    assert not (units.base[mobile] == capital).any()  # before the coup, nobody is recalled
    model.step()  # 26 Jul 2023: the coup
    recalled = mobile[units.base[mobile] == capital]
    days = round(baseline.parameters.junta.post_coup_recall_days)
    assert recalled.size == round(baseline.parameters.junta.post_coup_recall * mobile.size) > 0
    while model.date < COUP + dt.timedelta(days=days):
        model.step()
        assert (units.role[recalled] == GARRISON).all()
        assert (units.cell[recalled] == capital).all()
    model.step()
    assert (units.role[recalled] == MOBILE).all()
    assert not (units.base[recalled] == capital).any()
    ny = model.world.ny  # back in their sectors: at most the day's one move from their base
    cell, base = np.divmod(units.cell[recalled], ny), np.divmod(units.base[recalled], ny)
    assert (np.maximum(abs(cell[0] - base[0]), abs(cell[1] - base[1])) <= 1).all()
    logged = _recall_events(model)
    assert list(logged["event_date"].astype(str)) == [
        str(COUP), str(COUP + dt.timedelta(days=days))]
    assert set(logged["sub_event_type"]) == {"Other"}


@pytest.mark.parametrize("share", [0.0, 0.01])  # 0.01 of 42 rows rounds to none
def test_no_recall_when_switched_off_or_rounding_to_no_row(baseline, share):
    model = SahelModel(_with(baseline, post_coup_recall=share), rng=2)
    units = model.world.forces
    bases = units.base.copy()
    while model.date < COUP + dt.timedelta(days=2):
        model.step()
    mobile = _niger_mobile(model)
    assert (units.base[mobile] == bases[mobile]).all()
    assert _recall_events(model).empty


def test_recall_is_reproducible_and_changes_niger_from_the_coup_only(baseline):
    def niger(scenario):
        ts = SahelModel(scenario, rng=5).run().timeseries()
        return ts[ts["country"] == "NER"].set_index("date")
    a, b = niger(baseline), niger(baseline)
    pd.testing.assert_frame_equal(a, b)
    off = niger(_with(baseline, post_coup_recall=0.0))
    before = a.index < pd.Timestamp(COUP)
    pd.testing.assert_frame_equal(a[before], off[before])
    assert not a[~before].equals(off[~before])
