"""Outputs, declared once: the daily series, the headline outcomes, and the tables of a run.

- `SERIES` declares each daily series per country (name, label, unit, what its columns range
  over); `series_columns` names the columns of one series for a run's factions and actors.
- `OUTCOMES` declares the per-run outcomes (deaths summed over the run, end-of-run control,
  displacement, coups); `outcome_table` and `headline_outcomes` compute them, the one place
  that does, for the CLI summary, experiments, comparisons and the dashboard.
- `Recorder` keeps the daily state snapshots (control shares, displaced, forces, juntas); every
  count of deaths and wounds comes from the ledger (`sim.ledger`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numba
import numpy as np
import pandas as pd

from sim.geography import COUNTRIES, COUNTRY_CODES, N_COUNTRIES
from sim.ledger import MECHANISM_NAMES, MECHANISMS, N_GROUPS, Ledger
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.world import World


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
    Series("displaced", "displaced people (arrived in the country's towns)", "persons"),
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
    Outcome("displaced", "displaced (end)", "persons", "displaced", "end"),
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
)
OUTCOMES_BY_NAME = {o.name: o for o in OUTCOMES}
RUN_SUMMARY = ("total_fatalities", "civilian_fatalities", "russian_fatalities",
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


class Recorder:
    """Daily state snapshots of one run, indexed [day, country, ...]."""

    def __init__(self, days: int, n_factions: int, n_actors: int, n_cells: int) -> None:
        d, c = days, N_COUNTRIES
        self.territory = np.zeros((d, c, n_actors + 2))  # actors, contested, ungoverned
        self.population = np.zeros((d, c, n_actors + 2))
        self.displaced = np.zeros((d, c))
        self.residents = np.zeros((d, c))
        self.recruited = np.zeros((d, c, n_factions))
        self.personnel = np.zeros((d, c, n_factions))
        self.credibility = np.zeros((d, c))
        self.coup_attempts = np.zeros((d, c), dtype=np.int64)
        self.coups = np.zeros((d, c), dtype=np.int64)
        self.capital_attacks = np.zeros((d, c), dtype=np.int64)
        self.blockaded_towns = np.zeros((d, c), dtype=np.int64)
        # day, zone, controller, blockaded_by on the last day of each month
        self.month_end: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []

    def record(self, world: World, day: int, month_end: bool,
               capital_attacked: np.ndarray) -> None:
        """Snapshot the world at the end of `day` (`capital_attacked` (3,) today)."""
        units = world.forces
        snapshot(world.residents, world.residents_total, world.sahel_idx,
                 world.country_bucket, world.controller, world.displaced,
                 world.cells_per_country, units.faction, units.cell, units.strength,
                 units.present, self.territory[day], self.population[day],
                 self.residents[day], self.displaced[day], self.personnel[day])
        self.recruited[day] = world.recruited
        before = self.capital_attacks[day - 1] if day > 0 else 0
        self.capital_attacks[day] = before + capital_attacked
        towns = world.town_cells
        self.blockaded_towns[day] = np.bincount(
            world.country_bucket[towns[world.blockaded_by[towns] >= 0]],
            minlength=N_COUNTRIES + 1)[:N_COUNTRIES]
        for c, junta in enumerate(world.juntas):
            if junta is not None:
                self.credibility[day, c] = junta.credibility
                self.coup_attempts[day, c] = junta.coup_attempts
                self.coups[day, c] = junta.coups
        if month_end:
            idx = world.sahel_idx
            self.month_end.append((day, world.zone[idx].copy(), world.controller[idx].copy(),
                                   world.blockaded_by[idx].copy()))


@numba.njit(cache=True)
def snapshot(residents, residents_total, sahel_idx, country, controller, displaced,
             cells_per_country, faction, cell, strength, present, territory, population,
             residents_out, displaced_out, personnel) -> None:
    """Control shares of cells and people, residents, displaced and personnel per country.

    Control categories: each actor, then contested (controller -1), then ungoverned (-2).
    """
    n_cat = territory.shape[1]
    territory[:] = 0.0
    population[:] = 0.0
    displaced_out[:] = 0.0
    personnel[:] = 0.0
    for c in sahel_idx:
        total = 0.0
        for j in range(residents.shape[0]):
            total += residents[j, c]
        residents_total[c] = total
        k = country[c]
        code = controller[c] if controller[c] >= 0 else n_cat - 3 - controller[c]
        territory[k, code] += 1.0
        population[k, code] += total
        displaced_out[k] += displaced[c]
    for k in range(territory.shape[0]):
        people = 0.0
        for a in range(n_cat):
            territory[k, a] /= cells_per_country[k]
            people += population[k, a]
        residents_out[k] = people
        for a in range(n_cat):
            population[k, a] /= max(people, 1e-9)
    for i in range(faction.size):
        if present[i] and country[cell[i]] < territory.shape[0]:
            personnel[country[cell[i]], faction[i]] += strength[i]


def timeseries_frame(rec: Recorder, ledger: Ledger, country_bucket: np.ndarray,
                     start: dt.date, upto: int, factions: list[str], actors: list[str],
                     russian: list[int]) -> pd.DataFrame:
    """One row per date and country, with the columns of every declared series."""
    killed = ledger.killed_cube(upto, country_bucket)
    wounded = ledger.wounded_cube(upto, country_bucket)
    strikes, strike_deaths, strike_civilians = mechanism_daily(ledger, upto, country_bucket,
                                                               "drone_strike")
    armed = [factions.index(a) for a in actors[1:]]
    recruits = np.diff(rec.recruited[:upto], axis=0, prepend=0.0)
    dates = pd.date_range(start, periods=upto, freq="D")
    frames = []
    for c, iso in enumerate(COUNTRIES):
        k = killed[:, c]
        values = {
            "territory": rec.territory[:upto, c].T, "population": rec.population[:upto, c].T,
            "killed": np.vstack([k[:, 0].sum(axis=1), k[:, 1:].sum(axis=2).T]),
            "killed_russians": k[:, [1 + f for f in russian]].sum(axis=(1, 2)),
            "killed_by": k.sum(axis=1).T, "killed_total": k.sum(axis=(1, 2)),
            "wounded": wounded[:, c].T, "wounded_total": wounded[:, c].sum(axis=1),
            "displaced": rec.displaced[:upto, c], "residents": rec.residents[:upto, c],
            "recruited": rec.recruited[:upto, c].sum(axis=1),
            "recruits": recruits[:, c, armed].T, "personnel": rec.personnel[:upto, c].T,
            "credibility": rec.credibility[:upto, c],
            "coup_attempts": rec.coup_attempts[:upto, c], "coups": rec.coups[:upto, c],
            "capital_attacks": rec.capital_attacks[:upto, c],
            "blockaded_towns": rec.blockaded_towns[:upto, c],
            "drone_strikes": strikes[:, c], "drone_deaths": strike_deaths[:, c],
            "drone_civilian_deaths": strike_civilians[:, c],
        }
        cols: dict[str, object] = {"date": dates, "country": iso}
        for series in SERIES:
            names = series_columns(series.name, factions, actors)
            data = values[series.name]
            if len(names) == 1 and np.ndim(data) == 1:
                cols[names[0]] = data
            else:
                cols.update(zip(names, data, strict=True))
        frames.append(pd.DataFrame(cols))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["date", "country"], kind="stable").reset_index(drop=True)


def mechanism_daily(ledger: Ledger, days: int, country_bucket: np.ndarray, mechanism: str
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events, deaths and civilian deaths of one mechanism, each (day, country or abroad)."""
    code = MECHANISM_NAMES.index(mechanism)
    ev, cas = ledger.events, ledger.casualties
    chosen = (ev["mechanism"] == code) & (ev["day"] < days)
    shape = (days, N_COUNTRIES + 1)
    events = np.zeros(shape, dtype=np.int64)
    np.add.at(events, (ev["day"][chosen], country_bucket[ev["cell"][chosen]]), 1)
    rows = chosen[cas["event"]]
    where = (ev["day"][cas["event"][rows]], country_bucket[ev["cell"][cas["event"][rows]]])
    deaths = np.zeros(shape, dtype=np.int64)
    np.add.at(deaths, where, cas["killed"][rows])
    civilians = np.zeros(shape, dtype=np.int64)
    np.add.at(civilians, where, np.where(cas["victim"][rows] < N_GROUPS, cas["killed"][rows], 0))
    return events, deaths, civilians


def fatalities_frame(ledger: Ledger, country_bucket: np.ndarray, start: dt.date, upto: int,
                     factions: list[str]) -> pd.DataFrame:
    """Long table of deaths: date, country, victim, perpetrator, killed (non-zero rows)."""
    cube = ledger.killed_cube(upto, country_bucket)
    day, country, victim, perp = np.nonzero(cube)
    return pd.DataFrame({
        "date": pd.Timestamp(start) + pd.to_timedelta(day, unit="D"),
        "country": np.array(COUNTRY_CODES, dtype=object)[country],
        "victim": np.array(["civilians", *factions], dtype=object)[victim],
        "perpetrator": np.array(factions, dtype=object)[perp],
        "killed": cube[day, country, victim, perp],
    })


def events_frame(ledger: Ledger, start: dt.date, geo_tables: dict[str, np.ndarray],
                 labels: list[str]) -> pd.DataFrame:
    """The event log with ACLED's column names, plus cell, PRIO-GRID gid and mechanism.

    actor1 is the event's initiator (the side that attacked, the perpetrator).
    """
    ev = ledger.events
    cells = ev["cell"].astype(np.int64)
    names = np.array([*labels, "", "Civilians"], dtype=object)  # -1 civilians, -2 none
    kinds = np.array([MECHANISMS[m] for m in MECHANISM_NAMES], dtype=object).reshape(-1, 2)
    mech = ev["mechanism"].astype(np.int64)
    ny = geo_tables["ny"]
    frame = pd.DataFrame({
        "event_date": pd.Timestamp(start) + pd.to_timedelta(ev["day"], unit="D"),
        "event_type": kinds[mech, 0], "sub_event_type": kinds[mech, 1],
        "actor1": names[ev["actor1"]], "actor2": names[ev["actor2"]],
        "country": geo_tables["country"][cells], "admin1": geo_tables["admin1"][cells],
        "location": geo_tables["location"][cells],
        "latitude": geo_tables["lat"][cells], "longitude": geo_tables["lon"][cells],
        "fatalities": ledger.event_fatalities(),
        "cell_x": cells // ny, "cell_y": cells % ny, "prio_gid": geo_tables["prio_gid"][cells],
        "mechanism": np.array(MECHANISM_NAMES, dtype=object)[mech],
        "notes": np.array([ledger.notes.get(i, "") for i in range(ev.size)], dtype=object),
    })
    return frame.sort_values("event_date", kind="stable").reset_index(drop=True)


def cell_month_frame(events: pd.DataFrame) -> pd.DataFrame:
    """Deaths per PRIO-GRID cell and month (cells and months with at least one event)."""
    if events.empty:
        return pd.DataFrame(columns=["month", "prio_gid", "country", "fatalities", "events"])
    month = events["event_date"].dt.to_period("M").dt.to_timestamp()
    grouped = events.assign(month=month).groupby(["month", "prio_gid", "country"], sort=True)
    out = grouped.agg(fatalities=("fatalities", "sum"), events=("fatalities", "size"))
    return out.reset_index()


def cell_control_frame(rec: Recorder, start: dt.date, geo_tables: dict[str, np.ndarray],
                       sahel_idx: np.ndarray, actors: list[str]) -> pd.DataFrame:
    """Kalyvas zone and controlling actor of every cell of the three countries, per month.

    Taken on the last simulated day of each month; `blockaded_by` names the armed group
    blockading a town's cell (empty where none).
    """
    names = np.array([*actors, "ungoverned", "contested"], dtype=object)  # codes A.., -2, -1
    frames = []
    ny = geo_tables["ny"]
    for day, zone, controller, blockaded_by in rec.month_end:
        month = (pd.Timestamp(start) + pd.Timedelta(days=day)).to_period("M").to_timestamp()
        frames.append(pd.DataFrame({
            "month": month, "cell_x": sahel_idx // ny, "cell_y": sahel_idx % ny,
            "prio_gid": geo_tables["prio_gid"][sahel_idx],
            "country": geo_tables["country"][sahel_idx], "zone": zone,
            "controller": names[controller.astype(np.int64)],
            "blockaded_by": np.array([*actors, ""], dtype=object)[blockaded_by.astype(np.int64)]}))
    if not frames:
        return pd.DataFrame(columns=["month", "cell_x", "cell_y", "prio_gid", "country",
                                     "zone", "controller", "blockaded_by"])
    return pd.concat(frames, ignore_index=True)
