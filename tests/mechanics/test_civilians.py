"""Grievance, recruitment, flight and the drawing of victims on known cases."""

import numpy as np
import pytest

from sim.mechanics import flight, grievance, recruitment, victims
from sim.streams import RandomStreams

KEY = RandomStreams(np.random.default_rng(0)).get("recruit", 0).key


def test_grievance_rises_with_deaths_per_thousand_members():
    g = np.full((1, 2), 0.5)
    grievance.add_grievance(g, np.array([[2.0, 0.0]]), np.array([4000.0]), per_death=10.0)
    assert g[0].tolist() == pytest.approx([0.5 + 10 * 2 / 4, 0.5])


def test_support_goes_to_the_enemies_of_the_harmful_side():
    hostility = np.array([[0, 1], [1, 0]], dtype=float)
    s = grievance.support(np.array([[2.0, 0.0]]), hostility)  # aggrieved by faction 0 only
    assert s[0, 1] == pytest.approx(1 - np.exp(-2.0))
    assert s[0, 0] == 0.0


@pytest.mark.parametrize("rival_support", [0.0, 0.5, 1.0])
def test_grievance_toward_a_rival_armed_group_counts_by_its_weight(rival_support):
    hostility = 1.0 - np.eye(3)  # state side 0, armed groups 1 and 2: all hostile
    weights = grievance.support_weights(hostility, np.array([False, True, True]), rival_support)
    by_rival = grievance.support(np.array([[0.0, 0.0, 2.0]]), weights)  # aggrieved by 2 only
    assert by_rival[0, 1] == pytest.approx(1 - np.exp(-2.0 * rival_support))
    assert by_rival[0, 0] == pytest.approx(1 - np.exp(-2.0))  # the state side: in full
    by_state = grievance.support(np.array([[2.0, 0.0, 0.0]]), weights)
    assert by_state[0, 1:].tolist() == pytest.approx([1 - np.exp(-2.0)] * 2)


def test_recruits_are_poisson_and_never_take_more_than_the_cap():
    expected = np.array([[2.0, 0.0], [1e6, 1e6]])
    members = np.array([1e6, 1000.0])
    draws = np.array([recruitment.draw_recruits(expected, members, 0.5, KEY, day)
                      for day in range(3000)])
    assert draws[:, 0, 0].mean() == pytest.approx(2.0, rel=0.05)
    assert (draws[:, 0, 1] == 0).all()
    assert (draws[:, 1].sum(axis=1) <= 500).all()


def test_flight_moves_people_to_their_refuge():
    residents = np.array([[600.0, 600.0, 0.0, 0.0], [400.0, 400.0, 0.0, 0.0]])
    displaced, by_origin = np.zeros(4), np.zeros(1)
    flight.flee(residents, displaced, by_origin, np.arange(4), np.zeros(4, dtype=np.int64),
                np.array([1, 3, 1, 1], dtype=np.int8), np.array([3, 3, 3, 3]),
                np.array([2.0, 0.0, 5.0, 0.0]), np.full(4, -1, dtype=np.int8), 50.0, 0.01, 0.5,
                0.5)
    # Cell 0: 2 deaths x 50 = 100 of 1000 leave; cell 1 is contested: 1% of 1000 leave.
    assert residents.sum(axis=0).tolist() == pytest.approx([900.0, 990.0, 0.0, 0.0])
    assert displaced[3] == pytest.approx(110.0) and by_origin[0] == pytest.approx(110.0)


def test_victims_follow_the_bias_and_never_exceed_residents():
    residents = np.array([[100.0], [3.0], [0.0]])
    out = np.zeros(3, dtype=np.int64)
    victims.draw_victims(residents, 0, np.array([0.0, 1.0, 1.0]), 10, out, KEY, 0, 0, 0)
    assert out.tolist() == [0, 3, 0]  # only group 1 is targeted, and only 3 live there
    assert residents[:, 0].tolist() == [100.0, 0.0, 0.0]
    victims.draw_victims(residents, 0, np.array([0.0, 1.0, 1.0]), 10, out, KEY, 0, 1, 0)
    assert out.tolist() == [10, 0, 0]  # the bias spares everyone left: residents alone


def _world_without_grievance(baseline, rate, **civilians):
    """The baseline at setup with no grievance, governed recruitment at `rate`."""
    from sim.model import SahelModel
    from sim.scenario.tunable import apply_overrides

    overrides = {f"parameters.civilians.{name}": value for name, value in civilians.items()}
    data = apply_overrides(baseline.model_dump(mode="json"),
                           {"parameters.civilians.governed_recruitment_rate": rate, **overrides})
    model = SahelModel(type(baseline).model_validate(data), rng=3)
    model.world.grievance[:] = 0.0  # no aggrieved community: only governed recruitment is left
    return model


def _recruits_gained(model):
    """(F,) recruits each faction gains in one recruitment step."""
    world = model.world
    before = world.recruited.copy()
    recruitment.act(world, model.ledger, world.spec.parameters.civilians,
                    model.streams.get("recruit", 0))
    return (world.recruited - before).sum(axis=0)


def _jnim_governs_only_its_cells(world):
    """Make every Sahel cell ungoverned except those where JNIM has units, which it holds."""
    world.controller[world.sahel_idx] = -2
    jnim_cells = world.forces.cell[world.forces.faction == world.faction_ids.index("jnim")]
    world.controller[np.intersect1d(jnim_cells, world.sahel_idx)] = world.actor_ids.index("jnim")


def test_governed_members_count_residents_of_the_cells_each_group_holds(baseline):
    model = _world_without_grievance(baseline, 0.002)
    world = model.world
    jnim = world.faction_ids.index("jnim")
    actor = world.actor_ids.index("jnim")
    world.controller[world.sahel_idx] = -2  # ungoverned everywhere ...
    held = world.sahel_idx[:40]
    world.controller[held] = actor  # ... except 40 cells JNIM holds
    g = world.residents.shape[0]
    governed = recruitment.governed_members(world, len(world.geo.regions), g)
    assert governed[:, jnim].sum() == pytest.approx(world.residents[:, held].sum())
    assert np.delete(governed, jnim, axis=1).sum() == 0.0


@pytest.mark.parametrize("rate", [0.0, 0.01])
def test_groups_recruit_where_they_govern_and_nowhere_else_without_grievance(baseline, rate):
    model = _world_without_grievance(baseline, rate)
    world = model.world
    _jnim_governs_only_its_cells(world)
    gained = _recruits_gained(model)
    jnim = world.faction_ids.index("jnim")
    assert (gained[jnim] > 0) == (rate > 0)
    assert np.delete(gained, jnim).sum() == 0


@pytest.mark.parametrize("rival_support", [0.0, 1.0])
def test_a_rivals_massacres_recruit_for_jnim_only_by_their_weight(baseline, rival_support):
    model = _world_without_grievance(baseline, 0.0, rival_support=rival_support)
    world = model.world
    world.grievance[:, world.faction_ids.index("is_sahel")] = 5.0  # IS Sahel's victims only
    gained = _recruits_gained(model)
    jnim = world.faction_ids.index("jnim")
    assert (gained[jnim] > 0) == (rival_support > 0)
    assert gained[world.faction_ids.index("is_sahel")] == 0


def test_room_to_grow_is_the_share_left_below_the_ceiling_of_present_personnel():
    faction = np.array([0, 0, 1, 2])
    initial = np.array([100.0, 100.0, 50.0, 0.0])
    strength = np.array([150.0, 90.0, 50.0, 30.0])
    present = np.array([True, False, True, True])
    room = recruitment.room_to_grow(faction, strength, initial, present, 1.5, 4)
    # faction 0: 150 present of a ceiling of 300; 1: at its start of 50, ceiling 75; 2 and 3
    # had no one at the start, so no ceiling binds them
    assert room.tolist() == pytest.approx([0.5, 1 / 3, 1.0, 1.0])
    no_ceiling = recruitment.room_to_grow(faction, strength, initial, present, 0.0, 4)
    assert no_ceiling.tolist() == [1.0] * 4
    beyond = recruitment.room_to_grow(faction, 4 * strength, initial, present, 1.5, 4)
    assert beyond[:2].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("ceiling", "recruits"), [(0.0, True), (1.0, False), (2.0, True)])
def test_a_group_at_its_ceiling_recruits_no_one(baseline, ceiling, recruits):
    """JNIM at its strength at the start: a ceiling of 1 leaves it no room, 2 or none does."""
    model = _world_without_grievance(baseline, 0.01, strength_ceiling=ceiling)
    world = model.world
    _jnim_governs_only_its_cells(world)
    jnim = world.faction_ids.index("jnim")
    units = world.forces
    mine = (units.faction == jnim) & units.present
    units.strength[mine] *= units.initial[units.faction == jnim].sum() / units.strength[mine].sum()
    assert (_recruits_gained(model)[jnim] > 0) == recruits
