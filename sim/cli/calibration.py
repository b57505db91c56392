"""`sahel-sim targets | calibrate | calibration-report`: targets, fit, report.

`register_calibration_commands` also adds `reachability` (`sim.cli.reachability`) and
`calibrate-stage` (`sim.cli.stage`).
"""

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
    add_priors_option,
    add_runs_option,
    add_scenario_and_targets,
    add_scheduler_option,
    add_seed_option,
    add_targets_option,
    add_workers_option,
    check_root_seed,
    positive_int,
    short_number,
)
from sim.cli.reachability import DEFAULT_REACHABILITY, register_reachability_command
from sim.cli.stage import register_stage_command
from sim.experiments.errors import ExperimentError
from sim.experiments.reporting import text_table

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
    check_root_seed(root)
    seeds = spawn_seeds(root, args.runs)
    frame, prior_bounds, title = None, None, f"Calibration report: {scenario.name}"
    log_scale: list[str] = []
    drawn: list[str] = []
    staged: list[str] = []
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
        from sim.calibration.stage_report import staged_parameters

        staged = staged_parameters(posterior_file, posterior.sha256)
        drawn = [n for n in _drawn_in_fit(posterior_file.parent / FIT_FILE) if n not in staged]
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
                          lacks=lacks, staged=staged)
    table = report.table
    print(text_table(["target", "low", "high", "sim 5%", "median", "sim 95%", "hit"],
                     [[r.target, short_number(r.low), short_number(r.high),
                       short_number(r.sim_q05), short_number(r.sim_q50),
                       short_number(r.sim_q95), {True: "yes", False: "no"}.get(r.hit, "-")]
                      for r in table.itertuples()], left=1))
    share = report.hits / report.compared if report.compared else np.nan
    low, high = report.hits_band
    print(f"\nmedian inside the sourced range: {report.hits} of {report.compared} targets "
          f"({share:.0%}; {low:.0f} to {high:.0f} over resamples of the runs); "
          f"90% band overlaps the range: {report.overlaps} of {report.compared}"
          + (f"; the fit's distance of the medians: {report.distance:.3f}"
             if report.distance_targets else ""))
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


def register_calibration_commands(sub: argparse._SubParsersAction) -> None:
    """Add `targets`, `calibrate`, `calibration-report` and `reachability` to the parser."""
    p = sub.add_parser(
        "targets", help="list the calibration targets: sourced ranges, units, sources",
        description="Read and check a calibration targets file (default: the project's "
                    "calibration/targets.toml) and print each target's sourced range, unit, "
                    "confidence (H, M, L as in FACTS.md) and source. A bad file is one line "
                    "naming the file, line, target and field, with exit code 2.")
    add_targets_option(p)
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
    add_scenario_and_targets(p)
    add_priors_option(p, "priors file (default: calibration/priors.toml)")
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
    p.add_argument("--seeds-per-particle", type=positive_int, default=1, metavar="K",
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
                    "sim_q05, sim_q50, sim_q95, hit, overlap, in_range, hit_chance), targets.png "
                    "and the "
                    "posterior's marginal and pairwise plots into --out; for the misses, why "
                    "each misses (--mechanisms).")
    add_scenario_and_targets(p)
    p.add_argument("--posterior", default=None, metavar="FILE",
                   help="posterior draws (default: posterior.csv in --out)")
    p.add_argument("--own-parameters", action="store_true",
                   help="run the scenario with its own parameters, no posterior")
    add_priors_option(p, "priors file, for the posterior plots' axes (default: "
                         "calibration/priors.toml)")
    add_runs_option(p, default=100)
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
    register_reachability_command(sub)
    register_stage_command(sub)
