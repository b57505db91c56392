"""Reachability: per-target hit shares, the side of an unreached range, conflicting pairs."""

import math

import numpy as np
import pandas as pd
import pytest

from sim.calibration.reachability import (
    analyse,
    hit_matrix,
    pair_conflicts,
    sweep_priors,
    target_reach,
)
from sim.calibration.targets import Target

from ..conftest import ROOT


def target(name, low, high, unit="deaths"):
    return Target(name=name, value=None, low=low, high=high, unit=unit, period="2024",
                  place="Sahel", definition="d", source="s", source_date="2025-01-01",
                  confidence="M", compare={"statistic": "deaths"})


def test_a_hit_is_inside_the_range_bounds_included_and_a_missing_bound_is_open():
    targets = [target("two_sided", 10, 20), target("at_least", 5, None),
               target("never_measured", 0, 1)]
    frame = pd.DataFrame({"two_sided": [9.99, 10, 15, 20, 20.01, np.nan],
                          "at_least": [4, 5, 1e9, np.nan, 6, 7],
                          "never_measured": [np.nan] * 6})
    hits = hit_matrix(targets, frame)
    assert list(hits.columns) == ["two_sided", "at_least"]  # no run measured the third
    assert hits["two_sided"].fillna(-1).tolist() == [0, 1, 1, 1, 0, -1]  # -1: not measured
    assert hits["at_least"].fillna(-1).tolist() == [0, 1, 1, -1, 1, 1]
    kept = hit_matrix(targets, frame, keep_unmeasured=True)  # the stage's summary keeps it
    assert list(kept.columns) == ["two_sided", "at_least", "never_measured"]
    assert kept["never_measured"].isna().all() and kept.iloc[:, :2].equals(hits)


def test_target_reach_counts_the_runs_in_range_and_says_on_which_side_a_range_is_missed():
    targets = [target("reached", 0, 10), target("too_low", 100, 200),
               target("too_high", None, 1), target("stepped_over", 4.2, 4.8)]
    values = np.arange(10.0)  # 0..9
    frame = pd.DataFrame({"reached": values, "too_low": values, "too_high": values + 2,
                          "stepped_over": values})
    table = target_reach(targets, frame, hit_matrix(targets, frame)).set_index("target")
    assert table.loc["reached", "reached"] == 10 and table.loc["reached", "reached_share"] == 1
    assert table.loc["too_low", "side"] == "below" and table.loc["too_low", "reached"] == 0
    assert table.loc["too_high", "side"] == "above"
    assert table.loc["stepped_over", "side"] == "either side"  # 4 and 5 but nothing between
    assert table.loc["reached", "sim_min"] == 0 and table.loc["reached", "sim_max"] == 9
    assert table.loc["reached", "sim_q50"] == pytest.approx(4.5)


def test_targets_tied_against_the_sources_are_a_conflict_and_independent_ones_are_not():
    rng = np.random.default_rng(3)
    n = 1000
    x = rng.uniform(size=n)
    targets = [target("low_x", 0, 0.3), target("high_x", 0.7, 1), target("u", 0, 0.3),
               target("v", 0, 0.3)]
    frame = pd.DataFrame({"low_x": x, "high_x": x, "u": rng.uniform(size=n),
                          "v": rng.uniform(size=n)})
    found = analyse(targets, frame)
    pairs = found.pairs.set_index(["target_a", "target_b"])
    exclusive = pairs.loc[("low_x", "high_x")]
    assert exclusive["joint"] == 0  # one statistic cannot be low and high at once
    hits_a, hits_b = exclusive["hits_a"], exclusive["hits_b"]
    assert exclusive["expected"] == pytest.approx(hits_a * hits_b / n)
    # Fisher's exact test: the chance that hits_b runs drawn from n include none of a's
    assert exclusive["p_value"] == pytest.approx(
        math.comb(n - hits_a, hits_b) / math.comb(n, hits_b))
    assert bool(exclusive["conflict"])
    independent = pairs.loc[("u", "v")]
    assert not bool(independent["conflict"])
    assert 0.7 < independent["lift"] < 1.3
    assert list(found.conflicts[["target_a", "target_b"]].itertuples(index=False, name=None)) \
        == [("low_x", "high_x")]
    expected_hits = ((x <= 0.3).astype(int) + (x >= 0.7) + (frame["u"] <= 0.3)
                     + (frame["v"] <= 0.3))
    assert found.hits_per_run.tolist() == expected_hits.tolist()
    assert found.unreached == []


def test_a_pair_too_rare_to_judge_is_not_a_conflict_however_unlikely():
    n = 18
    hits = pd.DataFrame({"a": [1.0] * 9 + [0.0] * 9, "b": [0.0] * 9 + [1.0] * 9})
    pair = pair_conflicts(hits).iloc[0]
    assert pair["joint"] == 0 and pair["expected"] == pytest.approx(4.5)
    assert pair["p_value"] == pytest.approx(1 / math.comb(n, 9))  # 2e-5
    assert not bool(pair["conflict"])  # 4.5 joint hits expected: below MIN_EXPECTED
    doubled = pd.concat([hits, hits], ignore_index=True)
    assert bool(pair_conflicts(doubled).iloc[0]["conflict"])  # 9 expected, none: a conflict


def test_failed_runs_are_left_out_and_pairs_use_the_runs_that_measured_both():
    targets = [target("a", 0, 1), target("b", 0, 1), target("c", 0, 1)]
    frame = pd.DataFrame({"a": [0.5, 0.5, 5.0, 5.0, np.nan],
                          "b": [0.5, 5.0, 0.5, np.nan, np.nan],
                          "c": [0.5, 0.5, 0.5, 0.5, np.nan]})
    found = analyse(targets, frame)
    assert found.runs == 4  # the last run failed: no statistic at all
    table = found.targets.set_index("target")
    assert table.loc["b", "runs"] == 3 and table.loc["b", "reached"] == 2
    pairs = found.pairs.set_index(["target_a", "target_b"])
    ab = pairs.loc[("a", "b")]  # judged on the 3 runs measuring both
    assert (ab["hits_a"], ab["hits_b"], ab["joint"]) == (2, 2, 1)
    assert ab["expected"] == pytest.approx(2 * 2 / 3)
    ac = pairs.loc[("a", "c")]
    assert (ac["hits_a"], ac["hits_b"], ac["joint"]) == (2, 4, 2)
    assert found.hits_per_run.tolist() == [3, 2, 2, 1]


def test_the_sweep_spans_the_priors_with_one_seed_per_run(short_path):
    from sim.calibration.distances import Prior
    from sim.calibration.targets import DEFAULT_TARGETS, load_targets
    from sim.scenario import load_scenario

    short = load_scenario(short_path)
    priors = [Prior("parameters.combat.engage_probability", 0.1, 0.5, justification="j"),
              Prior("parameters.violence.base_rate", 1e-4, 1e-2, "log", justification="j")]
    targets = load_targets(DEFAULT_TARGETS)
    frame = sweep_priors(short, priors, targets, runs=4, seed=5, workers=1, progress=False)
    assert len(frame) == 4 and frame["seed"].nunique() == 4
    engage = np.sort(frame["parameters.combat.engage_probability"].to_numpy())
    # a Latin hypercube: one point in each quarter of the prior
    assert np.array_equal(np.floor((engage - 0.1) / 0.1), np.arange(4))
    rate = np.log10(frame["parameters.violence.base_rate"].to_numpy())
    assert np.array_equal(np.floor((np.sort(rate) + 4) / 0.5), np.arange(4))
    assert {t.name for t in targets} <= set(frame.columns)
    again = sweep_priors(short, priors, targets, runs=4, seed=5, workers=1, progress=False)
    pd.testing.assert_frame_equal(frame, again)


def test_a_weak_tie_in_many_runs_is_not_a_conflict_however_significant():
    n = 10_000
    a = np.zeros(n, dtype=bool)
    b = np.zeros(n, dtype=bool)
    a[:5000] = True
    b[1000:6000] = True  # 4,000 joint hits against 2,500 expected: more, not fewer
    b2 = np.zeros(n, dtype=bool)
    b2[3000:8000] = True  # 2,000 joint against 2,500: p far below 1e-20, but lift 0.8
    pairs = pair_conflicts(pd.DataFrame({"a": a, "b": b, "c": b2}).astype(float))
    weak = pairs.set_index(["target_a", "target_b"]).loc[("a", "c")]
    assert weak["p_value"] < 1e-20 and weak["lift"] == pytest.approx(0.8)
    assert not pairs["conflict"].any()


def test_runs_are_reused_only_for_the_same_config_and_a_failed_sweep_keeps_the_old(tmp_path):
    from sim.calibration.reachability import CONFIG_FILE, RUNS_FILE, load_or_sweep
    from sim.experiments.experiment import spawn_seeds

    calls = []

    def sweep(value):
        def run():
            calls.append(value)
            return pd.DataFrame({"seed": spawn_seeds(0, 3), "p": [0.1, 0.2, 0.3],
                                 "t": [value] * 3})
        return run

    config = {"behaviour_hash": "a", "runs": 3, "seed": 0, "priors": [["p", 0, 1, "linear"]],
              "targets": [["t", 0, 1, "deaths"]]}
    first, swept = load_or_sweep(tmp_path, config, sweep(1.0))
    assert swept and calls == [1.0] and first["t"].tolist() == [1.0] * 3
    again, swept = load_or_sweep(tmp_path, config, sweep(2.0))
    assert not swept and calls == [1.0]
    pd.testing.assert_frame_equal(first, again)
    changed = {**config, "behaviour_hash": "b"}  # the scenario's content changed
    assert load_or_sweep(tmp_path, changed, sweep(3.0))[0]["t"].tolist() == [3.0] * 3
    (tmp_path / CONFIG_FILE).unlink()  # runs without their config are not trusted
    assert load_or_sweep(tmp_path, changed, sweep(4.0))[1] and calls == [1.0, 3.0, 4.0]

    def failing():
        raise RuntimeError("every run failed")

    before = (tmp_path / RUNS_FILE).read_text(encoding="utf-8")
    with pytest.raises(RuntimeError):
        load_or_sweep(tmp_path, config, failing)
    assert (tmp_path / RUNS_FILE).read_text(encoding="utf-8") == before
    assert load_or_sweep(tmp_path, changed, sweep(5.0))[1] is False  # still the 4.0 runs


def test_the_sweep_config_holds_the_model_code(monkeypatch, tmp_path):
    """A changed model (its code digest) runs the sweep again instead of reusing its runs."""
    import sim.code_digest
    from sim.calibration.calibrate import DEFAULT_PRIORS, load_priors
    from sim.calibration.reachability import load_or_sweep, sweep_config
    from sim.calibration.targets import DEFAULT_TARGETS, load_targets
    from sim.experiments.experiment import spawn_seeds
    from sim.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")
    priors = load_priors(DEFAULT_PRIORS, scenario)[:1]
    targets = load_targets(DEFAULT_TARGETS)[:1]
    now = sweep_config(scenario, priors, targets, 3, 0)
    assert now["model_code"] == sim.code_digest.code_digest()
    monkeypatch.setattr(sim.code_digest, "code_digest", lambda: "e" * 64)
    edited = sweep_config(scenario, priors, targets, 3, 0)
    assert edited["model_code"] == "e" * 64 and {**edited, "model_code": now["model_code"]} == now
    frame = pd.DataFrame({"seed": spawn_seeds(0, 3), priors[0].name: [0.1, 0.2, 0.3],
                          targets[0].name: [1.0, 2.0, 3.0]})
    assert load_or_sweep(tmp_path, now, lambda: frame)[1] is True
    assert load_or_sweep(tmp_path, now, lambda: frame)[1] is False
    assert load_or_sweep(tmp_path, edited, lambda: frame)[1] is True  # swept again


def test_a_sweep_outlives_an_edited_note_but_not_an_edited_parameter(baseline):
    from sim.calibration.reachability import sweep_identity
    from sim.calibration.targets import DEFAULT_TARGETS, load_targets

    targets = load_targets(DEFAULT_TARGETS)
    renoted = baseline.model_copy(update={"description": "edited after the sweep"})
    assert sweep_identity(renoted, targets) == sweep_identity(baseline, targets)
    restrained = baseline.model_copy(deep=True)
    restrained.parameters.violence.reprisal_half_life = 90.0
    assert sweep_identity(restrained, targets) != sweep_identity(baseline, targets)
