"""A local `spawn` process pool: workers die with this process, and dead ones are replaced.

`run_in_pool` runs calls of a picklable function and yields their results as they finish;
experiments (`executors`) and calibration statistics both run through it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from multiprocessing.context import SpawnContext, SpawnProcess
from queue import Empty, SimpleQueue
from typing import Any

from sim.experiments.errors import ExperimentCancelled

POLL_SECONDS = 0.2
MAX_ATTEMPTS = 3  # a call whose worker process dies this many times is given up
KILL_AFTER_SECONDS = 5.0  # a stopped pool's workers still alive this long after SIGTERM: SIGKILL
MANAGER_JOIN_SECONDS = 5.0  # the most a stopped pool's manager thread is waited for

type _Finished = tuple[int, bool, Any]  # (position, succeeded, result or exception)


def run_in_pool[Result](function: Callable[..., Result], arguments: Sequence[tuple[Any, ...]],
                        workers: int, died: Callable[..., Result],
                        cancel: threading.Event | None = None
                        ) -> Iterator[tuple[int, Result]]:
    """Call `function(*args)` for each argument tuple in a local `spawn` process pool.

    Yields (position in `arguments`, result) as calls finish. Workers ignore Ctrl-C and die
    with this process (`_worker_init`). When a worker process dies, the pool is replaced and
    the calls it had not finished are retried; a call whose worker died `MAX_ATTEMPTS` times
    yields `died(*args)` instead. `function` must be picklable (module level). Close the
    generator (`contextlib.closing`) so that an interrupt stops the workers at once
    (`_stop_pool`).

    Raises:
        ExperimentCancelled: when `cancel` is set.
    """
    attempts: Counter[int] = Counter()
    todo = list(range(len(arguments)))
    while todo:
        context = _RecordingSpawnContext()
        finished: SimpleQueue[_Finished] = SimpleQueue()
        pool, running, clean = None, set(todo), False
        try:
            with _sigint_ignored():  # the workers are spawned by the submits
                pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)),
                                           mp_context=context, initializer=_worker_init,
                                           initargs=(os.getpid(),))
                for i in todo:
                    pool.submit(function, *arguments[i]).add_done_callback(
                        partial(_report, finished, i))
            todo = []
            while running:
                try:
                    batch = [finished.get(timeout=POLL_SECONDS)]
                except Empty:
                    batch = []
                if cancel is not None and cancel.is_set():
                    raise ExperimentCancelled
                if any(isinstance(value, BrokenProcessPool) for _, _, value in batch):
                    batch += _drain(finished)  # what finished with it counts, as before
                for i, succeeded, value in batch:
                    running.discard(i)
                    if succeeded:
                        yield i, value
                    elif isinstance(value, BrokenProcessPool):
                        todo.append(i)
                    else:
                        raise value
                if todo:  # the pool broke: what it had not finished is retried
                    todo.extend(running)
                    running.clear()
            clean = True
        finally:
            if pool is not None:
                _shutdown_pool(pool, context.started, clean)
        retry = []
        for i in sorted(todo):
            attempts[i] += 1
            if attempts[i] >= MAX_ATTEMPTS:
                yield i, died(*arguments[i])
            else:
                retry.append(i)
        todo = retry


def _report(finished: SimpleQueue[_Finished], i: int, future: Future[Any]) -> None:
    """A done callback (run by the pool's thread): queue the call's outcome for the caller.

    The caller then never takes a future's lock, which an interrupt could leave held and so
    block the pool's thread (and with it this process's exit) forever.
    """
    try:
        finished.put((i, True, future.result()))
    except BaseException as exc:  # re-raised by the caller (a cancelled call: ignored)
        finished.put((i, False, exc))


def _drain(finished: SimpleQueue[_Finished]) -> list[_Finished]:
    out = []
    with contextlib.suppress(Empty):
        while True:
            out.append(finished.get_nowait())
    return out


class _RecordingSpawnContext(SpawnContext):
    """The `spawn` context, keeping every process it creates, so that all can be stopped.

    The executor's own list misses a worker whose start an interrupt cut short.
    """

    def __init__(self) -> None:
        self.started: list[SpawnProcess] = []

    def Process(self, *args: Any, **kwargs: Any) -> SpawnProcess:  # noqa: N802 - the API's name
        """A new (not yet started) worker process, recorded in `started`."""
        process = SpawnProcess(*args, **kwargs)
        self.started.append(process)
        return process


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT in this process for a while; workers spawned then inherit it ignored.

    `_worker_init` ignores it too, but only once the worker has imported its modules: a
    Ctrl-C sent to the process group before then would print a worker's traceback. The
    window here is the spawning alone (milliseconds). `_shutdown_pool` ignores it too while it
    stops a pool (seconds at most). Only the main thread can set handlers; elsewhere (the
    dashboard's runs) nothing changes.
    """
    previous = signal.getsignal(signal.SIGINT)  # None: set outside Python, left alone
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _shutdown_pool(pool: ProcessPoolExecutor, processes: list[SpawnProcess],
                   clean: bool) -> None:
    """Shut a pool down: wait for its idle workers if `clean`, else stop it (`_stop_pool`)."""
    if clean:
        try:
            pool.shutdown(wait=True)
            return
        except BaseException:  # interrupted while the idle workers exit: stop them
            with _sigint_ignored():
                _stop_pool(pool, processes)
            raise
    with _sigint_ignored():  # a second Ctrl-C does not cut the stopping short
        _stop_pool(pool, processes)


def _stop_pool(pool: ProcessPoolExecutor, processes: list[SpawnProcess]) -> None:
    """Stop a pool now, waiting on nothing without a bound (after an interrupt, cancel, error).

    The workers are terminated (killed if still alive after `KILL_AFTER_SECONDS`) and pending
    calls cancelled. Python's exit joins the pool's manager thread and its call queue's feeder
    thread without a timeout, so neither may be left blocked: the feeder can be stuck writing
    to a full pipe that no worker reads any more (it is not waited for), and a worker
    terminated while it sends a result leaves a torn message that the manager thread would
    wait for forever (closing this process's end of the result pipe ends it). The manager
    thread then exits; it is waited for `MANAGER_JOIN_SECONDS` at most.
    """
    manager = getattr(pool, "_executor_manager_thread", None)
    calls = getattr(pool, "_call_queue", None)
    results = getattr(pool, "_result_queue", None)
    if calls is not None:
        calls.cancel_join_thread()
    _stop_processes(processes)  # first: shutdown() takes a lock the manager thread may hold
    pool.shutdown(wait=False, cancel_futures=True)
    if results is not None:
        results._writer.close()
    if manager is not None:
        manager.join(MANAGER_JOIN_SECONDS)


def _stop_processes(processes: list[SpawnProcess]) -> None:
    """Terminate processes, kill those alive `KILL_AFTER_SECONDS` later, and reap them."""
    live = [p for p in processes if p.pid is not None and p.exitcode is None]
    for process in live:
        process.terminate()
    deadline = time.monotonic() + KILL_AFTER_SECONDS
    for process in live:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in live:
        if process.exitcode is None:
            process.kill()
            process.join(KILL_AFTER_SECONDS)


PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCHDOG_SECONDS = 1.0


def _worker_init(parent: int) -> None:
    """Set up a pool worker: leave Ctrl-C to the parent, and die with the parent.

    Workers ignore SIGINT (the parent stops them cleanly). So that a parent killed with
    SIGKILL leaves no worker behind, the kernel is asked to send SIGKILL to the worker when
    its parent dies (`prctl(PR_SET_PDEATHSIG)` on Linux), and a watchdog thread checks the
    parent's id every second (any platform) and ends the worker when it has changed.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_SECONDS)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="sahel-parent-watchdog", daemon=True).start()
