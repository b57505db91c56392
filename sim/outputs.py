"""Outputs, declared once: the daily series and the per-run outcomes.

- `SERIES` declares each daily series per country (name, label, unit, what its columns range
  over); `series_columns` names the columns of one series for a run's factions and actors.
- `OUTCOMES` declares the per-run outcomes (deaths summed over the run, end-of-run control,
  displacement, coups); `outcome_table` and `headline_outcomes` compute them, the one place
  that does, for the CLI summary, experiments, comparisons and the dashboard.
- The tables of a run are built from these declarations in `sim.tables`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.geography import COUNTRIES
from sim.scenario import Scenario


@dataclass(frozen=True, slots=True)
class Series:
    """A daily series per country; `over` names what its columns range over."""

    name: str
    label: str
    unit: str
    over: str = ""  # "", "control" (actors, contested, ungoverned), "victims", "factions",
    #                 "armed_groups"


SERIES: tuple[Series, ...] = (
    Series("territory", "share of territory controlled", "share of cells", "control"),
    Series("population", "share of residents under control", "share of residents", "control"),
    Series("killed", "deaths by victim", "persons/day", "victims"),
    Series("killed_russians", "Russian deaths", "persons/day"),
    Series("killed_by", "deaths by perpetrator", "persons/day", "factions"),
    Series("killed_total", "deaths, all", "persons/day"),
    Series("wounded", "wounded fighters", "persons/day", "factions"),
    Series("wounded_total", "wounded fighters, all", "persons/day"),
    Series("displaced", "displaced people in the country's towns (since the spin-up)",
           "persons"),
    Series("residents", "residents", "persons"),
    Series("recruited", "recruits so far", "persons"),
    Series("recruits", "recruits joining each armed group", "persons/day", "armed_groups"),
    Series("personnel", "personnel", "persons", "factions"),
    Series("credibility", "junta credibility", "0-1"),
    Series("coup_attempts", "coup attempts so far", "count"),
    Series("coups", "successful coups so far", "count"),
    Series("capital_attacks", "complex attacks on the capital so far", "count"),
    Series("blockaded_towns", "towns under blockade", "count"),
    Series("drone_strikes", "drone strikes (state and armed groups)", "strikes/day"),
    Series("drone_deaths", "deaths in drone strikes", "persons/day"),
    Series("drone_civilian_deaths", "civilians killed in drone strikes", "persons/day"),
    Series("reported_as_fighters", "civilians killed and reported as fighters killed in combat",
           "persons/day"),
)
SERIES_BY_NAME = {s.name: s for s in SERIES}


def series_members(series: Series, factions: list[str], actors: list[str],
                   armed_groups: list[str]) -> list[str]:
    """What the columns of a series range over (empty for a single column)."""
    return {"": [], "control": [*actors, "contested", "ungoverned"],
            "victims": ["civilians", *factions],
            "factions": factions, "armed_groups": armed_groups}[series.over]


def series_columns(name: str, factions: list[str], actors: list[str]) -> list[str]:
    """Column names of the series `name` for a run with these factions and control actors."""
    series = SERIES_BY_NAME[name]
    members = series_members(series, factions, actors, actors[1:])
    return [f"{series.name}_{m}" for m in members] if members else [series.name]


def scenario_columns(scenario: Scenario) -> dict[str, list[str]]:
    """Every declared series' columns for a scenario's factions, in declaration order."""
    factions = list(scenario.factions)
    actors = ["state", *[fid for fid, f in scenario.factions.items() if f.armed_group]]
    return {s.name: series_columns(s.name, factions, actors) for s in SERIES}


@dataclass(frozen=True, slots=True)
class Outcome:
    """A per-run outcome per country, from the daily series.

    `how`: "total" sums the column over the run, "end" takes its last value, "outside" is
    1 minus its last value (the share outside state control), "armed" 1 minus the state's,
    the contested and the ungoverned share at the end.
    """

    name: str
    label: str
    unit: str
    column: str
    how: str
    headline: bool = True  # reported by every experiment
    regional: bool = False  # in experiments, one figure summed over the three countries


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("civilian_fatalities", "deaths, civilians", "persons", "killed_civilians", "total"),
    Outcome("total_fatalities", "deaths, all", "persons", "killed_total", "total"),
    Outcome("russian_fatalities", "deaths, Russians", "persons", "killed_russians", "total",
            regional=True),
    Outcome("territory_outside_state", "territory outside state control (end)", "share",
            "territory_state", "outside"),
    Outcome("population_outside_state", "population outside state control (end)", "share",
            "population_state", "outside"),
    Outcome("coup_attempts", "coup attempts", "count", "coup_attempts", "end"),
    Outcome("coups", "successful coups", "count", "coups", "end"),
    Outcome("capital_attacks", "complex attacks on the capital", "count", "capital_attacks",
            "end"),
    Outcome("displaced", "displaced since the spin-up (end)", "persons", "displaced", "end"),
    Outcome("territory_state", "territory: state (end)", "share", "territory_state", "end",
            headline=False),
    Outcome("territory_armed_groups", "territory: armed groups (end)", "share",
            "territory_state", "armed", headline=False),
    Outcome("territory_contested", "territory: contested (end)", "share",
            "territory_contested", "end", headline=False),
    Outcome("territory_ungoverned", "territory: ungoverned (end)", "share",
            "territory_ungoverned", "end", headline=False),
    Outcome("population_state", "population: state (end)", "share", "population_state", "end",
            headline=False),
    Outcome("credibility", "junta credibility (end)", "0-1", "credibility", "end",
            headline=False),
    Outcome("drone_fatalities", "deaths in drone strikes", "persons", "drone_deaths", "total",
            regional=True),
    Outcome("drone_civilian_fatalities", "civilians killed in drone strikes", "persons",
            "drone_civilian_deaths", "total", headline=False),
    Outcome("drone_strike_count", "drone strikes", "count", "drone_strikes", "total",
            headline=False),
    Outcome("reported_as_fighters", "civilians reported as fighters killed", "persons",
            "reported_as_fighters", "total", headline=False),
)
OUTCOMES_BY_NAME = {o.name: o for o in OUTCOMES}
RUN_SUMMARY = ("total_fatalities", "civilian_fatalities", "reported_as_fighters",
               "russian_fatalities",
               "territory_state", "territory_armed_groups", "territory_contested",
               "territory_ungoverned", "population_state", "displaced", "credibility",
               "coup_attempts", "coups", "capital_attacks")
"""The outcomes `sahel-sim run` prints, in order."""
HEADLINE_OUTCOMES: list[str] = [
    name for o in OUTCOMES if o.headline
    for name in ([o.name] if o.regional else [f"{o.name}_{iso}" for iso in COUNTRIES])]
OUTCOME_COLUMNS = ("date", "country", *sorted({o.column for o in OUTCOMES}
                                              | {"territory_contested", "territory_ungoverned"}))


def outcome_of(headline_name: str) -> Outcome:
    """The declared outcome behind a headline name such as `civilian_fatalities_MLI`."""
    base = headline_name if headline_name in OUTCOMES_BY_NAME else headline_name.rsplit("_", 1)[0]
    return OUTCOMES_BY_NAME[base]


def outcome_table(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Every declared outcome (columns) for each country (rows) of one run's time series."""
    by_country = timeseries.groupby("country", sort=False)
    totals = by_country.sum(numeric_only=True)
    last = timeseries[timeseries["date"] == timeseries["date"].max()].set_index("country")
    out = pd.DataFrame(index=list(COUNTRIES))
    for o in OUTCOMES:
        if o.how == "total":
            values = totals[o.column]
        elif o.how == "end":
            values = last[o.column]
        elif o.how == "outside":
            values = 1.0 - last[o.column]
        else:  # armed
            values = (1.0 - last[o.column] - last["territory_contested"]
                      - last["territory_ungoverned"])
        out[o.name] = values.reindex(out.index).astype(float)
    return out


def headline_outcomes(timeseries: pd.DataFrame) -> dict[str, float]:
    """The headline outcomes of one run, in the order of `HEADLINE_OUTCOMES`."""
    table = outcome_table(timeseries)
    values: dict[str, float] = {}
    for o in OUTCOMES:
        if not o.headline:
            continue
        if o.regional:
            values[o.name] = float(table[o.name].sum())
        else:
            for iso in COUNTRIES:
                values[f"{o.name}_{iso}"] = float(table.at[iso, o.name])
    return values
