"""Speed of `sahel-sim score` on a synthetic year: 3 countries, 800 cells, 12 months, 1,000 draws.

Figures (medians over repeats, after one warm-up that compiles scoringrules' numba kernels):
- scoring the cell-months: CRPS, interval score, coverage and ignorance of the model's 1,000
  draws and of the climatological and zero references (9,600 cell-months);
- scoring the country-months (36), the same;
- reading the draws of 1,000 runs from an ensemble folder (daily series and cell-month files);
- `score_ensemble` end to end on that folder and a synthetic ACLED-shaped export of two years
  (reading, mapping, aggregation, scoring, CSV files; plots off and on).
Everything is made up here: no real data.

Run: .venv/bin/python benchmarks/bench_scoring.py [--draws 1000] [--cells 800] [--repeats 5]
These machines are shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sim.acled.aggregate import sahel_cells
from sim.acled.ensembles import cell_draws, country_draws, open_ensemble
from sim.acled.evaluation import score_ensemble
from sim.acled.scoring import score_units
from sim.experiments.executors import encode_frame
from sim.experiments.result_store import ResultStore
from sim.geography import COUNTRIES

MONTHS = pd.period_range("2024-01", "2024-12", freq="M")


def median_time(call: Callable[[], object], repeats: int) -> float:
    """Median wall time of `call` over `repeats` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def synthetic_draws(rng: np.random.Generator, cells: int, draws: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse, heavy-tailed deaths per cell-month: observations, model draws, last year."""
    rate = rng.gamma(0.3, 6.0, cells)[:, None, None]
    model = rng.poisson(rate * rng.gamma(1.0, 1.0, (cells, len(MONTHS), draws))).astype(float)
    obs = rng.poisson(rate[:, :, 0] * np.ones((1, len(MONTHS)))).astype(float)
    history = rng.poisson(rate[:, :, 0] * np.ones((1, 12))).astype(float)
    return obs, model, history


def write_folder(folder: Path, cells: pd.DataFrame, draws: int, rng: np.random.Generator
                 ) -> None:
    """An ensemble folder of `draws` runs of 2024 (daily series and cell-month files)."""
    store = ResultStore(folder)
    (folder / "runs" / "cells").mkdir(parents=True)
    days = pd.date_range("2024-01-01", "2024-12-31", freq="D")
    runs = []
    for r in range(draws):
        run_id = f"{0:016x}-{r}"
        series = pd.DataFrame({"date": np.repeat(days, len(COUNTRIES)),
                               "country": np.tile(list(COUNTRIES), len(days)),
                               "killed_total": rng.poisson(8.0, len(days) * len(COUNTRIES))})
        hit = rng.random((len(cells), len(MONTHS))) < 0.15
        where, month = np.nonzero(hit)
        frame = pd.DataFrame({"month": MONTHS.to_timestamp()[month],
                              "prio_gid": cells["prio_gid"].to_numpy()[where].astype(np.int32),
                              "country": cells["country"].to_numpy()[where],
                              "fatalities": rng.geometric(0.2, where.size),
                              "events": np.ones(where.size, dtype=np.int64)})
        store.save(run_id, encode_frame(series), encode_frame(frame))
        runs.append({"id": run_id, "scenario": "synthetic", "point": 0, "replicate": r,
                     "seed": r})
    manifest = {"format": 1, "kind": "ensemble", "scenarios": {"synthetic": {"hash": "0"}},
                "runs": runs, "command": "synthetic", "status": {"state": "complete"}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def write_export(path: Path, cells: pd.DataFrame, rng: np.random.Generator) -> None:
    """An ACLED-shaped export of 2023-2024: about 8,000 events in the cells' centres."""
    n = 8000
    pick = rng.integers(len(cells), size=n)
    gid = cells["prio_gid"].to_numpy()[pick] - 1
    days = pd.date_range("2023-01-01", "2024-12-31", freq="D")
    pd.DataFrame({
        "event_date": days[rng.integers(len(days), size=n)].strftime("%Y-%m-%d"),
        "event_type": "Violence against civilians", "actor1": "JNIM: Group for Support of "
        "Islam and Muslims", "actor2": "Civilians (Mali)", "inter1": "2", "inter2": "7",
        "country": [COUNTRIES[c] for c in cells["country"].to_numpy()[pick]],
        "latitude": (gid // 720) * 0.5 - 90 + 0.25, "longitude": (gid % 720) * 0.5 - 180 + 0.25,
        "fatalities": rng.geometric(0.25, n)}).to_csv(path, index=False)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--cells", type=int, default=800)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(2025)
    cells = sahel_cells().iloc[np.linspace(0, len(sahel_cells()) - 1, args.cells).astype(int)]
    cells = cells.reset_index(drop=True)
    obs, model, history = synthetic_draws(rng, args.cells, args.draws)
    start = time.perf_counter()
    score_units(obs[:2], model[:2], history[:2])  # import scoringrules, compile its kernels
    print(f"first call (import scoringrules, compile): {time.perf_counter() - start:.2f} s")
    cell_s = median_time(lambda: score_units(obs, model, history), args.repeats)
    print(f"score {args.cells} cells x 12 months x {args.draws} draws (model, climatology, "
          f"zero): {cell_s:.2f} s (median of {args.repeats})", flush=True)
    country = tuple(100 * a for a in synthetic_draws(rng, len(COUNTRIES), args.draws))
    country_s = median_time(lambda: score_units(*country), args.repeats)
    print(f"score 3 countries x 12 months x {args.draws} draws: {country_s * 1000:.1f} ms")
    with tempfile.TemporaryDirectory(prefix="bench-scoring-") as tmp:
        folder, export = Path(tmp) / "ensemble", Path(tmp) / "acled.csv"
        start = time.perf_counter()
        write_folder(folder, cells, args.draws, rng)
        write_export(export, cells, rng)
        print(f"(wrote the synthetic folder of {args.draws} runs in "
              f"{time.perf_counter() - start:.1f} s)")
        runs = open_ensemble(folder)
        every = sahel_cells()
        read_s = median_time(lambda: (country_draws(runs, MONTHS),
                                      cell_draws(runs, MONTHS, every)), max(1, args.repeats // 2))
        print(f"read the draws of {args.draws} runs (country- and cell-months): {read_s:.2f} s")
        for plots in (False, True):
            total = median_time(lambda p=plots: score_ensemble(
                folder, export, months=MONTHS, out=Path(tmp) / "out", plots=p),
                max(1, args.repeats // 2))
            print(f"score_ensemble end to end ({len(every)} cells, 12 months, {args.draws} runs,"
                  f" plots {'on' if plots else 'off'}): {total:.2f} s")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
