"""Speed and memory of the baseline run, beside Mesa's WolfSheep (its benchmark's "large"
configuration, mesa 3.5.1 benchmarks/configurations.py), as cost per agent-day.

Run: .venv/bin/python benchmarks/bench_model.py [--repeats N]
Prints medians; these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from pathlib import Path

import sim
from sim.model import SahelModel

ROOT = Path(__file__).resolve().parent.parent
WOLF_SHEEP_LARGE = {
    "height": 100, "width": 100, "initial_sheep": 1000, "initial_wolves": 500,
    "sheep_reproduce": 0.4, "wolf_reproduce": 0.2, "wolf_gain_from_food": 20.0,
    "grass": True, "grass_regrowth_time": 10, "sheep_gain_from_food": 4.0,
}
WOLF_SHEEP_STEPS = 20


def time_baseline(repeats: int) -> tuple[list[float], float, int]:
    """Seconds per full baseline run (model built outside the timing), and agents per day."""
    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.toml")
    SahelModel(scenario, rng=0).run()  # warm caches (geography, imports)
    times, agent_days = [], 0
    for seed in range(repeats):
        model = SahelModel(scenario, rng=seed)
        gc.collect()
        start = time.perf_counter()
        model.run()
        times.append(time.perf_counter() - start)
        agent_days = len(model.agents) * scenario.days
    return times, scenario.days, agent_days


def peak_memory() -> float:
    """Peak traced memory (MiB) of building and running the baseline once."""
    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.toml")
    tracemalloc.start()
    SahelModel(scenario, rng=0).run().timeseries()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def time_wolf_sheep(repeats: int) -> list[float]:
    """Seconds per agent-day of WolfSheep (large), counting the agents alive at each step."""
    from mesa.examples import WolfSheep
    from mesa.examples.advanced.wolf_sheep.model import WolfSheepScenario

    costs = []
    for seed in range(repeats):
        model = WolfSheep(WolfSheepScenario(rng=seed, **WOLF_SHEEP_LARGE))
        agent_days = 0
        start = time.perf_counter()
        for _ in range(WOLF_SHEEP_STEPS):
            agent_days += len(model.agents)
            model.step()
        costs.append((time.perf_counter() - start) / agent_days)
    return costs


def time_grid_build(repeats: int) -> list[float]:
    """Seconds to build the geography and the Mesa grid at the default resolution (uncached)."""
    import random

    from sim.geography import build_geography, make_grid

    times = []
    for _ in range(repeats):
        build_geography.cache_clear()
        start = time.perf_counter()
        make_grid(build_geography(0.25), random=random.Random(0))
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    grid = statistics.median(time_grid_build(args.repeats))
    runs, days, agent_days = time_baseline(args.repeats)
    run = statistics.median(runs)
    ours = run / agent_days
    wolf = statistics.median(time_wolf_sheep(max(3, args.repeats // 2)))
    print(f"grid + geography build (0.25 deg), median  {grid * 1000:8.1f} ms")
    print(f"baseline run ({days} days), median       {run:8.3f} s   "
          f"(min {min(runs):.3f}, max {max(runs):.3f}, n={len(runs)})")
    print(f"time per simulated day, median            {run / days * 1000:8.3f} ms")
    print(f"peak memory of one run (tracemalloc)      {peak_memory():8.1f} MiB")
    print(f"sahel-sim cost per agent-day              {ours * 1e6:8.3f} us "
          f"({agent_days // days} agents)")
    print(f"WolfSheep (large) cost per agent-day      {wolf * 1e6:8.3f} us")
    print(f"ratio WolfSheep / sahel-sim per agent-day {wolf / ours:8.1f} x")


if __name__ == "__main__":
    main()
