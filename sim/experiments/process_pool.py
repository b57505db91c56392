"""A local `spawn` process pool: workers die with this process, and dead ones are replaced.

`run_in_pool` runs calls of a picklable function and yields their results as they finish;
experiments (`executors`) and calibration statistics both run through it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.experiments.errors import ExperimentCancelled

POLL_SECONDS = 0.2
MAX_ATTEMPTS = 3  # a call whose worker process dies this many times is given up


def run_in_pool[Result](function: Callable[..., Result], arguments: Sequence[tuple[Any, ...]],
                        workers: int, died: Callable[..., Result],
                        cancel: threading.Event | None = None
                        ) -> Iterator[tuple[int, Result]]:
    """Call `function(*args)` for each argument tuple in a local `spawn` process pool.

    Yields (position in `arguments`, result) as calls finish. Workers ignore Ctrl-C and die
    with this process (`_worker_init`). When a worker process dies, the pool is replaced and
    the calls it had not finished are retried; a call whose worker died `MAX_ATTEMPTS` times
    yields `died(*args)` instead. `function` must be picklable (module level). Close the
    generator (`contextlib.closing`) so that an interrupt stops the workers at once.

    Raises:
        ExperimentCancelled: when `cancel` is set.
    """
    context = multiprocessing.get_context("spawn")
    attempts: Counter[int] = Counter()
    queue = list(range(len(arguments)))
    while queue:
        with _workers_start_ignoring_sigint():  # the workers are spawned by the submits
            pool = ProcessPoolExecutor(max_workers=min(workers, len(queue)),
                                       mp_context=context, initializer=_worker_init,
                                       initargs=(os.getpid(),))
            futures: dict[Future[Result], int] = {
                pool.submit(function, *arguments[i]): i for i in queue}
        queue = []
        clean = False
        try:
            while futures:
                done, _ = wait(futures, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                if cancel is not None and cancel.is_set():
                    raise ExperimentCancelled
                broken = False
                for future in done:
                    i = futures.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken = True
                        queue.append(i)
                        continue
                    yield i, result
                if broken:
                    queue.extend(futures.values())
                    futures.clear()
            clean = True
        finally:
            _shutdown_pool(pool, clean)
        retry = []
        for i in sorted(queue):
            attempts[i] += 1
            if attempts[i] >= MAX_ATTEMPTS:
                yield i, died(*arguments[i])
            else:
                retry.append(i)
        queue = retry


@contextlib.contextmanager
def _workers_start_ignoring_sigint() -> Iterator[None]:
    """Ignore SIGINT in this process while workers are spawned, so they inherit it ignored.

    `_worker_init` ignores it too, but only once the worker has imported its modules: a
    Ctrl-C sent to the process group before then would print a worker's traceback. The
    window here is the spawning alone (milliseconds). Only the main thread can set handlers;
    elsewhere (the dashboard's runs) nothing changes.
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
