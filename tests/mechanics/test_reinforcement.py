"""Reinforcement: an armed group's command moves fighters toward its order of battle."""

import numpy as np
import pytest

from sim.mechanics import reinforcement
from sim.mechanics.reinforcement import reallocated


def test_reallocation_closes_the_gap_and_keeps_each_group_whole():
    strength = np.array([100.0, 500.0, 400.0, 30.0, 70.0])
    allotted = np.array([300.0, 300.0, 400.0, 50.0, 50.0])
    faction = np.array([0, 0, 0, 2, 2])
    out = reallocated(strength, allotted, faction, 0.5)
    # group 0: 1,000 fighters, allotted 30/30/40% -> 300/300/400; half the gap is closed
    np.testing.assert_allclose(out, [200.0, 400.0, 400.0, 40.0, 60.0])
    np.testing.assert_allclose(reallocated(strength, allotted, faction, 1.0),
                               [300.0, 300.0, 400.0, 50.0, 50.0])
    np.testing.assert_array_equal(reallocated(strength, allotted, faction, 0.0), strength)
    for f in (0, 2):
        assert out[faction == f].sum() == pytest.approx(strength[faction == f].sum())


def _model(baseline, rate):
    from sim.model import SahelModel
    from sim.scenario.tunable import apply_overrides

    data = apply_overrides(baseline.model_dump(mode="json"),
                           {"parameters.decisions.reinforcement_rate": rate})
    return SahelModel(type(baseline).model_validate(data), rng=1)


def _act(model, day=0):
    reinforcement.act(model.world, model.ledger, model.spec.parameters.decisions,
                      model.streams.get("reinforce", day))


def test_a_depleted_katiba_is_refilled_from_the_quiet_ones(baseline_at_setup):
    model = _model(baseline_at_setup, 0.02)
    world, units = model.world, model.forces
    jnim = world.faction_ids.index("jnim")
    rows = np.flatnonzero((units.faction == jnim) & units.present)
    hit = rows[:5]
    units.strength[hit] *= 0.2  # a katiba that has been fighting
    before = units.strength.copy()
    total = units.strength[rows].sum()
    _act(model)
    closed = 1.0 - 0.98 ** world.period_days
    share = units.initial[hit] / units.initial[rows].sum()
    np.testing.assert_allclose(units.strength[hit],
                               before[hit] + closed * (share * total - before[hit]))
    assert (units.strength[hit] > before[hit]).all()
    assert units.strength[rows].sum() == pytest.approx(total)
    others = np.setdiff1d(np.flatnonzero(units.present), rows)
    guerrilla = world.guerrilla[units.faction[others]]
    np.testing.assert_allclose(units.strength[others[~guerrilla]], before[others[~guerrilla]])
    # presence follows the fighters
    assert world.presence[jnim].sum() == pytest.approx(total)


def test_rate_zero_moves_no_one(baseline_at_setup):
    model = _model(baseline_at_setup, 0.0)
    units = model.forces
    units.strength[:10] *= 0.5
    before = units.strength.copy()
    _act(model)
    np.testing.assert_array_equal(units.strength, before)


def test_absent_rows_neither_give_nor_receive(baseline_at_setup):
    model = _model(baseline_at_setup, 1.0)
    world, units = model.world, model.forces
    jnim = world.faction_ids.index("jnim")
    rows = np.flatnonzero(units.faction == jnim)
    units.present[rows[:3]] = False
    units.strength[rows[:3]] = 1.0
    units.strength[rows[3]] *= 3.0
    _act(model)
    np.testing.assert_array_equal(units.strength[rows[:3]], 1.0)
    live = rows[3:]
    share = units.initial[live] / units.initial[live].sum()
    np.testing.assert_allclose(units.strength[live], share * units.strength[live].sum())
