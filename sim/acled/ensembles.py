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


def _month_index(values: np.ndarray, months: pd.PeriodIndex) -> np.ndarray:
    """Position of each date's month in `months` (-1 outside), by whole-month arithmetic."""
    stamp = np.asarray(values).astype("datetime64[M]").astype(np.int64)
    first = np.datetime64(months[0].start_time, "M").astype(np.int64)
    index = stamp - first
    return np.where((index >= 0) & (index < len(months)), index, -1)


def _columns(source: object, names: list[str], codes: dict[str, list]) -> dict[str, np.ndarray]:
    """Columns of a run file as numpy arrays (read with pyarrow alone: faster than pandas).

    Columns named in `codes` come as positions in their list of values (-1 for others).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(source, columns=names)
    if not table.num_rows:
        return {name: np.zeros(0, dtype=np.int64) for name in names}
    out = {}
    for name in names:
        column = table[name]
        if name in codes:
            found = pc.index_in(column, value_set=pa.array(codes[name], type=column.type))
            out[name] = found.fill_null(-1).to_numpy().astype(np.int64)
        else:
            out[name] = column.to_numpy()
    return out


def country_draws(runs: EnsembleRuns, months: pd.PeriodIndex,
                  progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Deaths per country, month and run from the runs' time series: (3, months, runs)."""
    out = np.zeros((len(COUNTRIES), len(months), len(runs.run_ids)), dtype=np.float32)
    codes = {"country": list(COUNTRIES)}
    for r, run_id in enumerate(runs.run_ids):
        frame = _columns(runs.store.source(run_id), ["date", "country", "killed_total"], codes)
        m, c = _month_index(frame["date"], months), frame["country"]
        keep = (m >= 0) & (c >= 0)
        values = np.zeros((len(COUNTRIES), len(months)))
        np.add.at(values, (c[keep], m[keep]), frame["killed_total"].astype(float)[keep])
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
    gids = cells["prio_gid"].to_list()
    codes = {"prio_gid": gids}
    out = np.zeros((len(gids), len(months), len(runs.run_ids)), dtype=np.float32)
    for r, run_id in enumerate(runs.run_ids):
        path = runs.store.cells_path(run_id)
        if not path.exists():
            raise AcledError(f"{runs.folder}: run {run_id} has no cell-month file (the ensemble "
                             "was made before they were kept); run its command again to add "
                             "them, or score with --level country")
        frame = _columns(path, ["month", "prio_gid", "fatalities"], codes)
        if len(frame["prio_gid"]):
            m, g = _month_index(frame["month"], months), frame["prio_gid"]
            keep = (m >= 0) & (g >= 0)
            values = np.zeros((len(gids), len(months)))
            np.add.at(values, (g[keep], m[keep]), frame["fatalities"].astype(float)[keep])
            out[:, :, r] = values
        if progress is not None:
            progress(1)
    return out
