"""What experiments return: per-run outcomes, failures and timings, and each kind's tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.runs import RunReport


@dataclass(slots=True)
class ExperimentResult:
    """What every experiment returns: per-run outcomes, failures and timings."""

    outcomes: pd.DataFrame  # one row per successful run: scenario, point, replicate, seed, ...
    failures: dict[str, dict[str, Any]]
    report: RunReport
    out: Path | None
    files: list[Path] = field(default_factory=list)
    # With runs drawn from a posterior: its file, sha256, size, ESS and parameter names.
    posterior: dict[str, Any] | None = None

    @property
    def n_failed(self) -> int:
        """Number of runs that failed."""
        return len(self.failures)

    @property
    def timings(self) -> dict[str, float]:
        """Wall time of the execution phase, median run compute time, overhead per run."""
        r = self.report
        runs = len(r.compute_seconds)
        if not runs:
            return {"execute_seconds": r.execute_seconds, "runs_executed": 0}
        mean = float(np.mean(r.compute_seconds))
        out = {"execute_seconds": r.execute_seconds, "runs_executed": runs,
               "run_seconds_median": float(np.median(r.compute_seconds)),
               "run_seconds_mean": mean,
               "encode_seconds_median": float(np.median(r.encode_seconds))}
        if r.workers:  # local processes: their busy time is known (not so on Dask)
            out["overhead_per_run_share"] = (r.execute_seconds * r.workers / runs - mean) / mean
        return out


@dataclass(slots=True)
class EnsembleResult(ExperimentResult):
    """An ensemble: quantile bands of every series, and the spread of the headline outcomes.

    `bands` is long by quantile: columns `date`, `country`, `quantile` (0.05, 0.25, 0.5, 0.75,
    0.95), then one column per series (see `sim.experiments.bands.band_series`), rows
    sorted by date, country and quantile. `summary` has one row per headline outcome and one
    column per quantile.
    """

    bands: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(slots=True)
class ComparisonResult(ExperimentResult):
    """A paired comparison of a baseline with counterfactuals.

    `table`: one row per (counterfactual, headline outcome) with columns counterfactual,
    outcome, baseline_median, counterfactual_median, diff_median (median over seeds of
    counterfactual - baseline), diff_low and diff_high (90% distribution-free confidence
    interval of that median, NaN with fewer than 5 pairs), sign_share (share of seeds whose
    difference has the sign of diff_median; of zero differences when it is 0), runs (pairs),
    diff_mean (mean paired difference), mean_low and mean_high (its 90% seeded bootstrap
    interval), note (why an effect is exactly zero, else empty) and first_difference (the
    first date at which any paired time series differs, NaT if none does).

    `rare_events`: one row per (counterfactual, rare event: a coup or coup attempt per country)
    with the runs having it in each scenario, their shares with 90% Wilson intervals, and the
    paired difference of the shares with Newcombe's 90% interval
    (`sim.experiments.statistics.rare_event_table`). `divergence`: counterfactual label -> the
    first date at which any pair of runs differs (None when every pair is identical).

    `bands`: scenario label -> quantile bands as in `EnsembleResult.bands` (long by quantile:
    date, country, quantile, then one column per series). `difference_bands`: counterfactual
    label -> the same for paired differences (counterfactual - baseline, seed by seed).
    """

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    rare_events: pd.DataFrame = field(default_factory=pd.DataFrame)
    divergence: dict[str, pd.Timestamp | None] = field(default_factory=dict)
    bands: dict[str, pd.DataFrame] = field(default_factory=dict)
    difference_bands: dict[str, pd.DataFrame] = field(default_factory=dict)
    baseline: str = ""
    counterfactuals: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SweepResult(ExperimentResult):
    """A sweep: the design's points, outcomes per point (mean over replicates), sensitivity.

    `points`: one row per point (`point` and one column per parameter). `point_outcomes`: the
    mean of each headline outcome over the point's successful replicates. `sensitivity` (Sobol
    and Morris designs): one row per (outcome, parameter) with S1, S1_conf, ST, ST_conf (Sobol)
    or mu, mu_star, mu_star_conf, sigma (Morris); `*_conf` are half-widths of 95% intervals.
    """

    design: str = ""
    parameters: dict[str, tuple[float, float]] = field(default_factory=dict)
    points: pd.DataFrame = field(default_factory=pd.DataFrame)
    point_outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame | None = None
