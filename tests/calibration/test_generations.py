"""The stopping rules between generations (sim.calibration.generations), on stand-in histories.

The rules as they act in real fits are tested in test_fitting_results.py ("Stopping rules").
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from sim.calibration.generations import stop_reason


def populations(*generations: tuple[int, int]) -> SimpleNamespace:
    """A stand-in for pyabc's History: (particles, samples) of each generation."""
    rows = [(-1, 1, 0, math.inf)] + [(t, particles, samples, 2.0 - t) for t, (particles, samples)
                                     in enumerate(generations)]  # pyabc's row -1 is never used
    table = pd.DataFrame(rows, columns=["t", "particles", "samples", "epsilon"])
    return SimpleNamespace(get_all_populations=lambda: table)


def budget_stop(history: SimpleNamespace, population: int, budget: int):
    return stop_reason(history, {"population": population, "max_generations": 20,
                                 "max_total_simulations": budget, "min_acceptance_rate": 0.02,
                                 "min_epsilon": 0.0, "epsilon_quantile": 0.5})


@pytest.mark.parametrize(("generations", "population", "budget", "detail"), [
    # the 3-seed fit: 99.8% then 35.7% predicts 12.8%, 3,918 simulations; 1,698 were left
    ([(500, 501), (500, 1401)], 500, 3600, "generation 2 was not started: at an expected "
     "acceptance rate of 12.8% (the last generation's 35.7% times its fall from 99.8%, at most "
     "the epsilon quantile) it would need about 3,918 simulations, more than the 1,698 left"),
    ([(500, 501), (500, 1401)], 500, 1902 + 3918, None),  # the predicted 3,917.8 fit in
    # a rate that rose predicts the last rate: 100 / 25% = 400 simulations
    ([(100, 500), (100, 400)], 100, 900 + 399, "generation 2 was not started: at an expected "
     "acceptance rate of 25.0% (the last generation's 25.0%, not below the 20.0% before it, at "
     "most the epsilon quantile) it would need about 400 simulations, more than the 399 left"),
    ([(100, 500), (100, 400)], 100, 900 + 400, None),
    # 96.2% after 99.8% predicts 92.6%, capped at the epsilon quantile: 500 / 50% = 1,000
    ([(500, 501), (500, 520)], 500, 1021 + 999, "generation 2 was not started: at an expected "
     "acceptance rate of 50.0% (the last generation's 96.2% times its fall from 99.8%, at most "
     "the epsilon quantile) it would need about 1,000 simulations, more than the 999 left"),
    # one generation: its own rate, at most the epsilon quantile
    ([(100, 400)], 100, 400 + 399, "generation 1 was not started: at an acceptance rate of "
     "25.0% (the last generation's, at most the epsilon quantile) it would need about 400 "
     "simulations, more than the 399 left"),
    ([(100, 400)], 100, 400 + 400, None),
])
def test_the_budget_carries_the_last_fall_in_acceptance_one_generation_further(
        generations, population, budget, detail):
    stop = budget_stop(populations(*generations), population, budget)
    assert stop == (None if detail is None else ("max_total_simulations", detail))


def test_a_generation_that_accepted_nothing_stops_on_the_acceptance_rule_without_error():
    stop = budget_stop(populations((100, 100), (0, 500)), 100, 10_000)
    assert stop == ("min_acceptance_rate", "generation 1 accepted 0.0%")


def timed(generations: list[tuple[int, int]], seconds: list[float]) -> SimpleNamespace:
    """A stand-in History whose generations also took `seconds` of wall time each."""
    history = populations(*generations)
    table = history.get_all_populations()
    table["wall_time"] = [None, *seconds]  # pyabc's row -1 has none
    return history


def time_stop(history: SimpleNamespace, minutes: float | None):
    return stop_reason(history, {"population": 100, "max_generations": 20,
                                 "max_total_simulations": 100_000, "min_acceptance_rate": 0.02,
                                 "min_epsilon": 0.0, "epsilon_quantile": 0.5,
                                 "max_minutes": minutes})


@pytest.mark.parametrize(("minutes", "detail"), [
    # 25% after 100% predicts 6.25%: 1,600 simulations at 0.6 s each, 16 min, 24 with the
    # margin of 1.5; 10 min spent
    (33.9, "generation 2 was not started: at an expected acceptance rate of 6.2% (the last "
     "generation's 25.0% times its fall from 100.0%, at most the epsilon quantile) and 0.60 s "
     "per simulation it would take about 16.0 min (1.5 times that with the margin), more "
     "than the 23.9 min left of 33.9"),
    (26.1, "generation 2 was not started"),  # 10 + 16 would fit, 10 + 24 does not
    (34.1, None),  # 10 + 1.5 x 16 = 34 minutes fit in
    (None, None),  # no time budget
])
def test_the_time_budget_stops_before_a_generation_expected_to_end_past_it(minutes, detail):
    stop = time_stop(timed([(100, 100), (100, 400)], [360.0, 240.0]), minutes)
    if detail is None:
        assert stop is None
    else:
        assert stop[0] == "max_minutes" and stop[1].startswith(detail)


def test_a_generation_without_a_recorded_time_takes_the_pace_of_the_others():
    # 0.6 s per simulation from generation 0 (3.6 s per 6 runs); 1,600 predicted: 16 min,
    # 24 with the margin, after 1 min spent
    history = timed([(100, 100), (100, 400)], [60.0, 0.0])
    assert time_stop(history, 25.1) is None
    assert "0.60 s per simulation it would take about 16.0 min" in time_stop(history, 24.9)[1]
    assert time_stop(history, 0.5) == (
        "max_minutes", "generation 2 was not started: the generations so far took 1.0 min of 0.5")
