"""Experiments: ensembles, paired counterfactual comparisons and parameter sweeps.

The vocabulary is the EMA Workbench's: a *run* is one (scenario, parameter overrides, seed);
replications of a scenario use seeds spawned from one root seed with
`numpy.random.SeedSequence`; a comparison runs the baseline and every counterfactual (the
levers) with the *same* seeds (common random numbers), so their differences are paired; a sweep
varies uncertain parameters over a design (grid, Latin hypercube, Sobol or Morris).

The modules behind it, all in `sim.experiments`: `prepared` (scenarios ready to run), `runs`
(the plan and its execution), `execution` (what every experiment does around it),
`executors` (in process, a local process pool or Dask), `result_store` (run files and the
resumable manifest), `outcomes` (headline outcomes), `statistics` (quantile bands, paired
statistics), `designs` (sweep designs, sensitivity), `results` (what experiments return),
`reporting` (tables for people) and `plots`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.bands import quantile_bands
from sim.experiments.designs import (
    Design,
    design_points,
    lever_info,
    parse_parameter_ranges,
    sensitivity_indices,
    setting_converters,
)
from sim.experiments.errors import ExperimentError
from sim.experiments.execution import executing
from sim.experiments.executors import parse_scheduler
from sim.experiments.outcomes import HEADLINE_OUTCOMES
from sim.experiments.posterior_runs import PosteriorLike, check_posterior, plan_runs
from sim.experiments.prepared import PreparedScenario, ScenarioLike, prepare_scenario
from sim.experiments.reporting import comparison_markdown, markdown_table
from sim.experiments.results import (
    ComparisonResult,
    EnsembleResult,
    SweepResult,
)
from sim.experiments.runs import PlannedRun, ProgressCallback, run_id_for
from sim.experiments.statistics import (
    RARE_EVENT_SERIES,
    end_counts,
    first_difference,
    outcome_quantiles,
    paired_table,
    rare_event_table,
)
from sim.files import atomic_to_csv, atomic_to_parquet, atomic_write_text
from sim.scenario import Scenario, apply_settings, validate_data

__all__ = ["compare", "ensemble", "spawn_seeds", "sweep"]

# --------------------------------------------------------------------------------------------
# Seeds and labels
# --------------------------------------------------------------------------------------------


def spawn_seeds(root_seed: int, n: int) -> list[int]:
    """`n` independent run seeds spawned from one root seed (`numpy.random.SeedSequence`).

    The first k seeds do not depend on n, so a larger ensemble extends a smaller one.
    """
    if root_seed < 0:
        raise ExperimentError(f"the root seed must be >= 0, got {root_seed}")
    children = np.random.SeedSequence(root_seed).spawn(n)
    return [int(c.generate_state(1, np.uint64)[0]) & (2**63 - 1) for c in children]


def _unique_labels(labels: Sequence[str]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for label in labels:
        seen[label] += 1
        out.append(label if seen[label] == 1 else f"{label}#{seen[label]}")
    return out


def _check_common(runs: int, workers: int, root_seed: int | None,
                  scheduler: str | None, runs_option: str = "--runs") -> None:
    if scheduler is not None:
        parse_scheduler(scheduler)
    if runs < 1:
        raise ExperimentError(f"{runs_option} must be at least 1, got {runs}")
    if workers < 1:
        raise ExperimentError(f"--workers must be at least 1, got {workers}")
    if root_seed is not None and not 0 <= root_seed < 2**63:
        raise ExperimentError(f"--seed must be between 0 and 2**63 - 1, got {root_seed}")


# --------------------------------------------------------------------------------------------
# Public experiments
# --------------------------------------------------------------------------------------------


def ensemble(scenario: ScenarioLike, runs: int, root_seed: int | None = None, workers: int = 1,
             out: Path | None = None, scheduler: str | None = None,
             progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
             overrides: Mapping[str, Any] | None = None, command: str | None = None,
             plots: bool = True, posterior: PosteriorLike | None = None) -> EnsembleResult:
    """Run a scenario `runs` times with spawned seeds; quantile bands of every series.

    Args:
        scenario: a scenario file, or a validated `Scenario`.
        runs: number of replications.
        root_seed: root of the spawned seeds (default: the scenario's `seed`).
        workers: local worker processes (1 runs in this process).
        out: results folder (resumable), or None to work in memory.
        scheduler: a Dask scheduler address (`tcp://host:port`) instead of local workers.
        progress: called as `progress(done, failed, total)` as runs finish.
        cancel: set it to stop; finished runs are kept and `ExperimentCancelled` is raised.
        overrides: dotted parameter overrides applied to the scenario.
        command: the command line, recorded in the manifest.
        plots: write band plots into `out`.
        posterior: a posterior file (or `Posterior`) each run draws its parameters from (by
            weight, drawn with the root seed; see `sim.experiments.posterior_runs`); a
            parameter in `overrides` keeps its value and is not drawn.

    Raises:
        ScenarioError, ExperimentError, CalibrationError: bad input, before any run starts.
    """
    _check_common(runs, workers, root_seed, scheduler)
    prepared = prepare_scenario(scenario, overrides)
    scenarios = {prepared.label: prepared}
    drawn = check_posterior(posterior, scenarios, overrides) if posterior is not None else None
    root = prepared.scenario.seed if root_seed is None else root_seed
    plan, payloads, _ = plan_runs(scenarios, spawn_seeds(root, runs), drawn, root)
    info = drawn.info() if drawn else None
    with executing("ensemble", scenarios, root, plan, payloads, out=out, workers=workers,
                    scheduler=scheduler, progress=progress, cancel=cancel, command=command,
                    posterior=info) as (store, report, outcomes):
        ok = [r.run_id for r in plan if r.run_id in report.finished]
        result = EnsembleResult(outcomes, report.failures, report, out, posterior=info)
        if ok:
            result.bands, _ = quantile_bands(store, prepared.scenario, ok)
            result.summary = outcome_quantiles(outcomes)
        if out is not None and ok:
            result.files += _write_frames(out, {"outcomes.csv": outcomes,
                                                "outcome_quantiles.csv": result.summary})
            result.files.append(_write_parquet(out / "bands.parquet", result.bands))
            if plots:
                from sim.experiments.plots import ensemble_figures

                result.files += ensemble_figures(result.bands, prepared.scenario,
                                                 out / "plots", title=prepared.label)
        return result


def compare(baseline: ScenarioLike, counterfactuals: Sequence[ScenarioLike], runs: int,
            root_seed: int | None = None, workers: int = 1, out: Path | None = None,
            scheduler: str | None = None, progress: ProgressCallback | None = None,
            cancel: threading.Event | None = None, command: str | None = None,
            plots: bool = True, posterior: PosteriorLike | None = None) -> ComparisonResult:
    """Paired comparison: the baseline and each counterfactual run with the same seeds.

    Args:
        baseline: the baseline scenario (file or `Scenario`).
        counterfactuals: one or more counterfactual scenarios.
        runs: seeds per scenario.
        root_seed: root of the spawned seeds (default: the baseline's `seed`).
        workers: local worker processes (1 runs in this process).
        out: results folder (resumable), or None to work in memory.
        scheduler: a Dask scheduler address (`tcp://host:port`) instead of local workers.
        progress: called as `progress(done, failed, total)` as runs finish.
        cancel: set it to stop; finished runs are kept and `ExperimentCancelled` is raised.
        command: the command line, recorded in the manifest.
        plots: write plots into `out`.
        posterior: a posterior file (or `Posterior`) the runs draw their parameters from: run
            i of every scenario gets the same draw, as it gets the same seed; a parameter a
            counterfactual sets to another value than the baseline (a lever) keeps its value.

    Returns:
        A `ComparisonResult`; see its docstring for the table and band layouts.

    Raises:
        ScenarioError, ExperimentError, CalibrationError: bad input, before any run starts.
    """
    _check_common(runs, workers, root_seed, scheduler)
    if isinstance(counterfactuals, str | Path | Scenario):
        counterfactuals = [counterfactuals]
    if not counterfactuals:
        raise ExperimentError("compare needs at least one counterfactual scenario")
    sources = [baseline, *counterfactuals]
    prepared_list = [prepare_scenario(s) for s in sources]
    labels = _unique_labels([p.label for p in prepared_list])
    prepared = dict(zip(labels, prepared_list, strict=True))
    base_label, cf_labels = labels[0], labels[1:]
    base = prepared[base_label]
    for label in cf_labels:
        if prepared[label].scenario.start != base.scenario.start or \
                prepared[label].scenario.end != base.scenario.end:
            raise ExperimentError(f"counterfactual '{label}' runs {prepared[label].scenario.start}"
                                  f" to {prepared[label].scenario.end}, the baseline "
                                  f"{base.scenario.start} to {base.scenario.end}; they must match")
    drawn = check_posterior(posterior, prepared) if posterior is not None else None
    root = base.scenario.seed if root_seed is None else root_seed
    plan, payloads, ids = plan_runs(prepared, spawn_seeds(root, runs), drawn, root)
    info = drawn.info() if drawn else None
    with executing("compare", prepared, root, plan, payloads, out=out, workers=workers,
                    scheduler=scheduler, progress=progress, cancel=cancel, command=command,
                    posterior=info) as (store, report, outcomes):
        result = ComparisonResult(outcomes, report.failures, report, out, baseline=base_label,
                                  counterfactuals=list(cf_labels), posterior=info)
        done = report.finished
        tables, events, paired = [], [], {}
        by_id = outcomes.drop_duplicates("run_id").set_index("run_id")[HEADLINE_OUTCOMES]
        for label in cf_labels:
            pairs = [i for i in range(runs) if ids[base_label][i] in done and ids[label][i] in done]
            mine = [ids[base_label][i] for i in pairs]
            theirs = [ids[label][i] for i in pairs]
            a = by_id.loc[mine].to_numpy()
            b = by_id.loc[theirs].to_numpy()
            if pairs:
                first, _ = first_difference(store, mine, theirs)
                result.divergence[label] = first
                table = paired_table(label, a, b)
                table["first_difference"] = first
                tables.append(table)
                names, counts_a = end_counts(store, mine, RARE_EVENT_SERIES)
                _, counts_b = end_counts(store, theirs, RARE_EVENT_SERIES)
                events.append(rare_event_table(label, names, counts_a, counts_b))
            paired[label] = (prepared[label].scenario, mine, theirs)
        if tables:
            result.table = pd.concat(tables, ignore_index=True)
            result.rare_events = pd.concat(events, ignore_index=True)
        base_ok = [rid for rid in ids[base_label] if rid in done]
        if base_ok:
            result.bands[base_label], result.difference_bands = quantile_bands(
                store, base.scenario, base_ok, paired)
        for label in cf_labels:
            cf_ok = [rid for rid in ids[label] if rid in done]
            if cf_ok:
                result.bands[label], _ = quantile_bands(store, prepared[label].scenario, cf_ok)
        if out is not None and result.bands:
            result.files += _write_frames(out, {"outcomes.csv": outcomes,
                                                "comparison.csv": result.table,
                                                "rare_events.csv": result.rare_events})
            atomic_write_text(out / "comparison.md", comparison_markdown(result))
            result.files.append(out / "comparison.md")
            result.files.append(_write_parquet(out / "bands.parquet", _labelled(result.bands)))
            if result.difference_bands:
                result.files.append(_write_parquet(out / "difference_bands.parquet",
                                                   _labelled(result.difference_bands)))
            if plots:
                from sim.experiments.plots import comparison_figures

                result.files += comparison_figures(result, out / "plots")
        return result


def _labelled(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([f.assign(scenario=label).set_index("scenario").reset_index()
                      for label, f in frames.items()], ignore_index=True)


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------


def sweep(scenario: ScenarioLike, params: Mapping[str, tuple[float, float]] | Sequence[str],
          design: Design = "lhs", samples: int = 16, runs_per_point: int = 1,
          root_seed: int | None = None, workers: int = 1, out: Path | None = None,
          scheduler: str | None = None, progress: ProgressCallback | None = None,
          cancel: threading.Event | None = None, command: str | None = None,
          plots: bool = True) -> SweepResult:
    """Vary uncertainties and levers over a design; outcomes per point, Sobol/Morris sensitivity.

    Every point is run with the same `runs_per_point` seeds (common random numbers), and its
    outcome is the mean over them.

    Args:
        scenario: the scenario file (or `Scenario`) whose parameters are varied.
        params: name -> (low, high), or `NAME=LOW:HIGH` strings; names are dotted paths of
            `sim.scenario.tunable_parameters` (uncertainties) or levers `events.<id>.<field>`
            (`sim.scenario.levers`: an event's date, as ISO dates within the scenario's
            period, its strength or restraint); ranges must lie within their bounds.
        design: "grid", "lhs", "sobol" or "morris" (see `sim.experiments.design_points` for
            `samples`).
        samples: design size (see `sim.experiments.design_points`).
        runs_per_point: replications (seeds) per point.
        root_seed: root of the spawned seeds and of the design (default: the scenario's seed).
        workers: local worker processes (1 runs in this process).
        out: results folder (resumable), or None to work in memory.
        scheduler: a Dask scheduler address (`tcp://host:port`) instead of local workers.
        progress: called as `progress(done, failed, total)` as runs finish.
        cancel: set it to stop; finished runs are kept and `ExperimentCancelled` is raised.
        command: the command line, recorded in the manifest.
        plots: write plots into `out`.

    Raises:
        ScenarioError, ExperimentError: bad names, ranges or sizes, before any run starts.
    """
    _check_common(runs_per_point, workers, root_seed, scheduler, "--runs-per-point")
    base = prepare_scenario(scenario)
    if isinstance(params, Mapping):
        specs = [f"{k}={lo}:{hi}" for k, (lo, hi) in params.items()]
    else:
        specs = list(params)
    ranges = parse_parameter_ranges(specs, base.payload)
    root = base.scenario.seed if root_seed is None else root_seed
    points = design_points(ranges, design, samples, root)
    names = list(ranges)
    convert = setting_converters(names, base.payload)
    prepared: list[PreparedScenario] = []
    for row in points:
        overrides = {n: convert[n](v) for n, v in zip(names, row, strict=True)}
        data = apply_settings(base.payload, overrides, origin="--param")
        scen = validate_data(data, Path(base.path or base.label))
        prepared.append(PreparedScenario(base.label, base.path, scen,
                                         scen.model_dump(mode="json"), scen.content_hash(),
                                         overrides))
    seeds = spawn_seeds(root, runs_per_point)
    plan = [PlannedRun(run_id_for(p.hash, s), base.label, p.hash, i, j, s)
            for i, p in enumerate(prepared) for j, s in enumerate(seeds)]
    design_info = {"design": design, "samples": samples, "parameters": {
        n: list(r) for n, r in ranges.items()}, "points": points.tolist()}
    levers = lever_info(names, base.payload)
    if levers:  # recorded only when there are any, so older sweep folders still resume
        design_info["levers"] = levers
    payloads = {p.hash: p for p in prepared}
    with executing("sweep", {base.label: base}, root, plan, payloads, out=out,
                    workers=workers, scheduler=scheduler, progress=progress, cancel=cancel,
                    command=command, design=design_info) as (_, report, outcomes):
        points_frame = pd.DataFrame(points, columns=names)
        points_frame.insert(0, "point", np.arange(len(points)))
        means = outcomes.groupby("point")[HEADLINE_OUTCOMES].mean().reindex(
            np.arange(len(points)))
        point_outcomes = pd.concat([points_frame, means.reset_index(drop=True)], axis=1)
        result = SweepResult(outcomes, report.failures, report, out, design=design,
                             parameters=ranges, points=points_frame, point_outcomes=point_outcomes)
        if design in ("sobol", "morris"):
            result.sensitivity = sensitivity_indices(ranges, design, points, point_outcomes, root)
        if out is not None:
            frames = {"points.csv": points_frame, "outcomes.csv": outcomes,
                      "point_outcomes.csv": point_outcomes}
            if result.sensitivity is not None:
                frames["sensitivity.csv"] = result.sensitivity
                atomic_write_text(out / "sensitivity.md", markdown_table(result.sensitivity))
                result.files.append(out / "sensitivity.md")
            result.files += _write_frames(out, frames)
            if plots:
                from sim.experiments.plots import sweep_figures

                result.files += sweep_figures(result, out / "plots")
        return result


# --------------------------------------------------------------------------------------------
# Writing tables
# --------------------------------------------------------------------------------------------


def _write_frames(out: Path, frames: Mapping[str, pd.DataFrame]) -> list[Path]:
    paths = []
    for name, frame in frames.items():
        path = out / name
        atomic_to_csv(frame, path, index=False, float_format="%.10g")
        paths.append(path)
    return paths


def _write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    return atomic_to_parquet(frame, path, index=False, compression="zstd")
