"""Executors: running an experiment's runs in this process, a local process pool or on Dask.

Runs go to the calling process (one worker), a local process pool (several workers,
`sim.experiments.process_pool`) or a Dask cluster (a scheduler address). Every run is a pure
function of its scenario and seed (`execute_run`) and its result is serialised in the worker
(`encode_frame`), so the files are byte-identical whichever executor produced them. What is
sent to workers (`execute_run`, `RunTask`) lives at module level so that it pickles by
reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.experiments.errors import ExperimentCancelled, ExperimentError
from sim.experiments.process_pool import MAX_ATTEMPTS, POLL_SECONDS, run_in_pool
from sim.scenario import Scenario

DASK_CONNECT_TIMEOUT = "10s"
PROBE_SECONDS = 3.0  # a scheduler's port that does not answer within this is unreachable
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


@dataclass(frozen=True, slots=True)
class RunTask:
    """What a worker needs: the resolved scenario (JSON-able mapping) and the seed."""

    run_id: str
    scenario: dict[str, Any]
    scenario_hash: str
    seed: int


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """A finished run: the Parquet bytes of its time series and cell-months, or its error."""

    run_id: str
    data: bytes | None = None
    cells: bytes | None = None  # fatalities per PRIO-GRID cell-month (`SahelModel.cell_months`)
    error: str | None = None
    traceback: str | None = None
    compute_seconds: float = 0.0  # building and running the model, building the series
    encode_seconds: float = 0.0  # serialising the series to Parquet


# --------------------------------------------------------------------------------------------
# One run (executed in a worker)
# --------------------------------------------------------------------------------------------


class _Stopped(Exception):  # noqa: N818
    """Raised inside an in-process run when the experiment is cancelled."""


def _simulate(scenario: Scenario, seed: int, stop: Callable[[], bool] | None = None
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the model to the end; its daily time series and its fatalities per cell-month."""
    from sim.model import SahelModel

    model = SahelModel(scenario, rng=seed)

    def check(_done: int, _total: int) -> None:
        if stop is not None and stop():
            raise _Stopped

    model.run(progress=check if stop is not None else None)
    return model.timeseries(), model.cell_months()


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
        frame, cells = _simulate(scenario, task.seed, stop)
        computed = time.perf_counter()
        data, cells_data = encode_frame(frame), encode_frame(cells)
    except _Stopped:
        raise
    except Exception as exc:
        return RunOutcome(task.run_id, error=f"{type(exc).__name__}: {exc}".splitlines()[0],
                          traceback=traceback.format_exc())
    return RunOutcome(task.run_id, data=data, cells=cells_data, compute_seconds=computed - start,
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


def parse_scheduler(address: str) -> tuple[str, str, int]:
    """Check a scheduler address (`tcp://HOST:PORT`); return its scheme, host and port.

    Raises:
        ExperimentError: a one-line message saying what is wrong with it.
    """
    expected = f"expected an address like tcp://HOST:PORT, got {address!r}"
    scheme, sep, rest = str(address).partition("://")
    if not sep or scheme not in SCHEDULER_SCHEMES or not rest or any(
            c.isspace() for c in rest):
        raise ExperimentError(f"--scheduler: {expected}")
    rest = rest.split("/", 1)[0]
    if rest.startswith("["):  # [IPv6]:PORT
        host, _, port_text = rest[1:].partition("]")
        port_text = port_text.removeprefix(":")
    else:
        host, _, port_text = rest.rpartition(":")
    if not host:
        raise ExperimentError(f"--scheduler: {expected}")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ExperimentError(f"--scheduler: port {port_text!r} is not a number from 1 to 65535 "
                              f"(in {address!r})")
    return scheme, host, int(port_text)


def connect_scheduler(address: str) -> Any:
    """A `distributed.Client` connected to a Dask scheduler, or a one-line ExperimentError.

    The address is checked and its port probed first (a refused or silent port fails within
    `PROBE_SECONDS`), so nothing waits for Dask's own connection timeout.
    """
    import socket

    scheme, host, port = parse_scheduler(address)
    try:
        from distributed import Client
    except ImportError:
        raise ExperimentError("a Dask scheduler needs dask[distributed]: "
                              "pip install 'sahel-sim[experiments]'") from None
    if scheme != "ucx":
        try:
            with socket.create_connection((host, port), timeout=PROBE_SECONDS):
                pass
        except (OSError, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (
                "no answer" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__)
            raise ExperimentError(f"cannot reach the Dask scheduler at {address}: {reason}"
                                  ) from None
    problem = _probe_dask(address)
    if problem:
        raise ExperimentError(f"cannot reach the Dask scheduler at {address}: {problem}")
    try:
        return Client(address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExperimentError(f"cannot reach the Dask scheduler at {address}: {reason}"
                              ) from None


def _probe_dask(address: str) -> str | None:
    """Open one Dask connection (with its handshake) to `address`; what went wrong, or None.

    It runs on a thread of its own with its own event loop and is given up after
    `PROBE_SECONDS`, so that a port where something other than a Dask scheduler listens
    fails quickly and without Dask's own retries and timeouts.
    """
    problem: list[str] = ["no answer (is it a Dask scheduler?)"]

    async def probe() -> None:
        from distributed.comm import connect

        comm = await connect(address, timeout=PROBE_SECONDS)
        await comm.close()

    def attempt() -> None:
        try:
            asyncio.run(asyncio.wait_for(probe(), PROBE_SECONDS))
            problem[0] = ""
        except BaseException as exc:  # anything: a garbled handshake can raise MemoryError
            text = str(exc).splitlines()[0] if str(exc) else ""
            problem[0] = ("not a Dask scheduler, or it does not answer"
                          if isinstance(exc, TimeoutError | MemoryError) or not text else
                          f"{type(exc).__name__}: {text}")

    thread = threading.Thread(target=attempt, name="sahel-dask-probe", daemon=True)
    thread.start()
    thread.join(PROBE_SECONDS + 1)
    return problem[0] or None


def execute_tasks(tasks: list[RunTask], workers: int, scheduler: Any,
                  cancel: threading.Event | None) -> Iterator[RunOutcome]:
    """Run tasks and yield their outcomes as they finish.

    They go to a Dask cluster when `scheduler` is given (an address or a connected client,
    which is closed at the end), else to this process (one worker or one task), else to a
    local pool of `workers` processes (at most one per task).

    Raises:
        ExperimentCancelled: when `cancel` is set.
        ExperimentError: the Dask scheduler cannot be reached.
    """
    if scheduler is not None and scheduler != "":
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


def _execute_pool(tasks: list[RunTask], workers: int, cancel: threading.Event | None
                  ) -> Iterator[RunOutcome]:
    """The runs in `run_in_pool`; a run whose worker died `MAX_ATTEMPTS` times has failed."""
    def died(task: RunTask) -> RunOutcome:
        return RunOutcome(task.run_id, error="a worker process died while running it "
                          f"({MAX_ATTEMPTS} attempts)", traceback="")

    with contextlib.closing(run_in_pool(execute_run, [(task,) for task in tasks], workers,
                                        died, cancel)) as outcomes:
        for _, outcome in outcomes:
            yield outcome


def _execute_dask(tasks: list[RunTask], scheduler: Any, cancel: threading.Event | None
                  ) -> Iterator[RunOutcome]:
    """Submit every run to a Dask cluster; runs on a lost worker are rescheduled by Dask."""
    from distributed import as_completed

    client = connect_scheduler(scheduler) if isinstance(scheduler, str) else scheduler
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
