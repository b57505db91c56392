"""Model invariants over seeds and parameter draws, determinism, and scenario effects."""

import numpy as np
import pandas as pd
import pytest

import sim
from sim.model import SahelModel
from sim.scenario import tunable_parameters

from .conftest import SCENARIOS, write_short_scenario

COUNTRIES = ["MLI", "BFA", "NER"]


def check_invariants(model: SahelModel) -> None:
    ts = model.timeseries()
    # People are conserved: residents + displaced + killed + recruited = initial.
    balance = model.people_balance()
    assert np.allclose(balance["residual"], 0.0, atol=1e-3 * balance["initial"].max() * 1e-6)
    # Nothing negative.
    assert (model.forces.strength >= 0).all()
    assert (model.residents >= 0).all()
    assert (model.displaced >= 0).all()
    # Control shares sum to 1, for territory and population.
    for kind in ("territory", "population"):
        cols = [c for c in ts.columns if c.startswith(f"{kind}_")]
        assert np.allclose(ts[cols].sum(axis=1), 1.0)
        assert (ts[cols] >= 0).all().all()
    # Every death has one victim and one perpetrator: the sums match across outputs.
    victims = ["civilians", *model.faction_ids]
    by_victim = ts[[f"killed_{v}" for v in victims]].sum(axis=1)
    by_perp = ts[[f"killed_by_{f}" for f in model.faction_ids]].sum(axis=1)
    assert np.array_equal(by_victim, ts["killed_total"])
    assert np.array_equal(by_perp, ts["killed_total"])
    russians = ts["killed_africa_corps"] + ts["killed_bear_brigade"]
    assert np.array_equal(ts["killed_russians"], russians)
    events = model.events()
    inside = events[events["country"].isin(COUNTRIES)]
    per_country = inside.groupby("country")["fatalities"].sum()
    totals = ts.groupby("country")["killed_total"].sum()
    for iso in COUNTRIES:
        assert per_country.get(iso, 0) == totals[iso]
    booked = model.ledger.casualties["killed"].sum()
    assert model.fatalities()["killed"].sum() == booked
    assert events["fatalities"].sum() == booked
    assert model.deaths.sum() == pytest.approx(booked)
    wounded = model.ledger.casualties["wounded"].sum()
    assert ts["wounded_total"].sum() == wounded - model.ledger.wounded_cube(
        model.spec.days, model.country_bucket)[:, -1].sum()
    assert model.cell_months()["fatalities"].sum() == events["fatalities"].sum()
    civilians = ts.groupby("country")["killed_civilians"].sum()
    assert np.allclose(civilians.loc[COUNTRIES].to_numpy(), balance["killed"].to_numpy())


def test_baseline_invariants(baseline_run):
    check_invariants(baseline_run)
    ts = baseline_run.timeseries()
    assert len(ts) == 3 * 731
    assert ts["date"].min() == pd.Timestamp("2023-01-01")
    assert ts["date"].max() == pd.Timestamp("2024-12-31")
    assert ts["killed_total"].sum() > 1000
    assert ts["killed_civilians"].sum() > 100


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_invariants_over_seeds(short_path, seed):
    check_invariants(SahelModel(sim.load_scenario(short_path), rng=seed).run())


@pytest.mark.parametrize("draw", range(6))
def test_invariants_over_random_parameter_draws(short_path, draw):
    rng = np.random.default_rng(100 + draw)
    data = sim.load_scenario(short_path).model_dump(mode="json")
    overrides = {}
    faction = {u["id"]: u["faction"] for u in data["units"]}
    # one share per faction (a second would move the first's units); its units' strengths are
    # left as they are, since a share of strengths drawn up to 200,000 each may exceed that
    shares = {faction[n.split(".")[1]]: n for n in reversed(tunable_parameters(data))
              if n.endswith(".share")}
    for name, info in tunable_parameters(data).items():
        if info["low"] is None or info["high"] is None:
            continue
        unit = name.split(".")[1] if name.startswith("units.") else None
        if unit and shares.get(faction[unit]) not in (None, name):
            continue  # another share of its faction, or a strength the share sets
        value = rng.uniform(info["low"], info["high"])
        value = round(value) if info["integer"] else value
        overrides[name] = value
    scenario = sim.load_scenario(short_path, overrides=overrides)
    check_invariants(SahelModel(scenario, rng=draw).run())


@pytest.mark.parametrize("seed", [0, 1])
def test_complex_attacks_add_up_even_when_a_faction_spares_everyone(tmp_path, seed):
    from .conftest import write_short_scenario

    path = write_short_scenario(tmp_path, extra=(
        "[parameters.complex_attacks]\nrate = 24\n"
        "[factions.jnim.target_bias]\nfulani = 0\ntuareg_arab = 0\nbambara = 0\n"
        "mossi = 0\nother = 0\n"))
    model = SahelModel(sim.load_scenario(path), rng=seed).run()
    assert (model.events()["mechanism"] == "complex_attack").sum() >= 2
    check_invariants(model)


def test_same_seed_same_results_different_seed_differs(short_path):
    scenario = sim.load_scenario(short_path)
    a = SahelModel(scenario, rng=7).run()
    b = SahelModel(scenario, rng=7).run()
    c = SahelModel(scenario, rng=8).run()
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())
    pd.testing.assert_frame_equal(a.events(), b.events())
    assert not a.timeseries().equals(c.timeseries())


def test_default_seed_is_the_scenarios(short_path):
    scenario = sim.load_scenario(short_path)
    a = SahelModel(scenario).run()
    b = SahelModel(scenario, rng=scenario.seed).run()
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries())


def test_model_is_a_mesa_model_with_property_layers(baseline):
    from mesa import Model

    model = SahelModel(baseline, rng=0)
    assert isinstance(model, Model)
    assert model.time == 0
    model.step()
    assert model.time == 1
    assert model.date.isoformat() == "2023-01-02"
    assert np.shares_memory(model.grid.zone.data, model.zone)
    model.step()  # the residents layer is refreshed when outputs are recorded
    assert model.grid.residents.data.sum() == pytest.approx(model.residents.sum())
    cell = next(iter(model.agents_by_type[next(
        k for k in model.agents_by_type if k.__name__ == "ForceUnit")])).cell
    assert cell.zone == model.zone[cell.coordinate[0] * model.world.ny + cell.coordinate[1]]
    kinds = {type(a).__name__ for a in model.agents}
    assert kinds == {"Junta", "ForceUnit", "CivilianCommunity"}


def test_events_log_has_acled_columns(baseline_run):
    events = baseline_run.events()
    for column in ("event_date", "event_type", "sub_event_type", "actor1", "actor2", "country",
                   "admin1", "location", "latitude", "longitude", "fatalities", "prio_gid"):
        assert column in events.columns
    assert set(events["event_type"]) >= {"Battles", "Violence against civilians",
                                          "Strategic developments"}
    civ = events[events["event_type"] == "Violence against civilians"]
    assert (civ["actor2"] == "Civilians").all()
    months = baseline_run.cell_months()
    assert months["month"].min() >= pd.Timestamp("2023-01-01")


def bear_in_burkina(model: SahelModel) -> pd.Series:
    ts = model.timeseries()
    return ts[ts["country"] == "BFA"].set_index("date")["personnel_bear_brigade"]


def test_bear_brigade_in_burkina_only_from_late_may_to_end_august(baseline_run):
    bear = bear_in_burkina(baseline_run)
    assert (bear[:"2024-05-24"] == 0).all()
    assert (bear["2024-05-25":"2024-08-29"] > 0).all()
    assert bear["2024-07-15"] >= 150  # reinforced on 1 Jul 2024
    assert (bear["2024-08-30":] == 0).all()


def test_bear_brigade_stays_in_counterfactual():
    stays = SahelModel(sim.load_scenario(SCENARIOS / "bear_brigade_stays.toml"), rng=11).run()
    bear = bear_in_burkina(stays)
    assert (bear["2024-05-25":] > 0).all()
    assert (bear[:"2024-05-24"] == 0).all()


def test_paired_seeds_identical_until_the_scenarios_diverge(baseline_run):
    stays = SahelModel(sim.load_scenario(SCENARIOS / "bear_brigade_stays.toml"), rng=11).run()
    a = baseline_run.timeseries().set_index(["date", "country"])
    b = stays.timeseries().set_index(["date", "country"])
    before = a.index.get_level_values("date") < pd.Timestamp("2024-08-30")
    pd.testing.assert_frame_equal(a[before], b[before])


def test_africa_corps_exit_removes_every_russian_unit():
    model = SahelModel(sim.load_scenario(SCENARIOS / "africa_corps_exit.toml"), rng=3).run()
    ts = model.timeseries().set_index("date")
    russians = ts[["personnel_africa_corps", "personnel_bear_brigade"]].sum(axis=1)
    assert (russians[:"2025-02-28"].groupby(level=0).sum() > 0).all()
    assert (russians["2025-03-01":] == 0).all()
    assert ts.index.max() == pd.Timestamp("2026-12-31")
    rows = model.unit_table()
    assert not rows[rows["faction"].isin(["africa_corps", "bear_brigade"])]["present"].any()


@pytest.mark.slow
def test_restraint_lowers_russian_violence():
    kills = {}
    for name in ("baseline", "russian_restraint"):
        scenario = sim.load_scenario(SCENARIOS / f"{name}.toml")
        total = 0
        for seed in range(3):
            deaths = SahelModel(scenario, rng=seed).run().fatalities()
            russian = deaths["perpetrator"].isin(["africa_corps", "bear_brigade"])
            total += deaths[russian & (deaths["victim"] == "civilians")]["killed"].sum()
        kills[name] = total
    assert kills["baseline"] > 100
    assert kills["russian_restraint"] < 0.25 * kills["baseline"]


def test_step_beyond_the_end_is_refused(short_path):
    model = SahelModel(sim.load_scenario(short_path), rng=0).run()
    assert model.finished
    with pytest.raises(RuntimeError, match="the scenario ends on 2023-04-30"):
        model.step()


def test_spin_up_settles_the_world_and_drops_its_outputs(tmp_path):
    plain = sim.load_scenario(write_short_scenario(tmp_path / "a", extra="spin_up_days = 0\n"))
    spun = sim.load_scenario(write_short_scenario(tmp_path / "b", extra="spin_up_days = 60\n"))
    fresh, settled = SahelModel(plain, rng=5), SahelModel(spun, rng=5)
    # Before the first day: nothing booked, no coup counted, the balance starts at zero ...
    assert settled.ledger.events.size == 0 and settled.ledger.casualties.size == 0
    assert all(j.coup_attempts == j.coups == 0 and j.credibility == j.baseline
               for j in settled.world.juntas if j is not None)
    assert np.allclose(settled.people_balance()["residual"], 0.0, atol=1e-3)
    assert settled.deaths.sum() == 0
    # ... but the world has moved on from its set-up: units left their bases, people fled.
    moved = settled.forces.cell != settled.forces.base
    assert moved.sum() > (fresh.forces.cell != fresh.forces.base).sum()
    assert settled.world.displaced.sum() > fresh.world.displaced.sum() == 0
    settled.run()
    check_invariants(settled)
    ts = settled.timeseries()
    assert ts["date"].min() == pd.Timestamp(spun.start) and len(ts) == 3 * spun.days
    assert settled.events()["event_date"].min() >= pd.Timestamp(spun.start)
    again = SahelModel(spun, rng=5).run()
    assert again.timeseries().equals(ts)


def test_spin_up_days_out_of_range_is_refused(tmp_path):
    path = write_short_scenario(tmp_path, extra="spin_up_days = 400\n")
    with pytest.raises(sim.ScenarioError, match="spin_up_days"):
        sim.load_scenario(path)
