"""Behaviour check of the model core: does the current tree ("new") give the same baseline
outcomes as a reference commit ("old")? Compares the spread over seeds, side by side.

Run: .venv/bin/python benchmarks/behaviour_check.py [--reference COMMIT] [--seeds 20]
                                                   [--csv PATH]

Each tree runs its own scenarios/baseline.toml for seeds 0..N-1 (`SahelModel(scenario,
rng=seed).run().timeseries()`) in child processes of this interpreter that import `sim`
from that tree (PYTHONPATH and sys.path[0]; the child's `sim/__init__.py` is printed). old =
the reference commit (default b7faef2, the model before the core rewrite) exported with `git
archive` into a temporary folder; new = the working tree this script lives in, copied at the
start (tracked and untracked files git does not ignore) so edits made meanwhile do not mix in
(or `--new REV`, exported like old). The seeds of a tree are shared out over `--workers` child
processes (default 2) running at once; old runs first, then new.

Per seed and country (MLI, BFA, NER) it collects: deaths (killed_total) per calendar year and
over the whole run, civilian deaths (killed_civilians) the same way, and on the last day the
territory held by the state (territory_state), contested (territory_contested) and outside
the state (1 - territory_state). The table gives, per metric, the 5%, median and 95% of old
and of new over the seeds (numpy's linear percentiles), and "ok" if new's median lies within
old's 5-95% range, else "OUT". `--csv PATH` also writes the table as CSV (raw numbers).

Exit code: 0 if every metric is ok, 1 if one is OUT, 2 if a tree failed to run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from trees import ChildError, export_commit, snapshot_worktree

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "b7faef26e5174df102b1a1715536733afd530db6"
MARKER = "RESULT "

# The child: imports sim from the given tree, runs the baseline for each seed and prints one
# line `RESULT {json}` per seed with that seed's metrics (in a fixed order).
CHILD = r'''
import json, sys, time
from pathlib import Path

spec = json.loads(sys.argv[1])
tree = Path(spec["tree"]).resolve()
sys.path.insert(0, str(tree))
import pandas as pd
import sim

if not Path(sim.__file__).resolve().is_relative_to(tree):
    raise SystemExit(f"imported sim from {sim.__file__}, not from {tree}")
print("SIM " + sim.__file__, flush=True)
scenario = sim.load_scenario(tree / "scenarios" / "baseline.toml")
countries = ("MLI", "BFA", "NER")
for seed in spec["seeds"]:
    start = time.perf_counter()
    ts = sim.SahelModel(scenario, rng=seed).run().timeseries()
    seconds = time.perf_counter() - start
    ts = ts.assign(year=pd.to_datetime(ts["date"]).dt.year)
    by_year = ts.groupby(["country", "year"])[["killed_total", "killed_civilians"]].sum()
    years = sorted(ts["year"].unique())
    last = ts[ts["date"] == ts["date"].max()].set_index("country")
    metrics = {}
    for column, name in (("killed_total", "deaths"), ("killed_civilians", "civilian deaths")):
        for country in countries:
            for year in years:
                key = (country, year)
                metrics[f"{name} {country} {year}"] = (
                    int(by_year.loc[key, column]) if key in by_year.index else 0)
            metrics[f"{name} {country} all years"] = int(ts.loc[ts["country"] == country,
                                                               column].sum())
    for country in countries:
        state = float(last.loc[country, "territory_state"])
        metrics[f"territory state {country} (end)"] = state
        metrics[f"territory contested {country} (end)"] = float(
            last.loc[country, "territory_contested"])
        metrics[f"territory outside state {country} (end)"] = 1.0 - state
    print("RESULT " + json.dumps({"seed": seed, "seconds": seconds, "metrics": metrics}),
          flush=True)
'''


def run_child(label: str, tree: Path, seeds: list[int]) -> tuple[str, list[dict[str, Any]]]:
    """Run the baseline on `tree` for `seeds`; return the sim file and the per-seed results."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    env.pop("PYTHONSTARTUP", None)
    spec = json.dumps({"tree": str(tree), "seeds": seeds})
    proc = subprocess.run([sys.executable, "-c", CHILD, spec], cwd=tree, env=env,
                          capture_output=True, text=True)
    results = [json.loads(line[len(MARKER):]) for line in proc.stdout.splitlines()
               if line.startswith(MARKER)]
    if proc.returncode != 0 or len(results) != len(seeds):
        tail = "\n    ".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise ChildError(f"{label} tree ({tree}) failed (exit {proc.returncode}) on seeds "
                         f"{seeds}:\n    {tail}")
    sim_file = next(line[4:] for line in proc.stdout.splitlines() if line.startswith("SIM "))
    return sim_file, results


def run_tree(label: str, tree: Path, seeds: int, workers: int) -> dict[str, Any]:
    """All seeds of one tree, shared out over `workers` children running at once."""
    chunks = [c for c in (list(range(seeds))[i::workers] for i in range(workers)) if c]
    start = time.perf_counter()
    with ThreadPoolExecutor(len(chunks)) as pool:
        outputs = list(pool.map(lambda chunk: run_child(label, tree, chunk), chunks))
    results = sorted((r for _, found in outputs for r in found), key=lambda r: r["seed"])
    return {"sim_file": outputs[0][0], "results": results,
            "wall": time.perf_counter() - start}


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """5%, median and 95% (numpy's linear interpolation)."""
    p5, p50, p95 = np.percentile(np.asarray(values, dtype=float), [5, 50, 95])
    return float(p5), float(p50), float(p95)


def fmt(metric: str, value: float | None) -> str:
    """Deaths as whole numbers, territory shares as percentages."""
    if value is None:
        return "-"
    return f"{value:.1%}" if metric.startswith("territory") else f"{value:,.0f}"


def table(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per metric: old and new 5%, median, 95% and the flag."""
    order: list[str] = []
    for side in (old, new):
        for result in side["results"] if side else []:
            order += [m for m in result["metrics"] if m not in order]
    rows = []
    for metric in order:
        row: dict[str, Any] = {"metric": metric}
        for label, side in (("old", old), ("new", new)):
            values = [r["metrics"][metric] for r in (side["results"] if side else [])
                      if metric in r["metrics"]]
            stats = percentiles(values) if values else (None, None, None)
            row.update(zip((f"{label}_p5", f"{label}_median", f"{label}_p95"), stats,
                           strict=True))
        if row["old_median"] is None or row["new_median"] is None:
            row["flag"] = "-"
        else:
            inside = row["old_p5"] <= row["new_median"] <= row["old_p95"]
            row["flag"] = "ok" if inside else "OUT"
        rows.append(row)
    return rows


def main() -> int:
    """Run both trees, print the table, write the CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=REFERENCE, help="old commit (default %(default)s)")
    parser.add_argument("--new", default=None,
                        help="check this commit as 'new' instead of the working tree")
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1 (default 20)")
    parser.add_argument("--workers", type=int, default=2,
                        help="child processes per tree at once (default 2)")
    parser.add_argument("--csv", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    began = time.perf_counter()

    sides: dict[str, dict[str, Any] | None] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="behaviour-check-") as tmp_name:
        tmp = Path(tmp_name)
        trees: dict[str, tuple[Path, str]] = {}
        commit = export_commit(args.reference, tmp / "old")
        trees["old"] = (tmp / "old", f"commit {commit[:10]} (git archive into {tmp / 'old'})")
        if args.new:
            commit = export_commit(args.new, tmp / "new")
            trees["new"] = (tmp / "new", f"commit {commit[:10]} (git archive into {tmp / 'new'})")
        else:
            (tmp / "new").mkdir()
            trees["new"] = (tmp / "new", snapshot_worktree(tmp / "new"))
        for label, (tree, _) in trees.items():
            print(f"[{label}] baseline, seeds 0-{args.seeds - 1}, {args.workers} workers ...",
                  flush=True)
            try:
                sides[label] = run_tree(label, tree, args.seeds, args.workers)
            except ChildError as exc:
                sides[label] = None
                errors[label] = str(exc)
                print(f"  ! {exc}", flush=True)

    rows = table(sides["old"], sides["new"])
    print()
    print(f"baseline, seeds 0-{args.seeds - 1}: old vs new, 5% / median / 95% over seeds")
    for label, (_, description) in trees.items():
        side = sides[label]
        print(f"  {label}: {description}")
        if side:
            per_run = [r["seconds"] for r in side["results"]]
            print(f"       imports {side['sim_file']}; {np.median(per_run):.2f} s per run "
                  f"(median), {side['wall']:.0f} s wall")
    for label, message in errors.items():
        print(f"\n  {label.upper()} TREE FAILED:\n  {message}")
    print()
    header = f"{'metric':<36}" + "".join(f"{h:>11}" for h in (
        "old 5%", "old median", "old 95%", "new 5%", "new median", "new 95%")) + "  flag"
    print(header)
    print("-" * len(header))
    for row in rows:
        cells = [fmt(row["metric"], row[key]) for key in (
            "old_p5", "old_median", "old_p95", "new_p5", "new_median", "new_p95")]
        print(f"{row['metric']:<36}" + "".join(f"{c:>11}" for c in cells) + f"  {row['flag']}")
    out = [row["metric"] for row in rows if row["flag"] == "OUT"]
    print()
    if errors:
        print("no comparison: a tree failed to run")
    else:
        print(f"{len(rows) - len(out)} of {len(rows)} metrics ok"
              + (f"; OUT: {', '.join(out)}" if out else ""))
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with args.csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=[
                "metric", "old_p5", "old_median", "old_p95", "new_p5", "new_median", "new_p95",
                "flag"])
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {args.csv}")
    print(f"behaviour check took {time.perf_counter() - began:.0f} s")
    return 2 if errors else (1 if out else 0)


if __name__ == "__main__":
    sys.exit(main())
