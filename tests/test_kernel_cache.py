"""The numba kernels compile in a child process when their cache is empty (`sim.kernel_cache`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim import kernel_cache
from sim.model import SahelModel

ROOT = Path(__file__).resolve().parent.parent

# A fresh interpreter: one baseline run, its outputs written to the folder given, then which
# kernels it compiled itself (numba's cache misses) and its own and its children's peak memory.
FRESH_RUN = r"""
import json, resource, sys
from pathlib import Path
import sim
out = Path(sys.argv[1])
model = sim.SahelModel(sim.load_scenario(sys.argv[2]), rng=0).run()
model.timeseries().to_pickle(out / "timeseries.pkl")
model.fatalities().to_pickle(out / "fatalities.pkl")
model.events().to_pickle(out / "events.pkl")
from sim.kernel_cache import kernels
compiled_here = [d.py_func.__qualname__ for d in kernels() if d.stats.cache_misses]
print(json.dumps({"compiled_here": compiled_here,
                  "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3,
                  "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e3}))
"""


def test_every_kernel_is_cached_after_a_baseline_run(baseline_run: SahelModel) -> None:
    # The child's warm-up (a baseline run) must leave every kernel cached, or each new
    # process would start a child again.
    assert kernel_cache.kernels()
    assert [d.py_func.__qualname__ for d in kernel_cache.missing(kernel_cache.kernels())] == []


def test_the_lock_is_skipped_where_the_folder_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with kernel_cache._compile_lock(blocker / "cache"):  # a folder below a file: no lock
        pass


def test_a_child_that_cannot_start_reports_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    assert kernel_cache._compile_in_child() is False


def test_unreadable_cache_internals_fall_back_to_compiling_in_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> list:
        raise AttributeError("numba changed")
    monkeypatch.setattr(kernel_cache, "kernels", broken)
    monkeypatch.setattr(kernel_cache, "_checked", False)
    monkeypatch.delenv(kernel_cache.SWITCH, raising=False)
    kernel_cache.ensure_cached()  # no error: the kernels compile on first use instead
    assert kernel_cache._checked


@pytest.mark.slow
def test_a_run_with_an_empty_cache_compiles_in_a_child_and_is_identical(
        tmp_path: Path, baseline: sim.Scenario) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache"),
           "PYTHONPATH": str(ROOT)}
    env.pop(kernel_cache.SWITCH, None)
    proc = subprocess.run(
        [sys.executable, "-c", FRESH_RUN, str(tmp_path), str(ROOT / "scenarios/baseline.toml")],
        env=env, capture_output=True, text=True, timeout=1200, check=True)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["compiled_here"] == []  # every kernel came from the cache the child filled
    assert report["children_mb"] > 0  # a child ran (its peak is not the run's)
    model = SahelModel(baseline, rng=0).run()
    for name, frame in (("timeseries", model.timeseries()), ("fatalities", model.fatalities()),
                        ("events", model.events())):
        assert pd.read_pickle(tmp_path / f"{name}.pkl").equals(frame), name
