"""`sahel-sim ensemble | compare | sweep`: experiments from the command line.

Each command shows a progress bar (runs done, failures, time left), keeps every finished run in
its folder (`--out`, resumable: the same command again runs only what is missing), prints its
table and exits 0, or 1 if runs failed, 2 on bad input, 130 when interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
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
from sim.experiments.reporting import COMPARISON_HEADER, comparison_rows, format_value, text_table
from sim.scenario import resolve_scenario_path

DEFAULT_OUT = Path("out")


class _ProgressBar:
    """A tqdm bar fed by `progress(done, failed, total)`; created on the first call."""

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self.bar: Any = None
        self.done = self.failed = self.total = 0

    def __call__(self, done: int, failed: int, total: int) -> None:
        from tqdm import tqdm

        self.done, self.failed, self.total = done, failed, total
        if self.bar is None:
            self.bar = tqdm(total=total, initial=done, unit="run", desc=self.desc,
                            file=sys.stderr, dynamic_ncols=True, smoothing=0.05,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} runs{postfix} "
                                       "[{elapsed}<{remaining}]")
            self.bar.set_postfix_str(f"{failed} failed", refresh=False)
            self.bar.refresh()
            return
        self.bar.set_postfix_str(f"{failed} failed", refresh=False)
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.bar.close()

    def close(self) -> None:
        """Close the bar (leave it on screen)."""
        if self.bar is not None:
            self.bar.close()


def _common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=None, metavar="W",
                   help="local worker processes (default: all cores; 1 runs in this process)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on a Dask cluster instead of local workers")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="root seed of the runs' seeds (default: the scenario's seed)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="results folder (default: out/<command>-<scenarios>); re-running the "
                        "same command there resumes it")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")


def register_experiment_commands(sub: argparse._SubParsersAction) -> None:
    """Add `ensemble`, `compare` and `sweep` to the `sahel-sim` parser."""
    p = sub.add_parser(
        "ensemble", help="replications of a scenario: quantile bands of every series",
        description="Run a scenario N times with seeds spawned from one root seed; write "
                    "quantile bands (5/25/50/75/95%%) of every daily series, the spread of "
                    "the headline outcomes, and band plots per country.")
    p.add_argument("file", metavar="FILE", help="scenario file (or bundled name)")
    p.add_argument("--runs", type=int, required=True, metavar="N", help="replications")
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
    _common_options(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser(
        "sweep", help="vary uncertain parameters over a design; Sobol/Morris sensitivity",
        description="Vary parameters (uncertainties) over a design and report each headline "
                    "outcome per point; Sobol and Morris designs also give sensitivity "
                    "indices with confidence intervals. Names: `sahel-sim parameters FILE`.")
    p.add_argument("file", metavar="FILE", help="scenario file (or bundled name)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=LOW:HIGH",
                   required=True, help="a parameter and its range (repeat for several)")
    p.add_argument("--design", choices=DESIGNS, default="lhs",
                   help="grid: SAMPLES levels per parameter; lhs: SAMPLES points; sobol: "
                        "SAMPLES (a power of 2) x (k+2) points; morris: SAMPLES trajectories "
                        "of k+1 points (default: lhs)")
    p.add_argument("--samples", type=int, default=16, metavar="N", help="design size")
    p.add_argument("--runs-per-point", type=int, default=1, metavar="K",
                   help="seeds per point; a point's outcome is their mean (default 1)")
    _common_options(p)
    p.set_defaults(func=cmd_sweep)


def _command(name: str, args: argparse.Namespace, positional: list[str],
             extra: list[str]) -> str:
    words = ["sahel-sim", name, *positional, *extra]
    if args.seed is not None:
        words += ["--seed", str(args.seed)]
    return " ".join(shlex.quote(w) for w in words)


def _workers(args: argparse.Namespace) -> int:
    return default_workers() if args.workers is None else args.workers


def _run(kind: str, args: argparse.Namespace, out: Path, call: Callable[..., ExperimentResult]
         ) -> ExperimentResult | int:
    """Call an experiment with a progress bar; turn its errors and interrupts into codes."""
    bar = _ProgressBar(kind)
    try:
        result = call(progress=bar)
    except ExperimentError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        bar.close()
        print(f"interrupted: {bar.done - bar.failed} of {bar.total} runs are kept in {out}; "
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
    result = _run("ensemble", args, out, lambda progress: ensemble(
        path, args.runs, root_seed=args.seed, workers=_workers(args), out=out,
        scheduler=args.scheduler, progress=progress, command=command,
        plots=not args.no_plots))
    if not isinstance(result, EnsembleResult):
        return int(result)
    summary = result.summary
    if not summary.empty:
        rows = [[rec.outcome, *(format_value(rec.outcome, v) for v in rec[1:])]
                for rec in summary.itertuples(index=False)]
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
    result = _run("compare", args, out, lambda progress: compare(
        base, others, args.runs, root_seed=args.seed, workers=_workers(args), out=out,
        scheduler=args.scheduler, progress=progress, command=command,
        plots=not args.no_plots))
    if not isinstance(result, ComparisonResult):
        return int(result)
    table = result.table
    if not table.empty:
        for label, rows in comparison_rows(result).items():
            n = int(table.loc[table["counterfactual"] == label, "runs"].iloc[0])
            print(f"\n{label} vs {result.baseline}: medians over {n} paired runs "
                  "(same seeds)\n")
            print(text_table(COMPARISON_HEADER, rows))
        print("\ndifference: median of paired differences (counterfactual - baseline); "
              "90% interval: of that median; sign holds: share of seeds with its sign")
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
