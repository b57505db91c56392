"""Executing an experiment: scheduler, folder lock, manifest, runs and their outcomes.

What ensembles, comparisons and sweeps all do around their plan: reach the scheduler, lock
the results folder, write the manifest, execute the runs (`sim.experiments.runs`) and read
their outcomes.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.executors import connect_scheduler
from sim.experiments.outcomes import outcome_frame
from sim.experiments.prepared import PreparedScenario
from sim.experiments.result_store import ResultStore, base_manifest
from sim.experiments.runs import PlannedRun, ProgressCallback, execute_plan


@contextlib.contextmanager
def executing(kind: str, scenarios: Mapping[str, PreparedScenario], root: int,
               plan: list[PlannedRun], payloads: Mapping[str, PreparedScenario], *,
               out: Path | None, workers: int, scheduler: str | None,
               progress: ProgressCallback | None, cancel: threading.Event | None,
               command: str | None, design: dict | None = None,
               posterior: dict | None = None) -> Iterator[tuple[ResultStore, Any, pd.DataFrame]]:
    """Run an experiment's plan: yields its open store, the run report and the outcomes.

    The scheduler is reached before anything is written into `out`; then `out` is locked,
    its manifest written and the plan executed (finished runs are skipped on a resume).
    """
    client = connect_scheduler(scheduler) if scheduler is not None else None
    with closing_client(client), ResultStore(out) as store:
        store.open(base_manifest(kind, scenarios, root, design, command, posterior))
        report = execute_plan(store, plan, payloads, workers, client, progress, cancel)
        outcomes = outcome_frame(store, {h: p.scenario for h, p in payloads.items()}, plan,
                                 report.finished)
        yield store, report, outcomes


@contextlib.contextmanager
def closing_client(client: Any) -> Any:
    """Close a Dask client (if any) when the experiment ends, however it ends."""
    try:
        yield client
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=10)
