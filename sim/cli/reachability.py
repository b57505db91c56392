"""`sahel-sim reachability`: which targets the model reaches inside its priors, and together."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.calibration.targets import load_targets
from sim.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_out_option,
    add_priors_option,
    add_runs_option,
    add_scenario_and_targets,
    add_seed_option,
    add_workers_option,
    check_root_seed,
    short_number,
)
from sim.experiments.reporting import text_table

DEFAULT_REACHABILITY = Path("calibration/reachability")  # the sweep's --out, from the cwd


def cmd_reachability(args: argparse.Namespace) -> int:
    """Run the scenario over the priors' box; say which targets it reaches, alone and together."""
    from sim.calibration.calibrate import DEFAULT_PRIORS, load_priors
    from sim.calibration.reachability import (
        load_or_sweep,
        sweep_config,
        sweep_priors,
        write_reachability,
    )
    from sim.experiments.executors import default_workers
    from sim.scenario import load_scenario, resolve_scenario_path

    scenario = load_scenario(resolve_scenario_path(args.scenario))
    targets = load_targets(Path(args.targets))
    priors = load_priors(Path(args.priors) if args.priors else DEFAULT_PRIORS, scenario)
    check_root_seed(args.seed)
    workers = default_workers() if args.workers is None else args.workers

    def sweep() -> Any:
        print(f"reachability: {args.runs} runs of '{scenario.name}' over the box of "
              f"{len(priors)} priors", file=sys.stderr)
        return sweep_priors(scenario, priors, targets, args.runs, args.seed, workers)

    config = sweep_config(scenario, priors, targets, args.runs, args.seed)
    try:
        frame, swept = load_or_sweep(args.out, config, sweep, rerun=args.rerun)
    except RuntimeError as exc:  # every run failed
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not swept:
        print(f"reachability: the {args.runs} runs of {args.out / 'runs.csv'} (same scenario, "
              "priors, targets, runs, seed, version and model code; --rerun to run them again)",
              file=sys.stderr)
    found = write_reachability(targets, frame, args.out,
                               f"Prior predictive of '{scenario.name}': {args.runs} runs over "
                               f"the box of {len(priors)} priors")
    if found.runs < len(frame):  # the analysis leaves failed runs out
        print(f"warning: {len(frame) - found.runs} of {len(frame)} runs failed (left out)",
              file=sys.stderr)
    print(text_table(["target", "low", "high", "in range", "sim 5%", "median", "sim 95%"],
                     [[r.target, short_number(r.low), short_number(r.high),
                       f"{r.reached_share:.1%}" if r.reached else f"none ({r.side})",
                       short_number(r.sim_q05), short_number(r.sim_q50), short_number(r.sim_q95)]
                      for r in found.targets.itertuples()], left=1))
    per_run = found.hits_per_run
    print(f"\ntargets hit by one run: median {per_run.median():g}, most {per_run.max()} of "
          f"{found.hits.shape[1]}; reached by no run: {len(found.unreached)}"
          + (f" ({', '.join(found.unreached)})" if found.unreached else ""))
    conflicts = found.conflicts
    print(f"pairs of targets hit together far less often than chance: {len(conflicts)}")
    for r in conflicts.head(10).itertuples():
        print(f"  {r.target_a} & {r.target_b}: {r.joint} runs hit both, "
              f"{r.expected:.1f} expected")
    print("wrote " + ", ".join(str(f) for f in found.files))
    return EXIT_OK


def register_reachability_command(sub: argparse._SubParsersAction) -> None:
    """Add `reachability` to the parser."""
    p = sub.add_parser(
        "reachability", help="which targets the model can reach inside its priors, and which "
                             "pairs it cannot hit together",
        description="Run the scenario at --runs points of a Latin hypercube over every "
                    "candidate parameter of the priors file (each its own seed: the prior "
                    "predictive) and write, into --out, runs.csv (parameters and statistics), "
                    "reachability.csv (each target's share of runs in range and their spread), "
                    "pairs.csv (joint hits of each pair of targets against independence; "
                    "conflicts: far fewer than chance), reachability.md and two PNGs. The "
                    "runs of an earlier call with the same scenario (its content), priors, "
                    "targets, runs, seed, sahel-sim version and model code (a digest of the "
                    "sim package) are reused; --rerun runs them again.")
    add_scenario_and_targets(p)
    add_priors_option(p, "priors file (default: calibration/priors.toml)")
    add_runs_option(p, default=1000)
    p.add_argument("--rerun", action="store_true", help="run again even if --out holds the runs")
    add_workers_option(p)
    add_seed_option(p, "seed of the design and of the runs (default: %(default)s)", default=0)
    add_out_option(p, "output folder (default: %(default)s)",
                   default=DEFAULT_REACHABILITY)
    p.set_defaults(func=cmd_reachability)
