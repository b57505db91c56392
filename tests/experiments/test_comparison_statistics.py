"""Comparison statistics for rare events and counts: Wilson, Newcombe, bootstrap, notes."""

from __future__ import annotations

import numpy as np
import pytest

from sim.experiments import statistics as st


def test_wilson_interval_matches_published_values() -> None:
    low, high = st.wilson_interval(0, 10, level=0.95)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = st.wilson_interval(5, 10, level=0.95)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert np.isnan(st.wilson_interval(0, 0)[0])


def test_newcombe_paired_interval() -> None:
    rng = np.random.default_rng(1)
    base = rng.random(40) < 0.2
    other = base | (rng.random(40) < 0.2)
    diff, low, high = st.newcombe_paired_interval(other, base)
    assert diff == pytest.approx(other.mean() - base.mean())
    assert -1 <= low < diff < high <= 1
    swapped = st.newcombe_paired_interval(base, other)
    assert swapped == pytest.approx((-diff, -high, -low))
    same = np.zeros(20, dtype=bool)
    d0, l0, h0 = st.newcombe_paired_interval(same, same)
    assert d0 == 0 and l0 < 0 < h0  # zero, with an interval around it


def test_paired_table_mean_interval_and_zero_notes() -> None:
    rng = np.random.default_rng(3)
    base = rng.poisson(100, size=(30, 3)).astype(float)
    other = base.copy()
    other[:, 0] += rng.normal(5, 2, 30)
    base[:, 2] = other[:, 2] = 0.0
    table = st.paired_table("cf", base, other, outcomes=["a", "b", "c"])
    row = table.iloc[0]
    assert row["mean_low"] < row["diff_mean"] < row["mean_high"]
    assert row["mean_low"] > 0 and row["note"] == ""
    assert table.iloc[1]["note"] == st.NOTE_IDENTICAL
    assert table.iloc[2]["note"] == st.NOTE_UNREACHED
    assert (table.iloc[1][["diff_mean", "mean_low", "mean_high"]] == 0).all()
    again = st.paired_table("cf", base, other, outcomes=["a", "b", "c"])
    assert again.equals(table)  # seeded bootstrap


def test_rare_event_table() -> None:
    base = np.array([[0, 1], [0, 0], [0, 2], [0, 0]], dtype=float)
    other = np.array([[0, 1], [0, 1], [0, 2], [0, 0]], dtype=float)
    table = st.rare_event_table("cf", ["coups_MLI", "coups_BFA"], base, other)
    first, second = table.iloc[0], table.iloc[1]
    assert first["note"] == st.NOTE_NO_EVENT and first["share_diff"] == 0
    assert first["share_diff_low"] < 0 < first["share_diff_high"]
    assert second["baseline_runs_with"] == 2 and second["counterfactual_runs_with"] == 3
    assert second["share_diff"] == pytest.approx(0.25)
    assert second["baseline_low"] < 0.5 < second["baseline_high"]
