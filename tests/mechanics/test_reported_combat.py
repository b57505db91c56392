"""Attacks on civilians the state side reports as combat: what the ledger and the data record."""

import dataclasses
import datetime as dt

import numpy as np
import pytest

import sim
from sim.calibration.statistics import casualty_frame, target_statistics
from sim.calibration.targets import DEFAULT_TARGETS, load_targets
from sim.ledger import MECHANISM_NAMES
from sim.model import SahelModel
from sim.scenario import STATE_SIDE_KINDS, tunable_parameters

from ..conftest import write_short_scenario

REPORTING = ("burkina_army", "vdp", "mali_army")
END = dt.date(2023, 6, 30)


def short_run(folder, share: float) -> SahelModel:
    extra = "".join(f"[factions.{fid}]\nreported_as_combat = {share}\n" for fid in REPORTING)
    scenario = sim.load_scenario(write_short_scenario(folder, str(END), extra))
    return SahelModel(scenario, rng=3).run()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("reported")
    return {share: short_run(root / str(share), share) for share in (0.0, 0.5, 1.0)}


def eligible_events(model: SahelModel) -> np.ndarray:
    """Ids of the attacks on civilians by the factions that report some as combat."""
    ev, ids = model.ledger.events, model.world.faction_ids
    reporting = np.isin(ev["actor1"], [ids.index(fid) for fid in REPORTING])
    mechanism = ev["mechanism"] == MECHANISM_NAMES.index("violence_against_civilians")
    return np.flatnonzero(reporting & mechanism)


def test_a_report_changes_the_record_not_what_happened(runs):
    for share in (0.5, 1.0):
        assert runs[share].fatalities().equals(runs[0.0].fatalities())
        record = ["reported_as_fighters"]
        assert runs[share].timeseries().drop(columns=record).equals(
            runs[0.0].timeseries().drop(columns=record))
    assert runs[0.0].ledger.claims.size == 0


def test_reports_come_from_the_reporting_factions_and_name_an_armed_group_present(runs):
    model = runs[1.0]
    world, claims = model.world, model.ledger.claims
    eligible = eligible_events(model)
    assert claims.size > 0.5 * eligible.size > 0  # most of their attacks are where groups act
    assert np.isin(claims["event"], eligible).all()
    assert world.guerrilla[claims["enemy"]].all()
    # one draw per event: the events claimed at 0.5 are among those claimed at 1, as many as
    # a fair coin leaves of them, with the same group named
    half = runs[0.5].ledger.claims
    np.testing.assert_array_equal(np.isin(half["event"], claims["event"]), True)
    enemy_at_one = dict(zip(claims["event"].tolist(), claims["enemy"].tolist(), strict=True))
    assert [enemy_at_one[e] for e in half["event"].tolist()] == half["enemy"].tolist()
    assert half.size == pytest.approx(0.5 * claims.size, abs=3 * (0.25 * claims.size) ** 0.5)


def test_the_report_draw_is_apart_from_the_events_draws():
    from sim.geography import COMMUNITIES
    from sim.mechanics import violence

    assert 3 + 2 * len(COMMUNITIES) <= violence._CLAIM_DRAW  # victims use two per group


def test_the_series_counts_the_reported_dead_among_the_civilians(runs):
    model = runs[1.0]
    ts = model.timeseries()
    frame = casualty_frame(model)
    reported = frame[frame["claimed_as"] != ""]
    for iso in ("MLI", "BFA", "NER"):
        mine = ts["country"] == iso
        assert ts.loc[mine, "reported_as_fighters"].sum() == reported.loc[
            reported["country"] == iso, "killed"].sum()
        assert (ts.loc[mine, "reported_as_fighters"] <= ts.loc[mine, "killed_civilians"]).all()
    assert ts["reported_as_fighters"].sum() > 0
    assert runs[0.0].timeseries()["reported_as_fighters"].sum() == 0


def test_the_event_log_names_the_group_claimed(runs):
    model = runs[1.0]
    events = model.events()
    claimed = events["claimed_as"] != ""
    assert claimed.sum() == model.ledger.claims.size
    assert set(events.loc[claimed, "mechanism"]) == {"violence_against_civilians"}
    labels = {model.spec.factions[fid].label for fid, g in
              zip(model.world.faction_ids, model.world.guerrilla, strict=True) if g}
    assert set(events.loc[claimed, "claimed_as"]) <= labels


def test_acled_counts_move_the_claimed_dead_from_civilians_to_militant_linked(runs):
    targets = {t.name: t for t in load_targets(DEFAULT_TARGETS)}
    civilians, militant_linked = (  # the bundled comparisons, over the run's half year
        dataclasses.replace(t, compare=dataclasses.replace(t.compare, end=END))
        for t in (targets["bfa_civilian_deaths_2023_jan_sep"],
                  targets["bfa_militant_linked_deaths_2023"]))
    before, after = (target_statistics(runs[s], [civilians, militant_linked])
                     for s in (0.0, 1.0))
    frame = casualty_frame(runs[1.0])
    claimed = frame[(frame["country"] == "BFA") & (frame["claimed_as"] != "")]
    jihadist = claimed["claimed_as"].map(lambda fid: runs[1.0].spec.factions[fid].kind
                                         == "jihadist")
    assert claimed["killed"].sum() > 0
    assert after[civilians.name] == before[civilians.name] - claimed["killed"].sum()
    assert after[militant_linked.name] == (before[militant_linked.name]
                                           + claimed.loc[jihadist, "killed"].sum())


def test_only_state_side_factions_have_the_tunable_share(baseline):
    from sim.scenario import ScenarioError
    from sim.scenario.tunable import apply_overrides

    names = tunable_parameters(baseline.model_dump(mode="json"))
    for fid, faction in baseline.factions.items():
        tunable = f"factions.{fid}.reported_as_combat" in names
        assert tunable == (faction.kind in STATE_SIDE_KINDS), fid
    with pytest.raises(ScenarioError, match=r"factions\.jnim\.reported_as_combat: not a tunable"):
        apply_overrides(baseline.model_dump(mode="json"), {"factions.jnim.reported_as_combat": 0.5})
