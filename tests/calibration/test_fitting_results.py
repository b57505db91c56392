"""ABC-SMC fitting of the synthetic problem (synthetic_problem.py): a posterior that covers a
known truth, the stopping rules, the files written, the settings and the samplers.

Resuming, folders that are refused and failing simulators: test_fitting_resume_and_failures.py.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys

import numpy as np
import pandas as pd
import pytest

from sim.calibration.fit_result import FIT_FILE, GENERATIONS_FILE, POSTERIOR_FILE, FitResult
from sim.calibration.fitting import DB_NAME, FitError, Summary, fit, import_pyabc

from .synthetic_problem import IDENTIFIED, PRIORS, TRUTH, quick_fit, simulate, targets

pytest.importorskip("pyabc")


def check_posterior(result: FitResult, population: int) -> tuple[float, float]:
    """The share of true parameters inside their 90 % intervals; final ESS / population."""
    intervals = result.intervals(0.9).set_index("parameter")
    covered = [intervals.low[k] <= v <= intervals.high[k] for k, v in TRUTH.items()]
    return float(np.mean(covered)), result.generations.effective_sample_size.iloc[-1] / population


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


def test_the_time_budget_stops_the_fit_between_generations(tmp_path):
    # A budget of 1e-6 minutes: generation 0 is recorded (nothing predicted it), and then
    # the budget is spent.
    result = quick_fit(tmp_path, max_generations=20, max_minutes=1e-6)
    assert result.stop_reason == "max_minutes" and result.total_generations == 1
    assert result.record()["stopped_because"] == "the time budget is spent"
    assert result.stop_detail.startswith("generation 1 was not started: the generations so "
                                         "far took 0.0 min of 1e-06")
    assert json.loads((tmp_path / FIT_FILE).read_text())["settings"]["max_minutes"] == 1e-6


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
                                   "counterfactual": "", "mechanism": "", "fit": ""}
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


def test_the_commit_recorded_is_the_one_the_fit_started_on(tmp_path, monkeypatch):
    from sim.calibration import fit_result

    simulated = []

    def counted(params, seed):
        simulated.append(seed)
        return simulate(params, seed)

    # the checkout "moves on" once the first simulation has run
    monkeypatch.setattr(fit_result, "checkout_commit", lambda: {
        "commit": ("b" if simulated else "a") * 40, "dirty": False})
    fit(counted, PRIORS, targets(), tmp_path, population=20, max_generations=1, workers=1,
        seed=2, command="pytest")
    assert simulated
    assert json.loads((tmp_path / FIT_FILE).read_text())["git"]["commit"] == "a" * 40


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
    ({"max_minutes": 0}, "max_minutes: expected a number of minutes > 0 (or none), got 0"),
    ({"max_minutes": math.nan}, "max_minutes: expected a number of minutes > 0 (or none)"),
])
def test_bad_settings_are_named(tmp_path, settings, message):
    with pytest.raises(FitError, match=f"^{re.escape(message)}"):
        quick_fit(tmp_path / "out", **settings)
    assert not (tmp_path / "out").exists()


def test_repeated_priors_are_refused(tmp_path):
    with pytest.raises(FitError, match=r"prior names must be unique \(fitted and drawn\): a "
                                       "repeated"):
        fit(simulate, [*PRIORS, PRIORS[0]], targets(), tmp_path)
    with pytest.raises(FitError, match=r"\(fitted and drawn\): b repeated"):
        fit(simulate, PRIORS, targets(), tmp_path, drawn=[PRIORS[1]])


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
