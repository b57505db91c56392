"""`sahel-sim calibrate-stage`: fit a few parameters to a few targets, given a posterior."""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from sim.calibration.targets import load_targets
from sim.cli.common import (
    EXIT_OK,
    UsageError,
    add_out_option,
    add_priors_option,
    add_scenario_and_targets,
    add_seed_option,
    add_workers_option,
    check_root_seed,
    positive_int,
    short_number,
)
from sim.experiments.reporting import text_table

DEFAULT_STAGE = Path("calibration/stage")  # the stage's --out, from the cwd


def cmd_calibrate_stage(args: argparse.Namespace) -> int:
    """Draw proposals from the posterior and the stage's priors, run them, keep the closest."""
    import pandas as pd

    from sim.calibration.calibrate import DEFAULT_PRIORS, load_priors
    from sim.calibration.fit_result import run_provenance
    from sim.calibration.posterior import default_posterior_path, read_posterior
    from sim.calibration.simulate import simulate_statistics
    from sim.calibration.stage import (
        POSTERIOR_FILE,
        SUMMARY_FILE,
        accept,
        copy_input,
        plan_proposals,
        proposal_overrides,
        run_stage,
        stage_config,
        stage_distance,
        stage_distances,
        stage_posterior,
    )
    from sim.calibration.stage_report import (
        MOVED_WIDTHS,
        staged_parameters,
        targets_fitted_before,
        write_stage,
    )
    from sim.experiments.executors import default_workers
    from sim.progress import ProgressBar
    from sim.scenario import load_scenario, resolve_scenario_path

    check_root_seed(args.seed)
    if args.keep > args.proposals:
        raise UsageError(f"--keep: {args.keep} is more than --proposals ({args.proposals}); "
                         "keep at most as many as are proposed")
    scenario = load_scenario(resolve_scenario_path(args.scenario))
    data = scenario.model_dump(mode="json")
    targets = load_targets(Path(args.targets))
    priors_file = Path(args.priors) if args.priors else DEFAULT_PRIORS
    priors = {p.name: p for p in load_priors(priors_file, scenario)}
    stage_priors = [_named(priors, name, "--fit", f"the priors of {priors_file}")
                    for name in dict.fromkeys(args.fit)]
    by_name = {t.name: t for t in targets}
    stage_targets = [_named(by_name, name, "--to", f"the targets of {args.targets}")
                     for name in dict.fromkeys(args.to)]
    stage_distance(stage_targets)  # a target the fit cannot compare: said before any run
    posterior = read_posterior(args.posterior or default_posterior_path(), data)
    if (args.out / POSTERIOR_FILE).resolve() == posterior.path.resolve():
        raise UsageError(f"--out: {args.out} holds the input posterior, which the stage's "
                         f"own {POSTERIOR_FILE} would replace; choose another folder")
    workers = default_workers() if args.workers is None else args.workers
    plan = plan_proposals(posterior, stage_priors, args.proposals, args.seed)
    overrides = proposal_overrides(posterior, plan, stage_priors)
    config = stage_config(scenario, posterior, stage_priors, stage_targets, targets, args.seed,
                          args.seeds_per_proposal)

    # before a --rerun removes this stage's record, which may name the stages before it
    earlier = [n for n in staged_parameters(posterior.path, posterior.sha256)
               if n not in {p.name for p in stage_priors}]
    fitted_before = targets_fitted_before(posterior.path, posterior.sha256)
    refitted = {t.name: fitted_before[t.name] for t in stage_targets if t.name in fitted_before}
    k = args.seeds_per_proposal
    bar = ProgressBar("stage runs", total=args.proposals * k)
    offset = [0]  # runs done before the chunk now running

    def progress(done: int, total: int) -> None:
        offset[0] = done * k
        bar.update(done * k)

    errors: list[str] = []

    def simulate(chunk: list[dict[str, Any]], seeds: list[int]) -> Any:
        try:
            frame = simulate_statistics(scenario, targets, seeds, chunk, workers=workers,
                                        progress=lambda done, _: bar.update(offset[0] + done))
        except RuntimeError as exc:  # every run of the chunk failed: none of them is kept
            errors.extend(f"{exc}" for _ in seeds)
            return pd.DataFrame(math.nan, index=range(len(seeds)),
                                columns=[t.name for t in targets])
        errors.extend(frame.attrs.get("errors", {}).values())
        return frame

    runs_each = f" ({k} runs each, judged by their medians)" if k > 1 else ""
    print(f"calibrate-stage: {args.proposals} proposals{runs_each} of '{scenario.name}' from "
          f"{posterior.describe()}, fitting {len(stage_priors)} parameters to "
          f"{len(stage_targets)} targets", file=sys.stderr)
    provenance = run_provenance("not used")  # the code this call starts with
    started = time.monotonic()
    try:
        runs = run_stage(args.out, config, plan, overrides, simulate, targets, args.rerun,
                         progress=progress)
    finally:
        bar.close()
    distances = stage_distances(runs, stage_targets)
    accepted, epsilon = accept(distances, args.keep)
    inside = int((distances == 0).sum())
    if epsilon > 0:
        print(f"note: {inside} proposals landed in every --to range, fewer than --keep "
              f"({args.keep}), so the closest were kept (approximate ABC); a --keep of at "
              f"most {inside} keeps only those (exact, no new runs)", file=sys.stderr)
    table = stage_posterior(posterior, runs, accepted, stage_priors, plan)
    if errors:
        print(f"warning: {len(errors)} runs failed in this call (never kept); the first: "
              f"{errors[0]}", file=sys.stderr)
    record = {"command": _command(args, posterior.path), "earlier_stage_parameters": earlier,
              "stage_targets_fitted_before": refitted,
              "failed_in_this_call": errors[:5],
              "wall_seconds_this_call": round(time.monotonic() - started, 1), **config,
              "first_stage_posterior_path": str(posterior.path), "keep": args.keep,
              **provenance}
    record["versions"].pop("pyabc", None)
    files = [copy_input(posterior, args.out), *write_stage(
        args.out, posterior, runs, accepted, epsilon, stage_priors, stage_targets, targets,
        table, record, scenario.name)]
    print(f"accepted {int(accepted.sum())} of {len(runs)} proposals (epsilon {epsilon:.3g})")
    print(text_table(["parameter", "prior", "posterior 5%", "median", "95%"],
                     [[p.name, f"{short_number(p.low)}-{short_number(p.high)}",
                       *(short_number(v) for v in
                         table[p.name].quantile([0.05, 0.5, 0.95]).tolist())]
                      for p in stage_priors], left=2))
    moved = json.loads((args.out / SUMMARY_FILE).read_text(encoding="utf-8"))[
        "moved_outside_stage"]
    if moved:
        print(f"note: the kept proposals moved {len(moved)} targets outside the stage by at "
              f"least {MOVED_WIDTHS} of their range's width (the stage assumes they move "
              "little; stage.json, moved_outside_stage): " + "; ".join(
                  f"{m['target']} {short_number(m['median_proposed'])} -> "
                  f"{short_number(m['median_accepted'])}" for m in moved), file=sys.stderr)
    if refitted:
        print(f"note: the steps behind the posterior already fitted {len(refitted)} of the "
              f"stage's {len(stage_targets)} targets; conditioning on them again counts them "
              "once more for the parameters those steps fitted (stage.json, "
              "stage_targets_fitted_before): " + "; ".join(
                  f"{name} ({', '.join(_shown(w) for w in where)})"
                  for name, where in refitted.items()), file=sys.stderr)
    print("wrote " + ", ".join(str(f) for f in files))
    return EXIT_OK


def _shown(path: str) -> str:
    """A record's path, relative to the working folder when it lies under it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def _command(args: argparse.Namespace, posterior: Path) -> str:
    """The command line that runs this stage again (every setting that shapes its result)."""
    parts = ["sahel-sim", "calibrate-stage", str(args.scenario), "--targets", str(args.targets)]
    if args.priors:
        parts += ["--priors", str(args.priors)]
    parts += ["--posterior", str(posterior)]
    for name in dict.fromkeys(args.fit):
        parts += ["--fit", name]
    for name in dict.fromkeys(args.to):
        parts += ["--to", name]
    parts += ["--proposals", str(args.proposals), "--keep", str(args.keep)]
    if args.seeds_per_proposal != 1:
        parts += ["--seeds-per-proposal", str(args.seeds_per_proposal)]
    parts += ["--seed", str(args.seed), "--out", str(args.out)]
    return shlex.join(parts)


def _named(known: dict[str, Any], name: str, flag: str, allowed: str) -> Any:
    from sim.scenario import did_you_mean

    if name not in known:
        raise UsageError(f"{flag}: {name!r} is not one of {allowed}"
                         f"{did_you_mean(name, list(known))}")
    return known[name]


def register_stage_command(sub: argparse._SubParsersAction) -> None:
    """Add `calibrate-stage` to the parser."""
    p = sub.add_parser(
        "calibrate-stage", help="fit a few parameters to a few targets, given a posterior",
        description="A second stage of the calibration, by ABC rejection: each of --proposals "
                    "proposals takes a draw of --posterior by weight, draws the --fit "
                    "parameters from their priors and runs the scenario with its own seed (K "
                    "seeds and their medians with --seeds-per-proposal K); "
                    "the proposals closest to the --to targets' ranges are kept (all those "
                    "inside every range when at least --keep are, else the --keep closest). "
                    "Writes into --out: runs.csv (every proposal), posterior.csv (the kept "
                    "ones, equally weighted, with the posterior's other parameters), "
                    "fitted.toml (their medians), stage.json, stage.png and a copy of the "
                    "input posterior. An interrupted call resumes from runs.csv.")
    add_scenario_and_targets(p)
    p.add_argument("--posterior", type=Path, default=None, metavar="FILE",
                   help="the first stage's posterior (default: calibration/posterior.csv)")
    p.add_argument("--fit", action="append", required=True, metavar="PARAM",
                   help="a parameter of the priors file to fit (repeat for more)")
    p.add_argument("--to", action="append", required=True, metavar="TARGET",
                   help="a target to fit it to (repeat for more)")
    add_priors_option(p, "priors file (default: calibration/priors.toml)")
    p.add_argument("--proposals", type=positive_int, default=2400, metavar="N",
                   help="proposals to run (default: %(default)s)")
    p.add_argument("--keep", type=positive_int, default=300, metavar="K",
                   help="proposals to keep at least (default: %(default)s)")
    p.add_argument("--seeds-per-proposal", type=positive_int, default=1, metavar="K",
                   help="runs per proposal, each statistic their median (as --seeds-per-particle "
                        "of calibrate): for a noisy target, such as a count of coups, whose "
                        "one run says little of its parameters (default: %(default)s)")
    p.add_argument("--rerun", action="store_true",
                   help="replace the runs of another stage in --out")
    add_workers_option(p)
    add_seed_option(p, "seed of the proposals and their runs (default: %(default)s)",
                    default=0)
    add_out_option(p, "output folder (default: %(default)s)", default=DEFAULT_STAGE)
    p.set_defaults(func=cmd_calibrate_stage)
