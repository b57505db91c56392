"""The scores, with answers known by hand: CRPS, interval score, coverage, ignorance."""

from __future__ import annotations

import numpy as np
import pytest

from sim.acled import scoring
from sim.acled.scoring import (
    VIEWS_BINS,
    bin_index,
    covered,
    crps,
    ignorance,
    interval_score,
    score_units,
    summarise,
    unit_scores,
)

OBS = np.array([0.0, 1.0, 4.0, 12.0, 40.0, 300.0])


def test_crps_of_a_point_ensemble_is_the_absolute_error() -> None:
    forecast = np.array([3.0, 1.0, 0.0, 20.0, 35.0, 1000.0])
    assert crps(OBS, forecast[:, None]) == pytest.approx(np.abs(OBS - forecast))


def test_crps_of_a_two_member_ensemble_by_hand() -> None:
    # E|X - y| - E|X - X'| / 2 with X in {0, 2}, y = 1: 1 - (0 + 2 + 2 + 0) / 4 / 2 = 0.5
    assert crps(np.array([1.0]), np.array([[0.0, 2.0]])) == pytest.approx([0.5])
    # y = 5: (5 + 3) / 2 - 0.5 = 3.5
    assert crps(np.array([5.0]), np.array([[0.0, 2.0]])) == pytest.approx([3.5])


def test_the_observations_themselves_score_better_than_a_shifted_ensemble() -> None:
    rng = np.random.default_rng(5)
    exact = np.repeat(OBS[:, None], 100, axis=1)
    noisy = (exact + rng.uniform(-0.4, 0.4, exact.shape)).clip(0)  # in the same bin
    shifted = noisy + 30
    good, bad = unit_scores(OBS, noisy), unit_scores(OBS, shifted)
    assert good["crps"].mean() < bad["crps"].mean()
    assert good["mis_90"].mean() < bad["mis_90"].mean()
    assert good["ignorance"].mean() < bad["ignorance"].mean()
    assert good["covered_90"].mean() > bad["covered_90"].mean()
    perfect = unit_scores(OBS, exact)
    assert perfect["crps"] == pytest.approx(np.zeros(6))
    assert perfect["mis_90"] == pytest.approx(np.zeros(6))


def test_coverage_of_a_wide_ensemble_is_one_and_of_a_narrow_one_is_known() -> None:
    wide = np.tile(np.linspace(-1000, 2000, 201), (len(OBS), 1))
    assert covered(OBS, wide, 0.9).all() and covered(OBS, wide, 0.5).all()
    narrow = np.tile(np.arange(0.0, 11.0), (len(OBS), 1))  # 5-95%: 0.5 to 9.5; 25-75%: 2.5-7.5
    assert covered(OBS, narrow, 0.9).tolist() == [False, True, True, False, False, False]
    assert covered(OBS, narrow, 0.5).tolist() == [False, False, True, False, False, False]


def test_interval_score_by_hand() -> None:
    draws = np.tile(np.arange(0.0, 11.0), (3, 1))  # 90% interval [0.5, 9.5], width 9
    obs = np.array([5.0, 0.0, 19.5])
    # inside: 9; below by 0.5: 9 + 20 * 0.5; above by 10: 9 + 20 * 10
    assert interval_score(obs, draws, 0.9) == pytest.approx([9.0, 19.0, 209.0])


def test_views_bins() -> None:
    assert VIEWS_BINS.tolist() == [0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5, 100.5, 250.5, 500.5,
                                   1000.5]
    values = [-1, 0, 1, 2, 3, 5, 6, 10, 11, 25, 26, 50, 51, 100, 101, 250, 251, 500, 501, 1000,
              1001, 10_000]
    assert bin_index(values).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9,
                                          9, 10, 10]


def test_ignorance_by_hand() -> None:
    # Four draws 0, 0, 1, 30: bins 0, 0, 1, 5; 11 bins, one pseudo-count each: 15 in all.
    draws = np.array([[0.0, 0.0, 1.0, 30.0]] * 3)
    obs = np.array([0.0, 2.0, 7.0])  # bins 0 (2 draws), 1 (1 draw), 3 (none)
    expected = -np.log2(np.array([3.0, 2.0, 1.0]) / 15.0)
    assert ignorance(obs, draws) == pytest.approx(expected)
    # A one-draw zero forecast scaled to 4 members: bin 0 holds 4 of 4 + 11.
    assert ignorance(np.array([0.0, 3.0]), np.zeros((2, 1)), members=4) == pytest.approx(
        -np.log2(np.array([5.0, 1.0]) / 15.0))


def test_scores_in_chunks_equal_scores_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    obs = rng.poisson(3, 50).astype(float)
    draws = rng.poisson(3, (50, 40)).astype(float)
    whole = unit_scores(obs, draws)
    monkeypatch.setattr(scoring, "CHUNK_UNITS", 7)
    chunked = unit_scores(obs, draws)
    for name in scoring.SCORES:
        assert chunked[name] == pytest.approx(whole[name])


def test_references_and_skill() -> None:
    obs = np.array([[2.0, 0.0, 5.0], [0.0, 0.0, 1.0]])  # 2 units x 3 months
    model = np.repeat(obs[:, :, None], 10, axis=2)  # the observations themselves
    history = np.array([[2.0] * 12, [0.0] * 12])
    scores = score_units(obs, model, history)
    assert list(scores) == ["model", "climatology", "zero"]
    assert scores["zero"]["crps"] == pytest.approx(obs.reshape(-1))  # |y - 0|
    assert scores["climatology"]["crps"] == pytest.approx([0, 2, 3, 0, 0, 1])
    assert scores["zero"]["mis_90"] == pytest.approx(20 * obs.reshape(-1))
    table = summarise(scores).set_index("forecast")
    assert table.loc["model", "crps"] == 0
    assert table.loc["zero", "crps"] == pytest.approx(8 / 6)
    assert table.loc["climatology", "crps"] == pytest.approx(1.0)
    assert table.loc["model", "crps_skill_vs_zero"] == pytest.approx(1.0)
    assert table.loc["climatology", "crps_skill_vs_zero"] == pytest.approx(1 - 1.0 / (8 / 6))
    assert table.loc["zero", "crps_skill_vs_zero"] == 0
    assert table.loc["model", "coverage_90"] == 1 and table.loc["zero", "coverage_90"] == 0.5
    assert table["units"].tolist() == [6, 6, 6]
    no_history = summarise(score_units(obs, model, None))
    assert no_history["forecast"].tolist() == ["model", "zero"]
    assert no_history["crps_skill_vs_climatology"].isna().all()


def test_without_scoringrules_the_error_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "scoringrules", None)  # as if not installed
    with pytest.raises(scoring.AcledError) as info:
        crps(OBS, OBS[:, None])
    assert str(info.value) == ("scoring needs scoringrules: pip install 'sahel-sim[scoring]' (or "
                               "bash scripts/setup.sh scoring)")
