"""ABC-SMC fitting: a posterior that covers a known truth, resuming, stopping rules, failing
simulators and the files written.

The synthetic simulator has 8 parameters (4 on a log prior) and 9 noisy monotone summaries
(5 compared on the log scale); its "sourced" ranges are set around one noisy realisation at
the true parameters, about as wide as typical sourced ranges (x/÷ 1.4, or ± 0.5).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.distances import FAILED
from sim.calibration.fit_result import FIT_FILE, GENERATIONS_FILE, POSTERIOR_FILE, FitResult
from sim.calibration.fitting import DB_NAME, FitError, Prior, Summary, _Particle, fit, import_pyabc

pytest.importorskip("pyabc")

TRUTH = {"a": 30.0, "b": 0.5, "c": 0.3, "d": 1.0, "e": 800.0, "f": 6.0, "g": 3.0, "h": 0.7}
PRIORS = [Prior("a", 1, 1000, "log", "toy: three orders of magnitude"),
          Prior("b", 0.01, 10, "log", "toy"), Prior("c", 0, 1, "linear", "toy: a share"),
          Prior("d", -5, 5, "linear", "toy"), Prior("e", 10, 1e4, "log", "toy"),
          Prior("f", 0, 10, "linear", "toy"), Prior("g", 0.1, 100, "log", "toy"),
          Prior("h", 0, 1, "linear", "toy")]
LOG_SUMMARIES = {"s1", "s2", "s5", "s6", "s7"}
IDENTIFIED = ["a", "e", "f", "g"]  # each has a summary of its own: the fit must narrow them


def simulate(p: dict[str, float], seed: int) -> dict[str, float]:
    """Noisy monotone summaries of the toy parameters (about 10 % or a fixed noise)."""
    rng = np.random.default_rng(seed)
    lognormal = lambda: math.exp(rng.normal(0.0, 0.1))  # noqa: E731
    return {"s1": p["a"] * lognormal(), "s2": p["a"] * p["b"] * lognormal(),
            "s3": p["c"] + rng.normal(0, 0.03), "s4": p["d"] + 2 * p["c"] + rng.normal(0, 0.2),
            "s5": p["e"] * lognormal(), "s6": p["g"] * lognormal(),
            "s7": p["e"] / p["g"] * lognormal(), "s8": p["f"] + rng.normal(0, 0.3),
            "s9": p["h"] * p["f"] + rng.normal(0, 0.2)}


def targets() -> list[Summary]:
    observed = simulate(TRUTH, 12345)
    return [Summary(k, v / 1.4, v * 1.4, value=v, log=True) if k in LOG_SUMMARIES
            else Summary(k, v - 0.5, v + 0.5, value=v) for k, v in observed.items()]


def check_posterior(result: FitResult, population: int) -> tuple[float, float]:
    """The share of true parameters inside their 90 % intervals; final ESS / population."""
    intervals = result.intervals(0.9).set_index("parameter")
    covered = [intervals.low[k] <= v <= intervals.high[k] for k, v in TRUTH.items()]
    return float(np.mean(covered)), result.generations.effective_sample_size.iloc[-1] / population


def quick_fit(out, **settings):
    options = {"population": 40, "max_generations": 2, "workers": 1, "seed": 5,
               "command": "pytest"} | settings
    return fit(simulate, PRIORS, targets(), out, **options)


# --------------------------------------------------------------------------------------------
# The posterior: coverage of a known truth, a healthy effective sample size
# --------------------------------------------------------------------------------------------


def test_posterior_intervals_cover_the_truth_with_healthy_weights(tmp_path):
    rows = []
    result = fit(simulate, PRIORS, targets(), tmp_path, population=150, max_generations=8,
                 epsilon_quantile=0.3, max_total_simulations=20_000, workers=1, seed=3,
                 progress=rows.append)
    coverage, ess_share = check_posterior(result, 150)
    assert coverage >= 0.8
    assert ess_share >= 0.2
    assert result.stop_reason == "max_generations" and result.total_generations == 8
    # the fit learned: identified parameters' intervals are under half their prior range
    intervals = result.intervals(0.9).set_index("parameter")
    for prior in PRIORS:
        if prior.name in IDENTIFIED:
            low, high = prior.sampled_bounds
            span = (np.log(intervals.high[prior.name]) - np.log(intervals.low[prior.name])
                    if prior.scale == "log" else intervals.high[prior.name]
                    - intervals.low[prior.name])
            assert span < 0.5 * (high - low), prior.name
    # epsilon falls every generation; progress saw each generation with the running total
    assert np.all(np.diff(result.generations.epsilon.to_numpy()[1:]) < 0)
    assert [r["generation"] for r in rows] == list(range(8))
    assert rows[-1]["total_simulations"] == result.total_simulations
    assert result.generations.effective_sample_size.iloc[0] == pytest.approx(150)


def test_the_check_fails_a_degenerate_or_wrong_posterior():
    draws = pd.DataFrame({k: np.full(100, v) for k, v in TRUTH.items()})
    generations = pd.DataFrame({"effective_sample_size": [100.0, 1.02], "simulations": [1, 1],
                                "wall_seconds": [0.0, 0.0]})
    degenerate = FitResult(draws.assign(weight=np.r_[0.99, np.full(99, 0.01 / 99)]),
                           generations, "max_generations")
    assert check_posterior(degenerate, 100)[1] < 0.2
    wrong = FitResult(draws.assign(a=5.0, e=50.0, weight=0.01), generations, "max_generations")
    assert check_posterior(wrong, 100)[0] == pytest.approx(6 / 8)


# --------------------------------------------------------------------------------------------
# Resuming
# --------------------------------------------------------------------------------------------


def test_a_second_call_resumes_the_database_and_matches_an_uninterrupted_fit(tmp_path):
    first = quick_fit(tmp_path / "split", max_generations=2)
    assert first.total_generations == 2 and first.stop_reason == "max_generations"
    db = tmp_path / "split" / DB_NAME
    size = db.stat().st_size
    resumed = quick_fit(tmp_path / "split", max_generations=4)
    assert list(resumed.generations.generation) == [0, 1, 2, 3]
    assert resumed.metadata["resumed_from_generation"] == 2
    pd.testing.assert_frame_equal(resumed.generations.iloc[:2, :6], first.generations.iloc[:, :6])
    assert db.stat().st_size > size
    whole = quick_fit(tmp_path / "whole", max_generations=4)
    assert whole.metadata["resumed_from_generation"] is None
    pd.testing.assert_frame_equal(whole.posterior, resumed.posterior)
    # a finished fit called again runs nothing and reports the same posterior
    again = quick_fit(tmp_path / "split", max_generations=4)
    assert again.total_simulations == resumed.total_simulations
    pd.testing.assert_frame_equal(again.posterior, resumed.posterior)


def slow_simulate(p: dict[str, float], seed: int) -> dict[str, float]:
    time.sleep(0.01)
    return simulate(p, seed)


def finished_generations(db: Path) -> int:
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as con:
        try:
            return con.execute("select count(*) from populations where t >= 0").fetchone()[0]
        except sqlite3.OperationalError:  # tables not created yet
            return 0


@pytest.mark.slow
def test_a_killed_fit_resumes_where_it_stopped(tmp_path):
    script = ("import sys; sys.path.insert(0, sys.argv[2]);"
              "from tests.calibration.test_fitting import *;"
              "fit(slow_simulate, PRIORS, targets(), sys.argv[1], population=40,"
              " max_generations=6, workers=1, seed=5)")
    root = str(Path(__file__).resolve().parents[2])
    child = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "killed"), root])
    try:
        deadline = time.monotonic() + 120
        while finished_generations(tmp_path / "killed" / DB_NAME) < 2:
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()
    stored = finished_generations(tmp_path / "killed" / DB_NAME)
    assert 2 <= stored < 6
    resumed = quick_fit(tmp_path / "killed", max_generations=6)
    assert resumed.metadata["resumed_from_generation"] == stored
    assert list(resumed.generations.generation) == list(range(6))
    whole = quick_fit(tmp_path / "whole", max_generations=6)
    pd.testing.assert_frame_equal(whole.posterior, resumed.posterior)


def test_a_folder_holding_another_fit_is_refused_and_kept(tmp_path):
    quick_fit(tmp_path, max_generations=1)
    before = (tmp_path / DB_NAME).read_bytes()
    other = [*targets()[:-1], Summary("s9", 0.0, 9.0)]
    with pytest.raises(FitError, match=r"abc.db: holds a fit with other summaries \('s9'"):
        fit(simulate, PRIORS, other, tmp_path, population=40, workers=1)
    with pytest.raises(FitError, match="other priors"):
        fit(simulate, [*PRIORS[:-1], Prior("h", 0, 2, "linear", "wider")], targets(),
            tmp_path, population=40, workers=1)
    assert (tmp_path / DB_NAME).read_bytes() == before


def test_a_file_that_is_not_a_pyabc_database_is_refused_and_kept(tmp_path):
    (tmp_path / DB_NAME).write_text("not a database\n")
    with pytest.raises(FitError, match=r"abc\.db: not a readable pyabc database"):
        quick_fit(tmp_path)
    assert (tmp_path / DB_NAME).read_text() == "not a database\n"


def test_a_folder_in_use_is_refused(tmp_path):
    from sim.experiments.result_store import ResultStore

    holder = ResultStore(tmp_path)
    holder._take_lock()
    try:
        with pytest.raises(FitError, match="in use by another sahel-sim command"):
            quick_fit(tmp_path)
    finally:
        holder.close()


# --------------------------------------------------------------------------------------------
# Stopping rules
# --------------------------------------------------------------------------------------------


def test_the_simulation_budget_is_a_hard_cap(tmp_path):
    result = quick_fit(tmp_path, max_generations=20, max_total_simulations=300)
    assert result.stop_reason == "max_total_simulations"
    assert result.total_simulations <= 300
    assert result.record()["stopped_because"] == "the simulation budget is spent"


def test_a_generation_predicted_to_pass_the_budget_is_not_started(tmp_path):
    # Generation 0 (40 prior draws, all kept) leaves 60 simulations; generation 1 is expected
    # to accept at most the epsilon quantile (0.5), so to need about 80: the fit stops there.
    result = quick_fit(tmp_path, max_generations=20, max_total_simulations=100)
    assert result.stop_reason == "max_total_simulations"
    assert result.total_generations == 1 and result.total_simulations == 40
    assert result.discarded_simulations == 1  # the trial draw only: nothing thrown away
    record = json.loads((tmp_path / FIT_FILE).read_text())
    assert record["stop_detail"] == (
        "generation 1 was not started: at an acceptance rate of 50.0% (the last generation's, "
        "at most the epsilon quantile) it would need about 80 simulations, more than the 60 "
        "left")


def test_a_generation_that_runs_out_of_the_budget_is_discarded_and_said_so(tmp_path):
    result = quick_fit(tmp_path, max_generations=20, max_total_simulations=150)
    assert result.stop_reason == "max_total_simulations" and result.total_simulations == 40
    assert result.discarded_simulations == 1 + 110
    assert result.stop_detail == ("generation 1 did not finish within the 110 simulations "
                                  "left; its 110 were discarded")


def test_a_low_acceptance_rate_stops_the_fit(tmp_path):
    result = quick_fit(tmp_path, max_generations=20, min_acceptance_rate=0.3)
    assert result.stop_reason == "min_acceptance_rate"
    assert result.discarded_simulations > 1  # the trial draw and the generation given up
    assert (result.generations.acceptance_rate >= 0.3).all()


def test_epsilon_zero_stops_the_fit_when_every_simulation_is_inside(tmp_path):
    wide = [Summary(s.name, low=-1e9) if s.name == "s1" else Summary(s.name, -1e9, 1e9)
            for s in targets()]  # one open-ended
    result = fit(simulate, PRIORS, wide, tmp_path, population=20, workers=1, seed=1)
    assert result.stop_reason == "min_epsilon"
    assert list(result.generations.epsilon) == [math.inf, 0.0]


# --------------------------------------------------------------------------------------------
# Failing simulators
# --------------------------------------------------------------------------------------------


def fails_above_100(p: dict[str, float], seed: int) -> dict[str, float]:
    if p["a"] > 100:
        raise RuntimeError("unstable")
    return simulate(p, seed)


def test_a_failing_particle_is_rejected_and_logged(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="sim.calibration.fitting"):
        result = fit(fails_above_100, PRIORS, targets(), tmp_path, population=40,
                     max_generations=2, workers=1, seed=2)
    assert (result.posterior.a <= 100).all()
    assert any("simulate failed" in r.message and "RuntimeError: unstable" in r.message
               for r in caplog.records)
    # a prior draw above 100 (a third of the log range) fails: more simulations than particles
    assert result.generations.simulations.iloc[0] > 40


def test_a_failing_particle_logs_the_notes_of_its_error(caplog):
    def fails_with_a_note(p, seed):
        error = RuntimeError("unstable\nsecond line")
        error.add_note("in run 2 of 3 of this particle, seed 7")
        error.add_note("another note")
        raise error

    particle = _Particle(fails_with_a_note, PRIORS[:1], ["s1"])
    with caplog.at_level(logging.WARNING, logger="sim.calibration.fitting"):
        assert particle({PRIORS[0].key: 0.0}) == {FAILED: 1.0}  # a = 31.6
    [record] = caplog.records
    assert re.fullmatch(r"simulate failed \(seed \d+, \{'a': 31\.6\d*\}\): RuntimeError: "
                        r"unstable; in run 2 of 3 of this particle, seed 7; another note",
                        record.getMessage())


def test_a_simulator_that_always_fails_stops_before_the_fit(tmp_path):
    def broken(p, seed):
        raise ValueError("no such parameter: x\nsecond line")

    with pytest.raises(FitError, match=r"^simulate failed on all 5 trial parameter sets drawn "
                                       r"from the priors; the first error: ValueError: no such "
                                       r"parameter: x$"):
        fit(broken, PRIORS, targets(), tmp_path, population=20, workers=1)
    assert not (tmp_path / DB_NAME).exists()


def fails_above_30(p: dict[str, float], seed: int) -> dict[str, float]:
    if p["a"] > 30:
        raise RuntimeError("unstable")
    return simulate(p, seed)


def test_a_fit_whose_first_generation_cannot_finish_says_so(tmp_path):
    # half the prior fails: generation 0 accepts about 50 %, below the 60 % asked
    with pytest.raises(FitError, match=r"^no generation finished \(min acceptance rate "
                                       r"reached after \d+ simulations\)"):
        fit(fails_above_30, PRIORS, targets(), tmp_path, population=20, workers=1, seed=1,
            min_acceptance_rate=0.6)
    assert (tmp_path / DB_NAME).exists()  # kept: the same call resumes it


def test_a_missing_summary_is_named(tmp_path):
    def partial(p, seed):
        return {k: v for k, v in simulate(p, seed).items() if k != "s4"}

    with pytest.raises(FitError, match=r"simulate returned no value for summary 's4' \(it "
                                       r"returned: s1, s2, s3, s5"):
        fit(partial, PRIORS, targets(), tmp_path, population=20, workers=1)


# --------------------------------------------------------------------------------------------
# Files and settings
# --------------------------------------------------------------------------------------------


def test_the_files_hold_the_posterior_generations_and_their_origin(tmp_path):
    result = quick_fit(tmp_path, seed=9)
    posterior = pd.read_csv(tmp_path / POSTERIOR_FILE)
    assert list(posterior.columns) == [*TRUTH, "weight"]
    assert posterior.weight.sum() == pytest.approx(1.0)
    assert len(posterior) == 40
    for prior in PRIORS:
        assert posterior[prior.name].between(prior.low, prior.high).all()
    pd.testing.assert_frame_equal(posterior, result.posterior, check_exact=False, rtol=1e-12)
    generations = pd.read_csv(tmp_path / GENERATIONS_FILE)
    assert list(generations.columns) == ["generation", "epsilon", "simulations", "accepted",
                                         "acceptance_rate", "effective_sample_size",
                                         "wall_seconds"]
    assert list(generations.generation) == [0, 1]
    record = json.loads((tmp_path / FIT_FILE).read_text())
    assert record["command"] == "pytest" and record["seed"] == 9
    assert record["priors"][0] == {"name": "a", "low": 1, "high": 1000, "scale": "log",
                                   "justification": "toy: three orders of magnitude",
                                   "counterfactual": ""}
    assert [s["name"] for s in record["summaries"]] == [f"s{i}" for i in range(1, 10)]
    assert record["summaries"][0]["log"] is True
    assert record["settings"]["population"] == 40
    assert record["settings"]["sampler"] == "SingleCoreSampler"
    assert record["versions"]["pyabc"] == "0.13.0" and record["versions"]["sahel-sim"]
    assert len(record["git"]["commit"]) == 40
    assert record["totals"]["simulations"] == generations.simulations.sum()
    assert record["totals"]["generations"] == 2
    assert record["stop_reason"] == "max_generations"
    assert record["started"] <= record["finished"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", DB_NAME, FIT_FILE,
                                                          GENERATIONS_FILE, POSTERIOR_FILE]


@pytest.mark.parametrize(("settings", "message"), [
    ({"population": 5}, "population: expected a whole number >= 10, got 5"),
    ({"max_total_simulations": 10}, "max_total_simulations: expected a whole number >= "
                                    "population (40), got 10"),
    ({"min_acceptance_rate": 1.0}, "min_acceptance_rate: expected a number from 0 to below 1"),
    ({"workers": 0}, "workers: expected a whole number >= 1, got 0"),
    ({"seed": -1}, "seed: expected a whole number >= 0, got -1"),
    ({"epsilon_quantile": 1.5}, "epsilon_quantile: expected a number between 0 and 1"),
    ({"transition_scaling": math.inf}, "transition_scaling: expected a finite number > 0"),
    ({"min_epsilon": "0"}, "min_epsilon: expected a number >= 0, got '0'"),
    ({"population": True}, "population: expected a whole number >= 10, got True"),
])
def test_bad_settings_are_named(tmp_path, settings, message):
    with pytest.raises(FitError, match=f"^{re.escape(message)}"):
        quick_fit(tmp_path / "out", **settings)
    assert not (tmp_path / "out").exists()


def test_repeated_priors_are_refused(tmp_path):
    with pytest.raises(FitError, match="prior names must be unique: a repeated"):
        fit(simulate, [*PRIORS, PRIORS[0]], targets(), tmp_path)


def test_without_pyabc_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyabc", None)
    with pytest.raises(FitError, match=r"pip install 'sahel-sim\[calibrate\]'"):
        import_pyabc()


def test_pyabc_is_quiet_by_default():
    import_pyabc()
    assert logging.getLogger("ABC").getEffectiveLevel() == logging.WARNING


def test_two_local_workers_fit_too(tmp_path):
    result = quick_fit(tmp_path, workers=2)
    assert result.metadata["settings"]["sampler"] == "MulticoreEvalParallelSampler"
    assert result.total_generations == 2 and len(result.posterior) == 40


@pytest.mark.slow
def test_a_dask_client_fits_too(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        result = quick_fit(tmp_path, scheduler=client)
    assert result.metadata["settings"]["sampler"] == "DaskDistributedSampler"
    assert result.total_generations == 2 and len(result.posterior) == 40
