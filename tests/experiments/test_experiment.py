"""Experiments in process: seeds, outcomes, paired statistics, stores, resuming, the CLI."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
import sim.cli as cli
from sim import experiments as ex
from sim import load_scenario
from sim.code_digest import code_digest
from sim.experiments import executors
from sim.scenario import STATE_SIDE_KINDS

from ..conftest import write_short_scenario

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.toml"
STATE_SIDE = tuple(fid for fid, f in load_scenario(BASELINE).factions.items()
                   if f.kind in STATE_SIDE_KINDS and fid != "bear_brigade")


def write_scenarios(folder: Path, end: str = "2023-02-14") -> dict[str, Path]:
    """Short test scenarios extending the bundled baseline (events after `end` removed)."""
    short = write_short_scenario(folder, end)
    same = folder / "same.toml"  # identical model, other name: a different hash
    same.write_text('extends = "short.toml"\nname = "same"\ndescription = "a copy"\n')
    brutal = folder / "brutal.toml"  # state-side forces without restraint
    brutal.write_text('extends = "short.toml"\nname = "brutal"\n' + "".join(
        f"[factions.{f}]\nrestraint = 0.0\n" for f in STATE_SIDE))
    return {"short": short, "same": same, "brutal": brutal}


@pytest.fixture(scope="module")
def scen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_scenarios(tmp_path_factory.mktemp("scenarios"))


def run_cli(argv: list[str]) -> int:
    return cli.main(argv)


def run_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "runs").glob("*.parquet"))}


# ---------------------------------------------------------------------------------------------
# Seeds, outcomes, statistics
# ---------------------------------------------------------------------------------------------


def test_spawn_seeds_are_stable_distinct_and_prefix_consistent() -> None:
    seeds = ex.spawn_seeds(42, 50)
    assert seeds == ex.spawn_seeds(42, 50)
    assert seeds[:10] == ex.spawn_seeds(42, 10)
    assert len(set(seeds)) == 50
    assert all(0 <= s < 2**63 for s in seeds)
    assert seeds[:5] != ex.spawn_seeds(43, 5)
    with pytest.raises(ex.ExperimentError):
        ex.spawn_seeds(-1, 3)


def test_headline_outcomes_match_the_time_series(scen: dict[str, Path]) -> None:
    scenario = sim.load_scenario(scen["short"])
    model = sim.SahelModel(scenario, rng=7)
    model.run()
    ts = model.timeseries()
    out = ex.headline_outcomes(ts)
    assert list(out) == ex.HEADLINE_OUTCOMES
    assert len(ex.HEADLINE_OUTCOMES) == 26
    mli = ts[ts["country"] == "MLI"]
    assert out["civilian_fatalities_MLI"] == mli["killed_civilians"].sum()
    assert out["total_fatalities_BFA"] == ts.loc[ts["country"] == "BFA", "killed_total"].sum()
    russians = ts["killed_africa_corps"] + ts["killed_bear_brigade"]
    assert out["russian_fatalities"] == russians.sum()
    assert out["territory_outside_state_MLI"] == pytest.approx(1 - mli["territory_state"].iloc[-1])
    assert out["displaced_NER"] == ts.loc[ts["country"] == "NER", "displaced"].iloc[-1]
    assert out["civilian_fatalities_MLI"] > 0


def test_median_interval_uses_order_statistics() -> None:
    d = np.arange(1.0, 11.0)  # n = 10: P(B <= 1) = 0.011 <= 0.05 < P(B <= 2): j = 2
    low, high = ex.median_interval(d)
    assert (low[0], high[0]) == (2.0, 9.0)
    low, high = ex.median_interval(np.arange(1.0, 5.0))  # n = 4 cannot reach 90%
    assert np.isnan(low[0]) and np.isnan(high[0])
    low, high = ex.median_interval(np.arange(1.0, 6.0))  # n = 5: min and max (93.75%)
    assert (low[0], high[0]) == (1.0, 5.0)
    # Coverage check: the interval covers the true median at least 90% of the time.
    rng = np.random.default_rng(0)
    samples = rng.standard_normal((20, 2000))
    low, high = ex.median_interval(samples)
    assert ((low <= 0) & (high >= 0)).mean() >= 0.9


def test_paired_table_signs_and_shares() -> None:
    base = np.zeros((6, len(ex.HEADLINE_OUTCOMES)))
    other = base.copy()
    other[:, 0] = [5, 6, 7, 8, 9, -1]
    table = ex.paired_table("cf", base, other)
    row = table.iloc[0]
    assert row["diff_median"] == 6.5
    assert row["sign_share"] == pytest.approx(5 / 6)
    assert (row["diff_low"], row["diff_high"]) == (-1, 9)
    assert (table["diff_median"].iloc[1:] == 0).all()
    assert (table["sign_share"].iloc[1:] == 1.0).all()


def test_designs_come_in_the_documented_sizes_and_bounds() -> None:
    ranges = {"parameters.combat.engage_probability": (0.1, 0.4),
              "factions.jnim.restraint": (0.2, 0.6)}
    grid = ex.design_points(ranges, "grid", 3, seed=1)
    assert grid.shape == (9, 2)
    assert sorted(set(grid[:, 0])) == pytest.approx([0.1, 0.25, 0.4])
    lhs = ex.design_points(ranges, "lhs", 10, seed=1)
    assert lhs.shape == (10, 2)
    assert np.array_equal(lhs, ex.design_points(ranges, "lhs", 10, seed=1))
    # Latin hypercube: one point in each of the 10 strata of every parameter.
    strata = np.floor((lhs[:, 0] - 0.1) / 0.03).astype(int)
    assert sorted(strata) == list(range(10))
    assert ex.design_points(ranges, "sobol", 8, seed=1).shape == (8 * 4, 2)
    assert ex.design_points(ranges, "morris", 5, seed=1).shape == (5 * 3, 2)
    with pytest.raises(ex.ExperimentError, match="power of 2"):
        ex.design_points(ranges, "sobol", 6, seed=1)


# ---------------------------------------------------------------------------------------------
# Ensembles, stores and resuming
# ---------------------------------------------------------------------------------------------


def test_ensemble_in_memory_and_on_disk_agree(scen: dict[str, Path], tmp_path: Path) -> None:
    calls: list[tuple[int, int, int]] = []
    mem = ex.ensemble(scen["short"], runs=3, root_seed=5,
                      progress=lambda *a: calls.append(a))
    disk = ex.ensemble(scen["short"], runs=3, root_seed=5, out=tmp_path / "e", plots=False)
    assert calls[0] == (0, 0, 3) and calls[-1] == (3, 0, 3)
    pd.testing.assert_frame_equal(mem.outcomes, disk.outcomes)
    pd.testing.assert_frame_equal(mem.bands, disk.bands)
    # Bands: long by quantile, ordered quantiles, cumulative flows.
    assert list(mem.bands.columns[:3]) == ["date", "country", "quantile"]
    days = (sim.load_scenario(scen["short"]).days)
    assert len(mem.bands) == days * 3 * len(ex.QUANTILES)
    last = mem.bands[mem.bands["date"] == mem.bands["date"].max()]
    mli = last[last["country"] == "MLI"].set_index("quantile")["cum_killed_civilians"]
    assert mli.is_monotonic_increasing
    assert mli.loc[0.5] == np.median(mem.outcomes["civilian_fatalities_MLI"])
    manifest = json.loads((tmp_path / "e" / "manifest.json").read_text())
    assert manifest["status"] == {"state": "complete", "planned": 3, "finished": 3, "failed": 0}
    assert [r["seed"] for r in manifest["runs"]] == ex.spawn_seeds(5, 3)
    assert manifest["scenarios"]["short"]["hash"] == sim.load_scenario(
        scen["short"]).content_hash()
    assert manifest["package_version"] == sim.__version__
    assert manifest["model_code"] == code_digest()


def test_resume_runs_only_what_is_missing(scen: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "e"
    first = ex.ensemble(scen["short"], runs=2, root_seed=1, out=out, plots=False)
    assert first.report.reused == 0 and len(first.report.compute_seconds) == 2
    before = run_files(out)
    second = ex.ensemble(scen["short"], runs=4, root_seed=1, out=out, plots=False)
    assert second.report.reused == 2 and len(second.report.compute_seconds) == 2
    after = run_files(out)
    assert len(after) == 4 and all(after[k] == v for k, v in before.items())
    third = ex.ensemble(scen["short"], runs=4, root_seed=1, out=out, plots=False)
    assert third.report.reused == 4 and not third.report.compute_seconds
    pd.testing.assert_frame_equal(second.outcomes, third.outcomes)


def test_changed_scenario_version_or_model_code_is_refused(scen: dict[str, Path],
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "s"
    paths = write_scenarios(folder)
    out = tmp_path / "e"
    ex.ensemble(paths["short"], runs=1, out=out, plots=False)
    paths["short"].write_text(paths["short"].read_text() + "\n[factions.jnim]\nrestraint = 0.9\n")
    with pytest.raises(ex.ExperimentError, match="scenario 'short' has changed"):
        ex.ensemble(paths["short"], runs=1, out=out, plots=False)
    assert run_cli(["ensemble", str(paths["short"]), "--runs", "1", "--out", str(out)]) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["package_version"] = "0.0.1"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ex.ExperimentError, match=r"made with sahel-sim 0\.0\.1"):
        ex.ensemble(scen["short"], runs=1, out=out, plots=False)
    # the same version number, other model code (edited between releases): refused too
    manifest["package_version"] = sim.__version__
    manifest["model_code"] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ex.ExperimentError, match=r"made by other model code \(sim package "
                       r"digest 000000000000, now [0-9a-f]{12}\)"):
        ex.ensemble(scen["short"], runs=1, out=out, plots=False)
    del manifest["model_code"]  # a folder from before the digest was recorded
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ex.ExperimentError, match="digest not recorded"):
        ex.ensemble(scen["short"], runs=1, out=out, plots=False)
    other = tmp_path / "e2"
    ex.ensemble(scen["short"], runs=1, root_seed=1, out=other, plots=False)
    with pytest.raises(ex.ExperimentError, match="another root seed"):
        ex.ensemble(scen["short"], runs=1, root_seed=2, out=other, plots=False)


def test_failed_runs_are_recorded_and_the_rest_goes_on(
        scen: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    bad_seed = ex.spawn_seeds(3, 3)[1]
    real = executors._simulate

    def flaky(scenario: sim.Scenario, seed: int, stop: object = None) -> pd.DataFrame:
        if seed == bad_seed:
            raise FloatingPointError("boom in the model")
        return real(scenario, seed)

    monkeypatch.setattr(executors, "_simulate", flaky)
    out = tmp_path / "e"
    code = run_cli(["ensemble", str(scen["short"]), "--runs", "3", "--seed", "3",
                    "--workers", "1", "--out", str(out), "--no-plots"])
    assert code == 1
    err = capsys.readouterr().err
    assert "1 of 3 runs failed" in err
    manifest = json.loads((out / "manifest.json").read_text())
    (failure,) = manifest["failures"].values()
    assert failure["seed"] == bad_seed
    assert failure["error"] == "FloatingPointError: boom in the model"
    assert "Traceback" in failure["traceback"] and "flaky" in failure["traceback"]
    assert manifest["status"]["state"] == "failed"
    assert len(run_files(out)) == 2
    assert len(pd.read_csv(out / "outcomes.csv")) == 2
    # Fixed: the same command runs only the failed run.
    monkeypatch.setattr(executors, "_simulate", real)
    assert run_cli(["ensemble", str(scen["short"]), "--runs", "3", "--seed", "3",
                    "--workers", "1", "--out", str(out), "--no-plots"]) == 0
    assert len(run_files(out)) == 3


def test_cancel_keeps_finished_runs(scen: dict[str, Path], tmp_path: Path) -> None:
    cancel = threading.Event()

    def progress(done: int, failed: int, total: int) -> None:
        if done >= 2:
            cancel.set()

    out = tmp_path / "e"
    with pytest.raises(ex.ExperimentCancelled):
        ex.ensemble(scen["short"], runs=6, out=out, progress=progress, cancel=cancel)
    assert len(run_files(out)) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"]["state"] == "interrupted"
    assert not list((out / "runs").glob(".*"))


def test_an_interrupt_right_after_a_run_is_saved_still_counts_it(
        scen: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.experiments.result_store import ResultStore

    save, calls = ResultStore.save, []

    def save_then_interrupt(self: ResultStore, *args, **kwargs) -> None:
        save(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 2:  # Ctrl-C after the second run's file is in place
            raise KeyboardInterrupt

    monkeypatch.setattr(ResultStore, "save", save_then_interrupt)
    out = tmp_path / "e"
    with pytest.raises(KeyboardInterrupt):
        ex.ensemble(scen["short"], runs=4, out=out, workers=1)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"]["state"] == "interrupted"
    assert manifest["status"]["finished"] == len(run_files(out)) == 2


# ---------------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------------


def test_comparison_of_a_scenario_with_itself_is_exactly_zero(scen: dict[str, Path]) -> None:
    result = ex.compare(scen["short"], [scen["same"]], runs=5, root_seed=11)
    assert result.baseline == "short" and result.counterfactuals == ["same"]
    assert len(result.report.finished) == 10  # different hashes: both really ran
    table = result.table
    assert list(table.columns[:8]) == ["counterfactual", "outcome", "baseline_median",
                                       "counterfactual_median", "diff_median", "diff_low",
                                       "diff_high", "sign_share"]
    assert (table[["diff_median", "diff_low", "diff_high"]].to_numpy() == 0).all()
    assert (table["sign_share"] == 1.0).all()
    assert (table["baseline_median"] == table["counterfactual_median"]).all()
    diff = result.difference_bands["same"]
    assert (diff.drop(columns=["date", "country", "quantile"]).to_numpy() == 0).all()
    assert table["baseline_median"].iloc[0] > 0


def test_comparison_with_a_real_effect(scen: dict[str, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c"
    code = run_cli(["compare", str(scen["short"]), str(scen["brutal"]), "--runs", "12",
                    "--seed", "1", "--workers", "1", "--out", str(out)])
    assert code == 0
    table = pd.read_csv(out / "comparison.csv").set_index("outcome")
    for iso in ("MLI", "BFA", "NER"):
        row = table.loc[f"civilian_fatalities_{iso}"]
        assert row["diff_median"] > 0
        assert row["diff_low"] > 0, f"interval includes zero in {iso}"
        assert row["sign_share"] >= 0.8
        assert row["counterfactual_median"] > row["baseline_median"]
    stdout = capsys.readouterr().out
    assert "brutal vs short: medians over 12 paired runs" in stdout
    assert "deaths, civilians: Mali" in stdout and "90% interval" in stdout
    md = (out / "comparison.md").read_text()
    assert md.startswith("## brutal vs short (12 paired runs)")
    assert md.count("\n| ") >= 20
    for iso in ("MLI", "BFA", "NER"):
        assert (out / "plots" / f"compare_brutal_{iso}.png").stat().st_size > 10_000
    bands = pd.read_parquet(out / "bands.parquet")
    assert set(bands["scenario"]) == {"short", "brutal"}


# ---------------------------------------------------------------------------------------------
# Sweeps and bad input
# ---------------------------------------------------------------------------------------------


def test_sobol_sweep_finds_the_parameter_that_matters(scen: dict[str, Path],
                                                      tmp_path: Path) -> None:
    out = tmp_path / "s"
    result = ex.sweep(scen["short"], {"factions.mali_army.restraint": (0.0, 1.0),
                                      "juntas.NER.credibility": (0.5, 0.6)},
                      design="sobol", samples=4, out=out)
    assert len(result.points) == 4 * 4
    sens = result.sensitivity
    assert sens is not None
    assert len(sens) == len(ex.HEADLINE_OUTCOMES) * 2
    assert list(sens.columns) == ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    civ = sens[sens["outcome"] == "civilian_fatalities_MLI"].set_index("parameter")
    assert civ.loc["factions.mali_army.restraint", "ST"] > civ.loc["juntas.NER.credibility", "ST"]
    assert civ["ST_conf"].notna().all()
    coups = sens[sens["outcome"] == "coups_MLI"]
    if (result.point_outcomes["coups_MLI"] == 0).all():
        assert coups["ST"].isna().all()
    assert (out / "sensitivity.csv").exists() and (out / "plots" / "sensitivity.png").exists()


@pytest.mark.parametrize("argv, message", [
    (["--param", "parameters.combat.engage_probabilty=0.1:0.3"], "did you mean"),
    (["--param", "parameters.combat.engage_probability=0.1:1.5"], "outside the parameter's"),
    (["--param", "factions.jnim.restraint=0.6:0.2"], "LOW must be below HIGH"),
    (["--param", "factions.jnim.restraint=low:0.2"], "must be numbers"),
    (["--param", "factions.jnim.restraint"], "expected NAME=LOW:HIGH"),
    (["--param", "factions.nobody.restraint=0.1:0.2"], "not a tunable parameter"),
    (["--param", "factions.jnim.restraint=0.1:0.2", "--design", "sobol", "--samples", "6"],
     "power of 2"),
    (["--param", "factions.jnim.restraint=0.1:0.2", "--runs-per-point", "0"], "at least 1"),
])
def test_bad_sweep_input_is_one_line_and_exit_2_before_any_run(
        scen: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        argv: list[str], message: str) -> None:
    out = tmp_path / "never"
    code = run_cli(["sweep", str(scen["short"]), *argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err
    assert not out.exists()


def test_compare_needs_matching_periods(scen: dict[str, Path], tmp_path: Path) -> None:
    longer = tmp_path / "longer.toml"
    longer.write_text(f'extends = "{scen["short"]}"\nname = "longer"\nend = 2023-02-20\n')
    with pytest.raises(ex.ExperimentError, match="must match"):
        ex.compare(scen["short"], [longer], runs=2)
