"""Reinforcement: an armed group's command moves fighters toward its order of battle."""

import numpy as np
import pytest

from sim.agents import ForceUnit
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


def test_a_group_without_establishment_keeps_its_fighters():
    out = reallocated(np.array([5.0, 7.0, 10.0]), np.array([0.0, 0.0, 10.0]),
                      np.array([0, 0, 1]), 0.5)
    np.testing.assert_array_equal(out, [5.0, 7.0, 10.0])


def _model(baseline, rate):
    from sim.model import SahelModel
    from sim.scenario.tunable import apply_overrides

    data = apply_overrides(baseline.model_dump(mode="json"),
                           {"parameters.decisions.reinforcement_rate": rate})
    return SahelModel(type(baseline).model_validate(data), rng=1)


def _act(model, day=0):
    reinforcement.act(model.world, model.ledger, model.spec.parameters.decisions,
                      model.streams.get("reinforce", day))


def _agent(model, row):
    return next(a for a in model.agents_by_type[ForceUnit] if a.index == row)


def test_a_depleted_katiba_is_refilled_from_the_quiet_ones(baseline_at_setup):
    model = _model(baseline_at_setup, 0.02)
    world, units = model.world, model.forces
    jnim = world.faction_ids.index("jnim")
    rows = np.flatnonzero((units.faction == jnim) & units.present)
    establishment = units.initial[rows[-1]]
    _agent(model, rows[-1]).reinforce(300.0)  # its establishment grows by 300
    hit = rows[:5]
    units.strength[hit] *= 0.2  # a katiba that has been fighting
    before = units.strength.copy()
    total = before[rows].sum()
    _act(model)
    closed = 1.0 - 0.98 ** world.period_days
    share = units.initial[rows] / units.initial[rows].sum()
    np.testing.assert_allclose(units.strength[rows],
                               before[rows] + closed * (share * total - before[rows]))
    assert (units.strength[hit] > before[hit]).all()
    aim = before[rows] + (units.strength[rows] - before[rows]) / closed
    assert units.initial[rows[-1]] == pytest.approx(establishment + 300.0)
    assert aim[-1] / aim[5] == pytest.approx(units.initial[rows[-1]] / units.initial[rows[5]])
    assert units.strength[rows].sum() == pytest.approx(total)
    others = np.flatnonzero(units.faction != jnim)
    np.testing.assert_array_equal(units.strength[others], before[others])
    assert world.presence[jnim].sum() == pytest.approx(total)  # presence follows the fighters


def test_rate_zero_moves_no_one(baseline_at_setup):
    model = _model(baseline_at_setup, 0.0)
    units = model.forces
    jnim = model.world.faction_ids.index("jnim")
    rows = np.flatnonzero(units.faction == jnim)
    units.strength[rows[:4]] *= 0.5
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
    before = units.strength.copy()
    _act(model)
    np.testing.assert_array_equal(units.strength[rows[:3]], 1.0)
    live = rows[3:]
    share = units.initial[live] / units.initial[live].sum()
    np.testing.assert_allclose(units.strength[live], share * before[live].sum())


def test_rows_abroad_take_part(baseline_at_setup):
    model = _model(baseline_at_setup, 1.0)
    world, units = model.world, model.forces
    jnim = world.faction_ids.index("jnim")
    rows = np.flatnonzero((units.faction == jnim) & units.present)
    abroad = np.flatnonzero(~world.in_sahel & world.allowed[jnim])[0]
    units.cell[rows[0]] = abroad
    units.strength[rows[0]] = 600.0  # resting in sanctuary
    world.refresh_presence()
    _act(model)
    share = units.initial[rows[0]] / units.initial[rows].sum()
    assert units.strength[rows[0]] == pytest.approx(share * units.strength[rows].sum())
    assert world.presence[jnim, abroad] == pytest.approx(units.strength[rows[0]])


@pytest.mark.parametrize("rate", [0.0, 0.05])
def test_the_day_runs_it_on_decision_days_only(baseline_at_setup, rate):
    model = _model(baseline_at_setup, rate)
    world, units = model.world, model.forces
    jnim = world.faction_ids.index("jnim")
    rows = np.flatnonzero((units.faction == jnim) & units.present)
    calls = []
    original = reinforcement.reallocated
    try:
        reinforcement.reallocated = lambda *a: calls.append(1) or original(*a)
        for day in range(8):
            model.simulate_day(day, model.ledger)
    finally:
        reinforcement.reallocated = original
    assert len(calls) == (2 if rate else 0)  # days 0 and 7
    assert rows.size
