"""Scenario events: a junta's coup and its recall of troops to the capital (ODD 7.1)."""

import datetime as dt

import numpy as np
import pytest

from sim.forces import GARRISON, MOBILE
from sim.geography import COUNTRIES
from sim.mechanics import scenario_events
from sim.model import SahelModel
from sim.scenario.tunable import apply_overrides

NIGER = list(COUNTRIES).index("NER")


def _niger_mobile(model: SahelModel) -> np.ndarray:
    world, units = model.world, model.world.forces
    return np.flatnonzero((units.role == MOBILE) & world.unit_state_side
                          & ~world.russian[units.faction]
                          & (world.country_bucket[units.base] == NIGER))


def _with(scenario, **junta):
    data = apply_overrides(scenario.model_dump(mode="json"),
                           {f"parameters.junta.{k}": v for k, v in junta.items()})
    return type(scenario).model_validate(data)


@pytest.mark.parametrize("share", [0.0, 0.25, 0.5, 0.9])
def test_recall_takes_its_share_from_every_sector_and_end_recall_sends_it_home(
        baseline_at_setup, share):
    model = SahelModel(baseline_at_setup, rng=1)
    world, units, ledger = model.world, model.world.forces, model.ledger
    mobile = _niger_mobile(model)
    bases = units.base.copy()
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
    scenario_events.end_recall(world, ledger, recall)
    assert (units.base == bases).all()
    assert (units.role[mobile] == MOBILE).all()


def test_niger_junta_recalls_troops_to_niamey_after_the_coup_until_they_return(baseline):
    model = SahelModel(baseline, rng=2)
    units = model.world.forces
    mobile = _niger_mobile(model)
    capital = model.world.capital_cell[NIGER]
    while model.date < dt.date(2023, 7, 26):
        model.step()
    assert not (units.base[mobile] == capital).any()  # before the coup, nobody is recalled
    model.step()  # 26 Jul 2023: the coup
    recalled = mobile[units.base[mobile] == capital]
    days = baseline.parameters.junta.post_coup_recall_days
    assert recalled.size == round(baseline.parameters.junta.post_coup_recall * mobile.size) > 0
    while model.date < dt.date(2023, 7, 26) + dt.timedelta(days=round(days)):
        model.step()
        assert (units.role[recalled] == GARRISON).all()
    model.step()
    assert (units.role[recalled] == MOBILE).all()
    assert not (units.base[recalled] == capital).any()
    events = model.events()
    logged = events[events["notes"].str.contains("rows to the capital|rows back to their",
                                                 na=False)]
    assert list(logged["event_date"].astype(str)) == [
        "2023-07-26", str(dt.date(2023, 7, 26) + dt.timedelta(days=round(days)))]


def test_no_recall_when_switched_off(baseline):
    model = SahelModel(_with(baseline, post_coup_recall=0.0), rng=2)
    units = model.world.forces
    capital = model.world.capital_cell[NIGER]
    before = int((units.base == capital).sum())
    while model.date < dt.date(2023, 8, 1):
        model.step()
    assert int((units.base == capital).sum()) == before
    assert not model._returns
