"""Events -> fatalities per country-month and per PRIO-GRID cell-month.

The units scored are fixed: the three countries, and the PRIO-GRID cells (0.5 degree; ids from
`sim.geography.prio_gid`, the function that gives the model's cells theirs) holding at least
one model cell of the three countries (`sahel_cells`). Every unit gets a value for every month,
zero where nothing happened. A cell belongs to the country most of its model cells are in.
"""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd

from sim.acled.errors import AcledError
from sim.geography import COUNTRIES, build_geography

MONTH = re.compile(r"^\d{4}-\d{2}$")


def parse_months(text: str, option: str = "--months") -> pd.PeriodIndex:
    """`2024-01:2024-12` (or one month, `2024-03`) -> the months, both ends included.

    Raises:
        AcledError: one line saying what is wrong and what is allowed.
    """
    parts = [p.strip() for p in str(text).split(":")]
    if len(parts) == 1:
        parts = parts * 2
    hint = "expected FIRST:LAST as YYYY-MM:YYYY-MM, e.g. 2024-01:2024-12"
    if len(parts) != 2 or not all(MONTH.match(p) for p in parts):
        raise AcledError(f"{option}: {text!r}: {hint}")
    try:
        first, last = (pd.Period(p, freq="M") for p in parts)
    except ValueError:
        raise AcledError(f"{option}: {text!r}: not a month ({hint})") from None
    if last < first:
        raise AcledError(f"{option}: {text!r}: the last month is before the first")
    return pd.period_range(first, last, freq="M")


@functools.lru_cache(maxsize=4)
def sahel_cells(resolution: float = 0.25) -> pd.DataFrame:
    """PRIO-GRID cells of the three countries: `prio_gid` (sorted) and `country`.

    A cell is one holding at least one model cell (at `resolution`) of the three countries;
    its country is the one most of those model cells are in.
    """
    geo = build_geography(resolution)
    codes = np.array(geo.country_codes, dtype=object)[geo.country.reshape(-1)]
    inside = np.isin(codes, list(COUNTRIES))
    frame = pd.DataFrame({"prio_gid": geo.prio_gid.reshape(-1)[inside],
                          "country": codes[inside]})
    counts = frame.value_counts(["prio_gid", "country"]).reset_index()
    counts = counts.sort_values(["prio_gid", "count", "country"], ascending=[True, False, True],
                                kind="stable")
    cells = counts.drop_duplicates("prio_gid")[["prio_gid", "country"]]
    return cells.reset_index(drop=True)


def country_months(events: pd.DataFrame, months: pd.PeriodIndex,
                   column: str = "fatalities") -> np.ndarray:
    """Fatalities per country and month: array (3 countries in `COUNTRIES` order, months)."""
    out = np.zeros((len(COUNTRIES), len(months)))
    if events.empty or not len(months):
        return out
    month = events["event_date"].dt.to_period("M")
    m = months.get_indexer(month)
    c = pd.Index(list(COUNTRIES)).get_indexer(events["country"])
    keep = (m >= 0) & (c >= 0)
    np.add.at(out, (c[keep], m[keep]), events[column].to_numpy(dtype=float)[keep])
    return out


def cell_months(events: pd.DataFrame, months: pd.PeriodIndex, cells: pd.DataFrame,
                column: str = "fatalities") -> tuple[np.ndarray, int]:
    """Fatalities per cell of `cells` and month, and those falling outside `cells`.

    Returns:
        (cells, months) array, and the fatalities of events in these months whose cell is not
        among `cells` (left out).
    """
    out = np.zeros((len(cells), len(months)))
    if events.empty or not len(months):
        return out, 0
    m = months.get_indexer(events["event_date"].dt.to_period("M"))
    g = pd.Index(cells["prio_gid"]).get_indexer(events["prio_gid"])
    values = events[column].to_numpy(dtype=float)
    keep = (m >= 0) & (g >= 0)
    np.add.at(out, (g[keep], m[keep]), values[keep])
    return out, int(values[(m >= 0) & (g < 0)].sum())


def long_frame(values: np.ndarray, months: pd.PeriodIndex, units: pd.DataFrame,
               name: str = "fatalities") -> pd.DataFrame:
    """A (units, months) array as a long table: the unit's columns, `month`, `name`."""
    n_units, n_months = values.shape
    frame = units.iloc[np.repeat(np.arange(n_units), n_months)].reset_index(drop=True)
    frame.insert(0, "month", np.tile(months.to_timestamp(), n_units))
    frame[name] = values.reshape(-1)
    return frame


def country_units() -> pd.DataFrame:
    """The three countries as units (column `country`, in `COUNTRIES` order)."""
    return pd.DataFrame({"country": list(COUNTRIES)})
