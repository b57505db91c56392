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
    assert (table.loc[~table["kept"], "reason"] == "weaker than the 2 strongest").all()


def test_a_parameter_with_no_usable_effect_is_dropped_with_its_reason():
    indices = _indices([("deaths", "flat", np.nan, np.nan, np.nan)])
    table = decide(indices, ["flat"], trajectories=8)
    assert not table["kept"].any()
    assert table["reason"].iloc[0].startswith("moves no target")
