"""`sahel-sim targets | calibrate | calibration-report | reachability`: targets, fit, report."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sim.calibration.errors import CalibrationError
from sim.calibration.screening import TRAJECTORIES
from sim.calibration.targets import DEFAULT_TARGETS, load_targets
from sim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    add_out_option,
    add_scheduler_option,
    add_seed_option,
    add_workers_option,
)
from sim.experiments.errors import ExperimentError
from sim.experiments.reporting import text_table

DEFAULT_REACHABILITY = Path("calibration/reachability")  # the sweep's --out, from the cwd

SOURCE_WIDTH = 72  # characters of a target's source shown in the table


def cmd_targets(args: argparse.Namespace) -> int:
    """Print the targets as a table: name, range, unit, confidence, source."""
    path = Path(args.targets)
    targets = load_targets(path)
    rows = []
    for t in targets:
        source = f"{t.source} ({t.source_date})"
        if len(source) > SOURCE_WIDTH and not args.full:
            source = source[:SOURCE_WIDTH - 3] + "..."
        rows.append([t.name, t.range_text(), t.unit, t.confidence, source])
    print(text_table(["target", "range", "unit", "conf.", "source"], rows, left=5))
    levels = Counter(t.confidence for t in targets)
    print(f"\n{len(targets)} targets in {path} (confidence H {levels['H']}, M {levels['M']}, "
          f"L {levels['L']}; weights H 1, M 0.5, L 0.25). How each is compared with a run: "
          "its [targets.compare] table (see calibration/README.md).")
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Screen the candidate parameters, fit the kept ones by ABC-SMC, write the posterior."""
    from sim.calibration.calibrate import run_calibration
    from sim.calibration.distances import FitError
    from sim.calibration.fit_result import SimulationBar, generation_line
    from sim.experiments.executors import default_workers
    from sim.scenario import resolve_scenario_path

    workers = default_workers() if args.workers is None else args.workers
    bar = SimulationBar(args.max_simulations)
    progress = bar if sys.stderr.isatty() else (  # a log gets a line per generation
        lambda row: print(generation_line(row), file=sys.stderr, flush=True))
    try:
        run = run_calibration(
            resolve_scenario_path(args.scenario), args.out, targets_path=args.targets,
            priors_path=args.priors, trajectories=args.trajectories, rescreen=args.rescreen,
            screen_workers=workers, seeds_per_particle=args.seeds_per_particle,
            population=args.population,
            max_generations=args.max_generations, max_total_simulations=args.max_simulations,
            max_minutes=args.max_minutes or None, min_acceptance_rate=args.min_acceptance,
            transition_scaling=args.transition_scaling, workers=workers,
            scheduler=args.scheduler, seed=args.seed, progress=progress,
            command=shlex.join(["sahel-sim", "calibrate", *sys.argv[2:]]))
    except (FitError, ExperimentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuntimeError as exc:  # every run of the screen failed
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        bar.close()
    fit = run.fit
    kept = run.screening[run.screening["kept"]]
    drawn = int(kept["drawn"].sum())
    print(f"screen: kept {len(kept)} of {len(run.screening)} parameters"
          + (f", {drawn} of them drawn from their priors in each simulation" if drawn else "")
          + f" ({args.out / 'screening.csv'}"
          f"{'' if run.screened_now else ', from an earlier run'})")
    print(text_table(["generation", "epsilon", "simulations", "acceptance", "ESS"],
                     [[int(r.generation), f"{r.epsilon:.3g}", int(r.simulations),
                       f"{r.acceptance_rate:.1%}", f"{r.effective_sample_size:.0f}"]
                      for r in fit.generations.itertuples()]))
    print(f"\n{fit.total_simulations} simulations in {fit.total_generations} generations, "
          f"{fit.total_wall_seconds / 60:.1f} min; stopped: {fit.stop_description}"
          + (f" ({fit.stop_detail})" if fit.stop_detail else ""))
    print(text_table(["parameter", "5%", "median", "95%"],
                     [[r.parameter, f"{r.low:.4g}", f"{r.median:.4g}", f"{r.high:.4g}"]
                      for r in fit.intervals().itertuples()], left=1))
    print(f"\nwrote posterior.csv, generations.csv, fit.json and "
          f"{', '.join(f.name for f in run.files)} in {args.out}; next: sahel-sim "
          f"calibration-report {shlex.quote(args.scenario)} --posterior "
          f"{shlex.quote(str(args.out / 'posterior.csv'))} --out {shlex.quote(str(args.out))}")
    return EXIT_OK


def cmd_calibration_report(args: argparse.Namespace) -> int:
    """Run the scenario with posterior draws and compare every target with its range."""
    import numpy as np
    import pandas as pd

    from sim.calibration.calibrate import DEFAULT_PRIORS
    from sim.calibration.fit_result import FIT_FILE
    from sim.calibration.posterior import read_posterior
    from sim.calibration.report import write_report
    from sim.calibration.simulate import simulate_statistics
    from sim.experiments.executors import default_workers
    from sim.experiments.experiment import spawn_seeds
    from sim.scenario import load_scenario, resolve_scenario_path

    scenario = load_scenario(resolve_scenario_path(args.scenario))
    targets = load_targets(Path(args.targets))
    lacks = _missing_mechanisms_section(args, scenario, targets)
    root = scenario.seed if args.seed is None else args.seed
    _check_root_seed(root)
    seeds = spawn_seeds(root, args.runs)
    frame, prior_bounds, title = None, None, f"Calibration report: {scenario.name}"
    log_scale: list[str] = []
    drawn: list[str] = []
    overrides = draws = None
    posterior_file = None if args.own_parameters else Path(
        args.posterior or args.out / "posterior.csv")
    if posterior_file is not None:
        if args.posterior is None and not posterior_file.exists():
            raise UsageError(f"{posterior_file}: no posterior there; give --posterior FILE, "
                             "or --own-parameters to report the scenario as it is")
        posterior = read_posterior(posterior_file, scenario.model_dump(mode="json"))
        picked = posterior.draw(args.runs, root)
        overrides = [d.parameters for d in picked]
        draws = [d.id for d in picked]
        frame = pd.DataFrame(posterior.values, columns=list(posterior.names))
        frame["weight"] = posterior.weights
        priors = _posterior_priors(Path(args.priors) if args.priors else DEFAULT_PRIORS,
                                   scenario, list(posterior.names))
        if priors is not None:
            prior_bounds = {p.name: (p.low, p.high) for p in priors}
            log_scale = [p.name for p in priors if p.scale == "log"]
        drawn = _drawn_in_fit(posterior_file.parent / FIT_FILE)
        title += f", {args.runs} runs with posterior draws ({posterior.describe()})"
    else:
        title += f", {args.runs} runs with the scenario's own parameters"
    workers = default_workers() if args.workers is None else args.workers
    try:
        simulated = simulate_statistics(scenario, targets, seeds, overrides, workers=workers,
                                        progress=True, draws=draws)
    except RuntimeError as exc:  # every run failed
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    errors = simulated.attrs.get("errors", {})
    if errors:
        print(f"warning: {len(errors)} of {args.runs} runs failed (left out); the first: "
              f"{next(iter(errors.values()))}", file=sys.stderr)
    report = write_report(targets, simulated, args.out, posterior=frame, title=title,
                          prior_bounds=prior_bounds, log_scale=log_scale, drawn=drawn,
                          lacks=lacks)
    table = report.table
    print(text_table(["target", "low", "high", "sim 5%", "median", "sim 95%", "hit"],
                     [[r.target, _num(r.low), _num(r.high), _num(r.sim_q05), _num(r.sim_q50),
                       _num(r.sim_q95), {True: "yes", False: "no"}.get(r.hit, "-")]
                      for r in table.itertuples()], left=1))
    share = report.hits / report.compared if report.compared else np.nan
    print(f"\nmedian inside the sourced range: {report.hits} of {report.compared} targets "
          f"({share:.0%}); 90% band overlaps the range: {report.overlaps} of {report.compared}")
    print("wrote " + ", ".join(str(f) for f in report.files))
    return EXIT_OK


def _missing_mechanisms_section(args: argparse.Namespace, scenario: Any, targets: list
                                ) -> Any:
    """The report's sections on why its misses miss, as a function of the evaluated table.

    The mechanisms come from --mechanisms; by default from calibration/missing_mechanisms.toml
    when the targets are the bundled ones (its entries name them). The conflicts come from
    the reachability sweep in --reachability (default: calibration/reachability from the
    working directory, the sweep's own default) when it was made with this scenario, targets
    and model code. None: no section.
    """
    from sim.calibration.missing import DEFAULT_MECHANISMS, load_mechanisms, read_sweep, why_missed
    from sim.calibration.reachability import sweep_identity

    if args.mechanisms is None and Path(args.targets).resolve() != DEFAULT_TARGETS.resolve():
        print(f"note: no --mechanisms for {args.targets}: the report does not say why its "
              "misses miss", file=sys.stderr)
        return None
    path = Path(args.mechanisms) if args.mechanisms else DEFAULT_MECHANISMS
    mechanisms = load_mechanisms(path, targets, args.targets)
    folder = Path(args.reachability) if args.reachability else DEFAULT_REACHABILITY
    if args.reachability is not None and not folder.is_dir():
        raise UsageError(f"--reachability {folder}: no such folder; give the --out folder of "
                         "`sahel-sim reachability`")
    if folder.is_dir():
        sweep, note = read_sweep(folder, sweep_identity(scenario, targets))
    else:
        sweep, note = None, f"no reachability sweep in {folder}"
    if note:
        command = shlex.join(["sahel-sim", "reachability", args.scenario, "--targets",
                              str(args.targets), "--out", str(folder)])
        print(f"warning: {note}: the report shows no conflicts (run `{command}`)",
              file=sys.stderr)
    return lambda table: why_missed(table, targets, mechanisms, sweep, note)


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
    _check_root_seed(args.seed)
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
                     [[r.target, _num(r.low), _num(r.high),
                       f"{r.reached_share:.1%}" if r.reached else f"none ({r.side})",
                       _num(r.sim_q05), _num(r.sim_q50), _num(r.sim_q95)]
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


def _check_root_seed(seed: int) -> None:
    if not 0 <= seed < 2**63:
        raise UsageError(f"--seed must be between 0 and 2**63 - 1, got {seed}")


def _posterior_priors(path: Path, scenario: object, names: list[str]) -> list[Any] | None:
    """The priors of the posterior's parameters, for the plots' axes; None if unusable."""
    from sim.calibration.calibrate import load_priors

    try:
        priors = load_priors(path, scenario)  # type: ignore[arg-type]
    except CalibrationError as exc:
        print(f"warning: posterior plots on the schema's bounds: {exc}", file=sys.stderr)
        return None
    return [p for p in priors if p.name in names]


def _drawn_in_fit(fit_file: Path) -> list[str]:
    """The parameters the fit recorded beside the posterior drew from their priors."""
    try:
        record = json.loads(fit_file.read_text(encoding="utf-8"))
        return [str(p["name"]) for p in record.get("drawn", [])]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return []  # no fit record there (a posterior from elsewhere): nothing is marked


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def _num(x: object) -> str:
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "-"
    return "-" if value != value else f"{value:.3g}"


def _add_targets_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--targets", default=str(DEFAULT_TARGETS), metavar="FILE",
                   help="targets file (default: %(default)s)")


def _add_priors_option(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--priors", default=None, metavar="FILE", help=help_text)


def _add_runs_option(p: argparse.ArgumentParser, default: int) -> None:
    p.add_argument("--runs", type=_positive, default=default, metavar="N",
                   help="runs (default: %(default)s)")


def _add_scenario_and_targets(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", default="baseline", metavar="SCENARIO",
                   help="scenario file or bundled name (default: baseline)")
    _add_targets_option(p)


def register_calibration_commands(sub: argparse._SubParsersAction) -> None:
    """Add `targets`, `calibrate`, `calibration-report` and `reachability` to the parser."""
    p = sub.add_parser(
        "targets", help="list the calibration targets: sourced ranges, units, sources",
        description="Read and check a calibration targets file (default: the project's "
                    "calibration/targets.toml) and print each target's sourced range, unit, "
                    "confidence (H, M, L as in FACTS.md) and source. A bad file is one line "
                    "naming the file, line, target and field, with exit code 2.")
    _add_targets_option(p)
    p.add_argument("--full", action="store_true", help="print whole sources (not cut)")
    p.set_defaults(func=cmd_targets)

    p = sub.add_parser(
        "calibrate", help="fit the behavioural parameters to the sourced targets (ABC-SMC)",
        description="Screen the candidate parameters of the priors file with a Morris design "
                    "(kept: those that move some target by a tenth of its sourced range), "
                    "then fit the kept ones by ABC-SMC (pyabc) to the targets' ranges (a "
                    "counterfactual's or mechanism's lever that is no target's strongest "
                    "mover is drawn from its prior in each simulation instead). The "
                    "pyabc database and the results (posterior.csv, generations.csv, fit.json, "
                    "fitted.toml, screening.csv) are written into --out; the same command "
                    "again resumes the fit from the database. Needs the 'calibrate' extra.")
    _add_scenario_and_targets(p)
    _add_priors_option(p, "priors file (default: calibration/priors.toml)")
    add_out_option(p, "results folder (default: %(default)s); resumes a fit found there",
                   default=Path("calibration"))
    p.add_argument("--population", type=int, default=300, metavar="N",
                   help="particles per generation (default: %(default)s)")
    p.add_argument("--max-generations", type=int, default=12, metavar="G",
                   help="most generations (default: %(default)s)")
    p.add_argument("--max-simulations", type=int, default=9000, metavar="N",
                   help="most simulations in all (default: %(default)s)")
    p.add_argument("--max-minutes", type=float, default=55.0, metavar="M",
                   help="time budget of the fit's generations: no generation is started that "
                        "is expected to end past it, at the last one's pace (the screen, 2-4 "
                        "minutes, comes on top; 0 for none; default: %(default)s)")
    p.add_argument("--min-acceptance", type=float, default=0.05, metavar="R",
                   help="stop when a generation accepts fewer (default: %(default)s)")
    p.add_argument("--transition-scaling", type=float, default=1.5, metavar="S",
                   help="factor on the proposal kernel's covariance; wider keeps the weights "
                        "from degenerating, at a lower acceptance (default: %(default)s; "
                        "docs/CALIBRATION.md)")
    p.add_argument("--seeds-per-particle", type=_positive, default=1, metavar="K",
                   help="runs per particle, compared by their medians (as the report judges); "
                        "each particle costs K runs, --max-simulations counts particles "
                        "(default: %(default)s)")
    p.add_argument("--trajectories", type=int, default=TRAJECTORIES, metavar="R",
                   help="Morris trajectories of the screen, >= 2 (default: %(default)s)")
    p.add_argument("--rescreen", action="store_true",
                   help="run the screen again even if --out holds its result")
    add_workers_option(p)
    add_scheduler_option(p, "fit on a Dask cluster (pyabc's Dask sampler)")
    add_seed_option(p, "seed of the screen and of pyabc (default: %(default)s)", default=0)
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser(
        "calibration-report", help="every target's range beside the calibrated ensemble",
        description="Run the scenario --runs times, each run's parameters drawn from the "
                    "posterior by weight, and write report.md, report.csv (target, low, high, "
                    "sim_q05, sim_q50, sim_q95, hit, overlap, in_range), targets.png and the "
                    "posterior's marginal and pairwise plots into --out; for the misses, why "
                    "each misses (--mechanisms).")
    _add_scenario_and_targets(p)
    p.add_argument("--posterior", default=None, metavar="FILE",
                   help="posterior draws (default: posterior.csv in --out)")
    p.add_argument("--own-parameters", action="store_true",
                   help="run the scenario with its own parameters, no posterior")
    _add_priors_option(p, "priors file, for the posterior plots' axes (default: "
                          "calibration/priors.toml)")
    _add_runs_option(p, default=100)
    add_workers_option(p)
    add_seed_option(p, "root seed of the runs and draws (default: the scenario's seed)")
    p.add_argument("--mechanisms", default=None, metavar="FILE",
                   help="why the misses miss: the mechanisms the model lacks and the points "
                        "the fit leaves (default: calibration/missing_mechanisms.toml, with "
                        "the bundled targets)")
    p.add_argument("--reachability", default=None, metavar="DIR",
                   help="a `sahel-sim reachability` folder whose conflicts the report shows "
                        "beside the misses (default: calibration/reachability, if there)")
    add_out_option(p, "report folder (default: %(default)s)", default=Path("calibration"))
    p.set_defaults(func=cmd_calibration_report)

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
    _add_scenario_and_targets(p)
    _add_priors_option(p, "priors file (default: calibration/priors.toml)")
    _add_runs_option(p, default=1000)
    p.add_argument("--rerun", action="store_true", help="run again even if --out holds the runs")
    add_workers_option(p)
    add_seed_option(p, "seed of the design and of the runs (default: %(default)s)", default=0)
    add_out_option(p, "output folder (default: %(default)s)",
                   default=DEFAULT_REACHABILITY)
    p.set_defaults(func=cmd_reachability)
