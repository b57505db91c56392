"""The Morris screen's decision: effects told from noise, the strongest kept first."""

import numpy as np
import pandas as pd

from sim.calibration.screening import SCREEN_COLUMNS, decide


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
    # A narrow target moved a lot by everything must not crowd out a wide one's only mover.
    indices = _indices([("fighters", "a", 30.0, 30.0, 1.0), ("fighters", "b", 20.0, 20.0, 1.0),
                        ("fighters", "c", 10.0, 10.0, 1.0), ("ratio", "d", 0.5, 0.5, 0.1),
                        ("ratio", "a", 0.9, 0.9, 0.1)])
    table = decide(indices, ["a", "b", "c", "d"], trajectories=8, max_fitted=2)
    # a leads both targets; d is the ratio's second mover, b the fighters' second: d (0.5
    # widths) and b (20) tie on rank, b is larger, so b; d is then third and left out.
    assert table.loc[table["kept"], "parameter"].tolist() == ["a", "b"]
    indices = _indices([("fighters", "a", 30.0, 30.0, 1.0), ("fighters", "b", 20.0, 20.0, 1.0),
                        ("ratio", "d", 0.5, 0.5, 0.1)])
    table = decide(indices, ["a", "b", "d"], trajectories=8, max_fitted=2)
    assert table.loc[table["kept"], "parameter"].tolist() == ["a", "d"]
    assert table.set_index("parameter").loc["b", "strongest_target"] == "fighters"


def test_a_lever_is_kept_whatever_the_screen_finds_and_on_top_of_the_others():
    indices = _indices([("deaths", "p0", 2.0, 2.0, 0.1), ("deaths", "p1", 1.0, 1.0, 0.1),
                        ("deaths", "weak", 0.01, 0.01, 0.5)])
    table = decide(indices, ["p0", "p1", "weak"], trajectories=8, max_fitted=1,
                   levers={"weak": "minusma_stays"}).set_index("parameter")
    assert table["kept"].to_dict() == {"p0": True, "p1": False, "weak": True}
    assert table.loc["weak", "reason"] == "kept: lever of minusma_stays"


def test_a_parameter_with_no_usable_effect_is_dropped_with_its_reason():
    indices = _indices([("deaths", "flat", np.nan, np.nan, np.nan)])
    table = decide(indices, ["flat"], trajectories=8)
    assert not table["kept"].any()
    assert table["reason"].iloc[0].startswith("moves no target")
