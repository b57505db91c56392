"""Levers in sweeps, and scenario discovery (PRIM) on sweep folders: known answers, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
import sim.cli as cli
from sim import experiments as ex
from sim.experiments.discovery import Condition, cases, discover, load_sweep
from sim.outputs import HEADLINE_OUTCOMES
from sim.scenario import apply_settings, event_levers, lever

from ..conftest import SCENARIOS, write_short_scenario

pytest.importorskip("ema_workbench", reason="the 'discovery' extra (ema-workbench) is needed")

# A set_restraint event inside a short run: a lever "Africa Corps' restraint from a date".
RESTRAINT_EVENT = """
[[events]]
id = "ac_restraint_order"
date = 2023-02-01
action = "set_restraint"
faction = "africa_corps"
restraint = 0.5
"""


@pytest.fixture(scope="module")
def lever_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_short_scenario(tmp_path_factory.mktemp("levers"), "2023-02-28",
                                extra=RESTRAINT_EVENT)


# ---------------------------------------------------------------------------------------------
# Levers
# ---------------------------------------------------------------------------------------------


def test_levers_of_the_baseline_are_its_events_fields(baseline: sim.Scenario) -> None:
    data = baseline.model_dump(mode="json")
    levers = event_levers(data)
    assert "events.bear_brigade_withdraws.date" in levers
    assert "events.niger_recruits.strength" in levers
    assert "events.bear_brigade_withdraws.strength" not in levers  # a withdraw has no strength
    withdraw = levers["events.bear_brigade_withdraws.date"]
    assert withdraw.kind == "date" and withdraw.format(withdraw.value) == "2024-08-30"
    assert withdraw.to_setting(withdraw.parse("2024-10-01", "t")) == "2024-10-01"
    set_data = apply_settings(data, {"events.bear_brigade_withdraws.date": "2024-10-01",
                                     "factions.africa_corps.restraint": 0.9})
    scenario = sim.scenario.validate_data(set_data, Path("baseline"))
    event = next(e for e in scenario.events if e.id == "bear_brigade_withdraws")
    assert str(event.date) == "2024-10-01"
    assert scenario.factions["africa_corps"].restraint == 0.9
    assert data["events"] != set_data["events"]  # the original is untouched


@pytest.mark.parametrize(("spec", "message"), [
    ("events.nope.date=2024-06-01:2024-12-31", "no event with id 'nope'"),
    ("events.bear_brigade_withdrawz.date=2024-06-01:2024-12-31", "did you mean"),
    ("events.bear_brigade_withdraws.strength=1:10", "a 'withdraw' event has no lever 'strength'"
                                                    "; its levers: date"),
    ("events.bear_brigade_withdraws.date=2022-06-01:2024-12-31", "outside the scenario's period"),
    ("events.bear_brigade_withdraws.date=2024-06-01:2025-01-31", "outside the scenario's period"),
    ("events.bear_brigade_withdraws.date=2024-12-01:2024-06-01", "LOW must be before HIGH"),
    ("events.bear_brigade_withdraws.date=June:2024-12-31", "not a date"),
    ("events.niger_recruits.strength=-5:100", "outside the field's bounds"),
    ("events.bear_brigade_withdraws=2024-06-01:2024-12-31", "events.<event id>.<field>"),
])
def test_bad_levers_are_one_line_and_exit_2(spec: str, message: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["sweep", str(SCENARIOS / "baseline.toml"), "--param", spec,
                     "--samples", "2", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_a_sweep_over_a_date_lever_and_a_restraint_order(lever_scenario: Path,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = ex.sweep(lever_scenario, [
        "events.ac_restraint_order.date=2023-01-10:2023-02-20",
        "events.ac_restraint_order.restraint=0:1"], design="lhs", samples=4, out=out,
        plots=False)
    assert result.n_failed == 0
    dates = result.points["events.ac_restraint_order.date"]
    assert dates.between(9, 50).all()  # days from 1 Jan 2023
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["design"]["levers"]["events.ac_restraint_order.date"] == {
        "kind": "date", "unit": "days from the start", "origin": "2023-01-01"}
    set_dates = sorted(r["overrides"]["events.ac_restraint_order.date"]
                       for r in manifest["runs"])
    expected = sorted((pd.Timestamp("2023-01-01") + pd.Timedelta(days=round(d))).date()
                      .isoformat() for d in dates)
    assert set_dates == expected
    # the lever's value reached the model: the scenario behind a run has it
    data = sim.load_scenario(lever_scenario).model_dump(mode="json")
    run = manifest["runs"][0]
    scen = sim.scenario.validate_data(apply_settings(data, run["overrides"]), Path("x"))
    assert scen.content_hash()[:16] == run["id"].split("-")[0]


# ---------------------------------------------------------------------------------------------
# Discovery on a sweep whose answer is known by construction
# ---------------------------------------------------------------------------------------------

INPUTS = {"parameters.violence.base_rate": (0.001, 0.004),
          "parameters.combat.engage_probability": (0.1, 0.4),
          "parameters.control.contested_margin": (0.15, 0.35),
          "events.bear_brigade_withdraws.date": (548.0, 730.0)}


def write_synthetic_sweep(folder: Path, n: int = 300, seed: int = 3, state: str = "complete",
                          replicates: int = 1) -> Path:
    """A sweep folder as `sahel-sim sweep` writes it, where only base_rate matters.

    territory_outside_state_BFA = 0.3 + 0.4 * (base_rate > 0.003), plus small noise: the
    cases with the outcome above 0.5 are exactly those with base_rate above 0.003.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    names = list(INPUTS)
    unit = rng.random((n, len(names)))
    lows = np.array([r[0] for r in INPUTS.values()])
    highs = np.array([r[1] for r in INPUTS.values()])
    points = pd.DataFrame(lows + unit * (highs - lows), columns=names)
    points.insert(0, "point", np.arange(n))
    rows = []
    for p in points.itertuples(index=False):
        for j in range(replicates):
            values = dict.fromkeys(HEADLINE_OUTCOMES, 0.0)
            values["territory_outside_state_BFA"] = (
                0.3 + 0.4 * (p[1] > 0.003) + rng.normal(0, 0.02))
            values["civilian_fatalities_MLI"] = 1000 + rng.normal(0, 50)
            rows.append({"scenario": "baseline", "point": p[0], "replicate": j, "seed": j,
                         "run_id": f"run{p[0]}-{j}", **values})
    outcomes = pd.DataFrame(rows)
    means = outcomes.groupby("point")[HEADLINE_OUTCOMES].mean().reset_index(drop=True)
    points.to_csv(folder / "points.csv", index=False)
    outcomes.to_csv(folder / "outcomes.csv", index=False)
    pd.concat([points, means], axis=1).to_csv(folder / "point_outcomes.csv", index=False)
    manifest = {
        "format": 1, "kind": "sweep", "command": "sahel-sim sweep baseline ...",
        "status": {"state": state, "planned": n, "finished": n, "failed": 0},
        "design": {"design": "lhs", "samples": n,
                   "parameters": {k: list(v) for k, v in INPUTS.items()},
                   "levers": {"events.bear_brigade_withdraws.date": {
                       "kind": "date", "unit": "days from the start", "origin": "2023-01-01"}}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_prim_restricts_the_one_parameter_that_drives_the_outcome(tmp_path: Path) -> None:
    folder = write_synthetic_sweep(tmp_path / "sweep")
    result = discover(folder, "territory_outside_state_BFA", "> 0.5")
    assert result.n_cases == 300 and 0.2 < result.n_interest / 300 < 0.5
    (box, step), = result.chosen
    stats = result.step_stats(box, step)
    assert stats["coverage"] >= 0.8 and stats["density"] > 0.95
    limits = result.box_limits(box, step)
    assert list(limits["parameter"]) == ["parameters.violence.base_rate"]  # the others free
    row = limits.iloc[0]
    assert row["low"] == pytest.approx(0.003, abs=0.0002) and row["high"] >= 0.0039
    assert row["qp_low"] < 1e-6 and np.isnan(row["qp_high"])
    assert result.feature_scores["parameter"].iloc[0] == "parameters.violence.base_rate"
    assert result.feature_scores["score"].iloc[0] > 0.5
    names = {p.name for p in result.files}
    assert names == {"trajectory.csv", "box_limits.csv", "feature_scores.csv", "tradeoff.png",
                     "box_1.png"}
    trajectory = pd.read_csv(result.out / "trajectory.csv")
    assert trajectory["chosen"].sum() == 1
    assert (trajectory["coverage"].diff().dropna() <= 1e-12).all()  # peeling loses coverage
    assert (result.out / "tradeoff.png").read_bytes()[:4] == b"\x89PNG"


def test_discover_cli_prints_the_box_with_dates_and_quasi_p_values(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_synthetic_sweep(tmp_path / "sweep", replicates=2)
    # the date lever drives the opposite condition's cases: still only base_rate matters
    code = cli.main(["discover", str(folder), "--outcome", "territory_outside_state_BFA",
                     "--where", "<= 50%", "--cases", "runs", "--out", str(tmp_path / "d"),
                     "--no-plots"])
    text = capsys.readouterr().out
    assert code == 0
    assert "territory_outside_state_BFA <= 50%: " in text and "of 600 runs" in text
    assert "parameters.violence.base_rate" in text.split("feature scores")[0]
    assert "events.bear_brigade_withdraws.date" not in text.split("feature scores")[0].split(
        "inputs restricted")[1]
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [
        "box_limits.csv", "feature_scores.csv", "trajectory.csv"]
    # a chosen step shows date levers as dates
    limits = pd.read_csv(tmp_path / "d" / "box_limits.csv")
    dated = limits[limits["parameter"] == "events.bear_brigade_withdraws.date"]
    assert dated.empty or dated["low_text"].str.match(r"20\d\d-\d\d-\d\d").all()


def test_a_declared_outcome_outside_the_headline_is_read_from_the_runs(
        lever_scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    ex.sweep(lever_scenario, ["parameters.violence.base_rate=0.0005:0.01",
                              "events.ac_restraint_order.date=2023-01-10:2023-02-20"],
             design="lhs", samples=8, out=out, plots=False)
    sweep = load_sweep(out)
    assert sweep.inputs == ["parameters.violence.base_rate", "events.ac_restraint_order.date"]
    assert sweep.format("events.ac_restraint_order.date", 31.0) == "2023-02-01"
    deaths = pd.read_csv(out / "point_outcomes.csv")["civilian_fatalities_BFA"]
    code = cli.main(["discover", str(out), "--outcome", "civilian_fatalities_BFA", "--where",
                     f"> {deaths.median()}"])
    text = capsys.readouterr().out
    assert code == 0 and "4 of 8 points" in text
    assert (out / f"discovery-civilian_fatalities_BFA-gt{deaths.median():g}"
            / "box_1.png").exists()
    credibility = cases(sweep, "credibility_BFA")[1]
    assert credibility.shape == (8,) and np.all((credibility > 0) & (credibility < 1))


@pytest.mark.parametrize(("args", "message"), [
    (["--outcome", "territory_outside_state_BFA", "--where", "0.5"], "expected a comparison"),
    (["--outcome", "territory_outside_state_BFA", "--where", "> half"], "expected a comparison"),
    (["--outcome", "territory_outside_state_BFX", "--where", "> 0.5"],
     "unknown outcome (did you mean 'territory_outside_state_BFA'?)"),
    (["--outcome", "territory_outside_state_BFA", "--where", "> 0.9"],
     "no case of interest: no point has territory_outside_state_BFA > 0.9 (its range"),
    (["--outcome", "territory_outside_state_BFA", "--where", "> 0.1"], "every point has"),
    (["--outcome", "coups_BFA", "--where", "> 0"], "no case of interest"),
    (["--outcome", "territory_outside_state_BFA", "--where", "> 0.5", "--step", "999"],
     "--step 999: the peeling trajectory has steps 0 to"),
])
def test_bad_discovery_input_is_one_line_and_exit_2(
        args: list[str], message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_synthetic_sweep(tmp_path / "sweep", n=60)
    code = cli.main(["discover", str(folder), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_a_folder_that_is_not_a_finished_sweep_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folders = {"missing": tmp_path / "nowhere", "plain": tmp_path}
    running = write_synthetic_sweep(tmp_path / "running", n=20, state="interrupted")
    compare = write_synthetic_sweep(tmp_path / "compare", n=20)
    manifest = json.loads((compare / "manifest.json").read_text())
    (compare / "manifest.json").write_text(json.dumps({**manifest, "kind": "compare"}))
    messages = {"missing": "no such folder", "plain": "no manifest.json",
                "running": "the sweep is not finished (state: interrupted); run sahel-sim "
                           "sweep baseline ... again", "compare": "holds a 'compare' experiment"}
    folders |= {"running": running, "compare": compare}
    for key, folder in folders.items():
        code = cli.main(["discover", str(folder), "--outcome", "coups_BFA", "--where", "> 0"])
        err = capsys.readouterr().err
        assert code == 2, key
        assert messages[key] in err and err.count("\n") == 1, (key, err)


def test_conditions() -> None:
    assert Condition.parse(">= 40%").threshold == pytest.approx(0.4)
    assert Condition.parse("<1e3").slug == "lt1000"
    assert list(Condition.parse("!= 0")(np.array([0.0, 1.0]))) == [False, True]
    with pytest.raises(ex.ExperimentError):
        Condition.parse("=> 3")


def test_lever_defaults_keep_a_units_events_in_order(baseline: sim.Scenario) -> None:
    from sim.scenario.levers import default_range

    data = baseline.model_dump(mode="json")
    withdraw = lever("events.bear_brigade_withdraws.date", data)
    low, high = default_range(withdraw, data)
    assert withdraw.format(low) == "2024-07-02"  # after the reinforcement of 1 Jul 2024
    assert withdraw.format(high) == "2024-12-31"
    assert default_range(lever("events.niger_recruits.strength", data), data) == (0.0, 10000.0)


def test_help_uses_the_exploratory_modelling_vocabulary(
        capsys: pytest.CaptureFixture[str]) -> None:
    for command, words in (("sweep", ("uncertainties", "levers", "events.<event id>.date")),
                           ("discover", ("PRIM", "quasi-p-values", "--where", "SWEEP_DIR"))):
        with pytest.raises(SystemExit) as exit_info:
            cli.main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert exit_info.value.code == 0
        assert all(w in text for w in words), (command, text)


def test_a_second_box_is_sought_outside_the_first_chosen_box(tmp_path: Path) -> None:
    folder = write_synthetic_sweep(tmp_path / "sweep")
    result = discover(folder, "territory_outside_state_BFA", "> 0.5", boxes=2, plots=False)
    assert [b for b, _ in result.chosen] == [1, 2]
    first = result.step_stats(*result.chosen[0])
    second_start = result.trajectory[result.trajectory["box"] == 2].iloc[0]
    assert second_start["n"] == result.n_cases - first["n"]
    assert second_start["k"] == result.n_interest - first["k"]
