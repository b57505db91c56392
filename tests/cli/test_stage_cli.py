"""`sahel-sim calibrate-stage`: a stage on the short scenario, its files, and bad input (exit 2)."""

import json
import shutil

import pandas as pd
import pytest

from sim.calibration.posterior import read_posterior
from sim.cli import main
from sim.scenario import load_scenario

from ..conftest import territory_target

TARGETS = territory_target("bfa_territory_any", 0.0, 1.0, "a range every run reaches")
PRIORS = ('[[priors]]\nname = "parameters.combat.evasion"\nlow = 0.5\nhigh = 0.9\n'
          'justification = "test"\n')


@pytest.fixture
def files(tmp_path):
    targets, priors, posterior = (tmp_path / "targets.toml", tmp_path / "priors.toml",
                                  tmp_path / "posterior.csv")
    targets.write_text(TARGETS, encoding="utf-8")
    priors.write_text(PRIORS, encoding="utf-8")
    posterior.write_text("parameters.combat.engage_probability,weight\n0.2,1\n0.3,0\n",
                         encoding="utf-8")
    return targets, priors, posterior


def stage_args(short_path, files, out, *extra):
    targets, priors, posterior = files
    return ["calibrate-stage", str(short_path), "--targets", str(targets), "--priors",
            str(priors), "--posterior", str(posterior), "--fit", "parameters.combat.evasion",
            "--to", "bfa_territory_any", "--proposals", "3", "--keep", "2", "--workers", "1",
            "--out", str(out), *extra]


def test_a_stage_writes_a_posterior_the_runs_can_use(short_path, files, tmp_path, capsys):
    out = tmp_path / "stage"
    assert main(stage_args(short_path, files, out)) == 0
    text = capsys.readouterr()
    assert "3 proposals of 'short'" in text.err
    assert "accepted 3 of 3 proposals (epsilon 0)" in text.out  # every run is in range
    assert "approximate ABC" not in text.err
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 3 and runs["parameters.combat.evasion"].between(0.5, 0.9).all()
    posterior = read_posterior(out / "posterior.csv",
                               load_scenario(short_path).model_dump(mode="json"))
    assert posterior.names == ("parameters.combat.engage_probability",
                               "parameters.combat.evasion")
    assert set(posterior.values[:, 0]) == {0.2}  # the row of weight 0 is never drawn
    summary = json.loads((out / "stage.json").read_text(encoding="utf-8"))
    assert summary["accepted"] == 3
    assert summary["command"] == (
        f"sahel-sim calibrate-stage {short_path} --targets {files[0]} --priors {files[1]} "
        f"--posterior {files[2]} --fit parameters.combat.evasion --to bfa_territory_any "
        f"--proposals 3 --keep 2 --seed 0 --out {out}")
    assert summary["earlier_stage_parameters"] == []
    assert summary["stage_targets_fitted_before"] == {}  # no fit.json, no earlier stage
    assert "fitted before" not in text.err
    assert summary["moved_outside_stage"] == []  # the only target is the stage's
    assert (out / "first_stage_posterior.csv").read_bytes() == files[2].read_bytes()
    stamp = (out / "runs.csv").stat().st_mtime_ns
    assert main(stage_args(short_path, files, out)) == 0  # all run: nothing runs again
    assert (out / "runs.csv").stat().st_mtime_ns == stamp


def test_seeds_per_proposal_run_each_proposal_k_times_and_keep_the_medians(
        short_path, files, tmp_path, capsys):
    from sim.calibration.calibrate import particle_seeds
    from sim.calibration.simulate import simulate_statistics
    from sim.calibration.targets import load_targets

    out = tmp_path / "stage"
    assert main(stage_args(short_path, files, out, "--seeds-per-proposal", "2",
                           "--proposals", "2")) == 0
    assert "2 proposals (2 runs each, judged by their medians) of 'short'" in (
        capsys.readouterr().err)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["seeds_per_proposal"] == 2
    summary = json.loads((out / "stage.json").read_text(encoding="utf-8"))
    assert "--keep 2 --seeds-per-proposal 2 --seed 0" in summary["command"]
    runs = pd.read_csv(out / "runs.csv")
    overrides = {"parameters.combat.engage_probability": 0.2,
                 "parameters.combat.evasion": float(runs.loc[0, "parameters.combat.evasion"])}
    seed = int(runs["seed"].iloc[0])  # a 64-bit seed: not through a row of floats
    two = simulate_statistics(short_path, load_targets(files[0]), particle_seeds(seed, 2),
                              [overrides] * 2)
    assert two["bfa_territory_any"].nunique() == 2  # two runs that differ
    assert runs.loc[0, "bfa_territory_any"] == pytest.approx(two["bfa_territory_any"].median())
    # one seed per proposal is another stage's runs: refused, as any other change
    assert main(stage_args(short_path, files, out, "--proposals", "2")) == 2
    assert "differs in: seeds_per_proposal" in capsys.readouterr().err


@pytest.mark.parametrize(("extra", "message"), [
    (["--fit", "parameters.combat.evasoin"],
     "error: --fit: 'parameters.combat.evasoin' is not one of the priors of"),
    (["--to", "bfa_territory"], "error: --to: 'bfa_territory' is not one of the targets of"),
    (["--keep", "5"], "error: --keep: 5 is more than --proposals (3)"),
])
def test_bad_input_is_one_line_and_exit_2(short_path, files, tmp_path, capsys, extra, message):
    out = tmp_path / "stage"
    assert main(stage_args(short_path, files, out, *extra)) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert not out.exists()


def test_another_stage_in_the_folder_is_refused(short_path, files, tmp_path, capsys):
    out = tmp_path / "stage"
    assert main(stage_args(short_path, files, out)) == 0
    before = (out / "runs.csv").read_bytes()
    assert main(stage_args(short_path, files, out, "--seed", "5")) == 2
    assert "holds the runs of another stage (differs in: seed)" in capsys.readouterr().err
    assert (out / "runs.csv").read_bytes() == before


def test_a_folder_it_did_not_write_or_the_inputs_own_is_refused(short_path, files, tmp_path,
                                                                capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "runs.csv").write_text("my own file\n", encoding="utf-8")
    assert main(stage_args(short_path, files, out)) == 2
    assert "runs.csv: there without the stage's config.json" in capsys.readouterr().err
    assert (out / "runs.csv").read_text(encoding="utf-8") == "my own file\n"
    before = files[2].read_bytes()
    assert main(stage_args(short_path, files, files[2].parent)) == 2  # beside the input
    assert "holds the input posterior" in capsys.readouterr().err
    assert files[2].read_bytes() == before


def test_a_stage_on_a_stage_posterior_records_the_earlier_stage(short_path, files, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(stage_args(short_path, files, first)) == 0
    targets, priors, _ = files
    priors.write_text(PRIORS + '[[priors]]\nname = "parameters.combat.engage_probability"\n'
                      'low = 0.1\nhigh = 0.5\njustification = "test"\n', encoding="utf-8")
    args = stage_args(short_path, (targets, priors, first / "posterior.csv"), second)
    args[args.index("parameters.combat.evasion")] = "parameters.combat.engage_probability"
    assert main(args) == 0
    summary = json.loads((second / "stage.json").read_text(encoding="utf-8"))
    assert summary["earlier_stage_parameters"] == ["parameters.combat.evasion"]
    assert list(summary["stage_parameters"]) == ["parameters.combat.engage_probability"]
    shutil.rmtree(first)  # run again from the stage's copy of its input, the first gone
    args[args.index(str(first / "posterior.csv"))] = str(second / "first_stage_posterior.csv")
    assert main([*args, "--rerun"]) == 0
    again = json.loads((second / "stage.json").read_text(encoding="utf-8"))
    assert again["earlier_stage_parameters"] == ["parameters.combat.evasion"]
    assert again["posterior_sha256"] == summary["posterior_sha256"]


def test_too_few_in_range_says_the_closest_were_kept(short_path, files, tmp_path, capsys):
    targets, _, _ = files
    targets.write_text(TARGETS + TARGETS.replace("bfa_territory_any", "bfa_territory_far")
                       .replace("low = 0.0", "low = 0.98"), encoding="utf-8")
    args = stage_args(short_path, files, tmp_path / "stage")
    args[args.index("bfa_territory_any")] = "bfa_territory_far"
    assert main(args) == 0
    text = capsys.readouterr()
    assert "accepted 2 of 3 proposals (epsilon " in text.out
    assert ("note: 0 proposals landed in every --to range, fewer than --keep (2), so the "
            "closest were kept (approximate ABC)") in text.err


def test_a_chunk_whose_runs_all_fail_is_kept_as_undefined_rows(short_path, files, tmp_path,
                                                               capsys, monkeypatch):
    """The first chunk's runs all fail: its rows are NaN, never kept; the others are."""
    import functools

    import sim.calibration.simulate as simulate_module
    import sim.calibration.stage as stage_module

    real_simulate, calls = simulate_module.simulate_statistics, []

    def first_chunk_fails(*args, **kwargs):
        calls.append(len(args[2]))
        if len(calls) == 1:
            raise RuntimeError("all 1 runs failed: MemoryError")
        return real_simulate(*args, **kwargs)

    monkeypatch.setattr(simulate_module, "simulate_statistics", first_chunk_fails)
    monkeypatch.setattr(stage_module, "run_stage",
                        functools.partial(stage_module.run_stage, chunk=1))
    out = tmp_path / "stage"
    assert main(stage_args(short_path, files, out)) == 0
    text = capsys.readouterr()
    assert calls == [1, 1, 1]
    assert ("warning: 1 runs failed in this call (never kept); the first: all 1 runs failed: "
            "MemoryError") in text.err
    assert "accepted 2 of 3 proposals (epsilon 0)" in text.out
    runs = pd.read_csv(out / "runs.csv")
    assert runs["bfa_territory_any"].isna().tolist() == [True, False, False]
    summary = json.loads((out / "stage.json").read_text(encoding="utf-8"))
    assert summary["failed"] == 1 and summary["accepted"] == 2
    assert summary["failed_in_this_call"] == ["all 1 runs failed: MemoryError"]


def test_a_stage_whose_runs_all_fail_is_refused_in_one_line(short_path, files, tmp_path,
                                                             capsys, monkeypatch):
    import sim.calibration.simulate as simulate_module

    def always_fails(*args, **kwargs):
        raise RuntimeError("all 3 runs failed: MemoryError")

    monkeypatch.setattr(simulate_module, "simulate_statistics", always_fails)
    out = tmp_path / "stage"
    assert main(stage_args(short_path, files, out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == ("error: no proposal has a defined distance from the --to targets: every "
                       "run failed or left one of them undefined (see runs.csv)")
    assert pd.read_csv(out / "runs.csv")["bfa_territory_any"].isna().all()
    assert not (out / "posterior.csv").exists()


def test_targets_outside_the_stage_it_moved_are_named_on_stderr(short_path, files, tmp_path,
                                                                capsys, monkeypatch):
    import sim.calibration.stage_report as stage_report

    targets = files[0]
    targets.write_text(TARGETS + TARGETS.replace("bfa_territory_any", "bfa_state_share")
                       .replace('"not_state"', '"state"'), encoding="utf-8")
    monkeypatch.setattr(stage_report, "MOVED_WIDTHS", 0.0)  # any move at all is named
    out = tmp_path / "stage"
    assert main(stage_args(short_path, files, out)) == 0
    err = capsys.readouterr().err
    summary = json.loads((out / "stage.json").read_text(encoding="utf-8"))
    assert [m["target"] for m in summary["moved_outside_stage"]] == ["bfa_state_share"]
    moved = summary["moved_outside_stage"][0]
    assert ("note: the kept proposals moved 1 targets outside the stage by at least 0.0 of "
            "their range's width") in err
    assert f"bfa_state_share {moved['median_proposed']:.3g}" in err


def test_stage_targets_the_fit_had_are_named_as_counted_twice(short_path, files, tmp_path,
                                                              capsys):
    fit = files[2].parent / "fit.json"  # the fit's record beside its posterior
    fit.write_text(json.dumps({"summaries": [{"name": "bfa_territory_any"},
                                             {"name": "jnim_fighters"}]}), encoding="utf-8")
    out = tmp_path / "stage"
    assert main(stage_args(short_path, files, out)) == 0
    err = capsys.readouterr().err
    summary = json.loads((out / "stage.json").read_text(encoding="utf-8"))
    by_folder = f"{fit.resolve()} (by folder)"  # a fit.json without its posterior's sha256
    assert summary["stage_targets_fitted_before"] == {"bfa_territory_any": [by_folder]}
    assert ("note: the steps behind the posterior already fitted 1 of the stage's 1 targets; "
            "conditioning on them again counts them once more for the parameters those steps "
            f"fitted (stage.json, stage_targets_fitted_before): bfa_territory_any ({by_folder})"
            ) in err


def test_the_commit_recorded_is_the_one_the_stage_started_on(short_path, files, tmp_path,
                                                             monkeypatch):
    from sim.calibration import fit_result, simulate

    ran = []
    real = simulate.simulate_statistics

    def counted(*args, **kwargs):
        ran.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(simulate, "simulate_statistics", counted)
    monkeypatch.setattr(fit_result, "run_provenance", lambda version: {  # the checkout moves on
        "versions": {}, "git": {"commit": ("b" if ran else "a") * 40, "dirty": False}})
    out = tmp_path / "stage"
    assert main(stage_args(short_path, files, out)) == 0
    assert ran
    assert json.loads((out / "stage.json").read_text())["git"]["commit"] == "a" * 40
