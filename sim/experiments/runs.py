"""An experiment's runs: the plan, and executing it into a results store.

A *run* is one (scenario, parameter overrides, seed); its id is the scenario's content hash
and the seed, so the same run is done once however many times the plan names it.
`execute_plan` runs what the store does not hold yet (a damaged run file is set aside and
run again) (see `sim.experiments.executors`), keeps
each result in the store and records progress and failures in its manifest. Scenarios are
prepared in `sim.experiments.prepared`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.experiments.executors import RunTask, execute_tasks
from sim.experiments.prepared import PreparedScenario
from sim.experiments.result_store import ResultStore
from sim.geography import N_COUNTRIES

ProgressCallback = Callable[[int, int, int], None]


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """One run of an experiment: which scenario (and sweep point), replicate, seed and draw."""

    run_id: str
    scenario: str  # label of the scenario (or of the sweep's base scenario)
    scenario_hash: str
    point: int  # sweep point (0 outside sweeps)
    replicate: int
    seed: int
    draw: str | None = None  # id of the posterior draw its parameters come from, if any


def run_id_for(scenario_hash: str, seed: int) -> str:
    """The id (and file stem) of a run: the scenario's content hash and the seed."""
    return f"{scenario_hash[:16]}-{seed}"


@dataclass(slots=True)
class RunReport:
    """What happened to an experiment's runs."""

    planned: list[PlannedRun]
    finished: set[str]
    failures: dict[str, dict[str, Any]]
    reused: int  # runs found finished from an earlier session
    execute_seconds: float
    compute_seconds: list[float]
    encode_seconds: list[float]
    workers: int  # local processes used (0 on Dask)
    set_aside: list[str] = field(default_factory=list)  # damaged run files moved to runs/bad/

    @property
    def n_failed(self) -> int:
        """Number of distinct runs that failed."""
        return len(self.failures)


def _settings(run: PlannedRun, prepared: PreparedScenario) -> dict[str, Any]:
    """What the manifest records of a run's parameters: overrides, and its posterior draw."""
    out: dict[str, Any] = {"overrides": prepared.overrides} if prepared.overrides else {}
    if run.draw is not None:
        out.update(draw=run.draw, parameters=prepared.drawn)
    return out


def execute_plan(store: ResultStore, plan: list[PlannedRun],
                 payloads: Mapping[str, PreparedScenario], workers: int, scheduler: Any,
                 progress: ProgressCallback | None, cancel: threading.Event | None
                 ) -> RunReport:
    """Execute every planned run not finished yet; record results and failures.

    `scheduler` is a Dask scheduler address, a connected `distributed.Client` (see
    `sim.experiments.executors.connect_scheduler`) or None for local workers.
    """
    unique: dict[str, PlannedRun] = {}
    for run in plan:
        unique.setdefault(run.run_id, run)
    finished: set[str] = set()
    set_aside: list[str] = []
    for rid, run in unique.items():
        if not store.has(rid):
            continue
        rows = payloads[run.scenario_hash].scenario.days * N_COUNTRIES
        problem = store.check(rid, rows)
        if problem is None:
            finished.add(rid)
        else:  # damaged (a truncated file, say): keep it aside and run it again
            moved = store.set_aside(rid)
            set_aside.append(str(moved))
            store.manifest.setdefault("set_aside", []).append(
                {"run": rid, "file": str(moved), "problem": problem})
    reused = len(finished)
    todo = [RunTask(rid, payloads[run.scenario_hash].payload, run.scenario_hash, run.seed)
            for rid, run in unique.items() if rid not in finished]
    failures: dict[str, dict[str, Any]] = {}
    labels: dict[str, list[str]] = {}
    for run in plan:
        labels.setdefault(run.run_id, []).append(run.scenario)
    store.manifest["runs"] = [
        {"id": r.run_id, "scenario": r.scenario, "point": r.point, "replicate": r.replicate,
         "seed": r.seed, **_settings(r, payloads[r.scenario_hash])} for r in plan]
    store.manifest["failures"] = {}
    store.manifest["status"] = {"state": "running", "planned": len(unique),
                                "finished": reused, "failed": 0}
    store.write_manifest()
    total = len(unique)
    if progress is not None:
        progress(reused, 0, total)
    compute, encode = [], []
    started = time.perf_counter()
    state = "interrupted"
    try:
        with contextlib.closing(execute_tasks(todo, workers, scheduler, cancel)) as outcomes:
            for outcome in outcomes:
                run = unique[outcome.run_id]
                if outcome.data is not None:
                    store.save(outcome.run_id, outcome.data, outcome.cells)
                    finished.add(outcome.run_id)
                    compute.append(outcome.compute_seconds)
                    encode.append(outcome.encode_seconds)
                else:
                    failures[outcome.run_id] = {
                        "scenario": labels[outcome.run_id], "seed": run.seed,
                        "point": run.point, "error": outcome.error,
                        "traceback": outcome.traceback}
                    store.manifest["failures"] = failures
                    store.manifest["status"].update(finished=len(finished), failed=len(failures))
                    store.write_manifest()
                if progress is not None:
                    progress(len(finished) + len(failures), len(failures), total)
        state = "failed" if failures else "complete"
    finally:
        # An interrupt between a run file's rename and `finished.add` leaves a finished run
        # the set misses; the files are what marks a run finished (`ResultStore.save`).
        finished.update(t.run_id for t in todo if t.run_id not in finished
                        and t.run_id not in failures and store.has(t.run_id))
        store.manifest["failures"] = failures
        store.manifest["status"] = {"state": state, "planned": total, "finished": len(finished),
                                    "failed": len(failures)}
        store.write_manifest()
    local = 1 if workers <= 1 or len(todo) <= 1 else min(workers, len(todo))
    used = 0 if scheduler is not None else local
    return RunReport(plan, finished, failures, reused, time.perf_counter() - started, compute,
                     encode, used, set_aside)
