"""Headline outcomes: the few numbers every experiment reports for each run.

`HEADLINE_OUTCOMES` names them, `headline_outcomes` computes them from one run's time series,
and `outcome_frame` collects them for an experiment's finished runs (one row per run).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.geography import COUNTRIES
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.experiments.result_store import ResultStore
    from sim.experiments.runs import PlannedRun

_PER_COUNTRY = ("civilian_fatalities", "total_fatalities")
_END_OF_RUN = ("territory_outside_state", "population_outside_state", "coups", "displaced")
HEADLINE_OUTCOMES: list[str] = [
    *[f"{kind}_{iso}" for kind in _PER_COUNTRY for iso in COUNTRIES],
    "russian_fatalities",
    *[f"{kind}_{iso}" for kind in _END_OF_RUN for iso in COUNTRIES],
]
"""Outcomes every experiment reports: fatalities summed over the run (civilians and total per
country; Russians in the three countries), and end-of-run values per country: the share of
territory and of population outside state control, the cumulative number of coups and the
number of displaced people."""


def headline_outcomes(scenario: Scenario, timeseries: pd.DataFrame) -> dict[str, float]:
    """The headline outcomes of one run, in the order of `HEADLINE_OUTCOMES`.

    Args:
        scenario: the scenario the run used (it says which factions are Russian).
        timeseries: `SahelModel.timeseries()` of the run (or those of its columns the outcomes
            need: date, country, killed_civilians, killed_total, killed_<Russian faction>,
            territory_state, population_state, coups, displaced).

    Returns:
        Outcome name -> value.
    """
    russian = [f"killed_{fid}" for fid, f in scenario.factions.items() if f.kind == "russian"]
    by_country = timeseries.groupby("country", sort=False)
    sums = by_country[["killed_civilians", "killed_total", *russian]].sum()
    last = timeseries[timeseries["date"] == timeseries["date"].max()].set_index("country")
    out: dict[str, float] = {}
    for iso in COUNTRIES:
        out[f"civilian_fatalities_{iso}"] = float(sums.at[iso, "killed_civilians"])
    for iso in COUNTRIES:
        out[f"total_fatalities_{iso}"] = float(sums.at[iso, "killed_total"])
    out["russian_fatalities"] = float(sums[russian].to_numpy().sum()) if russian else 0.0
    for iso in COUNTRIES:
        out[f"territory_outside_state_{iso}"] = 1.0 - float(last.at[iso, "territory_state"])
    for iso in COUNTRIES:
        out[f"population_outside_state_{iso}"] = 1.0 - float(last.at[iso, "population_state"])
    for iso in COUNTRIES:
        out[f"coups_{iso}"] = float(last.at[iso, "coups"])
    for iso in COUNTRIES:
        out[f"displaced_{iso}"] = float(last.at[iso, "displaced"])
    return out


def _outcome_columns(scenario: Scenario) -> list[str]:
    russian = [f"killed_{fid}" for fid, f in scenario.factions.items() if f.kind == "russian"]
    return ["date", "country", "killed_civilians", "killed_total", *russian, "territory_state",
            "population_state", "coups", "displaced"]


def _outcomes(store: ResultStore, scenario: Scenario, run_ids: Sequence[str]) -> np.ndarray:
    """Headline outcomes of runs, (runs, outcomes)."""
    columns = _outcome_columns(scenario)
    out = np.empty((len(run_ids), len(HEADLINE_OUTCOMES)))
    for r, run_id in enumerate(run_ids):
        values = headline_outcomes(scenario, store.read(run_id, columns))
        out[r] = [values[name] for name in HEADLINE_OUTCOMES]
    return out


def outcome_frame(store: ResultStore, scenario_of: Mapping[str, Scenario],
                  runs: Sequence[PlannedRun], finished: set[str]) -> pd.DataFrame:
    """The headline outcomes of an experiment's finished runs, one row per planned run.

    Columns: scenario, point, replicate, seed, run_id, then `HEADLINE_OUTCOMES`; runs not in
    `finished` are left out. `scenario_of` maps a scenario hash to its scenario.
    """
    ok = [r for r in runs if r.run_id in finished]
    values = np.empty((len(ok), len(HEADLINE_OUTCOMES)))
    by_hash: dict[str, list[int]] = {}
    for i, run in enumerate(ok):
        by_hash.setdefault(run.scenario_hash, []).append(i)
    for scenario_hash, rows in by_hash.items():
        values[rows] = _outcomes(store, scenario_of[scenario_hash], [ok[i].run_id for i in rows])
    frame = pd.DataFrame(values, columns=HEADLINE_OUTCOMES)
    meta = pd.DataFrame({"scenario": [r.scenario for r in ok], "point": [r.point for r in ok],
                         "replicate": [r.replicate for r in ok], "seed": [r.seed for r in ok],
                         "run_id": [r.run_id for r in ok]})
    return pd.concat([meta, frame], axis=1)
