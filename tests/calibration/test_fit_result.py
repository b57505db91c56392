"""FitResult: weighted intervals, Kish's effective sample size, the files and provenance."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from sim.calibration.fit_result import (
    FIT_FILE,
    FitResult,
    SimulationBar,
    checkout_commit,
    effective_sample_size,
    generation_line,
    run_provenance,
    weighted_quantile,
)


def test_weighted_quantiles_interpolate_between_weight_midpoints():
    # midpoints of the cumulative weights: 0.05, 0.15, 0.25, 0.65
    values, weights = [4.0, 1.0, 3.0, 2.0], [0.7, 0.1, 0.1, 0.1]
    assert weighted_quantile(values, weights, [0.25, 0.5, 0.75]) == pytest.approx(
        [3.0, 3.625, 4.0])


def test_intervals_per_parameter():
    posterior = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "log.y": [10.0, 20, 30, 40],
                              "weight": [0.1, 0.1, 0.1, 0.7]})
    intervals = FitResult(posterior, pd.DataFrame(), "max_generations").intervals(0.5)
    assert list(intervals.parameter) == ["x", "log.y"]
    assert intervals.iloc[0][["low", "median", "high"]].tolist() == pytest.approx(
        [3.0, 3.625, 4.0])
    assert intervals.iloc[1]["median"] == pytest.approx(36.25)


def test_kish_effective_sample_size():
    assert effective_sample_size(np.ones(50)) == pytest.approx(50)
    assert effective_sample_size([0.5, 0.5, 0.0, 0.0]) == pytest.approx(2)
    assert effective_sample_size([3.0, 1.0]) == pytest.approx(16 / 10)
    assert effective_sample_size([]) == 0.0


def test_write_replaces_files_whole(tmp_path):
    generations = pd.DataFrame({"generation": [0], "epsilon": [np.inf], "simulations": [10],
                                "accepted": [10], "acceptance_rate": [1.0],
                                "effective_sample_size": [10.0], "wall_seconds": [0.5]})
    result = FitResult(pd.DataFrame({"x": [1.0], "weight": [1.0]}), generations,
                       "min_epsilon", 3, {"seed": 4})
    (tmp_path / FIT_FILE).write_text("old")
    paths = result.write(tmp_path)
    assert [p.name for p in paths] == ["posterior.csv", "generations.csv", "fit.json"]
    record = json.loads((tmp_path / FIT_FILE).read_text())
    assert record["seed"] == 4 and record["stop_reason"] == "min_epsilon"
    assert record["posterior_sha256"] == hashlib.sha256(
        (tmp_path / "posterior.csv").read_bytes()).hexdigest()
    assert record["totals"] == {"simulations": 10, "generations": 1, "wall_seconds": 0.5,
                                "discarded_simulations_this_session": 3,
                                "final_effective_sample_size": 10.0}
    assert not list(tmp_path.glob(".*tmp*"))


def test_provenance_names_versions_and_commit():
    record = run_provenance("0.13.0")
    assert record["versions"]["pyabc"] == "0.13.0"
    assert record["versions"]["sahel-sim"]
    assert record["git"]["commit"] is None or len(record["git"]["commit"]) == 40
    assert record["git"] == checkout_commit()


def test_provenance_keeps_a_commit_read_earlier():
    earlier = {"commit": "a" * 40, "dirty": True}
    assert run_provenance("0.13.0", earlier)["git"] == earlier


ROW = {"generation": 3, "epsilon": 0.41234, "simulations": 800, "accepted": 200,
       "acceptance_rate": 0.25, "effective_sample_size": 131.6, "wall_seconds": 2.04,
       "total_simulations": 5200}


def test_a_generation_in_one_line():
    assert generation_line(ROW) == ("generation 3: epsilon 0.4123, accepted 200/800 (25.0%), "
                                    "ESS 132, 2.0 s; 5200 simulations so far")


def test_the_bar_counts_simulations_against_the_budget(capsys):
    bar = SimulationBar(10_000, desc="fit")
    bar(ROW)
    bar({**ROW, "generation": 4, "total_simulations": 12_000})  # a last generation past it
    assert bar.bar.n == 10_000
    bar.close()
    shown = capsys.readouterr().err
    assert "fit" in shown and "gen 4 eps 0.412 acc 25% ESS 132" in shown
