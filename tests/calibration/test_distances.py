"""Priors, summaries and the range distance: known answers and one-line errors."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats

from sim.calibration.distances import FAILED, FitError, Prior, RangeDistance, Summary


def test_a_log_prior_maps_its_logit_coordinate_back_to_the_natural_scale():
    prior = Prior("parameters.combat.kill_rate", 0.01, 100.0, "log", "an order of magnitude")
    assert prior.key == "logit(parameters.combat.kill_rate)"
    assert prior.sampled_bounds == pytest.approx((math.log(0.01), math.log(100.0)))
    assert prior.natural(0.0) == pytest.approx(1.0)  # the middle of the log range
    assert prior.natural(np.array([-50.0, 50.0])) == pytest.approx([0.01, 100.0])
    values = np.array([0.02, 3.0, 90.0])
    assert prior.natural(prior.coordinate(values)) == pytest.approx(values)


def test_a_standard_logistic_coordinate_is_a_uniform_prior():
    prior = Prior("x", 2.0, 6.0, "linear", "a share")
    draws = prior.natural(np.random.default_rng(1).logistic(size=20_000))
    assert stats.kstest(draws, stats.uniform(2.0, 4.0).cdf).pvalue > 0.01
    log_prior = Prior("y", 1.0, 1000.0, "log", "sizes")
    log_draws = np.log10(log_prior.natural(np.random.default_rng(2).logistic(size=20_000)))
    assert stats.kstest(log_draws, stats.uniform(0.0, 3.0).cdf).pvalue > 0.01


@pytest.mark.parametrize(("args", "message"), [
    (("", 0, 1, "linear", "why"), "prior '': name: expected a non-empty dotted name"),
    (("x", 1, 1, "linear", "why"), "prior 'x': low (1) must be below high (1)"),
    (("x", 0, math.inf, "linear", "why"), "prior 'x': high: expected a finite number, got inf"),
    (("x", "0", 1, "linear", "why"), "prior 'x': low: expected a finite number, got '0'"),
    (("x", 0, 1, "logit", "why"), "prior 'x': scale: expected 'linear' or 'log', got 'logit'"),
    (("x", 0, 1, "log", "why"), "prior 'x': low: a log-scale prior needs low > 0, got 0"),
    (("x", 0, 1, "linear", " "), "prior 'x': justification: say why these bounds"),
    (("x", 0, 1, "linear", "why", " "),
     "prior 'x': counterfactual: expected a scenario's name (or none), got ' '"),
    (("x", 0, 1, "linear", "why", ["minusma_stays"]),
     "prior 'x': counterfactual: expected a scenario's name (or none), got ['minusma_stays']"),
    (("x", 0, 1, "linear", "why", "", True),
     "prior 'x': mechanism: expected the name of the mechanism the parameter sizes (or none), "
     "got True"),
    (("x", 0, 1, "linear", "why", "", "  "),
     "prior 'x': mechanism: expected the name of the mechanism the parameter sizes (or none), "
     "got '  '"),
])
def test_bad_priors_are_named(args, message):
    with pytest.raises(FitError, match=f"^{re.escape(message)}"):
        Prior(*args)


def test_inside_the_range_the_distance_is_zero_outside_it_counts_widths():
    target = Summary("deaths", 10.0, 20.0)
    assert [target.distance(x) for x in (10.0, 15.0, 20.0)] == [0.0, 0.0, 0.0]
    assert target.distance(25.0) == pytest.approx(0.5)
    assert target.distance(0.0) == pytest.approx(1.0)
    assert math.isnan(target.distance(math.nan))


def test_a_log_target_is_compared_on_log_one_plus_x():
    target = Summary("fatalities", 9.0, 99.0, log=True)  # log(1 + x): ln 10 .. ln 100
    assert target.width == pytest.approx(math.log(10.0))
    assert target.distance(999.0) == pytest.approx(1.0)  # ten times the top: one width
    assert target.distance(0.0) == pytest.approx(1.0)  # zero stays finite
    assert math.isnan(target.distance(-1.0))  # a negative count is not a simulation


def test_an_open_ended_target_uses_its_value_or_a_convention_as_unit():
    at_least = Summary("strength", low=100.0, log=True)
    assert at_least.width == pytest.approx(math.log(2.0))
    assert at_least.distance(1e6) == 0.0
    assert at_least.distance(49.5) == pytest.approx(1.0)  # log(101) - log(50.5) = ln 2
    with_value = Summary("strength", low=100.0, value=150.0)
    assert with_value.distance(50.0) == pytest.approx(1.0)
    at_most = Summary("share", high=0.4)
    assert at_most.distance(0.6) == pytest.approx(0.5)


def test_the_distance_is_the_confidence_weighted_mean():
    distance = RangeDistance([Summary("a", 0.0, 1.0, weight=3.0),
                              Summary("b", 0.0, 1.0, weight=1.0)])
    assert distance({"a": 2.0, "b": 0.5}) == pytest.approx(0.75)
    assert distance({"a": 0.5, "b": 3.0}) == pytest.approx(0.5)
    assert distance({"a": 0.5, "b": 0.5}, {"ignored": 1}, 3, None) == 0.0
    assert math.isnan(distance({"a": 0.5}))  # a missing summary
    assert math.isnan(distance({"a": 0.5, "b": "n/a"}))
    assert math.isnan(distance({FAILED: 1.0}))
    assert distance.describe()["summaries"][0]["weight"] == 3.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "x"}, "summary 'x': give low and/or high"),
    ({"name": "x", "low": 5.0, "high": 1.0}, "summary 'x': low (5.0) must be below high"),
    ({"name": "x", "low": -1.0, "high": 1.0, "log": True},
     "summary 'x': low: a log-scale target cannot be negative, got -1.0"),
    ({"name": "x", "low": 0.0, "high": 1.0, "value": 2.0},
     "summary 'x': value (2.0) lies outside its range 0.0..1.0"),
    ({"name": "x", "low": 0.0, "high": 1.0, "weight": 0},
     "summary 'x': weight: expected a number > 0, got 0"),
    ({"name": "x", "low": 0.0}, "summary 'x': an open-ended linear target with bound 0"),
    ({"name": "x", "low": 0.0, "high": math.nan}, "summary 'x': high: expected a finite"),
    ({"name": "x", "low": 0.0, "high": 1.0, "log": "yes"}, "summary 'x': log: expected true"),
])
def test_bad_summaries_are_named(kwargs, message):
    with pytest.raises(FitError, match=f"^{re.escape(message)}"):
        Summary(**kwargs)


def test_a_distance_needs_unique_summaries():
    with pytest.raises(FitError, match="summary names must be unique: a repeated"):
        RangeDistance([Summary("a", 0, 1), Summary("a", 1, 2)])
    with pytest.raises(FitError, match="no summaries to fit"):
        RangeDistance([])
