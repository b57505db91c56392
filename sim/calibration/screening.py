"""The Morris screen before the fit: which candidate parameters move any target at all.

Each candidate parameter is swept over its prior (on the log scale where the prior is) in
Morris trajectories (`sim.experiments.designs`, SALib, 4 levels), all runs with one model seed
(common random numbers, so an elementary effect is the parameter's and not the seed's). Each
target's statistic is put on its comparison scale and divided by the width of its sourced
range (`Summary.scaled`, `Summary.width`), so mu* reads "how many range widths the target
moves when the parameter crosses its prior". A parameter is kept for the fit when its largest
mu* over the targets reaches `threshold`; at most `max_fitted` of them, the strongest first
(the fit's budget grows with the number of parameters).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.targets import Target
from sim.scenario import Scenario

SCREEN_THRESHOLD = 0.1  # range widths per prior range; below it a parameter moves no target
MAX_FITTED = 12  # parameters fitted at most (the 60-minute budget on 2 cores)
SCREEN_COLUMNS = ("parameter", "score", "strongest_target", "kept", "reason")


def screen(scenario: Scenario, priors: Sequence[Any], targets: Sequence[Target],
           summaries: Sequence[Any], trajectories: int = 8, seed: int = 0, workers: int = 1,
           progress: bool = True, threshold: float = SCREEN_THRESHOLD,
           max_fitted: int = MAX_FITTED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Morris screen of `priors` on the targets' statistics.

    Returns:
        (decision, indices): one row per parameter (SCREEN_COLUMNS), sorted by score; and the
        Morris indices (outcome = target, parameter, mu, mu_star, mu_star_conf, sigma) in
        range widths.
    """
    from sim.calibration.statistics import simulate_statistics
    from sim.experiments.designs import design_points, sensitivity_indices

    ranges = {p.name: p.sampled_bounds for p in priors}
    points = design_points(ranges, "morris", trajectories, seed)
    overrides = [{p.name: float(np.exp(v)) if p.scale == "log" else float(v)
                  for p, v in zip(priors, row, strict=True)} for row in points]
    model_seed = int(np.random.SeedSequence(seed).generate_state(1)[0])
    stats = simulate_statistics(scenario, targets, [model_seed] * len(points), overrides,
                                workers=workers, progress=progress)
    scaled = pd.DataFrame({s.name: np.asarray(s.scaled(stats[s.name].to_numpy(float)))
                           / s.width for s in summaries})
    indices = sensitivity_indices(ranges, "morris", points, scaled, seed,
                                  names=[s.name for s in summaries])
    return decide(indices, [p.name for p in priors], threshold, max_fitted), indices


def decide(indices: pd.DataFrame, names: Sequence[str], threshold: float, max_fitted: int
           ) -> pd.DataFrame:
    """Keep the parameters whose largest mu* reaches `threshold`, at most `max_fitted`."""
    usable = indices.dropna(subset=["mu_star"])
    best = usable.sort_values("mu_star", ascending=False).drop_duplicates("parameter")
    best = best.set_index("parameter").reindex(list(names))
    table = pd.DataFrame({"parameter": list(names),
                          "score": best["mu_star"].fillna(0.0).to_numpy(),
                          "strongest_target": best["outcome"].fillna("").to_numpy()})
    table = table.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    moves = table["score"] >= threshold
    rank = np.arange(len(table))
    table["kept"] = moves & (rank < max_fitted)
    table["reason"] = np.where(~moves, f"moves no target by {threshold} of its range",
                               np.where(table["kept"], "kept",
                                        f"weaker than the {max_fitted} strongest"))
    return table[list(SCREEN_COLUMNS)]
