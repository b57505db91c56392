"""`sahel-sim ensemble | compare | sweep | discover`: experiments from the command line.

The vocabulary is exploratory modelling's (the EMA Workbench's): uncertainties are the
behavioural parameters nobody controls (`sahel-sim parameters FILE`), levers the policy choices
(dated events' fields: a withdrawal's date, a deployment's strength, a restraint order),
outcomes the declared per-run results, an experiment one setting of them all, replications its
seeds. Each experiment command shows a progress bar (runs done, failures, time left), keeps
every finished run in its folder (`--out`, resumable: the same command again runs only what is
missing), prints its table and exits 0, or 1 if runs failed, 2 on bad input, 130 when
interrupted (Ctrl-C). `discover` runs PRIM on a finished sweep (no model runs).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from sim.cli.common import (
    DEFAULT_POSTERIOR_FLAG,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_no_plots_option,
    add_out_option,
    add_posterior_option,
    add_scheduler_option,
    add_seed_option,
    add_workers_option,
    posterior_path,
)
from sim.experiments import (
    HEADLINE_OUTCOMES,
    ComparisonResult,
    EnsembleResult,
    ExperimentError,
    ExperimentResult,
    SweepResult,
    compare,
    ensemble,
    sweep,
)
from sim.experiments.designs import DESIGNS
from sim.experiments.executors import default_workers
from sim.experiments.reporting import (
    EVENT_HEADER,
    EVENT_NOTES,
    OUTCOME_HEADER,
    OUTCOME_NOTES,
    event_rows,
    format_value,
    outcome_rows,
    posterior_note,
    text_table,
)
from sim.experiments.result_store import saved_runs
from sim.progress import ProgressBar
from sim.scenario import resolve_scenario_path

DEFAULT_OUT = Path("out")


class _RunsBar(ProgressBar):
    """A progress bar fed by an experiment's `progress(done, failed, total)`."""

    def __init__(self, desc: str) -> None:
        super().__init__(desc, smoothing=0.05, bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} "
                         "runs{postfix} [{elapsed}<{remaining}]")
        self.done = self.failed = self.total = 0

    def __call__(self, done: int, failed: int, total: int) -> None:
        self.done, self.failed, self.total = done, failed, total
        first = self.bar is None
        self.update(done, total, postfix=f"{failed} failed")
        if not first and done >= total:
            self.close()


def _common_options(p: argparse.ArgumentParser) -> None:
    add_workers_option(p, "local worker processes (default: all cores; 1 runs in this process)")
    add_scheduler_option(p, "run on a Dask cluster instead of local workers")
    add_seed_option(p, "root seed of the runs' seeds (default: the scenario's seed)")
    add_out_option(p, "results folder (default: out/<command>-<scenarios>); re-running the "
                      "same command there resumes it")
    add_no_plots_option(p)


def register_experiment_commands(sub: argparse._SubParsersAction) -> None:
    """Add `ensemble`, `compare` and `sweep` to the `sahel-sim` parser."""
    p = sub.add_parser(
        "ensemble", help="replications of a scenario: quantile bands of every series",
        description="Run a scenario N times with seeds spawned from one root seed; write "
                    "quantile bands (5/25/50/75/95%%) of every daily series, the spread of "
                    "the headline outcomes, and band plots per country.")
    p.add_argument("file", metavar="FILE", help="scenario file (or bundled name)")
    p.add_argument("--runs", type=int, required=True, metavar="N", help="replications")
    add_posterior_option(p)
    _common_options(p)
    p.set_defaults(func=cmd_ensemble)

    p = sub.add_parser(
        "compare", help="paired comparison of a baseline with counterfactuals (same seeds)",
        description="Run the baseline and each counterfactual (policy lever) with the same N "
                    "seeds (common random numbers) and report, for each headline outcome, "
                    "both medians, the median paired difference with its 90%% interval and "
                    "the share of seeds where its sign holds.")
    p.add_argument("baseline", metavar="BASELINE", help="baseline scenario (file or name)")
    p.add_argument("counterfactuals", nargs="+", metavar="COUNTERFACTUAL",
                   help="counterfactual scenarios (files or names)")
    p.add_argument("--runs", type=int, required=True, metavar="N", help="seeds per scenario")
    add_posterior_option(p)
    _common_options(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "sweep", help="vary uncertainties and levers over a design; Sobol/Morris sensitivity",
        description="Vary uncertainties (behavioural parameters, names from `sahel-sim "
                    "parameters FILE`) and levers (dated events' fields: "
                    "events.<event id>.date with ISO dates inside the scenario's period, "
                    "events.<id>.strength of a deploy or reinforce event, events.<id>.restraint "
                    "of a set_restraint event) over a design and report each headline outcome "
                    "per point; Sobol and Morris designs also give sensitivity indices with "
                    "confidence intervals. `sahel-sim discover` finds where an outcome of "
                    "concern happens in a finished sweep.")
    p.add_argument("file", metavar="FILE", help="scenario file (or bundled name)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=LOW:HIGH",
                   required=True,
                   help="an uncertainty or lever and its range, e.g. "
                        "parameters.violence.base_rate=0.001:0.004 or "
                        "events.bear_brigade_withdraws.date=2024-06-01:2024-12-31 (repeat for "
                        "several)")
    p.add_argument("--design", choices=DESIGNS, default="lhs",
                   help="grid: SAMPLES levels per parameter; lhs: SAMPLES points; sobol: "
                        "SAMPLES (a power of 2) x (k+2) points; morris: SAMPLES trajectories "
                        "of k+1 points (default: lhs)")
    p.add_argument("--samples", type=int, default=16, metavar="N", help="design size")
    p.add_argument("--runs-per-point", type=int, default=1, metavar="K",
                   help="replications (seeds) per point; a point's outcome is their mean "
                        "(default 1)")
    _common_options(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser(
        "discover", help="scenario discovery (PRIM) on a finished sweep",
        description="Scenario discovery: under which ranges of the swept uncertainties and "
                    "levers does an outcome of concern happen? Marks the sweep's cases of "
                    "interest (OUTCOME meeting --where), runs PRIM (EMA Workbench, the "
                    "'discovery' extra), prints the chosen box of the peeling trajectory "
                    "(coverage, density, each restricted input's range with EMA's "
                    "quasi-p-values) and feature scores, and writes trajectory.csv, "
                    "box_limits.csv, feature_scores.csv, tradeoff.png and box_<n>.png.")
    p.add_argument("sweep_dir", type=Path, metavar="SWEEP_DIR",
                   help="the --out folder of a finished `sahel-sim sweep`")
    p.add_argument("--outcome", required=True, metavar="NAME",
                   help="a declared outcome, e.g. territory_outside_state_BFA, coups_BFA, "
                        "civilian_fatalities_MLI, russian_fatalities")
    p.add_argument("--where", required=True, metavar="CONDITION",
                   help="what makes a case of interest, e.g. '> 0.5', '>= 1', '< 40%%'")
    p.add_argument("--cases", choices=("points", "runs"), default="points",
                   help="points: a design point with its outcome's mean over replications "
                        "(default); runs: every replication a case of its own")
    p.add_argument("--coverage", type=float, default=0.8, metavar="C",
                   help="choose the densest box with at least this coverage (default 0.8)")
    p.add_argument("--step", type=int, action="append", default=None, metavar="I",
                   help="choose step I of the peeling trajectory instead (repeatable; see "
                        "trajectory.csv)")
    p.add_argument("--boxes", type=int, default=1, metavar="N",
                   help="find up to N boxes one after the other (default 1)")
    p.add_argument("--peel-alpha", type=float, default=0.05, metavar="A",
                   help="share of cases peeled per step (default 0.05)")
    p.add_argument("--mass-min", type=float, default=0.05, metavar="M",
                   help="smallest share of cases a box may keep (default 0.05)")
    add_out_option(p, "folder of the tables and plots (default: "
                      "SWEEP_DIR/discovery-<outcome>-<condition>)")
    add_no_plots_option(p)
    p.set_defaults(func=cmd_discover)


def _command(name: str, args: argparse.Namespace, positional: list[str],
             extra: list[str]) -> str:
    words = ["sahel-sim", name, *positional, *extra]
    posterior = getattr(args, "posterior", None)
    if posterior is DEFAULT_POSTERIOR_FLAG:
        words.append("--posterior")
    elif posterior is not None:
        words.append(f"--posterior={posterior}")
    if args.seed is not None:
        words += ["--seed", str(args.seed)]
    return " ".join(shlex.quote(w) for w in words)


def _workers(args: argparse.Namespace) -> int:
    return default_workers() if args.workers is None else args.workers


def _run(kind: str, args: argparse.Namespace, out: Path, call: Callable[..., ExperimentResult]
         ) -> ExperimentResult | int:
    """Call an experiment with a progress bar; turn its errors and interrupts into codes."""
    bar = _RunsBar(kind)
    try:
        result = call(progress=bar)
    except ExperimentError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        bar.close()
        # Count the files: a run saved just before Ctrl-C may not have reached the bar.
        print(f"interrupted: {len(saved_runs(out))} of {bar.total} runs are kept in {out}; "
              "run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        bar.close()
    return result


def _finish(result: ExperimentResult, out: Path) -> int:
    print(f"\nresults in {out}/ ({len(result.files)} files; runs in {out}/runs/)")
    moved = result.report.set_aside
    if moved:
        print(f"note: {len(moved)} damaged run file(s) were moved to {out}/runs/bad/ and run "
              "again", file=sys.stderr)
    if result.n_failed:
        total = result.report.n_failed + len(result.report.finished)
        print(f"error: {result.n_failed} of {total} runs failed; their seeds and tracebacks are "
              f"in {out}/manifest.json (the same command again retries them)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_ensemble(args: argparse.Namespace) -> int:
    """`sahel-sim ensemble FILE --runs N`."""
    path = resolve_scenario_path(args.file)
    out = args.out or DEFAULT_OUT / f"ensemble-{path.stem}"
    command = _command("ensemble", args, [args.file], ["--runs", str(args.runs)])
    posterior = posterior_path(args.posterior)
    result = _run("ensemble", args, out, lambda progress: ensemble(
        path, args.runs, root_seed=args.seed, workers=_workers(args), out=out,
        scheduler=args.scheduler, progress=progress, command=command,
        plots=not args.no_plots, posterior=posterior))
    if not isinstance(result, EnsembleResult):
        return int(result)
    summary = result.summary
    if not summary.empty:
        rows = [[rec.outcome, *(format_value(rec.outcome, v) for v in rec[1:])]
                for rec in summary.itertuples(index=False)]
        if result.posterior:
            print(textwrap.fill(posterior_note(result.posterior), 96) + "\n")
        print(f"{path.stem}: {len(result.outcomes)} runs; quantiles over runs\n")
        print(text_table(["outcome", "5%", "25%", "median", "75%", "95%"], rows))
    return _finish(result, out)


def cmd_compare(args: argparse.Namespace) -> int:
    """`sahel-sim compare BASELINE COUNTERFACTUAL... --runs N`."""
    base = resolve_scenario_path(args.baseline)
    others = [resolve_scenario_path(c) for c in args.counterfactuals]
    out = args.out or DEFAULT_OUT / "-".join(["compare", base.stem, "vs",
                                             *(p.stem for p in others)])
    command = _command("compare", args, [args.baseline, *args.counterfactuals],
                       ["--runs", str(args.runs)])
    posterior = posterior_path(args.posterior)
    result = _run("compare", args, out, lambda progress: compare(
        base, others, args.runs, root_seed=args.seed, workers=_workers(args), out=out,
        scheduler=args.scheduler, progress=progress, command=command,
        plots=not args.no_plots, posterior=posterior))
    if not isinstance(result, ComparisonResult):
        return int(result)
    table = result.table
    if not table.empty:
        if result.posterior:
            print("\n" + textwrap.fill(posterior_note(result.posterior, paired=True), 96))
        for label, rows in outcome_rows(result).items():
            n = int(table.loc[table["counterfactual"] == label, "runs"].iloc[0])
            first = result.divergence.get(label)
            since = (f"; the paired runs first differ on {str(first)[:10]}" if first
                     else "; the paired runs never differ")
            print(f"\n{label} vs {result.baseline}: medians over {n} paired runs "
                  f"(same seeds){since}\n")
            print(text_table(OUTCOME_HEADER, rows))
            events = event_rows(result).get(label)
            if events:
                print()
                print(text_table(EVENT_HEADER, events))
        print()
        print(textwrap.fill(OUTCOME_NOTES, 96))
        print(textwrap.fill(EVENT_NOTES, 96))
    return _finish(result, out)


def cmd_sweep(args: argparse.Namespace) -> int:
    """`sahel-sim sweep FILE --param NAME=LOW:HIGH ... --design D --samples N`."""
    path = resolve_scenario_path(args.file)
    out = args.out or DEFAULT_OUT / f"sweep-{path.stem}-{args.design}"
    extra = [w for spec in args.param for w in ("--param", spec)]
    extra += ["--design", args.design, "--samples", str(args.samples),
              "--runs-per-point", str(args.runs_per_point)]
    command = _command("sweep", args, [args.file], extra)
    result = _run("sweep", args, out, lambda progress: sweep(
        path, args.param, design=args.design, samples=args.samples,
        runs_per_point=args.runs_per_point, root_seed=args.seed, workers=_workers(args),
        out=out, scheduler=args.scheduler, progress=progress, command=command,
        plots=not args.no_plots))
    if not isinstance(result, SweepResult):
        return int(result)
    sensitivity, points = result.sensitivity, result.point_outcomes
    if sensitivity is not None:
        print(f"\n{args.design} sensitivity of the headline outcomes (± half-width of 95% "
              "intervals)\n")
        if args.design == "sobol":
            header = ["outcome", "parameter", "S1", "ST"]
            rows = [[r.outcome, r.parameter, _pm(r.S1, r.S1_conf), _pm(r.ST, r.ST_conf)]
                    for r in sensitivity.itertuples(index=False)]
        else:
            header = ["outcome", "parameter", "mu*", "mu", "sigma"]
            rows = [[r.outcome, r.parameter, _pm(r.mu_star, r.mu_star_conf), f"{r.mu:.4g}",
                     f"{r.sigma:.4g}"] for r in sensitivity.itertuples(index=False)]
        print(text_table(header, rows, left=2))
    elif not points.empty:
        print(f"\n{len(points)} points; outcome (mean over replicates) across points\n")
        rows = [[name, format_value(name, points[name].min()),
                 format_value(name, points[name].median()), format_value(name, points[name].max())]
                for name in HEADLINE_OUTCOMES]
        print(text_table(["outcome", "min", "median", "max"], rows))
    return _finish(result, out)


def _pm(value: float, conf: float) -> str:
    if value != value:  # NaN: the outcome does not vary
        return "n/a"
    return f"{value:.3f} ± {conf:.3f}"


def cmd_discover(args: argparse.Namespace) -> int:
    """`sahel-sim discover SWEEP_DIR --outcome NAME --where CONDITION`."""
    from sim.experiments.discovery import discover

    try:
        result = discover(args.sweep_dir, args.outcome, args.where, case_kind=args.cases,
                          boxes=args.boxes, coverage=args.coverage, steps=args.step,
                          peel_alpha=args.peel_alpha, mass_min=args.mass_min, out=args.out,
                          plots=not args.no_plots)
    except ExperimentError as exc:
        raise UsageError(str(exc)) from None
    what = f"{result.outcome} {result.condition.text}"
    kind = result.case_kind
    print(f"{what}: {result.n_interest} of {result.n_cases} {kind} "
          f"({result.n_interest / result.n_cases:.0%}) are cases of interest; "
          f"{len(result.inputs)} inputs: {', '.join(result.inputs)}")
    for n, (box, step) in enumerate(result.chosen, start=1):
        stats = result.step_stats(box, step)
        steps = int((result.trajectory["box"] == box).sum())
        print(f"\nbox {n} (step {step} of 0-{steps - 1} on PRIM's peeling trajectory): "
              f"coverage {stats['coverage']:.2f}, density {stats['density']:.2f}, "
              f"mass {stats['mass']:.2f} ({int(stats['n'])} {kind}, {int(stats['k'])} of "
              f"interest), {int(stats['res_dim'])} of {len(result.inputs)} inputs restricted\n")
        limits = result.box_limits(box, step)
        if limits.empty:
            print("  no input restricted")
            continue
        rows = [[r.parameter, r.low_text, r.high_text, _qp(r.qp_low), _qp(r.qp_high),
                 f"{result.sweep.format(r.parameter, r.range_low)} to "
                 f"{result.sweep.format(r.parameter, r.range_high)}"]
                for r in limits.itertuples(index=False)]
        print(text_table(["input", "box low", "box high", "qp low", "qp high", "swept range"],
                         rows, left=1))
    scores = result.feature_scores
    if not scores.empty:
        print("\nfeature scores (extra trees; share of importance for the cases of interest)\n")
        print(text_table(["input", "score"], [[r.parameter, f"{r.score:.3f}"]
                                               for r in scores.itertuples(index=False)]))
    print(f"\nqp: EMA's quasi-p-value of a restriction (one-sided binomial test; '-' where "
          f"that side is free)\nresults in {result.out}/ ({len(result.files)} files)")
    return EXIT_OK


def _qp(value: float) -> str:
    return "-" if value != value else f"{value:.2g}"
