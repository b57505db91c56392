"""Scoring fatality forecasts as VIEWS does: CRPS, interval score, coverage, ignorance.

A forecast for a set of units (country-months or cell-months) is an array of draws, (units,
members). Each unit gets:
- `crps`: the continuous ranked probability score of the draws' empirical distribution
  (scoringrules' `crps_ensemble`; for one draw it is the absolute error);
- `mis_90`: the interval score of the central 90% interval (the draws' 5% and 95% quantiles):
  its width plus 2/0.1 times the distance by which the observation falls outside
  (scoringrules' `interval_score`); the mean over units is the MIS;
- `covered_50`, `covered_90`: whether the observation lies in the central 50% (25-75%) and
  90% interval;
- `ignorance`: -log2 of the probability of the observation's bin among VIEWS' fixed fatality
  bins (edges `VIEWS_BINS`), the draws' bin counts with one pseudo-count per bin:
  p = (count + 1) / (members + 11). A reference forecast with fewer draws than the model
  (climatology: 12 months; zero: one) has its bin shares scaled to the model's number of
  draws first, so every forecast gets the same pseudo-count weight.
Lower is better for all but coverage (nominal: 0.5 and 0.9). `summarise` averages over units
and adds the CRPS skill against the references (1 - CRPS / CRPS of the reference).
scoringrules (the `scoring` extra) is imported when first needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.acled.errors import AcledError

VIEWS_BINS = np.array([0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5, 100.5, 250.5, 500.5, 1000.5])
N_BINS = len(VIEWS_BINS)  # the last bin is open: more than 1,000 deaths
MIS_LEVEL = 0.9
CHUNK_UNITS = 2048  # units scored at a time (bounds memory with many draws)
SCORES = ("crps", "mis_90", "covered_50", "covered_90", "ignorance")
REFERENCES = ("climatology", "zero")


def scoringrules() -> Any:
    """The scoringrules package, or a one-line error saying how to install it."""
    try:
        import scoringrules as sr
    except ImportError:
        raise AcledError("scoring needs scoringrules: pip install 'sahel-sim[scoring]' (or bash "
                         "scripts/setup.sh scoring)") from None
    return sr


def _draws(draws: np.ndarray) -> np.ndarray:
    return np.asarray(draws, dtype=float).reshape(len(draws), -1)


def crps(obs: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """CRPS per unit of an ensemble (units, members) against observations (units,)."""
    sr = scoringrules()
    obs = np.asarray(obs, dtype=float)
    return np.asarray(sr.crps_ensemble(obs, _draws(draws)), dtype=float).reshape(obs.shape)


def interval(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The central interval at `level` per unit: the draws' (1-level)/2, (1+level)/2 quantiles.

    Quantiles are numpy's default (linear interpolation between order statistics).
    """
    low, high = np.quantile(_draws(draws), [(1 - level) / 2, (1 + level) / 2], axis=1)
    return low, high


def interval_score(obs: np.ndarray, draws: np.ndarray, level: float = MIS_LEVEL
                   ) -> np.ndarray:
    """The interval score of the central interval at `level` per unit."""
    sr = scoringrules()
    obs = np.asarray(obs, dtype=float)
    low, high = interval(draws, level)
    return np.asarray(sr.interval_score(obs, low, high, 1 - level), dtype=float).reshape(
        obs.shape)


def covered(obs: np.ndarray, draws: np.ndarray, level: float) -> np.ndarray:
    """Whether each observation lies in the central interval at `level` (bounds included)."""
    low, high = interval(draws, level)
    return (obs >= low) & (obs <= high)


def bin_index(values: np.ndarray) -> np.ndarray:
    """The VIEWS bin of each value: 0 for 0 (and below), 1 for 1-2, ..., 10 for over 1,000."""
    return np.maximum(np.searchsorted(VIEWS_BINS, np.asarray(values, dtype=float),
                                      side="right") - 1, 0)


def ignorance(obs: np.ndarray, draws: np.ndarray, members: int | None = None) -> np.ndarray:
    """Ignorance score per unit (bits) on VIEWS' bins, one pseudo-count per bin.

    Args:
        obs: observations (units,).
        draws: the ensemble (units, m).
        members: the number of draws the bin shares are scaled to (default m).
    """
    draws = _draws(draws)
    units, m = draws.shape
    n = m if members is None else members
    rows = np.arange(units)[:, None]
    counts = np.bincount((bin_index(draws) + N_BINS * rows).ravel(),
                         minlength=units * N_BINS).reshape(units, N_BINS)
    hit = counts[np.arange(units), bin_index(obs)] * (n / m)
    return -np.log2((hit + 1.0) / (n + N_BINS))


def unit_scores(obs: np.ndarray, draws: np.ndarray, members: int | None = None
                ) -> dict[str, np.ndarray]:
    """Every score of `SCORES` per unit, computed in chunks of `CHUNK_UNITS` units."""
    obs = np.asarray(obs, dtype=float)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SCORES}
    for start in range(0, len(obs), CHUNK_UNITS):
        y = obs[start:start + CHUNK_UNITS]
        x = _draws(draws[start:start + CHUNK_UNITS])
        parts["crps"].append(crps(y, x))
        parts["mis_90"].append(interval_score(y, x, MIS_LEVEL))
        parts["covered_50"].append(covered(y, x, 0.5))
        parts["covered_90"].append(covered(y, x, 0.9))
        parts["ignorance"].append(ignorance(y, x, members))
    return {name: (np.concatenate(p) if p else np.zeros(0)) for name, p in parts.items()}


def score_units(obs: np.ndarray, model: np.ndarray, history: np.ndarray | None
                ) -> dict[str, dict[str, np.ndarray]]:
    """Scores of the model and the references for units observed over several months.

    Args:
        obs: observed fatalities (units, months).
        model: the model's draws (units, months, runs).
        history: each unit's fatalities in the 12 months before the window (units, 12), the
            climatological forecast of every month; None leaves that reference out.

    Returns:
        forecast ("model", "climatology", "zero") -> score -> values (units x months, unit by
        unit, months in order).
    """
    units, months = obs.shape
    runs = model.shape[-1]
    forecasts = {"model": model.reshape(units * months, runs)}
    if history is not None:
        forecasts["climatology"] = np.repeat(np.asarray(history, dtype=float), months, axis=0)
    forecasts["zero"] = np.zeros((units * months, 1))
    flat = obs.reshape(-1)
    return {name: unit_scores(flat, draws, None if name == "model" else runs)
            for name, draws in forecasts.items()}


def summarise(scores: Mapping[str, Mapping[str, np.ndarray]]) -> pd.DataFrame:
    """Means over units, one row per forecast.

    Columns: forecast, units, crps, crps_skill_vs_climatology, crps_skill_vs_zero, mis_90,
    coverage_50, coverage_90, ignorance.
    """
    means = {name: {k: float(np.mean(v)) if len(v) else float("nan") for k, v in s.items()}
             for name, s in scores.items()}
    rows = []
    for name, m in means.items():
        row = {"forecast": name, "units": len(scores[name]["crps"]), "crps": m["crps"]}
        for ref in REFERENCES:
            base = means.get(ref, {}).get("crps", float("nan"))
            row[f"crps_skill_vs_{ref}"] = (1 - m["crps"] / base) if base > 0 else float("nan")
        row.update({"mis_90": m["mis_90"], "coverage_50": m["covered_50"],
                    "coverage_90": m["covered_90"], "ignorance": m["ignorance"]})
        rows.append(row)
    return pd.DataFrame(rows)
