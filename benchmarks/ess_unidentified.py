"""Diagnostic of the fit's degenerate weights: effective sample size (ESS) per generation when
the synthetic problem of the fitting tests gains parameters that no summary depends on.

Run: .venv/bin/python benchmarks/ess_unidentified.py [--extra 0,4,8] [--seeds 1,2]
                  [--modes fitted,drawn] [--effect 0] [--population 300] [--workers 2]

The synthetic problem (`tests/calibration/synthetic_problem.py`: 8 parameters, 9 noisy
summaries, a known truth) is fitted by `sim.calibration.fitting.fit` with its defaults
(multivariate normal kernel, scaling 1.5) plus N extra parameters, each uniform on [0, 1] and
ignored by the simulator: unidentified, like the counterfactuals' parameters that the
baseline's targets hardly constrain (README, "The baseline's calibration"). The extra
parameters are either moved by the kernel like the others ("fitted") or drawn from their
priors in each simulation ("drawn", `fit(..., drawn=...)`, what the screen does with a lever
that is no target's strongest mover); both modes run side by side. With `--effect E` the
extra parameters are weakly identified instead: each moves summary s8 by E across its prior
(true value 0.5, where the targets are made), and their coverage and mean 90% interval width
(prior: 0.9) are printed too. Every fit runs
8 generations at most, 12,000 simulations at most, on one core (fits share out over
`--workers` processes). Printed per fit: the extra parameters, how they are handled, the
seed, the ESS of each generation, the median ESS of generations 1 and later, the final
epsilon, the simulations, how many of the 8 true parameters the 90% posterior intervals
cover, and the wall time; then the median over seeds of the median ESS per number of extra
parameters and mode.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

EXTRA_TRUTH = 0.5  # the extra parameters' true value (the targets are made at it)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one_fit(job: tuple[int, int, int, str, float]) -> dict:
    """Fit the synthetic problem with `extra` extra parameters; ESS and coverage."""
    from sim.calibration.distances import Prior
    from sim.calibration.fitting import fit
    from tests.calibration import synthetic_problem as toy

    extra, seed, population, mode, effect = job
    truth = toy.TRUTH | {f"unidentified_{i}": EXTRA_TRUTH for i in range(extra)}
    extras = [Prior(f"unidentified_{i}", 0, 1, "linear", "ignored") for i in range(extra)]
    priors, drawn = (toy.PRIORS, extras) if mode == "drawn" else ([*toy.PRIORS, *extras], [])

    def simulate(params: dict, run_seed: int) -> dict:
        out = toy.simulate({k: params[k] for k in toy.TRUTH}, run_seed)
        shift = sum(params[f"unidentified_{i}"] - EXTRA_TRUTH for i in range(extra))
        return out | {"s8": out["s8"] + effect * shift}

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = fit(simulate, priors, toy.targets(), out, drawn=drawn, population=population,
                     max_generations=8, max_total_simulations=12_000, workers=1, seed=seed,
                     command="benchmarks/ess_unidentified.py")
    post, weights = result.posterior, result.posterior["weight"].to_numpy()
    covered, widths = 0, []
    for name, true_value in truth.items():
        order = np.argsort(post[name].to_numpy())
        values, cumulative = post[name].to_numpy()[order], np.cumsum(weights[order])
        low = values[np.searchsorted(cumulative, 0.05)]
        high = values[min(np.searchsorted(cumulative, 0.95), values.size - 1)]
        covered += low <= true_value <= high
        if name not in toy.TRUTH:
            widths.append(high - low)
    gens = result.generations
    ess = gens.effective_sample_size.round().astype(int).tolist()
    return {"extra": extra, "mode": mode, "seed": seed, "ess": ess,
            "epsilon": float(gens.epsilon.iloc[-1]),
            "simulations": int(gens.simulations.sum()), "covered": covered,
            "of": len(truth), "extra_width": float(np.mean(widths)) if widths else math.nan,
            "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", default="0,4,8", help="numbers of unidentified parameters")
    parser.add_argument("--seeds", default="1,2", help="fit seeds")
    parser.add_argument("--modes", default="fitted,drawn",
                        help="how the extra parameters are handled: fitted, drawn or both")
    parser.add_argument("--effect", type=float, default=0.0,
                        help="each extra parameter x adds effect * (x - 0.5) to summary s8 "
                             "(range +-0.5, noise 0.3); 0: the simulator ignores them")
    parser.add_argument("--population", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    modes = args.modes.split(",")
    if set(modes) - {"fitted", "drawn"}:
        parser.error(f"--modes: expected fitted and/or drawn, got {args.modes!r}")
    jobs = [(int(e), int(s), args.population, m, args.effect) for e in args.extra.split(",")
            for m in (modes if int(e) else modes[:1]) for s in args.seeds.split(",")]
    kind = (f"extra ones moving s8 by {args.effect} each across their prior" if args.effect
            else "unidentified ones")
    print(f"synthetic problem (8 parameters) + {kind}, population {args.population}, "
          "8 generations and 12,000 simulations at most, kernel scaling 1.5")
    print(f"{'extra':>5} {'mode':>6} {'seed':>4}  {'ESS per generation':<40} "
          f"{'median ESS g>=1':>15} {'epsilon':>7} {'sims':>6} {'covered':>7} "
          f"{'extra 90% width':>15} {'s':>5}")
    rows = []
    with ProcessPoolExecutor(args.workers) as pool:
        for row in pool.map(one_fit, jobs):
            rows.append(row)
            median = float(np.median(row["ess"][1:])) if len(row["ess"]) > 1 else float("nan")
            row["median_ess"] = median
            print(f"{row['extra']:>5} {row['mode']:>6} {row['seed']:>4}  {row['ess']!s:<40} "
                  f"{median:>15.0f} {row['epsilon']:>7.2f} {row['simulations']:>6} "
                  f"{row['covered']:>4}/{row['of']:<2} {row['extra_width']:>15.2f} "
                  f"{row['seconds']:>5.0f}", flush=True)
    print("\nmedian over seeds of the median ESS of generations >= 1, of "
          f"{args.population}:")
    for extra, mode in sorted({(r["extra"], r["mode"]) for r in rows}):
        values = [r["median_ess"] for r in rows if (r["extra"], r["mode"]) == (extra, mode)]
        covered = [f"{r['covered']}/{r['of']}" for r in rows
                   if (r["extra"], r["mode"]) == (extra, mode)]
        how = f", {mode}" if extra else ""
        print(f"  {extra} extra parameters{how}: {np.median(values):.0f} "
              f"(true parameters covered: {', '.join(covered)})")


if __name__ == "__main__":
    main()
