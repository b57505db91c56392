"""The tables of a run: daily state snapshots and the frames derived from them and the ledger.

`Recorder` keeps the daily state snapshots (control shares, displaced, forces, juntas); every
count of deaths and wounds comes from the ledger (`sim.ledger`). The frames follow the
declarations of `sim.outputs` (one column per declared series, the ACLED-shaped event log,
cell-months, cell control).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numba
import numpy as np
import pandas as pd

from sim.geography import COUNTRIES, COUNTRY_CODES, N_COUNTRIES
from sim.ledger import MECHANISM_NAMES, MECHANISMS, N_GROUPS, Ledger
from sim.outputs import SERIES, series_columns

if TYPE_CHECKING:
    from sim.world import World


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
        if world.is_decision_day(day):  # blockades change on decision days (day 0 is one)
            towns = world.town_cells
            self.blockaded_towns[day] = np.bincount(
                world.country_bucket[towns[world.blockaded_by[towns] >= 0]],
                minlength=N_COUNTRIES + 1)[:N_COUNTRIES]
        else:
            self.blockaded_towns[day] = self.blockaded_towns[day - 1]
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
    `residents_total` is refreshed in the three countries' cells (nobody lives elsewhere).
    Neighbouring cells mostly share country and controller: the sums of a run of such cells
    are kept in local variables and written back when the run ends (the same additions, in
    the same order, without a round trip through memory per cell).
    """
    n_cat = territory.shape[1]
    territory[:] = 0.0
    population[:] = 0.0
    displaced_out[:] = 0.0
    personnel[:] = 0.0
    g = residents.shape[0]
    k_run, code_run = -1, -1
    cells_run, people_run, fled_run = 0.0, 0.0, 0.0
    for c in sahel_idx:
        total = residents[0, c]
        for j in range(1, g):
            total += residents[j, c]
        residents_total[c] = total
        k = country[c]
        code = controller[c] if controller[c] >= 0 else n_cat - 3 - controller[c]
        if k != k_run or code != code_run:
            if k_run >= 0:
                territory[k_run, code_run] = cells_run
                population[k_run, code_run] = people_run
                displaced_out[k_run] = fled_run
            k_run, code_run = k, code
            cells_run, people_run = territory[k, code], population[k, code]
            fled_run = displaced_out[k]
        cells_run += 1.0
        people_run += total
        fled_run += displaced[c]
    if k_run >= 0:
        territory[k_run, code_run] = cells_run
        population[k_run, code_run] = people_run
        displaced_out[k_run] = fled_run
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
    victims, perpetrators = killed_marginals(ledger, upto, country_bucket, len(factions))
    wounded = ledger.wounded_cube(upto, country_bucket)
    strikes, strike_deaths, strike_civilians = mechanism_daily(ledger, upto, country_bucket,
                                                               "drone_strike")
    reported = reported_daily(ledger, upto, country_bucket)
    armed = [factions.index(a) for a in actors[1:]]
    recruits = np.diff(rec.recruited[:upto], axis=0, prepend=0.0)
    dates = pd.date_range(start, periods=upto, freq="D")
    per_country = []
    for c in range(N_COUNTRIES):
        k = victims[:, c]
        values = {
            "territory": rec.territory[:upto, c].T, "population": rec.population[:upto, c].T,
            "killed": k.T, "killed_russians": k[:, [1 + f for f in russian]].sum(axis=1),
            "killed_by": perpetrators[:, c].T, "killed_total": k.sum(axis=1),
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
            "reported_as_fighters": reported[:, c],
        }
        cols: dict[str, np.ndarray] = {}
        for series in SERIES:
            names = series_columns(series.name, factions, actors)
            data = values[series.name]
            if len(names) == 1 and np.ndim(data) == 1:
                cols[names[0]] = data
            else:
                cols.update(zip(names, data, strict=True))
        per_country.append(cols)
    # Rows by date, then country code, built interleaved (no concatenation and sort).
    order = sorted(range(N_COUNTRIES), key=lambda c: list(COUNTRIES)[c])
    columns: dict[str, object] = {
        "date": dates.repeat(N_COUNTRIES),
        "country": np.tile(np.array(list(COUNTRIES), dtype=object)[order], upto)}
    for name in per_country[0]:
        columns[name] = np.column_stack([per_country[c][name] for c in order]).ravel()
    return pd.DataFrame(columns)


def killed_marginals(ledger: Ledger, days: int, country_bucket: np.ndarray, n_factions: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Deaths by (day, country, victim) and by (day, country, perpetrator).

    The two sums of `Ledger.killed_cube` the series need (countries then abroad; victims:
    civilians then factions), without its (F + 1) x F cube per day and country.
    """
    cas = ledger.casualties
    day, killed = ledger.casualty_days().astype(np.int64), cas["killed"]
    where = day * (N_COUNTRIES + 1) + country_bucket[ledger.casualty_cells()]
    victim = cas["victim"].astype(np.int64)
    victim = np.where(victim < N_GROUPS, 0, victim - N_GROUPS + 1)
    size = days * (N_COUNTRIES + 1)
    by_victim = np.bincount(where * (n_factions + 1) + victim, weights=killed,
                            minlength=size * (n_factions + 1))
    by_perpetrator = np.bincount(where * n_factions + cas["perpetrator"], weights=killed,
                                 minlength=size * n_factions)
    return (by_victim.astype(np.int64).reshape(days, N_COUNTRIES + 1, n_factions + 1),
            by_perpetrator.astype(np.int64).reshape(days, N_COUNTRIES + 1, n_factions))


def reported_daily(ledger: Ledger, days: int, country_bucket: np.ndarray) -> np.ndarray:
    """Deaths of the events reported as combat (`Ledger.claim`), (day, country or abroad)."""
    cas, day = ledger.casualties, ledger.casualty_days()
    rows = (ledger.claimed_enemy()[cas["event"]] >= 0) & (day < days)
    out = np.zeros((days, N_COUNTRIES + 1), dtype=np.int64)
    np.add.at(out, (day[rows], country_bucket[ledger.casualty_cells()[rows]]),
              cas["killed"][rows])
    return out


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

    actor1 is the event's initiator (the side that attacked, the perpetrator); `claimed_as`
    names the armed group whose fighters the perpetrator reported an attack's civilian dead
    as (empty for every other event; `sim.mechanics.violence`).
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
        "claimed_as": names[ledger.claimed_enemy()],
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
