"""Statistics over an experiment's runs: outcome quantiles, paired differences, rare events.

`outcome_quantiles` summarises the headline outcomes (quantile bands of the daily series are
in `sim.experiments.bands`); `median_interval` and `paired_table` describe paired (same-seed)
differences of headline outcomes: the median with a distribution-free interval, the mean with
a seeded bootstrap interval (`mean_interval`), and a note when an effect is exactly zero. Rare
events (a coup, a coup attempt) are summarised by the share of runs with the event, with
Wilson intervals (`wilson_interval`) and the paired difference of the shares with Newcombe's
interval (`newcombe_paired_interval`), in `rare_event_table`; `first_difference` finds the
first date at which paired runs differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.experiments.outcomes import HEADLINE_OUTCOMES
from sim.geography import COUNTRIES

if TYPE_CHECKING:
    from sim.experiments.result_store import ResultStore

QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
INTERVAL = 0.90  # confidence level of the paired-difference interval
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240917  # the bootstrap is seeded: the same runs give the same interval
# Count series whose end value > 0 is an event (the rare events of a comparison).
RARE_EVENT_SERIES = ("coups", "coup_attempts", "capital_attacks")
NOTE_IDENTICAL = "identical in all pairs"
NOTE_NO_EVENT = "never reached (no run had it)"
NOTE_SAME_RUNS = "same runs in both"
NOTE_UNREACHED = "never reached (0 in all runs)"


def median_interval(differences: np.ndarray, level: float = INTERVAL
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Distribution-free confidence interval of the median, per column (order statistics).

    With n paired differences, [d_(j), d_(n+1-j)] covers the median with probability
    1 - 2 P(Binomial(n, 1/2) <= j - 1); j is the largest index giving at least `level`.
    Returns NaNs when n is too small for that level (n < 5 at 90%).
    """
    from scipy.stats import binom

    d = np.sort(np.atleast_2d(differences.T).T, axis=0)
    n = d.shape[0]
    alpha = (1.0 - level) / 2.0
    j = int(binom.ppf(alpha, n, 0.5)) if n else 0  # candidate; step back until it covers
    while j >= 1 and binom.cdf(j - 1, n, 0.5) > alpha:
        j -= 1
    if j < 1:
        nan = np.full(d.shape[1], np.nan)
        return nan, nan.copy()
    return d[j - 1], d[n - j]


def mean_interval(differences: np.ndarray, level: float = INTERVAL,
                  seed: int = BOOTSTRAP_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap (percentile) confidence interval of the mean, per column; seeded.

    A column whose values are all equal gets that value as both limits (the bootstrap has
    nothing to resample); fewer than 2 rows give NaNs.
    """
    from scipy.stats import bootstrap

    d = np.atleast_2d(np.asarray(differences, dtype=float).T).T
    n, k = d.shape
    low, high = np.full(k, np.nan), np.full(k, np.nan)
    if n < 2:
        return low, high
    for j in range(k):
        column = d[:, j]
        if np.all(column == column[0]):
            low[j] = high[j] = column[0]
            continue
        res = bootstrap((column,), np.mean, confidence_level=level, method="percentile",
                        n_resamples=BOOTSTRAP_RESAMPLES, rng=np.random.default_rng(seed))
        low[j], high[j] = res.confidence_interval.low, res.confidence_interval.high
    return low, high


def zero_effect_note(base: np.ndarray, other: np.ndarray) -> str:
    """Why a paired difference is zero: '' if it is not zero in every pair."""
    if not np.array_equal(base, other):
        return ""
    if not np.any(base):
        return NOTE_UNREACHED
    return NOTE_IDENTICAL


def paired_table(label: str, base: np.ndarray, other: np.ndarray,
                 outcomes: Sequence[str] = HEADLINE_OUTCOMES) -> pd.DataFrame:
    """Per headline outcome: medians and the paired differences' median, mean and intervals.

    The median difference has a distribution-free interval and a sign share, the mean a seeded
    bootstrap interval; `note` says why an effect is exactly zero (`zero_effect_note`).

    Args:
        label: the counterfactual's label.
        base: outcomes (runs, outcomes) of the baseline.
        other: outcomes of the counterfactual, aligned with `base` seed by seed.
        outcomes: the outcomes' names (columns of `base`).
    """
    diff = other - base
    low, high = median_interval(diff)
    median = np.median(diff, axis=0)
    sign = np.sign(median)
    sign_share = (np.sign(diff) == sign).mean(axis=0)
    mean_low, mean_high = mean_interval(diff)
    notes = [zero_effect_note(base[:, j], other[:, j]) for j in range(diff.shape[1])]
    return pd.DataFrame({
        "counterfactual": label, "outcome": list(outcomes),
        "baseline_median": np.median(base, axis=0), "counterfactual_median": np.median(
            other, axis=0), "diff_median": median, "diff_low": low, "diff_high": high,
        "sign_share": sign_share, "runs": diff.shape[0], "diff_mean": diff.mean(axis=0),
        "mean_low": mean_low, "mean_high": mean_high, "note": notes})


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2.0))


def wilson_interval(events: int, n: int, level: float = INTERVAL) -> tuple[float, float]:
    """Wilson score interval of a proportion `events / n` (NaNs for n = 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    z = _z(level)
    p = events / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def newcombe_paired_interval(first: np.ndarray, second: np.ndarray, level: float = INTERVAL
                             ) -> tuple[float, float, float]:
    """Difference of two paired proportions, share(first) - share(second), and its interval.

    Newcombe's hybrid score interval for paired binary data (Newcombe 1998, Stat. Med. 17,
    2635-2650, method 10): Wilson limits of each share combined with the correlation of the
    pairs (phi, with its continuity correction). Returns (difference, low, high); NaNs for
    no pairs.
    """
    a_ = np.asarray(first, dtype=bool)
    b_ = np.asarray(second, dtype=bool)
    n = a_.size
    if n == 0:
        nan = float("nan")
        return nan, nan, nan
    both = int(np.sum(a_ & b_))
    only_first = int(np.sum(a_ & ~b_))
    only_second = int(np.sum(~a_ & b_))
    neither = n - both - only_first - only_second
    p1, p2 = (both + only_first) / n, (both + only_second) / n
    l1, u1 = wilson_interval(both + only_first, n, level)
    l2, u2 = wilson_interval(both + only_second, n, level)
    denominator = float((both + only_first) * (only_second + neither)
                        * (both + only_second) * (only_first + neither))
    cross = both * neither - only_first * only_second
    if cross > 0:
        cross = max(cross - n / 2.0, 0.0)
    phi = cross / np.sqrt(denominator) if denominator > 0 else 0.0
    d = p1 - p2
    low = d - np.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2,
                          0.0))
    high = d + np.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2,
                           0.0))
    return float(d), max(-1.0, float(low)), min(1.0, float(high))


def rare_event_table(label: str, names: Sequence[str], base: np.ndarray, other: np.ndarray
                     ) -> pd.DataFrame:
    """Per rare event: the share of runs with it in each scenario and their paired difference.

    Args:
        label: the counterfactual's label.
        names: the events' outcome names (columns of `base`), e.g. `coups_BFA`.
        base: counts (runs, events) of the baseline; a run has the event if its count is > 0.
        other: the counterfactual's counts, aligned with `base` seed by seed.
    """
    rows = []
    for j, name in enumerate(names):
        a, b = base[:, j] > 0, other[:, j] > 0
        n = a.size
        base_low, base_high = wilson_interval(int(a.sum()), n)
        cf_low, cf_high = wilson_interval(int(b.sum()), n)
        diff, low, high = newcombe_paired_interval(b, a)
        note = ""
        if not a.any() and not b.any():
            note = NOTE_NO_EVENT
        elif np.array_equal(a, b):
            note = NOTE_SAME_RUNS
        rows.append({"counterfactual": label, "outcome": name, "runs": n,
                     "baseline_runs_with": int(a.sum()), "counterfactual_runs_with":
                     int(b.sum()), "baseline_share": a.mean() if n else np.nan,
                     "baseline_low": base_low, "baseline_high": base_high,
                     "counterfactual_share": b.mean() if n else np.nan,
                     "counterfactual_low": cf_low, "counterfactual_high": cf_high,
                     "share_diff": diff, "share_diff_low": low, "share_diff_high": high,
                     "note": note})
    return pd.DataFrame(rows)


def end_counts(store: ResultStore, run_ids: Sequence[str], series: Sequence[str]
               ) -> tuple[list[str], np.ndarray]:
    """The end-of-run value of count series per country (e.g. `coups_MLI`), (runs, names).

    Series missing from the stored runs are left out.
    """
    present = [s for s in series if run_ids and s in store.columns(run_ids[0])]
    names = [f"{s}_{iso}" for s in present for iso in COUNTRIES]
    out = np.zeros((len(run_ids), len(names)))
    for r, run_id in enumerate(run_ids):
        frame = store.read(run_id, ["date", "country", *present])
        last = frame[frame["date"] == frame["date"].max()].set_index("country")
        out[r] = [float(last.at[iso, s]) if iso in last.index else 0.0
                  for s in present for iso in COUNTRIES]
    return names, out


def first_difference(store: ResultStore, base_ids: Sequence[str], other_ids: Sequence[str]
                     ) -> tuple[pd.Timestamp | None, list[pd.Timestamp | None]]:
    """The first date at which any paired time series differs: over all pairs, and per pair.

    Compares every numeric column the two runs share, row by row (date, then country).
    None where a pair is identical over the whole run.
    """
    per_pair: list[pd.Timestamp | None] = []
    for base_id, other_id in zip(base_ids, other_ids, strict=True):
        a, b = store.read(base_id), store.read(other_id)
        columns = [c for c in a.columns if c in b.columns and c not in ("date", "country")
                   and pd.api.types.is_numeric_dtype(a[c])]
        rows = min(len(a), len(b))
        x = a[columns].to_numpy(dtype=float)[:rows]
        y = b[columns].to_numpy(dtype=float)[:rows]
        same = np.isclose(x, y, rtol=0.0, atol=1e-12, equal_nan=True).all(axis=1)
        differs = np.flatnonzero(~same)
        per_pair.append(pd.Timestamp(a["date"].iloc[differs[0]]) if differs.size else None)
    found = [d for d in per_pair if d is not None]
    return (min(found) if found else None), per_pair


def outcome_quantiles(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Quantiles over runs of each headline outcome: one row per outcome, columns q05 ... q95."""
    values = outcomes[HEADLINE_OUTCOMES].to_numpy()
    q = np.quantile(values, QUANTILES, axis=0) if len(values) else np.full(
        (len(QUANTILES), len(HEADLINE_OUTCOMES)), np.nan)
    frame = pd.DataFrame(q.T, columns=[f"q{round(x * 100):02d}" for x in QUANTILES])
    frame.insert(0, "outcome", HEADLINE_OUTCOMES)
    return frame
