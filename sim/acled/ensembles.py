"""An ensemble's fatality draws per country-month and per PRIO-GRID cell-month.

Reads the folder of `sahel-sim ensemble` (or one scenario of `sahel-sim compare`, by default
its baseline) through the results store: country-months from each run's daily time series
(`killed_total`), cell-months from each run's `runs/cells/` file (`SahelModel.cell_months`).
Every finished run is one draw. Only whole months (every day simulated) count.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.acled.errors import AcledError
from sim.experiments.result_store import MANIFEST, ResultStore
from sim.geography import COUNTRIES

SCORABLE_KINDS = ("ensemble", "compare")


@dataclass(frozen=True, slots=True)
class EnsembleRuns:
    """The finished runs of one scenario of an experiment folder, and the months they cover."""

    folder: Path
    kind: str
    scenario: str  # the scenario's label in the folder
    run_ids: tuple[str, ...]
    months: pd.PeriodIndex  # whole months every run covers
    store: ResultStore

    def has_cells(self) -> list[str]:
        """The runs that have a cell-month file."""
        return [r for r in self.run_ids if self.store.cells_path(r).exists()]


def open_ensemble(folder: str | Path, scenario: str | None = None) -> EnsembleRuns:
    """The finished runs of an ensemble folder (or of one scenario of a comparison's).

    Raises:
        AcledError: not an experiment folder, a sweep, an unknown scenario, no finished run.
    """
    folder = Path(folder)
    hint = "give the --out folder of `sahel-sim ensemble` or `sahel-sim compare`"
    if not folder.is_dir():
        raise AcledError(f"{folder}: no such folder; {hint}")
    path = folder / MANIFEST
    if not path.is_file():
        raise AcledError(f"{folder}: not an experiment's folder (no {MANIFEST}); {hint}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AcledError(f"{path}: unreadable manifest ({exc})") from None
    kind = manifest.get("kind")
    if kind not in SCORABLE_KINDS:
        raise AcledError(f"{folder}: holds a '{kind}' experiment; scoring needs the draws of "
                         f"one scenario: {hint}")
    labels = list(manifest.get("scenarios") or {})
    if not labels:
        raise AcledError(f"{path}: names no scenario")
    label = labels[0] if scenario is None else scenario
    if label not in labels:
        raise AcledError(f"--scenario: {label!r} is not in {folder} (it holds "
                         f"{', '.join(labels)})")
    store = ResultStore(folder)
    planned = [r["id"] for r in manifest.get("runs") or [] if r.get("scenario") == label]
    finished = tuple(dict.fromkeys(r for r in planned if store.has(r)))
    if not finished:
        raise AcledError(f"{folder}: none of the {len(planned)} runs of '{label}' has finished; "
                         f"run {manifest.get('command') or 'its command'} again")
    dates = store.read(finished[0], ["date"])["date"]
    return EnsembleRuns(folder, kind, label, finished, whole_months(dates.min(), dates.max()),
                        store)


def whole_months(first: pd.Timestamp, last: pd.Timestamp) -> pd.PeriodIndex:
    """The months lying wholly between two dates (both included)."""
    start = pd.Period(first, freq="M")
    if pd.Timestamp(first).normalize() != start.start_time:
        start += 1
    end = pd.Period(last, freq="M")
    if pd.Timestamp(last).normalize() != end.end_time.normalize():
        end -= 1
    return pd.period_range(start, end, freq="M") if end >= start else pd.PeriodIndex(
        [], freq="M")


def _month_index(values: pd.Series | np.ndarray, months: pd.PeriodIndex) -> np.ndarray:
    """Position of each date's month in `months` (-1 outside), by whole-month arithmetic."""
    stamp = np.asarray(values, dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    first = np.datetime64(months[0].start_time, "M").astype(np.int64)
    index = stamp - first
    return np.where((index >= 0) & (index < len(months)), index, -1)


def country_draws(runs: EnsembleRuns, months: pd.PeriodIndex,
                  progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Deaths per country, month and run from the runs' time series: (3, months, runs)."""
    out = np.zeros((len(COUNTRIES), len(months), len(runs.run_ids)), dtype=np.float32)
    countries = pd.Index(list(COUNTRIES))
    for r, run_id in enumerate(runs.run_ids):
        frame = runs.store.read(run_id, ["date", "country", "killed_total"])
        m = _month_index(frame["date"], months)
        c = countries.get_indexer(frame["country"])
        keep = (m >= 0) & (c >= 0)
        values = np.zeros((len(COUNTRIES), len(months)))
        np.add.at(values, (c[keep], m[keep]), frame["killed_total"].to_numpy(dtype=float)[keep])
        out[:, :, r] = values
        if progress is not None:
            progress(1)
    return out


def cell_draws(runs: EnsembleRuns, months: pd.PeriodIndex, cells: pd.DataFrame,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Deaths per cell of `cells`, month and run from the runs' cell-month files.

    Returns:
        (cells, months, runs) float32; model deaths in cells outside `cells` (abroad) are left
        out.

    Raises:
        AcledError: a run has no cell-month file (the ensemble was made before they were kept).
    """
    gids = cells["prio_gid"].to_numpy()
    out = np.zeros((len(gids), len(months), len(runs.run_ids)), dtype=np.float32)
    for r, run_id in enumerate(runs.run_ids):
        try:
            frame = runs.store.read_cells(run_id)
        except FileNotFoundError:
            raise AcledError(f"{runs.folder}: run {run_id} has no cell-month file (the ensemble "
                             "was made before they were kept); run its command again to add "
                             "them, or score with --level country") from None
        if frame.empty:
            if progress is not None:
                progress(1)
            continue
        m = _month_index(frame["month"], months)
        g = np.searchsorted(gids, frame["prio_gid"].to_numpy())
        g = np.where((g < len(gids)) & (gids[np.minimum(g, len(gids) - 1)] ==
                                        frame["prio_gid"].to_numpy()), g, -1)
        keep = (m >= 0) & (g >= 0)
        values = np.zeros((len(gids), len(months)))
        np.add.at(values, (g[keep], m[keep]), frame["fatalities"].to_numpy(dtype=float)[keep])
        out[:, :, r] = values
        if progress is not None:
            progress(1)
    return out
