"""Known cases of the control, civilian, violence, movement and junta mechanics."""

import numpy as np
import pytest

from sim.agents import Junta
from sim.mechanics import civilians, control, movement, violence
from sim.scenario import JuntaParams


def test_zones_from_balance():
    state = np.array([1.0, 0.8, 0.5, 0.2, 0.0, 0.05])
    armed = np.array([0.0, 0.2, 0.5, 0.8, 1.0, 0.05])
    influence = np.vstack([state, armed])
    assert control.zones(influence, 0.25, 0.15).tolist() == [1, 2, 3, 4, 5, 1]
    assert control.controller(influence, control.zones(influence, 0.25, 0.15)).tolist() == [
        0, 0, control.CONTESTED, 1, 1, 0]


def test_controller_picks_strongest_armed_group():
    influence = np.array([[0.0, 0.0], [0.9, 0.2], [0.3, 0.8]])
    zone = control.zones(influence, 0.25, 0.15)
    assert control.controller(influence, zone).tolist() == [1, 2]


def test_influence_target_is_a_force_share():
    reach = np.array([[300.0, 0.0], [0.0, 90.0]])  # state, one armed group; two cells
    governance = np.zeros((2, 2))
    target = control.influence_target(reach, governance, np.zeros(2), np.zeros(2, dtype=bool),
                                      presence_half=30.0, town_state_floor=0.7,
                                      state_weight=0.1)
    assert target[0, 0] == pytest.approx(30.0 / 60.0)
    assert target[1, 1] == pytest.approx(90.0 / 120.0)
    held = control.influence_target(reach, np.array([[0, 0], [0, 1.0]]), np.ones(2),
                                    np.array([True, False]), 30.0, 0.7, 0.1)
    assert held[0, 0] >= 0.7  # garrison floor
    # Full governance adds 100 personnel-equivalents and removes the state's administration.
    assert held[1, 1] == pytest.approx(190.0 / 220.0)


def test_relax_and_entrench():
    influence = np.zeros((2, 3))
    control.relax(influence, np.ones((2, 3)), days=4.0)
    assert np.allclose(influence, 0.25)
    governance = np.zeros((3, 3))
    control.entrench(governance, np.array([1, 2, control.CONTESTED]), days=2.0)
    assert governance[1].tolist() == [0.5, 0.0, 0.0]
    assert governance[2].tolist() == [0.0, 0.5, 0.0]
    assert governance[0].tolist() == [0.0, 0.0, 0.0]


def test_reach_is_a_box_sum():
    presence = np.zeros((1, 100))
    presence[0, 55] = 10.0  # cell (5, 5) on a 10 x 10 grid
    out = control.reach(presence, (10, 10)).reshape(10, 10)
    assert out[3:8, 3:8] == pytest.approx(np.full((5, 5), 10.0))
    assert out.sum() == pytest.approx(250.0)


def test_grievance_decays_with_half_life_and_rises_with_deaths():
    g = np.ones((1, 2))
    for _ in range(30):
        civilians.decay_grievance(g, 30.0)
    assert g == pytest.approx(np.full((1, 2), 0.5))
    civilians.add_grievance(g, np.array([[2.0, 0.0]]), np.array([4000.0]), per_death=10.0)
    assert g[0, 0] == pytest.approx(0.5 + 10 * 2 / 4)


def test_support_goes_to_the_enemies_of_the_harmful_side():
    hostility = np.array([[0, 1], [1, 0]], dtype=float)  # state vs insurgents
    g = np.array([[2.0, 0.0]])  # community aggrieved by the state only
    s = civilians.support(g, hostility)
    assert s[0, 1] == pytest.approx(1 - np.exp(-2.0))
    assert s[0, 0] == 0.0


def test_recruits_never_take_more_than_half_a_community():
    rng = np.random.default_rng(0)
    members = np.array([100.0, 1e6])
    drawn = civilians.recruits(rng, members, np.ones((2, 3)), np.ones((2, 3)),
                               np.array([True, True, True]), rate=1e4)
    assert drawn[0].sum() <= 50
    assert drawn[1].sum() <= 500_000


def test_flight_shares():
    out = civilians.flight(np.array([1000.0, 1000.0, 0.0]), np.array([2.0, 0.0, 5.0]),
                           np.array([False, True, True]), 50.0, 0.01)
    assert out.tolist() == pytest.approx([100.0, 10.0, 0.0])


def test_violence_probability_and_pareto_tail():
    p = violence.event_probability(np.array([1.0, 0.0, 0.5]), np.array([100.0, 100.0, 1000.0]),
                                   np.array([False, False, True]), 0.01, 3.0)
    assert p.tolist() == pytest.approx([0.0, 0.01, 0.01 * 0.5 * 3 * 3])
    sizes = violence.pareto_sizes(np.random.default_rng(1).random(200_000), 2.0, 1.5)
    assert sizes.min() >= 2.0
    assert (sizes > 200).mean() == pytest.approx((2 / 200) ** 1.5, rel=0.15)


def test_moves_stay_in_allowed_cells_and_reach():
    rng = np.random.default_rng(0)
    from sim.geography import moore_neighbours

    nx = ny = 10
    neighbours = moore_neighbours(nx, ny)
    allowed = np.zeros((1, 100), dtype=bool)
    allowed[0, [44, 45, 54, 55]] = True
    field = np.zeros((1, 100))
    field[0, 99] = 1.0
    cell = np.full(50, 44)
    for _ in range(20):
        cell = movement.choose_moves(rng.random(50), rng.random((50, 9)), cell,
                                     np.zeros(50, dtype=int), np.zeros(50, dtype=int),
                                     np.full(50, 44),
                                     np.ones(50, dtype=bool), field, allowed, np.full(50, 1.0),
                                     np.ones(50), neighbours, 1.0, ny)
        assert set(cell.tolist()) <= {44, 45, 54, 55}


def test_attraction_fields_group_factions_and_spare_strongholds():
    hostility = np.array([[0, 0, 1], [0, 0, 1], [1, 1, 0]], dtype=float)
    guerrilla = np.array([False, False, True])
    groups, which = movement.field_groups(hostility, guerrilla)
    assert len(groups) == 2 and which[0] == which[1] != which[2]
    presence = np.zeros((3, 900))  # a 30 x 30 grid
    presence[0, 3 * 30 + 3] = 1000.0  # a stronghold of faction 0 (above the raid limit)
    presence[1, 24 * 30 + 24] = 50.0  # a small post of faction 1
    presence[2, 15 * 30 + 15] = 100.0
    fields = movement.attraction_fields(presence, groups, (30, 30), raid_target_limit=400.0)
    guerrilla_field = fields[which[2]]
    assert guerrilla_field.argmax() == 24 * 30 + 24 and guerrilla_field[3 * 30 + 3] == 0
    state_field = fields[which[0]]
    assert state_field.argmax() == 15 * 30 + 15 and state_field.max() == 1.0


def test_regime_protection_halves_coup_success():
    p = JuntaParams()
    junta = Junta.__new__(Junta)
    junta.credibility = 0.2
    assert junta.coup_success_probability(0.0, p) == pytest.approx(p.coup_success)
    assert junta.coup_success_probability(p.protection_reference, p) == pytest.approx(
        p.coup_success / 2)
    assert junta.coup_hazard(p) == pytest.approx(p.coup_rate / 365 * 0.8**2)
