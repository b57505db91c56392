"""Outputs: daily arrays filled during a run, and the tables built from them.

- `Recorder` holds preallocated (day, country, ...) arrays and the event log in chunks;
- `timeseries_frame` turns them into a tidy table, one row per date and country;
- `events_frame` builds the ACLED-shaped event log; `cell_month_frame` aggregates its deaths
  to PRIO-GRID cell-months.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.geography import COUNTRIES, COUNTRY_CODES, N_COUNTRIES

# Mechanisms of logged events, with their ACLED event type and sub-event type.
MECHANISMS: dict[str, tuple[str, str]] = {
    "clash": ("Battles", "Armed clash"),
    "ambush": ("Battles", "Armed clash"),
    "complex_attack": ("Battles", "Armed clash"),
    "violence_against_civilians": ("Violence against civilians", "Attack"),
    "coup_attempt": ("Strategic developments", "Other"),
    "deployment": ("Strategic developments", "Headquarters or base established"),
    "withdrawal": ("Strategic developments", "Other"),
}
MECHANISM_NAMES = tuple(MECHANISMS)


@dataclass(slots=True)
class Recorder:
    """Daily outputs of one run; arrays are indexed [day, country, ...]."""

    days: int
    n_factions: int
    n_actors: int
    territory: np.ndarray = field(init=False)
    population: np.ndarray = field(init=False)
    killed: np.ndarray = field(init=False)
    wounded: np.ndarray = field(init=False)
    displaced: np.ndarray = field(init=False)
    residents: np.ndarray = field(init=False)
    recruited: np.ndarray = field(init=False)
    personnel: np.ndarray = field(init=False)
    credibility: np.ndarray = field(init=False)
    coup_attempts: np.ndarray = field(init=False)
    coups: np.ndarray = field(init=False)
    log: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(
        init=False, default_factory=list)
    notes: dict[int, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        d, c, f, a = self.days, N_COUNTRIES, self.n_factions, self.n_actors
        self.territory = np.zeros((d, c, a + 1))
        self.population = np.zeros((d, c, a + 1))
        self.killed = np.zeros((d, c + 1, f + 1, f), dtype=np.int64)  # victim 0 = civilians
        self.wounded = np.zeros((d, c + 1, f), dtype=np.int64)
        self.displaced = np.zeros((d, c))
        self.residents = np.zeros((d, c))
        self.recruited = np.zeros((d, c))
        self.personnel = np.zeros((d, c, f))
        self.credibility = np.zeros((d, c))
        self.coup_attempts = np.zeros((d, c), dtype=np.int64)
        self.coups = np.zeros((d, c), dtype=np.int64)

    def log_events(self, day: int, mechanism: str, cells: np.ndarray, actor1: np.ndarray,
                   actor2: np.ndarray, fatalities: np.ndarray, note: str = "") -> None:
        """Append events of one mechanism on one day.

        Actors are faction indices; -1 stands for civilians, -2 for none.
        """
        if cells.size:
            self.log.append((day, MECHANISM_NAMES.index(mechanism), np.asarray(cells),
                             np.asarray(actor1), np.asarray(actor2), np.asarray(fatalities)))
            if note:
                self.notes[len(self.log) - 1] = note


def timeseries_frame(rec: Recorder, start: dt.date, upto: int, factions: list[str],
                     actors: list[str], russian: list[str]) -> pd.DataFrame:
    """One row per date and country with control, fatalities, displacement, forces, juntas.

    `russian` names the Russian factions, summed in `killed_russians`.
    """
    dates = pd.date_range(start, periods=upto, freq="D")
    frames = []
    for c, iso in enumerate(COUNTRIES):
        cols: dict[str, np.ndarray] = {}
        for a, actor in enumerate([*actors, "contested"]):
            cols[f"territory_{actor}"] = rec.territory[:upto, c, a]
        for a, actor in enumerate([*actors, "contested"]):
            cols[f"population_{actor}"] = rec.population[:upto, c, a]
        killed = rec.killed[:upto, c]
        cols["killed_civilians"] = killed[:, 0].sum(axis=1)
        for f, name in enumerate(factions):
            cols[f"killed_{name}"] = killed[:, f + 1].sum(axis=1)
        cols["killed_russians"] = sum(
            (cols[f"killed_{name}"] for name in russian), np.zeros(upto, dtype=np.int64))
        for f, name in enumerate(factions):
            cols[f"killed_by_{name}"] = killed[:, :, f].sum(axis=1)
        cols["killed_total"] = killed.sum(axis=(1, 2))
        for f, name in enumerate(factions):
            cols[f"wounded_{name}"] = rec.wounded[:upto, c, f]
        cols["wounded_total"] = rec.wounded[:upto, c].sum(axis=1)
        cols["displaced"] = rec.displaced[:upto, c]
        cols["residents"] = rec.residents[:upto, c]
        cols["recruited"] = rec.recruited[:upto, c]
        for f, name in enumerate(factions):
            cols[f"personnel_{name}"] = rec.personnel[:upto, c, f]
        cols["credibility"] = rec.credibility[:upto, c]
        cols["coup_attempts"] = rec.coup_attempts[:upto, c]
        cols["coups"] = rec.coups[:upto, c]
        frame = pd.DataFrame(cols)
        frame.insert(0, "country", iso)
        frame.insert(0, "date", dates)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["date", "country"], kind="stable").reset_index(drop=True)


def fatalities_frame(rec: Recorder, start: dt.date, upto: int, factions: list[str]
                     ) -> pd.DataFrame:
    """Long table of deaths: date, country, victim, perpetrator, killed (non-zero rows)."""
    day, country, victim, perp = np.nonzero(rec.killed[:upto])
    victims = np.array(["civilians", *factions], dtype=object)
    return pd.DataFrame({
        "date": pd.Timestamp(start) + pd.to_timedelta(day, unit="D"),
        "country": np.array(COUNTRY_CODES, dtype=object)[country],
        "victim": victims[victim],
        "perpetrator": np.array(factions, dtype=object)[perp],
        "killed": rec.killed[:upto][day, country, victim, perp],
    })


def events_frame(rec: Recorder, start: dt.date, geo_tables: dict[str, np.ndarray],
                 labels: list[str]) -> pd.DataFrame:
    """The event log with ACLED's column names, plus cell, PRIO-GRID gid and mechanism."""
    columns = ["event_date", "event_type", "sub_event_type", "actor1", "actor2", "country",
               "admin1", "location", "latitude", "longitude", "fatalities", "cell_x", "cell_y",
               "prio_gid", "mechanism", "notes"]
    if not rec.log:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    day = np.concatenate([np.full(e[2].size, e[0]) for e in rec.log])
    mech = np.concatenate([np.full(e[2].size, e[1]) for e in rec.log])
    cells = np.concatenate([e[2] for e in rec.log]).astype(np.int64)
    actor1 = np.concatenate([e[3] for e in rec.log]).astype(np.int64)
    actor2 = np.concatenate([e[4] for e in rec.log]).astype(np.int64)
    deaths = np.concatenate([e[5] for e in rec.log]).astype(np.int64)
    notes = np.concatenate([np.full(e[2].size, rec.notes.get(i, ""), dtype=object)
                            for i, e in enumerate(rec.log)])
    names = np.array([*labels, "", "Civilians"], dtype=object)  # -1 civilians, -2 none
    kinds = np.array([MECHANISMS[m] for m in MECHANISM_NAMES], dtype=object)
    ny = geo_tables["ny"]
    frame = pd.DataFrame({
        "event_date": pd.Timestamp(start) + pd.to_timedelta(day, unit="D"),
        "event_type": kinds[mech, 0],
        "sub_event_type": kinds[mech, 1],
        "actor1": names[actor1],
        "actor2": names[actor2],
        "country": geo_tables["country"][cells],
        "admin1": geo_tables["admin1"][cells],
        "location": geo_tables["location"][cells],
        "latitude": geo_tables["lat"][cells],
        "longitude": geo_tables["lon"][cells],
        "fatalities": deaths,
        "cell_x": cells // ny,
        "cell_y": cells % ny,
        "prio_gid": geo_tables["prio_gid"][cells],
        "mechanism": np.array(MECHANISM_NAMES, dtype=object)[mech],
        "notes": notes,
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


def run_summary(ts: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Headline figures per country: deaths, control at the end, displaced, credibility, coups."""
    end = ts[ts["date"] == ts["date"].max()].set_index("country")
    totals = ts.groupby("country").sum(numeric_only=True)
    out: dict[str, dict[str, float]] = {}
    for iso in COUNTRIES:
        out[iso] = {
            "killed_total": int(totals.loc[iso, "killed_total"]),
            "killed_civilians": int(totals.loc[iso, "killed_civilians"]),
            "killed_russians": int(totals.loc[iso, "killed_russians"]),
            "territory_state_end": round(float(end.loc[iso, "territory_state"]), 4),
            "territory_contested_end": round(float(end.loc[iso, "territory_contested"]), 4),
            "territory_armed_groups_end": round(float(
                1.0 - end.loc[iso, "territory_state"] - end.loc[iso, "territory_contested"]), 4),
            "population_state_end": round(float(end.loc[iso, "population_state"]), 4),
            "displaced_end": int(end.loc[iso, "displaced"]),
            "credibility_end": round(float(end.loc[iso, "credibility"]), 4),
            "coup_attempts": int(end.loc[iso, "coup_attempts"]),
            "coups": int(end.loc[iso, "coups"]),
        }
    return out
