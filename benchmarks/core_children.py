"""The child processes of bench_core.py: the code they run, how they start, what they found.

CHILD is source text run as `python -c CHILD` with cwd, PYTHONPATH and sys.path[0] at the
tree under test; it imports only sim (from that tree) and the standard library, so this
module is never looked up in an exported tree: bench_core.py imports it from its own folder.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trees import ChildError

MARKER = "RESULT "

# The child: imports sim from the given tree, then times or measures as its spec says and
# prints one line `RESULT {json}`.
CHILD = r'''
import gc, json, os, resource, sys, tempfile, time
from pathlib import Path

spec = json.loads(sys.argv[1])
tree = Path(spec["tree"]).resolve()
sys.path.insert(0, str(tree))
if spec["cpu"] is not None and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {spec["cpu"]})


def rss_mb(who=resource.RUSAGE_SELF):
    peak = resource.getrusage(who).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


out = {"pid": os.getpid()}
start = time.perf_counter()
import sim
out["import_s"] = time.perf_counter() - start
out["sim_file"] = sim.__file__
if not Path(sim.__file__).resolve().is_relative_to(tree):
    raise SystemExit(f"imported sim from {sim.__file__}, not from {tree}")
out["rss_import_mb"] = rss_mb()

baseline = tree / "scenarios" / "baseline.toml"
start = time.perf_counter()
if spec["resolution"] is None:
    scenario = sim.load_scenario(baseline)
else:
    path = Path(tempfile.mkdtemp(prefix="bench-core-")) / "baseline_resolution.toml"
    path.write_text(f"extends = {json.dumps(str(baseline))}\n"
                    f"resolution = {spec['resolution']!r}\n", encoding="utf-8")
    scenario = sim.load_scenario(path)
    if abs(scenario.resolution - spec["resolution"]) > 1e-12:
        raise SystemExit(f"scenario resolution {scenario.resolution}, not {spec['resolution']}")
out["load_s"] = time.perf_counter() - start
out["rss_load_mb"] = rss_mb()
out["resolution"] = scenario.resolution
out["days"] = getattr(scenario, "days", None)
out["spin_up_days"] = getattr(scenario, "spin_up_days", 0)  # trees before the spin-up: 0


def one(seed):
    gc.collect()
    t0 = time.perf_counter()
    model = sim.SahelModel(scenario, rng=seed)
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    model.timeseries()
    t3 = time.perf_counter()
    return {"full": t2 - t0, "setup": t1 - t0, "run": t2 - t1, "timeseries": t3 - t2}


if spec["mode"] == "single":
    out["first"] = one(spec["seeds"][0])
    out["rss_mb"] = rss_mb()
    out["rss_children_mb"] = rss_mb(resource.RUSAGE_CHILDREN)
    out["second"] = one(spec["seeds"][0])
else:
    one(spec["warm_seed"])
    out["runs"] = [one(seed) for seed in spec["seeds"]]
print("RESULT " + json.dumps(out), flush=True)
'''


def child_env(tree: Path, cache_dir: Path) -> dict[str, str]:
    """Environment of a child: sim from `tree`, one thread, its own numba cache."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env["NUMBA_CACHE_DIR"] = str(cache_dir)
    for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "MKL_NUM_THREADS"):
        env[name] = "1"
    env.pop("PYTHONSTARTUP", None)
    return env


def run_child(label: str, tree: Path, cache_dir: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Run the child on `tree` with `spec`; return its result or raise ChildError."""
    spec = {"tree": str(tree), **spec}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], cwd=tree,
                          env=child_env(tree, cache_dir), capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        tail = "\n    ".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise ChildError(f"{label} tree ({tree}) failed (exit {proc.returncode}):\n    {tail}")
    return json.loads(lines[-1][len(MARKER):])


def median(values: Sequence[float]) -> float:
    """Median, NaN for no values."""
    return statistics.median(values) if values else float("nan")


def count_lines(tree: Path) -> list[tuple[str, int]]:
    """Lines per module of sim/**/*.py, the largest first."""
    rows = [(str(p.relative_to(tree)), len(p.read_text(encoding="utf-8").splitlines()))
            for p in (tree / "sim").rglob("*.py")]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


class Side:
    """What was measured for one tree."""

    def __init__(self, label: str, tree: Path, description: str) -> None:
        self.label, self.tree, self.description = label, tree, description
        self.error: str | None = None
        self.sim_file: str | None = None
        self.cold: dict[str, Any] | None = None
        self.warm_cache: dict[str, Any] | None = None
        self.runs: list[dict[str, float]] = []
        self.fine: dict[str, Any] | None = None

    def attempt(self, spec: dict[str, Any], cache_dir: Path) -> dict[str, Any] | None:
        """Run a child unless this tree already failed; record the first failure."""
        if self.error:
            return None
        try:
            result = run_child(self.label, self.tree, cache_dir, spec)
        except ChildError as exc:
            self.error = str(exc)
            print(f"  ! {exc}", flush=True)
            return None
        self.sim_file = result["sim_file"]
        return result

    def stat(self, key: str) -> float:
        """Median of one timing over the pooled warm runs."""
        return median([r[key] for r in self.runs])
