"""The Morris screen before the fit: which candidate parameters move any target at all.

Each candidate parameter is swept over its prior (on the log scale where the prior is) in
Morris trajectories (`sim.experiments.designs`, SALib, 4 levels), all runs with one model seed
(common random numbers, so an elementary effect is the parameter's and not the seed's). Each
target's statistic is put on its comparison scale and divided by the width of its sourced
range (`Summary.scaled`, `Summary.width`), so mu reads "how many range widths the target
moves when the parameter crosses its prior".

A changed parameter also changes every later random draw of the run, so each elementary effect
carries noise as large as a change of seed; rare counts and largest events are mostly noise.
Hence the screen uses the signed mean effect mu and its standard error sigma / sqrt(r) over
the r trajectories, not mu* (which noise alone keeps above zero): a parameter moves a target
when |mu| >= `threshold` range widths and |mu| is at least `min_t` standard errors. It is kept
for the fit when it moves some target; at most `max_fitted` of them, the strongest (largest
|mu|) first, since the fit's budget grows with the number of parameters. Effects that change
sign across the prior (non-monotone) can be missed; the decision table says why each
parameter was kept or dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.targets import Target
from sim.scenario import Scenario

SCREEN_THRESHOLD = 0.1  # range widths per prior range; below it a parameter moves no target
MIN_T = 2.0  # standard errors of the mean effect that tell an effect from noise
MAX_FITTED = 12  # parameters fitted at most (the 60-minute budget on 2 cores)
SCREEN_COLUMNS = ("parameter", "score", "t", "strongest_target", "kept", "reason")


def screen(scenario: Scenario, priors: Sequence[Any], targets: Sequence[Target],
           summaries: Sequence[Any], trajectories: int = 8, seed: int = 0, workers: int = 1,
           progress: bool = True, threshold: float = SCREEN_THRESHOLD,
           max_fitted: int = MAX_FITTED, log: Callable[[str], None] = print
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
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
    errors = stats.attrs.get("errors", {})
    if errors:  # a failed run leaves NaN: the targets it misses cannot be screened
        log(f"screen: {len(errors)} of {len(points)} runs failed; the first: "
            f"{next(iter(errors.values()))}")
    scaled = pd.DataFrame({s.name: np.asarray(s.scaled(stats[s.name].to_numpy(float)))
                           / s.width for s in summaries})
    indices = sensitivity_indices(ranges, "morris", points, scaled, seed,
                                  names=[s.name for s in summaries])
    return decide(indices, [p.name for p in priors], trajectories, threshold, max_fitted), \
        indices


def decide(indices: pd.DataFrame, names: Sequence[str], trajectories: int,
           threshold: float = SCREEN_THRESHOLD, max_fitted: int = MAX_FITTED,
           min_t: float = MIN_T) -> pd.DataFrame:
    """Keep the parameters that move some target (|mu| and its t), at most `max_fitted`."""
    effects = indices.dropna(subset=["mu", "sigma"]).copy()
    effects["size"] = effects["mu"].abs()
    with np.errstate(divide="ignore", invalid="ignore"):
        effects["t"] = effects["size"] * np.sqrt(trajectories) / effects["sigma"]
    effects["t"] = effects["t"].fillna(0.0)  # no effect at all: sigma 0 and mu 0
    effects["moves"] = (effects["size"] >= threshold) & (effects["t"] >= min_t)
    effects = effects.sort_values(["moves", "size"], ascending=False, kind="stable")
    best = effects.drop_duplicates("parameter").set_index("parameter").reindex(list(names))
    table = pd.DataFrame({"parameter": list(names),
                          "score": best["size"].fillna(0.0).to_numpy(),
                          "t": best["t"].fillna(0.0).to_numpy(),
                          "strongest_target": best["outcome"].fillna("").to_numpy(),
                          "moves": best["moves"].fillna(False).astype(bool).to_numpy()})
    table = table.sort_values(["moves", "score"], ascending=False, kind="stable")
    table = table.reset_index(drop=True)
    rank = np.arange(len(table))
    table["kept"] = table["moves"] & (rank < max_fitted)
    table["reason"] = np.where(
        ~table["moves"], f"moves no target by {threshold} of its range at t >= {min_t}",
        np.where(table["kept"], "kept", f"weaker than the {max_fitted} strongest"))
    return table[list(SCREEN_COLUMNS)]
