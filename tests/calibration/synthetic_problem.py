"""The synthetic problem of the fitting tests: a toy simulator whose true parameters are known.

The synthetic simulator has 8 parameters (4 on a log prior) and 9 noisy monotone summaries
(5 compared on the log scale); its "sourced" ranges are set around one noisy realisation at
the true parameters, about as wide as typical sourced ranges (x/÷ 1.4, or ± 0.5).
`quick_fit` runs a small, fast fit of it.
"""

from __future__ import annotations

import math

import numpy as np

from sim.calibration.fitting import Prior, Summary, fit

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


def quick_fit(out, **settings):
    options = {"population": 40, "max_generations": 2, "workers": 1, "seed": 5,
               "command": "pytest"} | settings
    return fit(simulate, PRIORS, targets(), out, **options)
