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
the r trajectories, not mu* (which noise alone keeps above zero). A parameter moves a target
when |mu| >= `threshold` range widths and the effect is told from noise: its t = |mu| sqrt(r)
/ sigma, two-sided against Student's t with r - 1 degrees of freedom, passes the
Benjamini-Hochberg step-up rule over every parameter-target pair at the false discovery rate
`fdr` (Benjamini and Hochberg 1995). A fixed t >= 2 passed 9% of pure-noise pairs at r = 8,
about 90 of the 1,066 pairs of the kept fit's screen (41 parameters, 26 targets), and noise
movers took places in the fit (docs/CALIBRATION.md).

Which movers are fitted, at most `max_fitted` of them since the fit's weights degenerate as
the number of parameters grows (docs/CALIBRATION.md): every target's strongest mover first,
then every target's second, and so on (ties within a round by size in range widths). Ranking
by the largest effect on any target instead let one target with a narrow range (JNIM's
strength) pick nearly every parameter. A prior that names a `counterfactual` (the parameter
sets the effect of a shipped counterfactual scenario: MINUSMA's protection, Western support,
regime protection and coups) is kept whatever the screen finds, on top of the `max_fitted`:
left at an assumed value it would give that comparison an effect size no data constrains and
bands without its uncertainty. (Russian restraint is not marked: `russian_restraint` sets it
itself.) So is a prior that names a `mechanism`: the parameter alone sizes a mechanism
that no source sizes (the state side's punishment of suspected communities), and left out of
the fit it would keep an assumed default however strongly the screen finds it moves the
targets, since the coverage order fills the budget with each target's strongest mover first.
Such a parameter takes its place in the coverage order like any other, so a target it moves
most is covered by it. A prior that says why the fit must move it (`fit`) is moved by the
kernel whatever the screen finds, on top of `max_fitted`: a parameter that alone separates a
target from others the fitted ones move together (the state side's restraint in one country)
and that the coverage order leaves out because a broader parameter moves the target more.
A lever that is the strongest mover of no target is `drawn`: not moved
by the fit's kernel but drawn from its prior in every simulation and kept with the particle it
produced (`sim.calibration.fitting`), since a dimension the targets hardly inform is what
degenerates the importance weights (benchmarks/ess_unidentified.py); its posterior is the
prior reweighted by the targets through the particles it was drawn with. Effects that change
sign across the prior (non-monotone) can be missed; the decision table says why each
parameter was kept or dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.targets import Target
from sim.scenario import Scenario

SCREEN_THRESHOLD = 0.1  # range widths per prior range; below it a parameter moves no target
FDR = 0.1  # expected share of noise among the parameter-target pairs called movers
MAX_FITTED = 8  # screened parameters fitted at most, besides the levers' (budget)
TRAJECTORIES = 16  # Morris trajectories: at 8, BH at 0.1 called only effects with t >= 6
SCREEN_COLUMNS = ("parameter", "score", "t", "strongest_target", "kept", "drawn", "reason")


def screen(scenario: Scenario, priors: Sequence[Any], targets: Sequence[Target],
           summaries: Sequence[Any], trajectories: int = 8, seed: int = 0, workers: int = 1,
           progress: bool = True, threshold: float = SCREEN_THRESHOLD,
           max_fitted: int = MAX_FITTED, log: Callable[[str], None] = print
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Morris screen of `priors` on the targets' statistics.

    Returns:
        (decision, indices): one row per parameter (SCREEN_COLUMNS), movers in coverage
        order, then the others by score; and the
        Morris indices (outcome = target, parameter, mu, mu_star, mu_star_conf, sigma) in
        range widths.
    """
    from sim.calibration.simulate import simulate_statistics
    from sim.experiments.designs import design_points, sensitivity_indices

    ranges = {p.name: p.sampled_bounds for p in priors}
    points = design_points(ranges, "morris", trajectories, seed)
    overrides = prior_overrides(priors, points)
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
    return decide_for(indices, priors, trajectories, threshold, max_fitted), indices


def prior_overrides(priors: Sequence[Any], points: np.ndarray) -> list[dict[str, float]]:
    """Each design point (a row on the priors' sampled scales) as natural parameter values."""
    return [{p.name: float(np.exp(v)) if p.scale == "log" else float(v)
             for p, v in zip(priors, row, strict=True)} for row in points]


def decide_for(indices: pd.DataFrame, priors: Sequence[Any], trajectories: int,
               threshold: float = SCREEN_THRESHOLD, max_fitted: int = MAX_FITTED
               ) -> pd.DataFrame:
    """`decide` with the levers the priors name (`counterfactual`, `mechanism`) and `fit`."""
    counterfactuals = {p.name: p.counterfactual for p in priors if p.counterfactual}
    mechanisms = {p.name: p.mechanism for p in priors if p.mechanism}
    required = {p.name: p.fit for p in priors if p.fit}
    return decide(indices, [p.name for p in priors], trajectories, threshold, max_fitted,
                  counterfactuals=counterfactuals, mechanisms=mechanisms, required=required)


def decide(indices: pd.DataFrame, names: Sequence[str], trajectories: int,
           threshold: float = SCREEN_THRESHOLD, max_fitted: int = MAX_FITTED,
           fdr: float = FDR, counterfactuals: Mapping[str, str] | None = None,
           mechanisms: Mapping[str, str] | None = None,
           required: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Keep the levers (counterfactuals', mechanisms'), the `required` and <= `max_fitted` movers.

    A lever that is no target's strongest mover is marked `drawn` (from its prior); a
    required parameter (its prior's `fit`: why) is moved by the kernel, outside the budget.
    """
    required = dict(required or {})
    levers = {name: f"sizes {what}" for name, what in (mechanisms or {}).items()}
    levers.update({name: f"sets {what}" for name, what in (counterfactuals or {}).items()})
    effects = indices.dropna(subset=["mu", "sigma"]).copy()
    effects["size"] = effects["mu"].abs()
    with np.errstate(divide="ignore", invalid="ignore"):
        effects["t"] = effects["size"] * np.sqrt(trajectories) / effects["sigma"]
    effects["t"] = effects["t"].fillna(0.0)  # no effect at all: sigma 0 and mu 0
    clear = told_from_noise(effects["t"].to_numpy(float), trajectories - 1, fdr)
    effects["moves"] = (effects["size"] >= threshold) & clear
    movers = effects[effects["moves"]].sort_values("size", ascending=False, kind="stable")
    movers = movers.assign(rank=movers.groupby("outcome").cumcount())
    by_coverage = movers.sort_values(["rank", "size"], ascending=[True, False], kind="stable")
    coverage = by_coverage.drop_duplicates("parameter").set_index("parameter")
    effects = effects.sort_values(["moves", "size"], ascending=False, kind="stable")
    best = effects.drop_duplicates("parameter").set_index("parameter").reindex(list(names))
    table = pd.DataFrame({"parameter": list(names),
                          "score": best["size"].fillna(0.0).to_numpy(),
                          "t": best["t"].fillna(0.0).to_numpy(),
                          "strongest_target": best["outcome"].fillna("").to_numpy(),
                          "moves": best["moves"].fillna(False).astype(bool).to_numpy()})
    order = {name: i for i, name in enumerate(coverage.index)}
    table["order"] = [order.get(name, len(order)) for name in table["parameter"]]
    table = table.sort_values(["order", "score"], ascending=[True, False], kind="stable")
    table = table.reset_index(drop=True)
    is_required = table["parameter"].isin(required)
    is_lever = table["parameter"].isin(levers) & ~is_required
    screened = table["moves"] & ~is_lever & ~is_required
    table["kept"] = (screened & (screened.cumsum() <= max_fitted)) | is_lever | is_required
    strongest = set(coverage.index[coverage["rank"] == 0]) if len(coverage) else set()
    table["drawn"] = is_lever & ~table["parameter"].isin(strongest)
    reasons = []
    for row in table.itertuples():
        found = coverage.loc[row.parameter] if row.moves else None
        moves = "" if found is None else (f"mover no. {int(found['rank']) + 1} of "
                                          f"{found['outcome']}")
        if row.parameter in required:
            reasons.append(f"kept whatever the screen finds: {required[row.parameter]}"
                           + (f" ({moves})" if moves else ""))
        elif row.parameter in levers:
            how = "drawn from its prior in each simulation: " if row.drawn else "kept: "
            reasons.append(how + levers[row.parameter] + (f" ({moves})" if moves else ""))
        elif not row.moves:
            reasons.append(f"moves no target by {threshold} of its range at a false "
                           f"discovery rate of {fdr}")
        elif row.kept:
            reasons.append(f"kept: {moves}")
        else:
            reasons.append(f"beyond the {max_fitted} fitted by target coverage")
    table["reason"] = reasons
    return table[list(SCREEN_COLUMNS)]


def told_from_noise(t: np.ndarray, dof: int, fdr: float) -> np.ndarray:
    """Which mean effects are not noise: Benjamini-Hochberg over their two-sided t tests.

    The p-values of `t` (Student's t with `dof` degrees of freedom) are sorted; the largest k
    with p_(k) <= k fdr / m sets the cut, and every effect with p <= p_(k) is called.
    """
    from scipy import stats

    p = 2.0 * stats.t.sf(np.abs(t), dof)
    ranked = np.sort(p)
    passing = np.nonzero(ranked <= fdr * np.arange(1, p.size + 1) / max(p.size, 1))[0]
    if not passing.size:
        return np.zeros(p.size, dtype=bool)
    return p <= ranked[passing[-1]]
