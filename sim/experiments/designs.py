"""Sweep designs: ranges of uncertainties and levers, the points of a design, sensitivity.

Designs are a grid, a Latin hypercube (`scipy.stats.qmc`), Saltelli's Sobol scheme or Morris
trajectories (SALib); Sobol and Morris designs also give sensitivity indices of every headline
outcome.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.experiments.errors import ExperimentError
from sim.experiments.outcomes import HEADLINE_OUTCOMES
from sim.scenario import (
    ScenarioError,
    check_parameter_path,
    is_lever,
    lever,
    tunable_parameters,
)

DESIGNS = ("grid", "lhs", "sobol", "morris")
MORRIS_LEVELS = 4
SENSITIVITY_CONFIDENCE = 0.95
MAX_POINTS = 1_000_000  # largest grid design

Design = Literal["grid", "lhs", "sobol", "morris"]


def parse_parameter_ranges(specs: Sequence[str], data: Mapping[str, Any]
                           ) -> dict[str, tuple[float, float]]:
    """Parse `NAME=LOW:HIGH` specs of uncertainties and levers against a scenario.

    Uncertainties are the tunable parameters (`sim.scenario.tunable_parameters`); levers are
    dated events' fields (`events.<id>.<field>`, `sim.scenario.levers`), whose dates are
    written as ISO dates and returned as days from the scenario's start.

    Raises:
        ScenarioError: an unknown name, a malformed or empty range, or one outside the
            parameter's bounds (or a date outside the scenario's period), one line each.
    """
    known = tunable_parameters(data)
    ranges: dict[str, tuple[float, float]] = {}
    for spec in specs:
        name, sep, bounds = spec.partition("=")
        low_text, sep2, high_text = bounds.partition(":")
        name = name.strip()
        if not sep or not sep2 or not name:
            raise ScenarioError(f"--param {spec!r}: expected NAME=LOW:HIGH, e.g. "
                                "parameters.combat.engage_probability=0.1:0.4 or "
                                "events.bear_brigade_withdraws.date=2024-06-01:2024-12-31")
        if is_lever(name):
            item = lever(name, data, origin="--param")
            low, high = item.parse(low_text, "--param"), item.parse(high_text, "--param")
            if low >= high:
                raise ScenarioError(f"--param {spec!r}: LOW must be before HIGH"
                                    if item.kind == "date" else
                                    f"--param {spec!r}: LOW must be below HIGH")
        else:
            check_parameter_path(name, data, origin="--param")
            try:
                low, high = float(low_text), float(high_text)
            except ValueError:
                raise ScenarioError(f"--param {spec!r}: LOW and HIGH must be numbers") from None
            if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
                raise ScenarioError(f"--param {spec!r}: LOW must be below HIGH")
            lo, hi = known[name]["low"], known[name]["high"]
            if (lo is not None and low < lo) or (hi is not None and high > hi):
                raise ScenarioError(f"--param {spec!r}: outside the parameter's bounds "
                                    f"[{lo}, {hi}]")
        if name in ranges:
            raise ScenarioError(f"--param {name}: given twice")
        ranges[name] = (low, high)
    if not ranges:
        raise ScenarioError("a sweep needs at least one --param NAME=LOW:HIGH")
    return ranges


def setting_converters(names: Sequence[str], data: Mapping[str, Any]
                       ) -> dict[str, Callable[[float], Any]]:
    """For each swept name, the function from a design value to the value set in the scenario.

    Integer parameters and strengths are rounded, dates (days from the start) become ISO dates,
    everything else is a float.
    """
    known = tunable_parameters(data)
    out: dict[str, Callable[[float], Any]] = {}
    for name in names:
        if is_lever(name):
            out[name] = lever(name, data).to_setting
        elif known[name]["integer"]:
            out[name] = round
        else:
            out[name] = float
    return out


def lever_info(names: Sequence[str], data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What a sweep records about its levers: kind, unit and, for dates, the day-0 date."""
    info = {}
    for name in names:
        if is_lever(name):
            item = lever(name, data)
            info[name] = {"kind": item.kind, "unit": item.unit}
            if item.kind == "date":
                info[name]["origin"] = item.origin.isoformat()
    return info


def _problem(ranges: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    return {"num_vars": len(ranges), "names": list(ranges),
            "bounds": [list(b) for b in ranges.values()]}


def design_points(ranges: Mapping[str, tuple[float, float]], design: Design, samples: int,
                  seed: int) -> np.ndarray:
    """The points (n, parameters) of a design.

    - grid: `samples` evenly spaced levels per parameter, every combination (samples^k);
    - lhs: `samples` points of a Latin hypercube (`scipy.stats.qmc.LatinHypercube`);
    - sobol: Saltelli's scheme for first and total-order indices (`SALib.sample.sobol`),
      samples * (k + 2) points; `samples` must be a power of 2;
    - morris: `samples` trajectories (`SALib.sample.morris`, 4 levels), samples * (k + 1).
    """
    if design not in DESIGNS:
        raise ExperimentError(f"unknown design '{design}'; allowed: {', '.join(DESIGNS)}")
    k = len(ranges)
    low = np.array([b[0] for b in ranges.values()])
    high = np.array([b[1] for b in ranges.values()])
    if design == "grid":
        if samples < 2:
            raise ExperimentError("a grid needs --samples >= 2 (levels per parameter)")
        if samples**k > MAX_POINTS:
            raise ExperimentError(f"a grid of {samples}^{k} = {samples**k:,} points is too large "
                                  f"(at most {MAX_POINTS:,}); use fewer levels or --design lhs")
        axes = [np.linspace(lo, hi, samples) for lo, hi in zip(low, high, strict=True)]
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, k)
    if design == "lhs":
        from scipy.stats import qmc

        if samples < 1:
            raise ExperimentError(f"--design lhs needs --samples >= 1, got {samples}")
        unit = qmc.LatinHypercube(d=k, rng=np.random.default_rng(seed)).random(samples)
        return qmc.scale(unit, low, high)
    problem = _problem(ranges)
    if design == "sobol":
        if samples < 2 or samples & (samples - 1):
            raise ExperimentError(f"--design sobol needs --samples a power of 2, got {samples}")
        from SALib.sample import sobol as sobol_sample

        return sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    if samples < 2:
        raise ExperimentError("--design morris needs --samples >= 2 (trajectories)")
    from SALib.sample import morris as morris_sample

    return morris_sample.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)


def sensitivity_indices(ranges: Mapping[str, tuple[float, float]], design: Design,
                        points: np.ndarray, outcomes: pd.DataFrame, seed: int,
                        names: Sequence[str] = HEADLINE_OUTCOMES) -> pd.DataFrame:
    """Sobol (S1, ST) or Morris (mu, mu*, sigma) indices of each outcome in `names`.

    Args:
        ranges: the swept parameters and their ranges.
        design: "sobol" or "morris".
        points: the design's points, in order.
        outcomes: one row per point (in order) with the outcomes.
        seed: seed of the bootstrap behind the confidence intervals.
        names: the outcome columns to analyse (default: the headline outcomes).

    An outcome that does not vary (or misses values) gets NaN indices.
    """
    import warnings

    problem = _problem(ranges)
    rows = []
    for name in names:
        y = outcomes[name].to_numpy(dtype=float)
        usable = bool(np.isfinite(y).all() and np.ptp(y) > 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if design == "sobol":
                from SALib.analyze import sobol as sobol_analyze

                keys = ("S1", "S1_conf", "ST", "ST_conf")
                res = sobol_analyze.analyze(
                    problem, y, calc_second_order=False, conf_level=SENSITIVITY_CONFIDENCE,
                    seed=seed) if usable else None
            else:
                from SALib.analyze import morris as morris_analyze

                keys = ("mu", "mu_star", "mu_star_conf", "sigma")
                res = morris_analyze.analyze(
                    problem, points, y, conf_level=SENSITIVITY_CONFIDENCE,
                    num_levels=MORRIS_LEVELS, seed=seed) if usable else None
        for i, param in enumerate(problem["names"]):
            row: dict[str, Any] = {"outcome": name, "parameter": param}
            for key in keys:
                row[key] = float(np.asarray(res[key])[i]) if res is not None else np.nan
            rows.append(row)
    return pd.DataFrame(rows)
