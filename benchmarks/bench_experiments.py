"""Speed of experiments: an ensemble with 1 and with 2 local workers, and the cost per run.

Figures (medians over repeats):
- wall time of `sim.experiments.ensemble` end to end, and of its execution phase (until the
  last run is written) with 1 and 2 workers, and the speed-up of 2 workers over 1;
- the median run (building, running the model and building its series, timed in the worker);
- the overhead per run: execution wall time x workers - the runs' own time, per run, as a share
  of the median run (scheduling, pickling, Parquet encoding, writing, the progress callback);
- the analysis after the runs (outcomes, quantile bands, band plots), which is serial.

Run: .venv/bin/python benchmarks/bench_experiments.py [--runs 100] [--repeats 3]
These machines are shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sim.experiments import ensemble

ROOT = Path(__file__).resolve().parent.parent


def measure(scenario: Path, runs: int, workers: int, out: Path) -> dict[str, float]:
    """One ensemble into an empty folder; its wall time and the phases' figures."""
    start = time.perf_counter()
    result = ensemble(scenario, runs, root_seed=0, workers=workers, out=out)
    total = time.perf_counter() - start
    t = result.timings
    return {"total": total, "execute": t["execute_seconds"],
            "analysis": total - t["execute_seconds"], "run": t["run_seconds_median"],
            "encode": t["encode_seconds_median"], "overhead": t["overhead_per_run_share"],
            "overhead_seconds": t["overhead_per_run_share"] * t["run_seconds_mean"]}


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    args = parser.parse_args()
    figures: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    identical = True
    with tempfile.TemporaryDirectory(prefix="bench-experiments-") as tmp:
        for repeat in range(args.repeats):
            outs = {}
            for workers in (1, 2):
                outs[workers] = Path(tmp) / f"r{repeat}-w{workers}"
                figures[workers].append(measure(args.scenario, args.runs, workers,
                                                outs[workers]))
                f = figures[workers][-1]
                print(f"repeat {repeat + 1}, {workers} worker(s): {f['total']:.1f} s "
                      f"(execution {f['execute']:.1f} s), load average "
                      f"{os.getloadavg()[0]:.2f}", flush=True)
            one, two = (sorted((outs[w] / "runs").glob("*.parquet")) for w in (1, 2))
            identical &= [p.read_bytes() for p in one] == [p.read_bytes() for p in two]

    def med(workers: int, key: str) -> float:
        return statistics.median(f[key] for f in figures[workers])

    speed_total = statistics.median(a["total"] / b["total"]
                                    for a, b in zip(figures[1], figures[2], strict=True))
    speed_exec = statistics.median(a["execute"] / b["execute"]
                                   for a, b in zip(figures[1], figures[2], strict=True))
    print(f"\n{args.runs}-run ensemble of {args.scenario.name}, medians over {args.repeats} "
          f"repeat(s), {os.cpu_count()} cores")
    print(f"{'':28}{'1 worker':>12}{'2 workers':>12}")
    for label, key, unit in (("end to end", "total", "s"), ("execution phase", "execute", "s"),
                             ("analysis and plots", "analysis", "s"),
                             ("median run", "run", "s"), ("Parquet encoding", "encode", "s"),
                             ("overhead per run", "overhead_seconds", "s")):
        print(f"{label:<28}{med(1, key):>11.3f}{unit}{med(2, key):>11.3f}{unit}")
    print(f"{'overhead per run / run':<28}{100 * med(1, 'overhead'):>11.1f}%"
          f"{100 * med(2, 'overhead'):>11.1f}%")
    print(f"\nspeed-up of 2 workers: {speed_total:.2f}x end to end, {speed_exec:.2f}x "
          f"execution phase (target >= 1.8x)")
    print(f"run files identical with 1 and 2 workers: {identical}")


if __name__ == "__main__":
    main()
