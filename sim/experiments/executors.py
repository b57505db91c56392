"""Executors: running an experiment's runs in this process, a local process pool or on Dask.

Runs go to the calling process (one worker), a local process pool (several workers) or a Dask
cluster (a scheduler address). Every run is a pure function of its scenario and seed
(`execute_run`) and its result is serialised in the worker (`encode_frame`), so the files are
byte-identical whichever executor produced them. What is sent to workers (`execute_run`,
`RunTask`) lives at module level so that it pickles by reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import multiprocessing
import os
import signal
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.experiments.errors import ExperimentCancelled, ExperimentError
from sim.scenario import Scenario

DASK_CONNECT_TIMEOUT = "20s"
POLL_SECONDS = 0.2
MAX_ATTEMPTS = 3  # a run whose worker process dies this many times is recorded as failed


@dataclass(frozen=True, slots=True)
class RunTask:
    """What a worker needs: the resolved scenario (JSON-able mapping) and the seed."""

    run_id: str
    scenario: dict[str, Any]
    scenario_hash: str
    seed: int


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """A finished run: the Parquet bytes of its time series, or the error it raised."""

    run_id: str
    data: bytes | None = None
    error: str | None = None
    traceback: str | None = None
    compute_seconds: float = 0.0  # building and running the model, building the series
    encode_seconds: float = 0.0  # serialising the series to Parquet


# --------------------------------------------------------------------------------------------
# One run (executed in a worker)
# --------------------------------------------------------------------------------------------


class _Stopped(Exception):  # noqa: N818
    """Raised inside an in-process run when the experiment is cancelled."""


def _simulate(scenario: Scenario, seed: int,
              stop: Callable[[], bool] | None = None) -> pd.DataFrame:
    """Run the model to the end and return its daily time series."""
    from sim.model import SahelModel

    model = SahelModel(scenario, rng=seed)

    def check(_done: int, _total: int) -> None:
        if stop is not None and stop():
            raise _Stopped

    model.run(progress=check if stop is not None else None)
    return model.timeseries()


def encode_frame(frame: pd.DataFrame) -> bytes:
    """Serialise a time series to Parquet bytes (zstd), deterministically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer,
                   compression="zstd")
    return buffer.getvalue()


def execute_run(task: RunTask, stop: Callable[[], bool] | None = None) -> RunOutcome:
    """Run one task and serialise its result; an exception becomes a failed outcome.

    This is what executors call in their workers; it depends only on the task, so the same
    task gives the same bytes in any process.
    """
    start = time.perf_counter()
    try:
        scenario = Scenario.model_validate(task.scenario)
        if scenario.content_hash() != task.scenario_hash:
            raise RuntimeError("the scenario changed in transit to the worker (hash mismatch)")
        frame = _simulate(scenario, task.seed, stop)
        computed = time.perf_counter()
        data = encode_frame(frame)
    except _Stopped:
        raise
    except Exception as exc:
        return RunOutcome(task.run_id, error=f"{type(exc).__name__}: {exc}".splitlines()[0],
                          traceback=traceback.format_exc())
    return RunOutcome(task.run_id, data=data, compute_seconds=computed - start,
                      encode_seconds=time.perf_counter() - computed)


# --------------------------------------------------------------------------------------------
# Executors: in process, local process pool, Dask
# --------------------------------------------------------------------------------------------


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def execute_tasks(tasks: list[RunTask], workers: int, scheduler: str | None,
                  cancel: threading.Event | None) -> Iterator[RunOutcome]:
    """Run tasks and yield their outcomes as they finish.

    They go to a Dask cluster when `scheduler` is given, else to this process (one worker or
    one task), else to a local pool of `workers` processes (at most one per task).

    Raises:
        ExperimentCancelled: when `cancel` is set.
        ExperimentError: the Dask scheduler cannot be reached.
    """
    if scheduler:
        return _execute_dask(tasks, scheduler, cancel)
    if workers <= 1 or len(tasks) <= 1:
        return _execute_inline(tasks, cancel)
    return _execute_pool(tasks, min(workers, len(tasks)), cancel)


def _execute_inline(tasks: list[RunTask], cancel: threading.Event | None
                    ) -> Iterator[RunOutcome]:
    stop = cancel.is_set if cancel is not None else None
    for task in tasks:
        if cancel is not None and cancel.is_set():
            raise ExperimentCancelled
        try:
            yield execute_run(task, stop)
        except _Stopped:
            raise ExperimentCancelled from None


def _ignore_sigint() -> None:
    """Pool workers leave Ctrl-C to the parent, which stops them cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _execute_pool(tasks: list[RunTask], workers: int, cancel: threading.Event | None
                  ) -> Iterator[RunOutcome]:
    """A `spawn` process pool; workers that die are replaced and their runs retried."""
    context = multiprocessing.get_context("spawn")
    attempts: Counter[str] = Counter()
    queue = list(tasks)
    while queue:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(queue)), mp_context=context,
                                   initializer=_ignore_sigint)
        futures: dict[Future[RunOutcome], RunTask] = {
            pool.submit(execute_run, task): task for task in queue}
        queue = []
        clean = False
        try:
            while futures:
                done, _ = wait(futures, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                if cancel is not None and cancel.is_set():
                    raise ExperimentCancelled
                broken = False
                for future in done:
                    task = futures.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        broken = True
                        queue.append(task)
                if broken:
                    queue.extend(futures.values())
                    futures.clear()
            clean = True
        finally:
            _shutdown_pool(pool, clean)
        retry = []
        for task in queue:
            attempts[task.run_id] += 1
            if attempts[task.run_id] >= MAX_ATTEMPTS:
                yield RunOutcome(task.run_id, error="a worker process died while running it "
                                 f"({MAX_ATTEMPTS} attempts)", traceback="")
            else:
                retry.append(task)
        queue = retry


def _shutdown_pool(pool: ProcessPoolExecutor, clean: bool) -> None:
    if clean:
        pool.shutdown(wait=True)
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)


def _execute_dask(tasks: list[RunTask], scheduler: str, cancel: threading.Event | None
                  ) -> Iterator[RunOutcome]:
    """Submit every run to a Dask cluster; runs on a lost worker are rescheduled by Dask."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ExperimentError("a Dask scheduler needs dask[distributed]: "
                              "pip install 'sahel-sim[experiments]'") from None
    try:
        client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExperimentError(f"cannot reach the Dask scheduler at {scheduler}: {reason}"
                              ) from None
    futures: list[Any] = []
    try:
        prefix = uuid.uuid4().hex[:8]
        futures = client.map(execute_run, tasks,
                             key=[f"sahel-run-{prefix}-{t.run_id}" for t in tasks])
        by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        pending = as_completed(futures, loop=client.loop)
        while not pending.is_empty():
            if cancel is not None and cancel.is_set():
                raise ExperimentCancelled
            batch = pending.next_batch(block=False)
            if not batch:
                time.sleep(POLL_SECONDS)
                continue
            for future in batch:
                task = by_key[future.key]
                try:  # waits if the result was lost with a worker and is being recomputed
                    outcome = future.result()
                except (Exception, asyncio.CancelledError) as exc:
                    outcome = RunOutcome(task.run_id, error=f"{type(exc).__name__}: {exc}",
                                         traceback="".join(traceback.format_exception(exc)))
                future.release()
                yield outcome
    finally:
        with contextlib.suppress(Exception):
            client.cancel([f for f in futures if not f.done()])
        with contextlib.suppress(Exception):
            client.close(timeout=10)
