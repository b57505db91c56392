"""The Morris screen's decision: effects told from noise, kept by target coverage."""

import numpy as np
import pandas as pd
from scipy import stats

from sim.calibration.screening import SCREEN_COLUMNS, decide, told_from_noise


def _indices(rows):
    return pd.DataFrame(rows, columns=["outcome", "parameter", "mu", "mu_star", "sigma"])


def test_a_parameter_is_kept_when_its_mean_effect_is_large_and_clear_of_noise():
    indices = _indices([
        ("deaths", "strong", 2.0, 2.0, 0.5),     # 2 widths, t = 2 * sqrt(8) / 0.5 = 11
        ("deaths", "noisy", 0.5, 3.0, 4.0),      # big mu* from noise, t = 0.35
        ("deaths", "tiny", 0.05, 0.05, 0.01),    # clear but below a tenth of the range
        ("share", "tiny", 0.02, 0.02, 0.01),
        ("share", "second", -0.4, 0.4, 0.2),     # signed effects count by their size
    ])
    table = decide(indices, ["noisy", "tiny", "strong", "second"], trajectories=8)
    assert list(table.columns) == list(SCREEN_COLUMNS)
    assert table["parameter"].tolist()[:2] == ["strong", "second"]
    kept = dict(zip(table["parameter"], table["kept"], strict=True))
    assert kept == {"strong": True, "second": True, "noisy": False, "tiny": False}
    assert table.set_index("parameter").loc["second", "strongest_target"] == "share"
    assert np.isclose(table.set_index("parameter").loc["strong", "t"], 2.0 * np.sqrt(8) / 0.5)


def test_at_most_max_fitted_parameters_are_kept_the_strongest_first():
    indices = _indices([("deaths", f"p{i}", float(i + 1), float(i + 1), 0.1) for i in range(5)])
    table = decide(indices, [f"p{i}" for i in range(5)], trajectories=8, max_fitted=2)
    assert table.loc[table["kept"], "parameter"].tolist() == ["p4", "p3"]
    assert table.loc[table["kept"], "reason"].tolist() == ["kept: mover no. 1 of deaths",
                                                           "kept: mover no. 2 of deaths"]
    assert (table.loc[~table["kept"], "reason"]
            == "beyond the 2 fitted by target coverage").all()


def test_every_targets_strongest_mover_comes_before_any_targets_second():
    # A narrow target moved a lot by everything must not crowd out a wide one's only mover
    # (the old rule, the largest effect on any target, kept a and b here).
    indices = _indices([("fighters", "a", 30.0, 30.0, 1.0), ("fighters", "b", 20.0, 20.0, 1.0),
                        ("ratio", "d", 0.5, 0.5, 0.1)])
    table = decide(indices, ["a", "b", "d"], trajectories=8, max_fitted=2)
    assert table.loc[table["kept"], "parameter"].tolist() == ["a", "d"]
    assert table.set_index("parameter").loc["b", "strongest_target"] == "fighters"


def test_within_a_round_the_larger_effect_wins_whatever_the_names_and_order():
    # Round 1: z leads "a_target" (1 width), y leads "b_target" (5 widths); x is second.
    indices = _indices([("a_target", "z", 1.0, 1.0, 0.1), ("a_target", "x", 0.9, 0.9, 0.1),
                        ("b_target", "y", 5.0, 5.0, 0.1)])
    table = decide(indices, ["z", "x", "y"], trajectories=8, max_fitted=1)
    assert table.loc[table["kept"], "parameter"].tolist() == ["y"]
    assert table["parameter"].tolist() == ["y", "z", "x"]


def test_a_counterfactuals_parameter_is_kept_whatever_the_screen_finds_outside_the_budget():
    indices = _indices([("deaths", "p0", 2.0, 2.0, 0.1), ("deaths", "p1", 1.0, 1.0, 0.1),
                        ("deaths", "weak", 0.01, 0.01, 0.5), ("share", "lead", 3.0, 3.0, 0.1),
                        ("share", "p1", 2.0, 2.0, 0.1)])
    table = decide(indices, ["p0", "p1", "weak", "lead"], trajectories=8, max_fitted=1,
                   counterfactuals={"weak": "minusma_stays", "lead": "bear_brigade_stays"}
                   ).set_index("parameter")
    # lead covers "share" without using the budget; p0 takes the one slot; p1 is left out.
    assert table["kept"].to_dict() == {"lead": True, "p0": True, "p1": False, "weak": True}
    # lead is share's strongest mover: the kernel moves it; weak is drawn from its prior.
    assert table["drawn"].to_dict() == {"lead": False, "p0": False, "p1": False, "weak": True}
    assert table.loc["weak", "reason"] == ("drawn from its prior in each simulation: sets "
                                           "minusma_stays")
    assert table.loc["lead", "reason"] == "kept: sets bear_brigade_stays (mover no. 1 of share)"
    assert table.loc["p0", "reason"] == "kept: mover no. 1 of deaths"


def test_a_parameter_absent_from_the_indices_moves_nothing():
    indices = _indices([("deaths", "p0", 2.0, 2.0, 0.1)])
    table = decide(indices, ["p0", "ghost"], trajectories=8).set_index("parameter")
    assert not table.loc["ghost", "kept"]
    assert table.loc["ghost", "reason"].startswith("moves no target")


def test_a_mechanisms_parameter_is_kept_whatever_the_screen_finds_outside_the_budget():
    indices = _indices([("deaths", "p0", 2.0, 2.0, 0.1), ("share", "p1", 1.0, 1.0, 0.1),
                        ("share", "suspicion", 0.5, 0.5, 0.1), ("deaths", "off", 0.0, 0.0, 0.1)])
    table = decide(indices, ["p0", "p1", "suspicion", "off"], trajectories=8, max_fitted=1,
                   mechanisms={"suspicion": "punishment", "off": "a dead end"},
                   counterfactuals={"p1": "minusma_stays"}).set_index("parameter")
    # suspicion is share's second mover and outside the budget of 1, yet fitted; so is "off",
    # which moves nothing; a counterfactual's wording wins over a mechanism's on one parameter.
    assert table["kept"].to_dict() == {"p0": True, "p1": True, "suspicion": True, "off": True}
    assert table["drawn"].to_dict() == {"p0": False, "p1": False, "suspicion": True,
                                        "off": True}
    assert table.loc["suspicion", "reason"] == ("drawn from its prior in each simulation: sizes "
                                                "punishment (mover no. 2 of share)")
    assert table.loc["off", "reason"] == "drawn from its prior in each simulation: sizes a dead end"
    both = decide(indices, ["p0", "p1"], trajectories=8, max_fitted=0,
                  mechanisms={"p1": "m"}, counterfactuals={"p1": "minusma_stays"})
    assert both.set_index("parameter").loc["p1", "reason"].startswith("kept: sets minusma")


def test_a_required_parameter_is_moved_by_the_kernel_outside_the_budget():
    indices = _indices([("deaths", "p0", 2.0, 2.0, 0.1), ("share", "p1", 1.0, 1.0, 0.1),
                        ("share", "vdp", 0.5, 0.5, 0.1), ("deaths", "flat", 0.0, 0.0, 0.1)])
    table = decide(indices, ["p0", "p1", "vdp", "flat"], trajectories=8, max_fitted=1,
                   mechanisms={"vdp": "m"},
                   required={"vdp": "separates share", "flat": "named"}).set_index("parameter")
    # p0 takes the one slot; vdp (share's second mover) and flat (no mover) are fitted on top,
    # by the kernel (not drawn), a required parameter's reason winning over a mechanism's.
    assert table["kept"].to_dict() == {"p0": True, "p1": False, "vdp": True, "flat": True}
    assert not table["drawn"].any()
    assert table.loc["vdp", "reason"] == ("kept whatever the screen finds: separates share "
                                          "(mover no. 2 of share)")
    assert table.loc["flat", "reason"] == "kept whatever the screen finds: named"
    # A required parameter that is a target's strongest mover does not take the budget's slot.
    lead = _indices([("deaths", "p0", 2.0, 2.0, 0.1), ("share", "army", 3.0, 3.0, 0.1)])
    table = decide(lead, ["p0", "army"], trajectories=8, max_fitted=1,
                   required={"army": "separates share"}).set_index("parameter")
    assert table["kept"].to_dict() == {"army": True, "p0": True}
    assert not table["drawn"].any()


def test_benjamini_hochberg_calls_the_largest_k_with_p_below_k_fdr_over_m():
    # p-values 0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205 (m = 8) at FDR 0.05: the
    # cuts k 0.05 / 8 are 0.00625, 0.0125, 0.01875, 0.025, ...; p(2) = 0.008 <= 0.0125 is the
    # largest to pass, so the first two are called (a fixed p < 0.05 would call five).
    p = np.array([0.041, 0.001, 0.205, 0.039, 0.008, 0.074, 0.042, 0.06])
    t = stats.t.isf(p / 2.0, 7)
    assert told_from_noise(t, 7, 0.05).tolist() == [False, True, False, False, True, False,
                                                    False, False]
    assert not told_from_noise(np.zeros(3), 7, 0.1).any()


def test_benjamini_hochberg_steps_up_past_a_rank_that_fails():
    # p 0.01, 0.04, 0.045 at FDR 0.05 (m = 3): p(2) = 0.04 > 2 x 0.05 / 3 = 0.033, but p(3)
    # = 0.045 <= 0.05 passes, so all three are called (a step-down rule would stop at one).
    t = stats.t.isf(np.array([0.045, 0.01, 0.04]) / 2.0, 7)
    assert told_from_noise(t, 7, 0.05).tolist() == [True, True, True]
    # an exact effect (sigma 0: t infinite) is called, an undefined one (NaN) never
    assert told_from_noise(np.array([np.inf, np.nan, 0.5]), 7, 0.1).tolist() == [True, False,
                                                                                  False]
    assert told_from_noise(np.array([]), 7, 0.1).size == 0


def test_noise_pairs_are_not_called_but_a_clear_effect_is():
    # 100 pure-noise pairs, their p-values spread evenly over 0-1 as noise spreads them (t
    # from 0.006 to 4.0 with 7 degrees of freedom), and one pair at t = 9. The old rule,
    # t >= 2, called the 9 noise pairs with p < 0.086 movers.
    t = stats.t.isf((np.arange(100) + 0.5) / 100 / 2.0, 7)
    assert (t >= 2.0).sum() == 9
    rows = [(f"target{i}", "noise", 0.5, 0.5, 0.5 * np.sqrt(8) / ti) for i, ti in enumerate(t)]
    indices = _indices([*rows, ("target0", "clear", 1.0, 1.0, np.sqrt(8) / 9.0)])
    table = decide(indices, ["noise", "clear"], trajectories=8).set_index("parameter")
    assert table["kept"].to_dict() == {"clear": True, "noise": False}
    assert table.loc["noise", "reason"] == ("moves no target by 0.1 of its range at a false "
                                            "discovery rate of 0.1")
