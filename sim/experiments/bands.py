"""Quantile bands of an experiment's daily series, also of paired (same-seed) differences.

`quantile_bands` stacks the derived series (`band_series`) of many stored runs, a block of
series at a time (at most `BAND_MEMORY_BYTES`), and takes their quantiles per date and
country.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.experiments.errors import ExperimentError
from sim.experiments.statistics import QUANTILES
from sim.geography import COUNTRIES
from sim.outputs import SERIES_BY_NAME, scenario_columns
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.experiments.result_store import ResultStore

BAND_MEMORY_BYTES = 256 * 2**20  # budget of one block of stacked runs when computing bands


@dataclass(frozen=True, slots=True)
class _Series:
    """A banded series: a level, a complement (1 - x) or a cumulative sum of raw columns."""

    name: str
    sources: tuple[str, ...]
    cumulative: bool = False
    complement: bool = False


_VICTIM_GROUPS = {"state": "state_forces", "militia": "state_forces", "russian": "russians",
                  "jihadist": "jihadists", "separatist": "separatists",
                  "peacekeeping": "foreign_forces", "western": "foreign_forces"}


def band_series(scenario: Scenario, columns: Sequence[str]) -> list[_Series]:
    """The series banded for a scenario's runs, derived from the raw time-series columns.

    Levels (control shares, displaced, residents, recruited, personnel, credibility, coups) are
    kept as they are; `territory_outside_state` and `population_outside_state` are 1 - the
    state's share; daily flows (`killed_*`, `wounded_*`) become cumulative sums from the start
    date, prefixed `cum_`; `cum_victims_<group>` sums fatalities by kind of victim
    (civilians, state_forces incl. militia, russians, jihadists, separatists).
    """
    out: list[_Series] = []
    present = set(columns)
    for name, cols in scenario_columns(scenario).items():
        flow = SERIES_BY_NAME[name].unit.endswith("/day")
        for col in (c for c in cols if c in present):
            out.append(_Series(f"cum_{col}" if flow else col, (col,), cumulative=flow))
        if name in ("territory", "population") and f"{name}_state" in present:
            out.append(_Series(f"{name}_outside_state", (f"{name}_state",), complement=True))
    out.append(_Series("cum_victims_civilians", ("killed_civilians",), cumulative=True))
    groups: dict[str, list[str]] = {}
    for fid, faction in scenario.factions.items():
        groups.setdefault(_VICTIM_GROUPS[faction.kind], []).append(f"killed_{fid}")
    for group in dict.fromkeys(_VICTIM_GROUPS.values()):
        sources = tuple(c for c in groups.get(group, []) if c in columns)
        if sources:
            out.append(_Series(f"cum_victims_{group}", sources, cumulative=True))
    return out


def _stack(store: ResultStore, run_ids: Sequence[str], series: Sequence[_Series],
           n_countries: int) -> np.ndarray:
    """Derived series of many runs as one array (runs, rows, series)."""
    import pyarrow.parquet as pq

    sources = list(dict.fromkeys(s for item in series for s in item.sources))
    where = {name: i for i, name in enumerate(sources)}
    raw: np.ndarray | None = None
    for r, run_id in enumerate(run_ids):
        table = pq.read_table(store.source(run_id), columns=sources)
        block = np.column_stack([table.column(c).to_numpy().astype(np.float64)
                                 for c in sources])
        if raw is None:
            raw = np.empty((len(run_ids), *block.shape))
        raw[r] = block
    assert raw is not None
    runs, rows, _ = raw.shape
    out = np.empty((runs, rows, len(series)))
    for k, item in enumerate(series):
        values = raw[:, :, [where[s] for s in item.sources]].sum(axis=2)
        if item.complement:
            values = 1.0 - values
        if item.cumulative:
            values = values.reshape(runs, rows // n_countries, n_countries).cumsum(axis=1)
            values = values.reshape(runs, rows)
        out[:, :, k] = values
    return out


def _index(store: ResultStore, run_id: str) -> pd.DataFrame:
    frame = store.read(run_id, ["date", "country"])
    countries = frame["country"].to_numpy()
    n = len(COUNTRIES)
    if len(frame) % n or not (countries.reshape(-1, n) == countries[:n]).all():
        raise ExperimentError(f"run {run_id}: rows are not ordered by date, then country")
    return frame


def _chunks(series: list[_Series], runs: int, rows: int) -> Iterator[list[_Series]]:
    per_series = max(runs * rows * 8 * 3, 1)  # raw sources, derived values, headroom
    size = max(1, BAND_MEMORY_BYTES // per_series)
    for start in range(0, len(series), size):
        yield series[start:start + size]


def _quantile_frame(index: pd.DataFrame, names: list[str], values: np.ndarray) -> pd.DataFrame:
    """Quantiles over runs (axis 0) as a long-by-quantile frame."""
    q = np.quantile(values, QUANTILES, axis=0)  # (Q, rows, series)
    n_q, rows = len(QUANTILES), values.shape[1]
    flat = q.transpose(1, 0, 2).reshape(rows * n_q, len(names))
    frame = pd.DataFrame(flat, columns=names)
    frame.insert(0, "quantile", np.tile(np.asarray(QUANTILES), rows))
    frame.insert(0, "country", np.repeat(index["country"].to_numpy(), n_q))
    frame.insert(0, "date", np.repeat(index["date"].to_numpy(), n_q))
    return frame


def quantile_bands(store: ResultStore, scenario: Scenario, run_ids: Sequence[str],
                   paired: Mapping[str, tuple[Scenario, list[str], list[str]]] | None = None,
                   ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Quantile bands of one scenario's runs, and of paired differences (other - this).

    `paired` maps a label to (other scenario, this scenario's run ids, the other's run ids),
    the two id lists aligned seed by seed.
    """
    index = _index(store, run_ids[0])
    columns = store.columns(run_ids[0])
    position = {rid: i for i, rid in enumerate(run_ids)}
    series = band_series(scenario, columns)
    rows = len(index)
    parts: list[pd.DataFrame] = []
    diff_parts: dict[str, list[pd.DataFrame]] = {label: [] for label in paired or {}}
    for chunk in _chunks(series, len(run_ids), rows):
        values = _stack(store, run_ids, chunk, len(COUNTRIES))
        parts.append(_quantile_frame(index, [s.name for s in chunk], values))
        for label, (other, mine, theirs) in (paired or {}).items():
            if not mine:
                continue
            names = {s.name: s for s in band_series(other, store.columns(theirs[0]))}
            keep = [k for k, s in enumerate(chunk) if names.get(s.name) == s]
            if not keep:
                continue
            common = [chunk[k] for k in keep]
            a = values[[position[rid] for rid in mine]][:, :, keep]
            b = _stack(store, theirs, common, len(COUNTRIES))
            diff_parts[label].append(_quantile_frame(index, [s.name for s in common], b - a))
    bands = _join_parts(parts)
    return bands, {label: _join_parts(p) for label, p in diff_parts.items() if p}


def _join_parts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    keys = ["date", "country", "quantile"]
    out = parts[0]
    for part in parts[1:]:
        out = pd.concat([out, part.drop(columns=keys)], axis=1)
    return out
