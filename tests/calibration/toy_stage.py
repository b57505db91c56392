"""A toy second stage whose answer is known: y = 100 r + N(0, 10), r's prior uniform on [0, 1]."""

import numpy as np
import pandas as pd

from sim.calibration.distances import Prior
from sim.calibration.posterior import read_posterior
from sim.calibration.stage import (
    accept,
    plan_proposals,
    proposal_overrides,
    run_stage,
    stage_distances,
)
from sim.calibration.targets import Target

NOISE = 10.0  # the toy statistic's standard deviation


def target(name, low, high, unit="ratio"):
    return Target(name=name, value=None, low=low, high=high, unit=unit, period="2024",
                  place="Sahel", definition="d", source="s", source_date="2025-01-01",
                  confidence="M", compare={"statistic": "deaths"})


def toy(overrides, seeds):
    """y = 100 r + N(0, 10), seeded by the run's seed; x echoed (the first stage's parameter)."""
    rows = []
    for values, seed in zip(overrides, seeds, strict=True):
        noise = np.random.default_rng(seed).normal(0.0, NOISE)
        rows.append({"y": 100 * values["r"] + noise, "x": values["x"]})
    return pd.DataFrame(rows)


def first_stage_posterior(folder):
    """A first stage's posterior over x = 0..9, x = 9 ten times as likely as x = 0."""
    path = folder / "first.csv"
    x = np.arange(10, dtype=float)
    weights = np.arange(1, 11, dtype=float)
    pd.DataFrame({"x": x, "weight": weights}).to_csv(path, index=False)
    return read_posterior(path)


PRIOR_R = Prior("r", 0.0, 1.0, "linear", "test")
TARGETS = [target("y", 40.0, 60.0), target("x", 0.0, 100.0)]


def stage(posterior, out, proposals, keep, seed=0, simulate=toy, chunk=100, k=1):
    """Run the toy stage into `out`; its plan, runs, accepted mask and epsilon."""
    plan = plan_proposals(posterior, [PRIOR_R], proposals, seed)
    config = {"seed": seed} if k == 1 else {"seed": seed, "seeds_per_proposal": k}
    runs = run_stage(out, config, plan, proposal_overrides(posterior, plan, [PRIOR_R]),
                     simulate, TARGETS, chunk=chunk)
    accepted, epsilon = accept(stage_distances(runs, TARGETS[:1]), keep)
    return plan, runs, accepted, epsilon
