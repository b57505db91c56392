"""Movement, decisions, violence and juntas on known cases."""

import datetime as dt
import inspect

import numpy as np
import pytest

from sim.agents import Junta
from sim.geography import COUNTRIES, moore_neighbours
from sim.mechanics import decisions, movement, violence
from sim.scenario import STATE_SIDE_KINDS, JuntaParams
from sim.streams import RandomStreams
from sim.world import field_groups


def state_side_factions(scenario):
    """The scenario's state, militia and Russian factions' ids."""
    return [fid for fid, f in scenario.factions.items() if f.kind in STATE_SIDE_KINDS]

KEY = RandomStreams(np.random.default_rng(0)).get("move", 0).key


def test_moves_stay_in_allowed_cells_and_climb_the_field():
    neighbours = moore_neighbours(10, 10)
    allowed = np.zeros((1, 100), dtype=bool)
    allowed[0, [44, 45, 54, 55]] = True
    field = np.zeros((1, 100), dtype=np.float32)
    field[0, 55] = 1.0
    cell = np.full(50, 44)
    moved = np.zeros(100, dtype=bool)
    crossed = np.zeros(100, dtype=bool)
    excluded = np.zeros(100, dtype=bool)
    for day in range(20):
        movement.move_units(cell, np.full(50, 44), np.ones(50, bool), np.ones(50, bool),
                            np.zeros(50, dtype=np.int8), np.ones(50, bool),
                            np.zeros(50, dtype=np.int64), np.zeros(50, dtype=np.int64), field,
                            allowed, excluded, neighbours, moved, 1.0, 1.0, 1.0, 0.1, 0.1, 10,
                            KEY, day)
        assert set(cell.tolist()) <= {44, 45, 54, 55}
        crossed |= moved
    assert (cell == 55).all() and crossed[55] and not crossed[44]


def test_attraction_fields_group_factions_and_spare_strongholds():
    hostility = np.array([[0, 0, 1], [0, 0, 1], [1, 1, 0]], dtype=float)
    groups, which = field_groups(hostility, np.array([False, False, True]))
    assert len(groups) == 2 and which[0] == which[1] != which[2]
    presence = np.zeros((3, 900))  # a 30 x 30 grid
    presence[0, 3 * 30 + 3] = 1000.0  # a stronghold of faction 0 (above the raid limit)
    presence[1, 24 * 30 + 24] = 50.0  # a small post of faction 1
    presence[2, 15 * 30 + 15] = 100.0
    counted = np.array([3 * 30 + 3, 24 * 30 + 24, 15 * 30 + 15, 0])  # the rows' cells
    fields = decisions.attraction_fields(presence, counted, groups, (30, 30), 400.0, 5)
    assert fields[which[2]].argmax() == 24 * 30 + 24 and fields[which[2]][3 * 30 + 3] == 0
    assert fields[which[0]].argmax() == 15 * 30 + 15 and fields[which[0]].max() == 1.0
    # Three 5-cell boxes reach 6 cells away, not 7.
    assert fields[which[0]][21 * 30 + 15] > 0 and fields[which[0]][22 * 30 + 15] == 0


def test_violence_probability_and_pareto_tail():
    assert violence.event_probability(1.0, 100.0, False, 0.01, 3.0, 3.0) == 0.0
    assert violence.event_probability(0.0, 100.0, False, 0.01, 3.0, 3.0) == pytest.approx(0.01)
    assert violence.event_probability(0.5, 1000.0, True, 0.01, 3.0, 3.0) == pytest.approx(
        0.01 * 0.5 * 3 * 3)
    sizes = np.array([violence.pareto_size(u, 2.0, 1.5)
                      for u in np.random.default_rng(1).random(100_000)])
    assert sizes.min() >= 2.0
    assert (sizes > 200).mean() == pytest.approx((2 / 200) ** 1.5, rel=0.2)


def test_violence_kills_at_most_what_lives_in_a_cell():
    residents = np.zeros((2, 4))
    residents[:, 1] = [30.0, 10.0]
    n = 50
    rows, victims = violence.commit_violence(
        np.full(n, 1), np.zeros(n, dtype=np.int64), np.full(n, 1000.0), np.ones(n, bool),
        np.zeros(1), np.ones((1, 2)), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=bool),
        np.zeros((1, 4)), np.arange(4), np.full(4, 3, dtype=np.int8), np.zeros(4), residents,
        1.0, 3.0, 3.0, 0.0, 0.0, np.zeros(4), 50.0, 1.4, 800.0, 1.0, 2.0, 0.5, 0.0,
        np.zeros((1, 1)), 0.0,
        np.zeros(4, dtype=np.int64), np.zeros(4), np.zeros(4), np.zeros(4, dtype=np.int64),
        KEY, 0)
    assert rows.size > 1
    assert victims.sum(axis=0).tolist() <= [30, 10] and victims.sum() > 0
    assert residents[:, 1] + victims.sum(axis=0) == pytest.approx([30.0, 10.0])


def _events_per_row(avenging: float = 1.0, region: int = 0, armed_group: bool = False,
                    dialogue: float = 0.0, country: int = 0, actor: int = -1,
                    suspicion: float = 0.0, rivals: float = 0.0,
                    monitoring: float = 0.0) -> float:
    """Share of 20,000 unit rows in a cell of `region` and `country` that commit an event
    (p = 0.01), the faction's losses there raising its rate by the factor `avenging`
    (multiplier 1), an elected government's dialogue in country 0 cutting an armed group's,
    and the armed groups' influence `rivals` there raising the state side's (actor 0) by
    1 + `suspicion` x `rivals`, and a UN mission's `monitoring` in country 0 cutting the state
    side's."""
    n, residents = 20_000, np.full((1, 2), 1e9)
    rows, _ = violence.commit_violence(
        np.full(n, 1), np.zeros(n, dtype=np.int64), np.full(n, 100.0), np.ones(n, bool),
        np.zeros(1), np.ones((1, 1)), np.full(1, actor), np.full(1, armed_group),
        np.zeros((2, 2)), np.arange(2), np.zeros(2, dtype=np.int8), np.zeros(2), residents,
        0.01, 3.0, 3.0, 0.0, suspicion, np.full(2, rivals), 2.0, 1.4, 800.0, 1.0, 1.0, 0.0, 0.0,
        np.full((1, 1), 100.0 * (avenging - 1.0)), 1.0, np.array([0, region]),
        np.array([dialogue, 0.0]), np.array([monitoring, 0.0]), np.array([1, country]), KEY, 0)
    return rows.size / n


def test_reprisals_multiply_the_rate_in_the_region_of_the_losses():
    assert _events_per_row(1.0, 0) == pytest.approx(0.01, abs=0.002)
    assert _events_per_row(3.0, 0) == pytest.approx(0.03, abs=0.004)
    assert _events_per_row(3.0, -1) == pytest.approx(0.01, abs=0.002)  # outside the regions


def test_dialogue_cuts_armed_groups_violence_in_its_country_only():
    assert _events_per_row(armed_group=True, dialogue=0.5) == pytest.approx(0.005, abs=0.0015)
    assert _events_per_row(armed_group=True, dialogue=0.9) == pytest.approx(0.001, abs=0.0007)
    assert _events_per_row(armed_group=True) == pytest.approx(0.01, abs=0.002)  # switched off
    assert _events_per_row(armed_group=True, dialogue=0.5, country=1) == pytest.approx(
        0.01, abs=0.002)  # another country
    assert _events_per_row(dialogue=0.5) == pytest.approx(0.01, abs=0.002)  # the state side


def test_monitoring_cuts_the_state_sides_violence_in_its_country_only():
    assert _events_per_row(actor=0, monitoring=0.6) == pytest.approx(0.004, abs=0.0012)
    assert _events_per_row(actor=0, monitoring=0.6, country=1) == pytest.approx(
        0.01, abs=0.002)  # a country without a mission
    assert _events_per_row(actor=1, armed_group=True, monitoring=0.6) == pytest.approx(
        0.01, abs=0.002)  # the armed groups are not restrained by it
    assert _events_per_row(actor=-1, monitoring=0.6) == pytest.approx(
        0.01, abs=0.002)  # nor are foreign forces


def test_the_state_side_punishes_communities_where_armed_groups_have_influence():
    assert _events_per_row(actor=0, suspicion=4.0, rivals=0.5) == pytest.approx(
        0.03, abs=0.004)
    assert _events_per_row(actor=0, suspicion=4.0) == pytest.approx(0.01, abs=0.002)
    assert _events_per_row(actor=0, rivals=0.5) == pytest.approx(0.01, abs=0.002)  # off
    assert _events_per_row(actor=-1, suspicion=4.0, rivals=0.5) == pytest.approx(
        0.01, abs=0.002)  # a foreign faction has no side in local control
    assert _events_per_row(actor=1, armed_group=True, suspicion=4.0, rivals=0.5) == (
        pytest.approx(0.01, abs=0.002))  # armed groups answer to the state's influence


def test_violence_hands_the_kernel_the_armed_groups_influence(baseline, monkeypatch):
    from sim.model import SahelModel

    model = SahelModel(baseline, rng=2)
    seen = []
    kernel = violence.commit_violence
    position = list(inspect.signature(kernel.py_func).parameters).index("rival_influence")

    def spy(*args):
        seen.append(args[position])
        return kernel(*args)

    monkeypatch.setattr(violence, "commit_violence", spy)
    world = model.world
    influence = world.influence.copy()  # the day's influence update comes after violence
    model.step()
    assert seen[0].shape == (world.sahel_idx.size,)
    np.testing.assert_array_equal(seen[0], influence[1:].sum(axis=0))
    assert 0 < seen[0].max() <= 1 and influence[0].max() > 0  # not the state's share


def test_suspicion_raises_state_side_killings_where_armed_groups_hold_sway(tmp_path):
    import sim
    from sim.model import SahelModel

    from ..conftest import write_short_scenario

    killed = []
    for multiplier in (0, 5):
        path = write_short_scenario(tmp_path / str(multiplier), extra=(
            f"[parameters.violence]\nsuspicion_multiplier = {multiplier}\n"))
        scenario = sim.load_scenario(path)
        deaths = SahelModel(scenario, rng=5).run().fatalities()
        state_side = deaths["perpetrator"].isin(state_side_factions(scenario))
        killed.append(deaths.loc[state_side & (deaths["victim"] == "civilians"),
                                 "killed"].sum())
    assert killed[1] > 1.5 * killed[0] > 0


def test_niger_negotiates_until_its_coup(baseline):
    from sim.model import SahelModel

    model = SahelModel(baseline, rng=1)
    restraint = baseline.parameters.violence.dialogue_restraint
    assert restraint > 0
    niger = list(COUNTRIES).index("NER")
    before = violence.dialogue_by_country(model.world, baseline.parameters.violence)
    assert before[niger] == restraint and before.sum() == restraint  # Mali, Burkina: juntas
    while model.date < dt.date(2023, 7, 27):
        model.step()
    after = violence.dialogue_by_country(model.world, baseline.parameters.violence)
    assert not after.any()


def test_a_un_mission_monitors_its_country_until_its_mandate_ends(baseline):
    from sim.model import SahelModel
    from sim.scenario.tunable import apply_overrides

    data = apply_overrides(baseline.model_dump(mode="json"),
                           {"parameters.violence.monitoring_restraint": 0.5})
    spec = type(baseline).model_validate(data)
    model = SahelModel(spec, rng=1)
    model.step()
    mali = list(COUNTRIES).index("MLI")
    during = violence.monitoring_by_country(model.world, spec.parameters.violence)
    assert during[mali] == 0.5 and during.sum() == 0.5  # MINUSMA is in Mali only
    while model.date < dt.date(2023, 6, 30):
        model.step()
    assert violence.monitoring_by_country(model.world, spec.parameters.violence)[mali] == 0.5
    model.step()
    model.step()  # resolution 2690 ended the mandate on 30 Jun 2023; the camps stay
    assert not violence.monitoring_by_country(model.world, spec.parameters.violence).any()
    assert model.world.protected.any()
    assert not model.world.monitored[-1]  # the abroad slot is never monitored


def test_the_mission_that_stays_keeps_monitoring_mali():
    import sim
    from sim.model import SahelModel

    from ..conftest import SCENARIOS

    model = SahelModel(sim.load_scenario(SCENARIOS / "minusma_stays.toml"), rng=1)
    while model.date < dt.date(2024, 12, 1):
        model.step()
    assert model.world.monitored.tolist() == [True, False, False, False]  # MLI, BFA, NER


def test_monitoring_cuts_the_state_sides_killings_in_mali_only(tmp_path):
    import sim
    from sim.calibration.statistics import casualty_frame
    from sim.model import SahelModel

    from ..conftest import write_short_scenario

    events = {}
    for restraint in (0.0, 0.9):
        path = write_short_scenario(tmp_path / str(restraint), extra=(
            f"[parameters.violence]\nmonitoring_restraint = {restraint}\n"))
        scenario = sim.load_scenario(path)
        deaths = casualty_frame(SahelModel(scenario, rng=5).run())
        by_state = deaths[deaths["perpetrator"].isin(state_side_factions(scenario))
                          & (deaths["victim"] == "civilians")
                          & (deaths["mechanism"] == "violence_against_civilians")]
        # events, not deaths: a few heavy-tailed events carry most of a short run's deaths
        events[restraint] = by_state.groupby("country")["event"].nunique()
    assert events[0.9]["MLI"] < 0.3 * events[0.0]["MLI"]
    assert events[0.9]["BFA"] == pytest.approx(events[0.0]["BFA"], rel=0.1)  # no mission


def test_losses_to_avenge_add_up_and_fade_with_the_half_life(baseline_at_setup):
    from sim.ledger import N_GROUPS
    from sim.model import SahelModel
    from sim.scenario.tunable import apply_overrides

    # No spin-up: no losses remembered from before day 0.
    data = apply_overrides(baseline_at_setup.model_dump(mode="json"),
                           {"parameters.violence.reprisal_half_life": 10.0,
                            "parameters.violence.reprisal_multiplier": 1.0})
    model = SahelModel(type(baseline_at_setup).model_validate(data), rng=1)
    world, ledger = model.world, model.ledger
    army, jnim = world.faction_ids.index("burkina_army"), world.faction_ids.index("jnim")
    cell = int(world.forces.cell[world.forces.faction == army][0])
    ledger.open_day(0)
    event = ledger.add_events("clash", np.array([cell]), jnim, army)
    ledger.book(event, N_GROUPS + army, jnim, 40, 10)  # 40 killed by JNIM: avenged
    ledger.book(event, N_GROUPS + army, army, 5, 0)  # friendly fire: not avenged
    params = model.spec.parameters.violence
    violence.act(world, ledger, params, model.streams.get("violence", 0))
    region = world.region[cell]
    assert world.losses_to_avenge[army, region] == pytest.approx(40.0)
    assert world.losses_to_avenge.sum() == pytest.approx(40.0)
    ledger.open_day(1)
    violence.act(world, ledger, params, model.streams.get("violence", 1))
    assert world.losses_to_avenge[army, region] == pytest.approx(40.0 * 2 ** -0.1)


def test_regime_protection_halves_coup_success():
    p = JuntaParams()
    junta = Junta.__new__(Junta)
    junta.credibility = 0.2
    assert junta.coup_success_probability(0.0, p) == pytest.approx(p.coup_success)
    assert junta.coup_success_probability(p.protection_reference, p) == pytest.approx(
        p.coup_success / 2)
    assert junta.coup_hazard(p) == pytest.approx(
        p.coup_rate / 365 * (1 - 0.2 / p.coup_threshold) ** 2)
    junta.credibility = p.coup_threshold + 0.01
    assert junta.coup_hazard(p) == 0.0  # above the threshold no coup is attempted
