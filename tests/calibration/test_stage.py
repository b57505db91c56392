"""The second stage: ABC rejection given a posterior, on toy simulators whose answer is known."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from sim.calibration.distances import Prior
from sim.calibration.errors import CalibrationError
from sim.calibration.posterior import read_posterior
from sim.calibration.stage import (
    RUNS_FILE,
    accept,
    plan_proposals,
    proposal_overrides,
    proposal_statistics,
    run_stage,
    stage_distances,
    stage_posterior,
)
from sim.calibration.stage_report import write_stage

from .toy_stage import NOISE, PRIOR_R, TARGETS, stage, target, toy


def analytic_posterior(k=1):
    """p(r | y in [40, 60]), proportional to P(40 <= 100 r + e <= 60), r uniform on [0, 1].

    With k = 3, y is the median of three runs, whose noise has the CDF 3F^2 - 2F^3 (F the
    normal's: the median is below z when at least two of the three are).
    """
    def cdf(z):
        f = norm.cdf(z / NOISE)
        return f if k == 1 else 3 * f ** 2 - 2 * f ** 3

    grid = np.linspace(0, 1, 20001)
    density = cdf(60 - 100 * grid) - cdf(40 - 100 * grid)
    return grid, density / density.sum()


def moments(grid, density):
    mean = float((grid * density).sum())
    return mean, math.sqrt(float(((grid - mean) ** 2 * density).sum()))


def test_a_stage_keeps_what_lands_in_range_and_its_posterior_is_the_analytic_one(
        posterior, tmp_path):
    _, runs, accepted, epsilon = stage(posterior, tmp_path / "s", 4000, 200)
    assert epsilon == 0.0  # about a fifth of the proposals land in range: all of them kept
    assert runs.loc[accepted, "y"].between(40, 60).all()
    assert not runs.loc[~accepted, "y"].between(40, 60).any()
    mean, sd = moments(*analytic_posterior())
    kept = runs.loc[accepted, "r"].to_numpy()
    assert abs(kept.mean() - mean) < 4 * sd / math.sqrt(len(kept))
    assert kept.std() == pytest.approx(sd, rel=0.1)
    # x does not move y: the kept x follow the first stage's weights (mean 6.33)
    first_mean = float((posterior.values[:, 0] * posterior.weights).sum())
    x_sd = math.sqrt(float(((posterior.values[:, 0] - first_mean) ** 2 * posterior.weights).sum()))
    assert abs(runs.loc[accepted, "x"].mean() - first_mean) < 4 * x_sd / math.sqrt(len(kept))


def test_with_three_seeds_a_proposal_is_judged_by_its_median_and_the_posterior_is_its_own(
        posterior, tmp_path):
    calls = []

    def counted(overrides, seeds):
        calls.append(list(seeds))
        return toy(overrides, seeds)

    plan, runs, accepted, epsilon = stage(posterior, tmp_path / "s", 3000, 200, k=3,
                                          simulate=counted, chunk=1000)
    assert [len(c) for c in calls] == [3000, 3000, 3000]  # a chunk's runs go out together
    first = plan.iloc[0]
    seeds = calls[0][:3]
    assert len(set(seeds)) == 3 and int(first["seed"]) not in seeds
    expected = np.median(toy([{"r": first["r"], "x": 0}] * 3, seeds)["y"])
    assert runs.loc[0, "y"] == pytest.approx(expected)  # the median of its three runs
    assert epsilon == 0.0
    kept = runs.loc[accepted, "r"].to_numpy()
    mean, sd = moments(*analytic_posterior(k=3))
    one_seed_sd = moments(*analytic_posterior())[1]
    assert sd < 0.9 * one_seed_sd  # three runs narrow what a proposal in range says of r
    assert abs(kept.mean() - mean) < 4 * sd / math.sqrt(len(kept))
    assert kept.std() == pytest.approx(sd, rel=0.1)


def test_a_proposal_with_a_failed_run_fails_and_undefined_runs_are_left_out():
    def some_fail(overrides, seeds):
        rows = [[1.0, 5.0], [3.0, math.nan], [2.0, math.nan],  # proposal 0: y undefined once
                [1.0, 1.0], [math.nan, math.nan], [4.0, 4.0],  # proposal 1: a run failed
                [math.nan, 2.0], [math.nan, 9.0], [math.nan, 4.0]]  # proposal 2: x never
        return pd.DataFrame(rows, columns=["x", "y"])

    stats = proposal_statistics(some_fail, [{}] * 3, [1, 2, 3], ["y", "x"], 3)
    assert list(stats.columns) == ["y", "x"]
    assert stats.loc[0].tolist() == [5.0, 2.0]  # the median of the runs where it is defined
    assert stats.loc[1].isna().all()
    assert stats.loc[2, "y"] == 4.0 and math.isnan(stats.loc[2, "x"])


def test_too_few_in_range_keeps_the_closest(posterior, tmp_path):
    _, runs, _, _ = stage(posterior, tmp_path / "s", 300, 50)
    far = [target("y", 150.0, 160.0)]  # beyond what r <= 1 gives, bar the noise
    accepted, epsilon = accept(stage_distances(runs, far), 50)
    distances = stage_distances(runs, far)
    assert epsilon > 0 and accepted.sum() == 50
    assert distances[accepted].max() <= distances[~accepted].min()
    assert runs.loc[accepted, "r"].mean() > runs["r"].mean()  # the closest are the largest r


def test_failed_and_undefined_runs_are_never_accepted():
    distances = np.array([0.0, np.nan, 0.5, np.inf, 0.2])
    accepted, epsilon = accept(distances, 3)
    assert accepted.tolist() == [True, False, True, False, True] and epsilon == 0.5
    accepted, epsilon = accept(distances, 10)  # more asked than defined: all defined kept
    assert accepted.tolist() == [True, False, True, False, True]
    with pytest.raises(CalibrationError, match="no proposal has a defined distance"):
        accept(np.array([np.nan, np.nan]), 1)


def test_the_first_proposals_do_not_depend_on_how_many_there_are(posterior):
    log_prior = Prior("rate", 1.0, 100.0, "log", "test")
    small = plan_proposals(posterior, [PRIOR_R, log_prior], 20, 3)
    large = plan_proposals(posterior, [PRIOR_R, log_prior], 500, 3)
    pd.testing.assert_frame_equal(small, large.iloc[:20])
    assert large["rate"].between(1, 100).all()
    assert (np.log10(large["rate"]) < 1).mean() == pytest.approx(0.5, abs=0.08)  # log-uniform
    assert not large.equals(plan_proposals(posterior, [PRIOR_R, log_prior], 500, 4))
    counts = large["first_stage_draw"].astype(int).value_counts()
    assert counts.get(9, 0) > 4 * counts.get(0, 0)  # drawn by weight


def test_an_interrupted_stage_resumes_to_the_same_runs(posterior, tmp_path):
    calls = []

    def breaks_on_the_third_chunk(overrides, seeds):
        calls.append(len(seeds))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return toy(overrides, seeds)

    with pytest.raises(KeyboardInterrupt):
        stage(posterior, tmp_path / "s", 250, 20, simulate=breaks_on_the_third_chunk, chunk=50)
    assert len(pd.read_csv(tmp_path / "s" / RUNS_FILE)) == 100  # two chunks saved
    calls.clear()
    _, resumed, _, _ = stage(posterior, tmp_path / "s", 250, 20,
                             simulate=breaks_on_the_third_chunk, chunk=100)
    assert calls == [100, 50]  # only the 150 proposals not yet run
    _, whole, _, _ = stage(posterior, tmp_path / "t", 250, 20, chunk=250)
    pd.testing.assert_frame_equal(resumed, whole)


def test_another_stage_in_the_folder_is_refused_and_its_runs_kept(posterior, tmp_path):
    out = tmp_path / "s"
    stage(posterior, out, 30, 5, seed=0)
    before = (out / RUNS_FILE).read_bytes()
    with pytest.raises(CalibrationError, match=r"holds the runs of another stage "
                                               r"\(differs in: seed\).*--rerun"):
        stage(posterior, out, 30, 5, seed=1)
    assert (out / RUNS_FILE).read_bytes() == before
    plan = plan_proposals(posterior, [PRIOR_R], 30, 1)
    run_stage(out, {"seed": 1}, plan,
              proposal_overrides(posterior, plan, [PRIOR_R]), toy, TARGETS, rerun=True)
    assert (out / RUNS_FILE).read_bytes() != before


def test_the_stage_posterior_keeps_each_draws_first_stage_values_and_is_written(
        posterior, tmp_path):
    plan, runs, accepted, epsilon = stage(posterior, tmp_path / "s", 400, 40)
    table = stage_posterior(posterior, runs, accepted, [PRIOR_R], plan)
    assert len(table) == accepted.sum() and (table["weight"] == 1).all()
    assert table["draw"].is_unique
    for row in table.itertuples():  # the draw id names the first stage's row and the proposal
        first, proposal = row.draw.split("-")
        assert row.x == posterior.values[int(first), 0]
        assert row.r == runs.loc[runs["proposal"] == int(proposal), "r"].item()
    files = write_stage(tmp_path / "s", posterior, runs, accepted, epsilon, [PRIOR_R],
                        TARGETS[:1], TARGETS, table, {"command": "test"}, "toy")
    assert {f.name for f in files} == {"posterior.csv", "fitted.toml", "stage.json",
                                       "stage.png"}
    again = read_posterior(tmp_path / "s" / "posterior.csv")
    assert again.names == ("x", "r") and len(again) == len(table)
    fitted = (tmp_path / "s" / "fitted.toml").read_text(encoding="utf-8")
    assert f"r = {np.median(table['r']):.6g}" in fitted
    summary = json.loads((tmp_path / "s" / "stage.json").read_text(encoding="utf-8"))
    assert summary["accepted"] == accepted.sum() and summary["proposals"] == 400
    assert summary["by_target"]["y"]["in_range_accepted"] == 1.0
    assert summary["by_target"]["y"]["in_range_proposed"] < 0.5
    grid, density = analytic_posterior()
    expected = np.interp([0.05, 0.5, 0.95], np.cumsum(density), grid)
    assert summary["stage_parameters"]["r"]["posterior_q05_q50_q95"] == pytest.approx(
        expected, abs=0.04)


def test_ties_at_epsilon_are_kept_and_exactly_keep_zeros_is_epsilon_zero():
    accepted, epsilon = accept(np.array([0.0, 0.1, 0.1, 0.2]), 2)
    assert accepted.tolist() == [True, True, True, False] and epsilon == 0.1
    accepted, epsilon = accept(np.array([0.0, 0.3, 0.0, 0.2]), 2)
    assert accepted.tolist() == [True, False, True, False] and epsilon == 0.0


def test_a_stage_parameter_the_posterior_has_is_replaced_and_integers_stay_whole(tmp_path):
    path = tmp_path / "first.csv"
    pd.DataFrame({"x": [1.0, 2.0], "r": [0.9, 0.9], "n": [10, 20], "weight": [1.0, 1.0],
                  "draw": ["NA", "b"]}).to_csv(path, index=False)
    first = read_posterior(path)
    count = Prior("n", 5.0, 50.0, "linear", "test", integer=True)
    plan = plan_proposals(first, [PRIOR_R, count], 40, 0)
    assert (plan["n"] == plan["n"].round()).all() and plan["n"].between(5, 50).all()
    overrides = proposal_overrides(first, plan, [PRIOR_R, count])
    for values, record in zip(overrides, plan.to_dict("records"), strict=True):
        assert values["r"] == record["r"] != 0.9  # the stage's draw, not the row's
        assert isinstance(values["n"], int) and values["n"] == record["n"]
        assert values["x"] == (1.0 if record["first_stage_draw"] == "NA" else 2.0)
    runs = run_stage(tmp_path / "s", {"seed": 0}, plan, overrides, toy, TARGETS)
    accepted = np.ones(len(runs), dtype=bool)
    table = stage_posterior(first, runs, accepted, [PRIOR_R, count], plan)
    assert set(table["draw"].str.rsplit("-", n=1).str[0]) <= {"NA", "b"}  # not 'nan'
    assert table["r"].tolist() == plan["r"].tolist() and table["n"].tolist() == plan["n"].tolist()


def test_more_proposals_extend_the_runs_and_fewer_use_their_start(posterior, tmp_path):
    out = tmp_path / "s"
    calls = []

    def counted(overrides, seeds):
        calls.append(len(seeds))
        return toy(overrides, seeds)

    _, small, _, _ = stage(posterior, out, 50, 5, simulate=counted)
    _, large, _, _ = stage(posterior, out, 120, 5, simulate=counted)
    assert calls == [50, 70]  # only the 70 new proposals ran
    pd.testing.assert_frame_equal(large.iloc[:50], small)
    _, start, _, _ = stage(posterior, out, 30, 5, simulate=counted)
    assert calls == [50, 70] and len(start) == 30
    pd.testing.assert_frame_equal(start, small.iloc[:30])


def test_a_folder_with_a_stages_files_but_no_config_or_a_bad_one_is_refused(posterior,
                                                                            tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / "posterior.csv").write_text("mine\n", encoding="utf-8")
    with pytest.raises(CalibrationError, match=r"posterior\.csv: there without the stage's "
                                               r"config\.json.*--rerun"):
        stage(posterior, out, 10, 2)
    assert (out / "posterior.csv").read_text(encoding="utf-8") == "mine\n"
    (out / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CalibrationError, match=r"config\.json: unreadable"):
        stage(posterior, out, 10, 2)
    assert (out / "config.json").read_text(encoding="utf-8") == "{not json"
    (out / "first_stage_posterior.csv").write_text("the input\n", encoding="utf-8")
    plan = plan_proposals(posterior, [PRIOR_R], 10, 0)
    run_stage(out, {"seed": 0}, plan, proposal_overrides(posterior, plan, [PRIOR_R]), toy,
              TARGETS, rerun=True)  # the stage's files replaced, the input's copy kept
    assert not (out / "posterior.csv").exists()
    assert (out / "first_stage_posterior.csv").read_text(encoding="utf-8") == "the input\n"
    assert len(pd.read_csv(out / RUNS_FILE)) == 10


def test_runs_that_are_not_the_plans_are_refused(posterior, tmp_path):
    out = tmp_path / "s"
    stage(posterior, out, 20, 2)
    runs = pd.read_csv(out / RUNS_FILE)
    runs.loc[3, "seed"] += 1
    runs.to_csv(out / RUNS_FILE, index=False)
    with pytest.raises(CalibrationError, match=r"its 20 runs are not this stage's first 20"):
        stage(posterior, out, 20, 2)
    runs.drop(columns="y").to_csv(out / RUNS_FILE, index=False)
    with pytest.raises(CalibrationError, match=r"no column 'y'; pass --rerun"):
        stage(posterior, out, 20, 2)


def test_a_stage_outlives_an_edited_note_but_not_an_edited_value(baseline, posterior):
    from sim.calibration.stage import stage_config
    from sim.calibration.targets import DEFAULT_TARGETS, load_targets

    targets = load_targets(DEFAULT_TARGETS)

    def config(scenario):
        return stage_config(scenario, posterior, [PRIOR_R], targets[:1], targets, seed=0)

    renoted = baseline.model_copy(update={"description": "edited after the stage"})
    assert config(renoted) == config(baseline)
    changed = baseline.model_copy(deep=True)
    changed.parameters.violence.reprisal_half_life = 90.0
    assert config(changed)["behaviour_hash"] != config(baseline)["behaviour_hash"]
