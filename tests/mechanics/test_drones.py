"""Drone strikes: the kernels on known cases, and the process in the model.

Kernel cases use a 10 x 10 grid of 0.25 degree cells (about 27 km) with two factions, the
state (0) and an armed group (1), hostile to each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.fleets import cells_in_range
from sim.geography import build_geography
from sim.ledger import CIVILIANS, NONE
from sim.mechanics import complex_attacks, drones
from sim.model import SahelModel
from sim.scenario import ComplexAttackParams, DroneParams
from sim.streams import RandomStreams

from ..conftest import SCENARIOS, write_short_scenario
from ..test_model import check_invariants

KEY = RandomStreams(np.random.default_rng(0)).get("drone", 0).key
NX = NY = 10
RES = 0.25
LON, LAT = np.meshgrid(0.125 + RES * np.arange(NX), 12.125 + RES * np.arange(NY), indexing="ij")
LAT, LON = LAT.reshape(-1), LON.reshape(-1)
HOSTILE = np.array([[0.0, 1.0], [1.0, 0.0]])
STATE, GROUP = 0, 1


def cell(x: int, y: int) -> int:
    return x * NY + y


class Case:
    """A kernel case: fleets, unit rows and residents on the 10 x 10 grid."""

    def __init__(self, rows: list[tuple[int, int, float]], residents: dict[int, float] | None
                 = None, group_residents: int | None = None) -> None:
        self.faction = np.array([f for f, _, _ in rows], dtype=np.int64)
        self.cell = np.array([c for _, c, _ in rows], dtype=np.int64)
        self.strength = np.array([s for _, _, s in rows], dtype=float)
        self.present = np.ones(len(rows), dtype=bool)
        self.residents = np.zeros((5, NX * NY))
        for c, people in (residents or {}).items():
            if group_residents is None:
                self.residents[:, c] = people / 5
            else:
                self.residents[group_residents, c] = people
        self.presence = np.zeros((2, NX * NY))
        np.add.at(self.presence, (self.faction, self.cell), self.strength)

    def fly(self, sorties: int, base: int, range_km: float = 200.0, state: bool = True,
            fleet_restraint: float = -1.0, faction_restraint: float = 0.5, day: int = 0,
            **overrides: float):
        p = DroneParams(**overrides)
        faction = STATE if state else GROUP
        reach = (np.flatnonzero([drones.distance_km(LAT[base], LON[base], LAT[c], LON[c])
                                 <= range_km for c in range(NX * NY)])
                 if base >= 0 else np.zeros(0, dtype=np.int64))
        return drones.fly(
            np.array([sorties]), np.array([faction]), np.array([state]), np.array([base]),
            np.array([range_km]), np.array([fleet_restraint]), reach.astype(np.int64),
            np.array([0, reach.size]), np.full(2, faction_restraint), HOSTILE, self.presence,
            self.faction, self.cell, self.strength, self.present, LAT, LON,
            np.ones(NX * NY, dtype=bool), self.residents, NX, NY, RES, p.min_concentration,
            p.detection_personnel, p.casualties_per_strike, p.group_casualties_per_strike,
            p.killed_fraction, p.max_loss_share, p.collateral_rate, p.populated_half,
            p.gathering_share, p.market_multiplier, p.bystanders_killed, p.gathering_killed,
            p.max_resident_share, KEY, day)


# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------


def test_sorties_follow_size_and_stop_before_the_start_when_grounded_or_without_airframes():
    size, sorties = np.array([4.0, 4.0, 0.0, 4.0]), np.array([0.25, 0.25, 0.25, 0.25])
    start = np.array([0, 500, 0, 0])
    grounded = np.array([0, 0, 0, 300])
    hit, destroyed = np.full(4, -1), np.zeros(4, dtype=np.int64)
    total = np.zeros(4)
    for day in range(1000):
        counts, n = drones.sorties_today(size, sorties, start, grounded, hit, destroyed, 0.2,
                                         14.0, KEY, day)
        assert n == counts.sum()
        assert counts[2] == 0
        if day < 500:
            assert counts[1] == 0
        if day < 300:
            assert counts[3] == 0
        total += counts
    assert total[0] / 1000 == pytest.approx(1.0, rel=0.1)  # 4 airframes * 0.25
    assert total[1] / 500 == pytest.approx(1.0, rel=0.15)


def test_a_hit_air_base_loses_airframes_and_is_grounded():
    size, hit = np.array([10.0, 10.0]), np.array([7, -1])
    grounded, destroyed = np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64)
    counts, _ = drones.sorties_today(size, np.array([1.0, 1.0]), np.zeros(2, dtype=np.int64),
                                     grounded, hit, destroyed, 1.0, 14.0, KEY, 7)
    assert size[0] == 0 and destroyed[0] == 10 and grounded[0] == 21 and counts[0] == 0
    assert size[1] == 10 and destroyed[1] == 0 and counts[1] > 0
    size[0], hit[0] = 10.0, 30
    drones.sorties_today(size, np.ones(2), np.zeros(2, dtype=np.int64), grounded, hit,
                         destroyed, 0.3, 14.0, KEY, 30)
    assert 0 < destroyed[0] - 10 < 10 and size[0] == 20 - destroyed[0] and grounded[0] == 44


def test_distances_and_reach_from_an_air_base():
    bamako, ouaga = (12.609, -7.975), (12.366, -1.534)
    assert drones.distance_km(*bamako, *ouaga) == pytest.approx(702, rel=0.02)
    geo = build_geography(0.25)
    x, y = geo.town("Bamako").cell
    base = x * geo.ny + y
    home = cells_in_range(geo, base, 300.0, own_country=True)
    codes = np.array(geo.country_codes)[geo.country.reshape(-1)]
    lat, lon = geo.lat.reshape(-1), geo.lon.reshape(-1)
    far = [drones.distance_km(lat[base], lon[base], lat[c], lon[c]) for c in home]
    assert home.size > 50 and max(far) <= 300.0 and set(codes[home]) == {"MLI"}
    wide = cells_in_range(geo, base, 800.0, own_country=False)
    assert {"MLI", "BFA"} <= set(codes[wide]) <= {"MLI", "BFA", "NER"}
    window = drones.candidate_cells(base, 300.0, lat, lon, geo.in_sahel().reshape(-1), geo.nx,
                                    geo.ny, geo.resolution)
    assert set(home) <= set(window)  # the window holds every cell in range, of any country


def test_strikes_only_within_range_on_concentrations():
    base = cell(0, 0)
    near, small, far = cell(3, 0), cell(2, 2), cell(9, 9)  # ~80 km, ~75 km, ~380 km
    case = Case([(GROUP, near, 100.0), (GROUP, small, 10.0), (GROUP, far, 5000.0)])
    fleet, cells, target, *_ = case.fly(300, base, range_km=150.0, casualties_per_strike=0.0)
    assert fleet.size > 100 and set(cells) == {near} and set(target) == {GROUP}
    assert case.fly(50, base, range_km=20.0)[0].size == 0  # nothing within 20 km


def test_strike_probability_and_target_choice_in_proportion_to_fighters():
    base = cell(0, 0)
    case = Case([(GROUP, cell(1, 0), 100.0)])
    n = 4000
    strikes = case.fly(n, base, casualties_per_strike=0.0, detection_personnel=60.0)[0].size
    assert strikes / n == pytest.approx(100 / 160, abs=0.03)
    case = Case([(GROUP, cell(1, 0), 100.0), (GROUP, cell(0, 1), 300.0)])
    cells = case.fly(n, base, casualties_per_strike=0.0, detection_personnel=0.0)[1]
    assert cells.size == n
    assert (cells == cell(0, 1)).mean() == pytest.approx(0.75, abs=0.03)


def test_casualties_are_taken_from_the_rows_and_split_killed_and_wounded():
    case = Case([(GROUP, cell(1, 0), 10000.0), (STATE, cell(0, 0), 50.0)])
    _, _, _, killed, wounded, _ = case.fly(200, cell(0, 0), detection_personnel=0.0,
                                           casualties_per_strike=5.0, killed_fraction=0.6)
    assert killed[:, STATE].sum() == wounded[:, STATE].sum() == 0
    lost = killed.sum() + wounded.sum()
    assert case.strength[0] == pytest.approx(10000.0 - lost)
    assert case.presence[GROUP, cell(1, 0)] == pytest.approx(case.strength[0])
    assert killed.sum() / lost == pytest.approx(0.6, abs=0.05)
    assert lost / 200 == pytest.approx(5.0, rel=0.1)


def test_civilians_only_where_people_live_by_surroundings_and_restraint():
    target, base = cell(1, 0), cell(0, 0)
    rows = [(GROUP, target, 1e6)]
    empty = Case(rows)
    victims = empty.fly(500, base, collateral_rate=1.0, faction_restraint=0.0,
                        detection_personnel=0.0)[5]
    assert victims.sum() == 0
    people = Case(rows, {target: 1e6}, group_residents=2)
    victims = people.fly(2000, base, collateral_rate=1.0, faction_restraint=0.0,
                         populated_half=1e6, detection_personnel=0.0, gathering_share=0.0,
                         casualties_per_strike=0.0)[5]
    harmed = victims.sum(axis=1) > 0
    assert harmed.mean() == pytest.approx(0.5, abs=0.04)  # R / (R + populated_half)
    assert victims[:, [0, 1, 3, 4]].sum() == 0  # only the group that lives there
    assert people.residents[2, target] == 1e6 - victims.sum()
    spared = Case(rows, {target: 5000.0}).fly(
        1000, base, collateral_rate=1.0, faction_restraint=1.0, detection_personnel=0.0)[5]
    assert spared.sum() == 0
    own = Case(rows, {target: 5000.0}).fly(
        1000, base, collateral_rate=1.0, faction_restraint=0.0, fleet_restraint=1.0,
        detection_personnel=0.0)[5]
    assert own.sum() == 0  # the fleet's own restraint overrides its faction's
    assert drones.harm_probability(0.0, 0.0, 1.0, 5000.0) == 0.0
    assert drones.harm_probability(5000.0, 0.5, 0.6, 5000.0) == pytest.approx(0.15)


def test_gatherings_are_state_strikes_and_armed_groups_hit_posts_near_their_units():
    target = cell(1, 0)
    rows = [(GROUP, target, 1e6)]
    options = {"collateral_rate": 1.0, "faction_restraint": 0.0, "populated_half": 1.0,
               "detection_personnel": 0.0, "gathering_share": 1.0, "gathering_killed": 30.0,
               "bystanders_killed": 1.0, "max_resident_share": 1.0,
               "casualties_per_strike": 0.0}
    state = Case(rows, {target: 1e5}).fly(300, cell(0, 0), **options)[5].sum(axis=1)
    assert state.mean() == pytest.approx(30.0, rel=0.1)
    # An armed group's drones: launched from its unit at (5, 5), 40 km reach; posts at a
    # neighbouring cell (27 km) and far away; civilians never at a gathering.
    post, far = cell(5, 6), cell(0, 0)
    case = Case([(GROUP, cell(5, 5), 50.0), (STATE, post, 40.0), (STATE, far, 400.0)],
                {post: 1e5})
    fleet, cells, target_faction, killed, _, victims = case.fly(
        300, -1, range_km=40.0, state=False, group_casualties_per_strike=0.0, **options)
    assert fleet.size == 300 and set(cells) == {post} and set(target_faction) == {STATE}
    assert killed[:, GROUP].sum() == 0 and victims.sum(axis=1).mean() < 3.0


# --------------------------------------------------------------------------------------------
# The process in the model
# --------------------------------------------------------------------------------------------


def drone_events(model: SahelModel) -> pd.DataFrame:
    events = model.events()
    return events[events["mechanism"] == "drone_strike"]


def test_baseline_drone_strikes_are_coded_as_acled_and_add_up(baseline_run):
    strikes = drone_events(baseline_run)
    assert len(strikes) > 100
    assert set(strikes["event_type"]) == {"Explosions/Remote violence"}
    assert set(strikes["sub_event_type"]) == {"Air/drone strike"}
    labels = {f: s.label for f, s in baseline_run.spec.factions.items()}
    assert "" not in set(strikes["actor2"]) and "Civilians" not in set(strikes["actor2"])
    home = {labels["mali_army"]: "MLI", labels["burkina_army"]: "BFA",
            labels["niger_army"]: "NER"}
    state = strikes[strikes["actor1"].isin(home)]
    assert set(state["actor1"]) == set(home)
    assert (state["country"] == state["actor1"].map(home)).all()  # at home only
    assert set(strikes["actor1"]) - set(home) <= {labels["jnim"], labels["csp_dpa"]}
    jnim = strikes[strikes["actor1"] == labels["jnim"]]
    csp = strikes[strikes["actor1"] == labels["csp_dpa"]]
    assert (jnim["event_date"] >= pd.Timestamp("2023-09-01")).all()
    assert (csp["event_date"] >= pd.Timestamp("2024-09-01")).all()
    ts = baseline_run.timeseries()
    assert ts["drone_strikes"].sum() == (strikes["country"].isin(["MLI", "BFA", "NER"])).sum()
    assert ts["drone_deaths"].sum() == strikes["fatalities"].sum() > 0
    deaths = baseline_run.fatalities()
    state_side = [f for f, s in baseline_run.spec.factions.items() if s.state_side]
    assert 0 < ts["drone_civilian_deaths"].sum() <= deaths[
        deaths["perpetrator"].isin([*state_side, "jnim", "csp_dpa"])
        & (deaths["victim"] == "civilians")]["killed"].sum()


def without_spin_up(name: str) -> SahelModel:
    """Seed 11 of a bundled scenario run from its start date (no spin-up, ODD 5)."""
    scenario = sim.load_scenario(SCENARIOS / name).model_copy(update={"spin_up_days": 0})
    return SahelModel(scenario, rng=11).run()


def test_no_drones_has_no_state_strikes_and_is_paired_until_the_first():
    # Fleets fly in the spin-up too, so pairing is checked from runs without one.
    none = without_spin_up("no_drones.toml")
    baseline_run = without_spin_up("baseline.toml")
    strikes = drone_events(none)
    labels = {s.label for s in none.spec.factions.values() if s.state_side}
    assert not strikes["actor1"].isin(labels).any()
    first = drone_events(baseline_run)
    first = first[first["actor1"].isin(labels)]["event_date"].min()
    a = baseline_run.timeseries().set_index(["date", "country"])
    b = none.timeseries().set_index(["date", "country"])
    before = a.index.get_level_values("date") < first
    assert before.sum() > 0
    pd.testing.assert_frame_equal(a[before], b[before])
    check_invariants(none)


def fleet_scenario(tmp_path, extra: str, overrides: dict | None = None) -> SahelModel:
    path = write_short_scenario(tmp_path, extra=extra)
    scenario = sim.load_scenario(path, overrides=overrides)
    return SahelModel(scenario, rng=5)


def test_fleet_events_change_size_and_restraint_or_remove_a_fleet(tmp_path):
    extra = ("[[events]]\nid = \"more\"\ndate = 2023-02-01\naction = \"set_fleet_size\"\n"
             "fleet = \"mali_sevare\"\nsize = 9\n"
             "[[events]]\ndate = 2023-02-01\naction = \"set_fleet_restraint\"\n"
             "fleet = \"burkina_ouaga\"\nrestraint = 0.9\n"
             "[[events]]\ndate = 2023-03-01\naction = \"remove_fleet\"\nfleet = \"niger_niamey\"\n")
    model = fleet_scenario(tmp_path, extra, {"drones.niger_niamey.sorties": 1.0})
    fleets = model.world.fleets
    k = {fid: fleets.index(fid) for fid in ("mali_sevare", "burkina_ouaga", "niger_niamey")}
    assert fleets.restraint[k["burkina_ouaga"]] == -1.0  # the faction's until the event
    while model.date < pd.Timestamp("2023-02-02").date():
        model.step()
    assert fleets.size[k["mali_sevare"]] == 9 and fleets.restraint[k["burkina_ouaga"]] == 0.9
    model.run()
    assert fleets.size[k["niger_niamey"]] == 0
    strikes = drone_events(model)
    niger = strikes[strikes["actor1"] == model.spec.factions["niger_army"].label]
    assert len(niger) > 5 and (niger["event_date"] < pd.Timestamp("2023-03-01")).all()
    check_invariants(model)


def test_fleets_wait_for_their_start_date(tmp_path):
    extra = "[drones.niger_niamey]\nstart = 2023-03-15\n"
    model = fleet_scenario(tmp_path, extra, {"drones.niger_niamey.sorties": 1.0}).run()
    niger = drone_events(model)
    niger = niger[niger["actor1"] == model.spec.factions["niger_army"].label]
    assert len(niger) > 5 and (niger["event_date"] >= pd.Timestamp("2023-03-15")).all()


def test_a_complex_attack_on_an_air_base_destroys_and_grounds_its_fleet(tmp_path):
    model = fleet_scenario(tmp_path, "")
    world, ledger = model.world, model.ledger
    fleets = world.fleets
    k = fleets.index("burkina_ouaga")
    model.step()
    day = 1
    ledger.open_day(day)
    stream = model.streams.get("complex_attack", day)
    params = ComplexAttackParams(capital_share=1.0)
    jnim, burkina = world.faction_index["jnim"], 1
    complex_attacks.attack(world, ledger, params, jnim, burkina, stream)
    assert fleets.base[k] == world.capital_cell[burkina] and fleets.hit_day[k] == day
    assert (fleets.hit_day[np.arange(fleets.size_k) != k] < 0).all()  # none hit since day 0
    before = fleets.size[k]
    drones.act(world, ledger, DroneParams(base_destroyed_share=0.5, grounded_days=10),
               model.streams.get("drone", day))
    assert fleets.size[k] == before - fleets.destroyed[k] and fleets.grounded_until[k] == 11
    counts, _ = drones.sorties_today(fleets.size * 0 + 50, fleets.sorties, fleets.start_day,
                                     fleets.grounded_until, fleets.hit_day, fleets.destroyed,
                                     0.5, 10.0, KEY, 5)
    assert counts[k] == 0 and counts.sum() > 0


def test_invariants_hold_with_heavy_drone_use(tmp_path):
    overrides = {f"drones.{fid}.{name}": value for fid in
                 ("mali_sevare", "burkina_ouaga", "niger_niamey", "jnim_drones")
                 for name, value in (("size", 20), ("sorties", 1.0))}
    overrides |= {"parameters.drones.collateral_rate": 1.0,
                  "parameters.drones.gathering_share": 0.5,
                  "drones.jnim_drones.range_km": 200.0}
    extra = "[drones.jnim_drones]\nstart = 2023-01-01\n"
    model = fleet_scenario(tmp_path, extra, overrides).run()
    strikes = drone_events(model)
    assert len(strikes) > 500 and strikes["fatalities"].sum() > 1000
    assert model.timeseries()["drone_civilian_deaths"].sum() > 0
    ev = model.ledger.events
    actor2 = ev["actor2"][ev["mechanism"] == sim.ledger.MECHANISM_NAMES.index("drone_strike")]
    assert not np.isin(actor2, [CIVILIANS, NONE]).any()
    check_invariants(model)
