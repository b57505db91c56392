"""Runs drawing their parameters from a posterior: pairing, run ids, manifest, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim import experiments as ex
from sim.calibration.errors import CalibrationError
from sim.calibration.posterior import read_posterior
from sim.experiments.posterior_runs import DrawnParameters, check_posterior, plan_runs
from sim.experiments.prepared import prepare_scenario

from .test_experiment import write_scenarios

ENGAGE, RESTRAINT = "parameters.combat.engage_probability", "factions.jnim.restraint"
POSTERIOR = (f"draw,{ENGAGE},{RESTRAINT},weight\n"
             "low,0.1,0.2,1\nnever,0.9,0.9,0\nhigh,0.35,0.6,2\nmid,0.25,0.4,1\n")


@pytest.fixture(scope="module")
def scen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scenarios")
    out = write_scenarios(folder, end="2023-01-20")
    out["posterior"] = folder / "posterior.csv"
    out["posterior"].write_text(POSTERIOR, encoding="utf-8")
    return out


def test_plan_pairs_run_i_of_every_scenario_with_draw_i(scen: dict[str, Path]) -> None:
    prepared = {"short": prepare_scenario(scen["short"]),
                "brutal": prepare_scenario(scen["brutal"])}
    drawn = check_posterior(scen["posterior"], prepared)
    assert drawn.kept == {"short": {}, "brutal": {}}  # brutal's levers are not drawn here
    posterior = drawn.posterior
    seeds = ex.spawn_seeds(3, 12)
    plan, payloads, ids = plan_runs(prepared, seeds, drawn, root_seed=3)
    expected = [d.id for d in posterior.draw(12, 3)]
    for label in prepared:
        mine = [r for r in plan if r.scenario == label]
        assert [r.draw for r in mine] == expected
        assert [r.seed for r in mine] == seeds
        assert [r.run_id for r in mine] == ids[label]
        for run in mine:
            drawn = payloads[run.scenario_hash]
            assert drawn.drawn == posterior.row(posterior.ids.index(run.draw)).parameters
            assert drawn.payload["factions"]["jnim"]["restraint"] == drawn.drawn[RESTRAINT]
            assert drawn.payload["parameters"]["combat"]["engage_probability"] == \
                drawn.drawn[ENGAGE]
    assert "never" not in expected and set(expected) == {"low", "high", "mid"}
    # a row drawn twice is one scenario (one hash), its runs told apart by their seeds
    assert len(payloads) == 2 * len(set(expected))
    plain, _, plain_ids = plan_runs(prepared, seeds)
    assert all(r.draw is None for r in plain)
    assert not set(plain_ids["short"]) & set(ids["short"])  # the run id changes with the draw


def test_drawn_parameters_reach_the_runs(scen: dict[str, Path], tmp_path: Path) -> None:
    only = tmp_path / "only.csv"
    only.write_text(f"{ENGAGE},{RESTRAINT},weight\n0.9,0.9,0\n0.35,0.6,1\n", encoding="utf-8")
    drawn = ex.ensemble(scen["short"], runs=2, root_seed=4, posterior=only, plots=False)
    fixed = ex.ensemble(scen["short"], runs=2, root_seed=4, plots=False,
                        overrides={ENGAGE: 0.35, RESTRAINT: 0.6})
    assert list(drawn.outcomes["draw"]) == ["1", "1"]
    assert list(drawn.outcomes["run_id"]) == list(fixed.outcomes["run_id"])
    pd.testing.assert_frame_equal(drawn.outcomes.drop(columns="draw"), fixed.outcomes)


def test_comparison_pairs_draws_and_records_them(scen: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = ex.compare(scen["short"], [scen["brutal"]], runs=3, root_seed=8, out=out,
                        plots=False, posterior=scen["posterior"])
    assert result.n_failed == 0 and len(result.table)
    table = pd.read_csv(out / "outcomes.csv", dtype={"draw": str})
    assert list(table.columns[:6]) == ["scenario", "point", "replicate", "seed", "draw",
                                       "run_id"]
    by_label = {label: t.set_index("replicate") for label, t in table.groupby("scenario")}
    pd.testing.assert_series_equal(by_label["short"]["draw"], by_label["brutal"]["draw"])
    pd.testing.assert_series_equal(by_label["short"]["seed"], by_label["brutal"]["seed"])
    posterior = read_posterior(scen["posterior"])
    assert list(by_label["short"]["draw"]) == [d.id for d in posterior.draw(3, 8)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["posterior"] == {"path": str(scen["posterior"]),
                                     "sha256": posterior.sha256, "draws": 4, "ess": 2.667,
                                     "parameters": [ENGAGE, RESTRAINT]}
    assert result.posterior == manifest["posterior"]
    for run in manifest["runs"]:
        row = posterior.row(posterior.ids.index(run["draw"]))
        assert run["parameters"] == row.parameters
        assert "overrides" not in run
    markdown = (out / "comparison.md").read_text()
    assert markdown.startswith(f"Parameters drawn from {scen['posterior']} (4 draws, ESS 2.7), "
                               "one draw per run by weight, so the bands carry parameter "
                               "uncertainty as well as chance. Run i of every scenario uses "
                               "the same draw (and seed).\n")


def test_resuming_with_another_posterior_or_none_is_refused(scen: dict[str, Path],
                                                           tmp_path: Path) -> None:
    out = tmp_path / "ens"
    first = ex.ensemble(scen["short"], runs=2, root_seed=2, out=out, plots=False,
                        posterior=scen["posterior"])
    assert first.report.reused == 0
    other = tmp_path / "other.csv"
    other.write_text(POSTERIOR.replace("0.35", "0.36"), encoding="utf-8")
    sha = read_posterior(scen["posterior"]).sha256[:12]
    with pytest.raises(ex.ExperimentError) as info:
        ex.ensemble(scen["short"], runs=2, root_seed=2, out=out, plots=False, posterior=other)
    assert str(info.value) == (
        f"{out}: holds runs with parameters drawn from the posterior {scen['posterior']} "
        f"(sha256 {sha}), now with parameters drawn from the posterior {other} (sha256 "
        f"{read_posterior(other).sha256[:12]}); use another --out folder or delete this one")
    with pytest.raises(ex.ExperimentError, match="now with the scenarios' own parameters"):
        ex.ensemble(scen["short"], runs=2, root_seed=2, out=out, plots=False)
    plain = tmp_path / "plain"
    ex.ensemble(scen["short"], runs=1, root_seed=2, out=plain, plots=False)
    with pytest.raises(ex.ExperimentError, match="holds runs with the scenarios' own "
                                                 "parameters, now with parameters drawn"):
        ex.ensemble(scen["short"], runs=1, root_seed=2, out=plain, plots=False,
                    posterior=scen["posterior"])
    again = ex.ensemble(scen["short"], runs=2, root_seed=2, out=out, plots=False,
                        posterior=scen["posterior"])
    assert again.report.reused == 2  # the same posterior resumes
    pd.testing.assert_frame_equal(again.outcomes, first.outcomes)


def test_values_set_on_purpose_are_kept_and_said(scen: dict[str, Path],
                                                 tmp_path: Path) -> None:
    fixed = ex.ensemble(scen["short"], runs=2, root_seed=6, posterior=scen["posterior"],
                        plots=False, overrides={RESTRAINT: 0.3}, out=tmp_path / "e")
    assert fixed.posterior is not None
    assert fixed.posterior["kept"] == {"short": {RESTRAINT: 0.3}}
    runs = json.loads((tmp_path / "e" / "manifest.json").read_text())["runs"]
    for run in runs:  # the override stays; the other column is drawn
        assert run["overrides"] == {RESTRAINT: 0.3} and list(run["parameters"]) == [ENGAGE]
    # a counterfactual's lever: 'brutal' sets the state forces' restraint to 0
    lever = tmp_path / "lever.csv"
    lever.write_text(f"factions.mali_army.restraint,{ENGAGE},weight\n0.55,0.2,1\n0.65,0.3,1\n",
                     encoding="utf-8")
    result = ex.compare(scen["short"], [scen["brutal"]], runs=2, root_seed=6, posterior=lever,
                        plots=False, out=tmp_path / "c")
    assert result.posterior is not None
    assert result.posterior["kept"] == {"brutal": {"factions.mali_army.restraint": 0.0}}
    runs = json.loads((tmp_path / "c" / "manifest.json").read_text())["runs"]
    assert {r["draw"] for r in runs if r["scenario"] == "short"} == {
        r["draw"] for r in runs if r["scenario"] == "brutal"}
    for run in runs:
        drawn = {"short": {"factions.mali_army.restraint", ENGAGE}, "brutal": {ENGAGE}}
        assert set(run["parameters"]) == drawn[run["scenario"]]
    assert "brutal keeps its own factions.mali_army.restraint = 0.0." in (
        tmp_path / "c" / "comparison.md").read_text()


def test_a_posterior_that_does_not_fit_a_scenario_is_refused_before_any_run(
        scen: dict[str, Path], tmp_path: Path) -> None:
    bounds = tmp_path / "bounds.csv"
    bounds.write_text(f"{ENGAGE},weight\n0.2,1\n2,1\n", encoding="utf-8")
    with pytest.raises(CalibrationError) as info:
        ex.compare(scen["short"], [scen["brutal"]], runs=1, posterior=bounds, plots=False,
                   out=tmp_path / "c")
    assert str(info.value) == (f"{bounds}:3: column '{ENGAGE}': 2 is outside the parameter's "
                               "bounds [0.0, 1.0]")
    assert not (tmp_path / "c").exists()
    fleet = tmp_path / "fleet.csv"  # a drone fleet that a scenario does not have
    fleet.write_text("drones.no_such_fleet.size,weight\n3,1\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match=r"fleet\.csv:1: column 'drones\.no_such_fleet"
                                               r"\.size': not a tunable parameter of "
                                               r"scenario 'short'"):
        ex.ensemble(scen["short"], runs=1, posterior=fleet, plots=False)


def with_unit_strength(scen: dict[str, Path], unit: str, strength: int, posterior: Path,
                       rows: str) -> DrawnParameters:
    """check_posterior of `rows` for 'short' and a counterfactual setting one unit's strength."""
    counterfactual = scen["short"].parent / f"{unit}.toml"
    counterfactual.write_text(f'extends = "short.toml"\nname = "{unit}"\n[[units]]\n'
                              f'id = "{unit}"\nstrength = {strength}\n', encoding="utf-8")
    posterior.write_text(rows, encoding="utf-8")
    return check_posterior(posterior, {"short": prepare_scenario(scen["short"]),
                                       unit: prepare_scenario(counterfactual)})


def test_a_counterfactuals_own_unit_strength_is_kept(scen: dict[str, Path],
                                                     tmp_path: Path) -> None:
    strength = "units.jnim_burkina.strength"
    drawn = with_unit_strength(scen, "jnim_burkina", 4000, tmp_path / "strengths.csv",
                               f"{strength},weight\n2000.4,1\n3000,1\n")
    assert drawn.kept == {"short": {}, "jnim_burkina": {strength: 4000}}
    assert drawn.posterior.row(0).parameters == {strength: 2000}  # rounded: a whole number


def test_a_drawn_share_does_not_move_a_strength_set_on_purpose(scen: dict[str, Path],
                                                               tmp_path: Path) -> None:
    share, macina = "units.jnim_burkina.share", "units.katiba_macina.strength"
    posterior = tmp_path / "shares.csv"
    drawn = with_unit_strength(scen, "katiba_macina", 2500, posterior,
                               f"{share},weight\n0.5,1\n0.6,1\n")
    assert drawn.kept["short"] == {}  # the baseline draws its share
    assert set(drawn.kept["katiba_macina"]) == {share}  # its Katiba Macina is not rescaled
    by_override = check_posterior(posterior, {"short": prepare_scenario(scen["short"])},
                                  overrides={macina: 2500})
    assert set(by_override.kept["short"]) == {share}
