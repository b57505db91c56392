"""Compile the model's numba kernels in a short-lived child process when their cache is missing.

Compiling the kernels takes some 25 s and, while it runs, about 170 MB more memory than the
run itself (LLVM's optimisation and code generation). `ensure_cached()`, called before the
first kernel of a process runs (`build_geography`, `SahelModel`), checks numba's on-disk cache
index of every kernel of `sim`; when one is missing or stale (its source changed), it runs the
bundled baseline in a child process that compiles and caches them all, then this process loads
them from the cache. The compile's memory stays in the child, which exits.

Processes that start together (pool workers) take turns through a lock file in the cache
folder: the first compiles, the others find the cache filled. If the child cannot run or the
cache folder is not writable, the kernels compile in this process on first use, as before.
Set SAHEL_SIM_COMPILE_IN_CHILD=0 to always compile in-process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from numba.core.caching import FunctionCache
from numba.core.dispatcher import Dispatcher

SWITCH = "SAHEL_SIM_COMPILE_IN_CHILD"
LOCK_NAME = "sahel-sim-compile.lock"
TIMEOUT_SECONDS = 1800
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
WARM_UP_SCENARIO = PACKAGE_ROOT / "scenarios" / "baseline.toml"
# The child's program: one run of the bundled baseline compiles (and caches) every kernel.
WARM_UP = """
import sys
sys.path.insert(0, sys.argv[1])
import sim
sim.SahelModel(sim.load_scenario(sys.argv[2]), rng=0).run()
"""

_log = logging.getLogger(__name__)
_guard = threading.Lock()
_checked = False


def kernels() -> list[Dispatcher]:
    """The cached numba kernels of the loaded `sim` modules (not those inlined at IR level).

    `import sim` loads `sim.model` and with it every module with kernels.
    """
    found: dict[int, Dispatcher] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "sim" or name.startswith("sim.")):
            continue
        for value in list(vars(module).values()):
            if (isinstance(value, Dispatcher) and isinstance(value._cache, FunctionCache)
                    and value.targetoptions.get("inline", "never") == "never"):
                found[id(value)] = value
    return sorted(found.values(), key=lambda d: (d.py_func.__module__, d.py_func.__qualname__))


def missing(dispatchers: list[Dispatcher]) -> list[Dispatcher]:
    """The kernels without a fresh entry in their on-disk cache index (or an unreadable one)."""
    return [d for d in dispatchers if not _indexed(d)]


def _indexed(dispatcher: Dispatcher) -> bool:
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # a corrupt or foreign index: numba will recompile, so count it missing
        return False


def ensure_cached() -> None:
    """Fill numba's cache from a child process if a kernel is missing (once per process)."""
    global _checked
    if _checked:
        return
    with _guard:
        if _checked:
            return
        _checked = True
        if os.environ.get(SWITCH, "1") == "0":
            return
        import numba

        if numba.config.DISABLE_JIT:
            return
        try:  # numba's cache internals: if they change, compile in-process as before
            dispatchers = kernels()
            folder = Path(dispatchers[0]._cache.cache_path) if missing(dispatchers) else None
        except Exception as exc:
            _log.info("cannot read numba's cache index (%s): compiling in-process", exc)
            return
        if folder is None:
            return
        with _compile_lock(folder):
            todo = missing(dispatchers)
            if todo:
                _log.info("compiling %d numba kernels in a child process", len(todo))
                _compile_in_child()


@contextlib.contextmanager
def _compile_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on a file in `folder`; no lock if that is not possible."""
    try:
        import fcntl

        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / LOCK_NAME, "a")  # noqa: SIM115  (closed below)
    except (ImportError, OSError):
        yield
        return
    with handle:
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _compile_in_child() -> bool:
    """Run `WARM_UP` in a child interpreter with this process's `sim`; True if it succeeded."""
    import numba

    env = dict(os.environ)
    env[SWITCH] = "0"
    if numba.config.CACHE_DIR:
        env["NUMBA_CACHE_DIR"] = str(numba.config.CACHE_DIR)
    command = [sys.executable, "-c", WARM_UP, str(PACKAGE_ROOT), str(WARM_UP_SCENARIO)]
    try:
        proc = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=TIMEOUT_SECONDS)
    except (OSError, subprocess.SubprocessError) as exc:
        _log.info("compiling in a child process failed (%s): compiling in-process", exc)
        return False
    if proc.returncode != 0:
        _log.info("compiling in a child process failed (exit %d): %s", proc.returncode,
                  proc.stderr.strip()[-2000:])
        return False
    return True

