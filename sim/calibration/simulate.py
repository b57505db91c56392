"""Many runs of a scenario and their targets' statistics (`target_statistics`) as one table.

`simulate_statistics` runs a scenario for many seeds (and per-run parameter overrides, e.g.
posterior draws) in a local process pool and returns one row per run; each row depends only
on (scenario, overrides, seed), whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.calibration.statistics import target_statistics
from sim.calibration.targets import Target
from sim.scenario import Scenario

ProgressCallback = Callable[[int, int], object]


def run_statistics(payload: dict[str, Any], seed: int, targets: Sequence[Target]
                   ) -> dict[str, float]:
    """Run a resolved scenario (its JSON-able dump) with a seed; its targets' statistics.

    This is what the workers execute; it depends only on its arguments.
    """
    from sim.model import SahelModel

    model = SahelModel(Scenario.model_validate(payload), rng=seed).run()
    return target_statistics(model, targets)


def _attempt(payload: dict[str, Any], seed: int, targets: Sequence[Target]
             ) -> tuple[dict[str, float] | None, str | None]:
    try:
        return run_statistics(payload, seed, targets), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}".splitlines()[0]


def simulate_statistics(scenario: Scenario | str | Path, targets: Sequence[Target],
                        seeds: Sequence[int],
                        overrides_per_run: Sequence[Mapping[str, Any]] | None = None,
                        workers: int = 1, progress: bool | ProgressCallback = False,
                        draws: Sequence[Any] | None = None) -> pd.DataFrame:
    """Run the scenario once per seed; one row per run with every target's statistic.

    Args:
        scenario: a scenario, a scenario file or a bundled scenario's name.
        targets: the targets whose statistics are computed.
        seeds: one model seed per run.
        overrides_per_run: per run, dotted parameter overrides (e.g. a posterior draw's);
            None runs the scenario as it is.
        workers: local processes (1: in this process).
        progress: True for a progress bar on stderr, or a callable `(done, total)`.
        draws: per run, the id of its parameter draw (default: the run's position when
            overrides are given, else None).

    Returns:
        Columns: the target names, then `seed` and `draw`; rows in the order of `seeds`.
        A run that raised has NaN statistics; `frame.attrs["errors"]` maps its row to the
        error.

    Raises:
        RuntimeError: every run failed (the message quotes the first error).
        ScenarioError: the scenario or an override set is invalid (before any run starts).
    """
    from sim.experiments.prepared import prepare_scenario
    from sim.scenario import load_scenario, resolve_scenario_path
    from sim.scenario.tunable import tunable_parameters, whole_integers

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(resolve_scenario_path(str(scenario)))
    n = len(seeds)
    if overrides_per_run is not None and len(overrides_per_run) != n:
        raise ValueError(f"overrides_per_run has {len(overrides_per_run)} entries for {n} seeds")
    if draws is not None and len(draws) != n:
        raise ValueError(f"draws has {len(draws)} entries for {n} seeds")
    prepared: dict[tuple, dict[str, Any]] = {}
    payloads = []
    known = (tunable_parameters(scenario.model_dump(mode="json"))
             if overrides_per_run is not None else {})
    for i in range(n):
        overrides = (whole_integers(overrides_per_run[i], known)
                     if overrides_per_run is not None else {})
        key = tuple(sorted((k, repr(v)) for k, v in overrides.items()))
        if key not in prepared:
            prepared[key] = prepare_scenario(scenario, overrides).payload
        payloads.append(prepared[key])
    if draws is None:
        draws = list(range(n)) if overrides_per_run is not None else [None] * n
    report = _progress_reporter(progress, n)
    results: dict[int, tuple[dict[str, float] | None, str | None]] = {}
    try:
        if workers <= 1 or n <= 1:
            for i in range(n):
                results[i] = _attempt(payloads[i], int(seeds[i]), targets)
                report(len(results))
        else:
            _run_pool(payloads, seeds, targets, min(workers, n), results, report)
    finally:
        report(None)
    rows, errors = [], {}
    for i in range(n):
        values, error = results[i]
        if error is not None:
            errors[i] = f"seed {seeds[i]}: {error}"
        rows.append(values if values is not None else {t.name: math.nan for t in targets})
    if n and len(errors) == n:
        raise RuntimeError(f"every run failed; the first: {errors[0]}")
    frame = pd.DataFrame(rows, columns=[t.name for t in targets], dtype=float)
    frame["seed"] = [int(s) for s in seeds]
    frame["draw"] = list(draws)
    frame.attrs["errors"] = errors
    return frame


def _run_pool(payloads: list[dict[str, Any]], seeds: Sequence[int], targets: Sequence[Target],
              workers: int, results: dict, report: Callable[[int | None], None]) -> None:
    """Run in the shared process pool (`run_in_pool`); a dead worker's runs are retried."""
    from sim.experiments.process_pool import run_in_pool

    arguments = [(payloads[i], int(seeds[i]), list(targets)) for i in range(len(payloads))]
    with contextlib.closing(run_in_pool(_attempt, arguments, workers, _worker_died)) as runs:
        for i, outcome in runs:
            results[i] = outcome
            report(len(results))


def _worker_died(*_arguments: object) -> tuple[None, str]:
    return None, "a worker process died while running it"


def _progress_reporter(progress: bool | ProgressCallback, total: int
                       ) -> Callable[[int | None], None]:
    """`report(done)` after each run and `report(None)` at the end."""
    if callable(progress):
        def call(done: int | None) -> None:
            if done is not None:
                progress(done, total)
        return call
    if not progress:
        return lambda done: None
    from sim.progress import ProgressBar

    bar = ProgressBar("runs", total=total)
    bar.update(0)
    return lambda done: bar.close() if done is None else bar.update(done)
