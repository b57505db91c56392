"""Each calibration target's statistic, computed from one finished run.

A run is read through `RunFrames`: its daily time series (`SahelModel.timeseries`: control
shares, cumulative coup attempts, coups and capital attacks) and its casualty rows (one row
per ledger casualty row with deaths: the event, its date, country, mechanism and actors, the
victim and the perpetrator; `casualty_frame`). Deaths, ratios, shares and the largest event
are sums over casualty rows, so they agree with every other output by construction. ACLED's
civilian fatalities (`civilian_targeting`) and the events `involving` a kind read the events as
the conflict data record them: an attack on civilians its perpetrator reported as combat
(`claimed_as`, `sim.mechanics.violence`) is a clash with the armed group claimed.

`target_statistics` returns {target name: value}; a target whose window is not inside the
run, or whose statistic is undefined in it (a ratio over a window without deaths, a share of
no civilian deaths), gives NaN. Runs of many seeds: `sim.calibration.simulate`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.calibration.comparisons import CIVILIAN_TARGETING, Comparison, countries_in
from sim.calibration.targets import Target
from sim.geography import COUNTRIES, COUNTRY_CODES
from sim.ledger import CIVILIAN_TARGETING_MECHANISMS, MECHANISM_NAMES, N_GROUPS
from sim.scenario import ARMED_GROUP_KINDS, FACTION_KINDS

if TYPE_CHECKING:
    from sim.model import SahelModel

# Codes of what a casualty row's victim and the event's actors are: civilians, a faction
# kind, or nobody (an event without a second actor).
KIND_CODES = ("civilians", *FACTION_KINDS, "")
CASUALTY_COLUMNS = ("event", "date", "country", "mechanism", "actor1", "actor2", "victim",
                    "perpetrator", "killed", "claimed_as")


@dataclass(frozen=True, slots=True)
class RunFrames:
    """What the statistics read from one finished run.

    `timeseries`: one row per date and country with the declared series (`sim.outputs`);
    `casualties`: the columns of `CASUALTY_COLUMNS` (victim "civilians" or a faction id;
    actors a faction id, "civilians" or ""; `claimed_as` the armed group whose fighters the
    perpetrator reported the event's dead as, else ""); `faction_kinds`: faction id -> kind;
    `cells_per_country`: the three countries' cell counts (weights of "all" territory).
    """

    start: dt.date
    end: dt.date
    timeseries: pd.DataFrame
    casualties: pd.DataFrame
    faction_kinds: Mapping[str, str]
    cells_per_country: Mapping[str, int]

    @classmethod
    def from_model(cls, model: SahelModel) -> RunFrames:
        """The frames of a finished (or partly run) model."""
        spec, world = model.spec, model.world
        days = min(int(model.time), spec.days)
        return cls(start=spec.start, end=spec.start + dt.timedelta(days=days - 1),
                   timeseries=model.timeseries(), casualties=casualty_frame(model),
                   faction_kinds={fid: f.kind for fid, f in spec.factions.items()},
                   cells_per_country=dict(zip(COUNTRIES, map(int, world.cells_per_country),
                                              strict=True)))


def casualty_frame(model: SahelModel) -> pd.DataFrame:
    """One row per ledger casualty row with deaths, with its event's date, place and actors."""
    ledger, world = model.ledger, model.world
    ev, cas = ledger.events, ledger.casualties
    dead = cas["killed"] > 0
    event = cas["event"][dead].astype(np.int64)
    factions = np.array(world.faction_ids, dtype=object)
    actors = np.array([*world.faction_ids, "", "civilians"], dtype=object)  # codes -2, -1
    victim = cas["victim"][dead].astype(np.int64)
    return pd.DataFrame({
        "event": event,
        "date": pd.Timestamp(model.spec.start) + pd.to_timedelta(ev["day"][event], unit="D"),
        "country": np.array(COUNTRY_CODES, dtype=object)[world.country_bucket[ev["cell"][event]]],
        "mechanism": np.array(MECHANISM_NAMES, dtype=object)[ev["mechanism"][event]],
        "actor1": actors[ev["actor1"][event]], "actor2": actors[ev["actor2"][event]],
        "victim": np.where(victim < N_GROUPS, "civilians",
                           factions[np.maximum(victim - N_GROUPS, 0)]),
        "perpetrator": factions[cas["perpetrator"][dead]],
        "killed": cas["killed"][dead].astype(np.int64),
        "claimed_as": actors[ledger.claimed_enemy()[event]],
    })


class _Arrays:
    """A run's frames as integer-coded numpy arrays, built once for all targets."""

    def __init__(self, frames: RunFrames) -> None:
        self.frames = frames
        self.start, self.end = frames.start, frames.end
        kinds = {**frames.faction_kinds, "civilians": "civilians", "": ""}
        cas = frames.casualties
        self.day = self._days(cas["date"])
        self.country = _codes_by(cas["country"], COUNTRY_CODES.index)
        self.mechanism = _codes_by(cas["mechanism"], MECHANISM_NAMES.index)
        self.victim, self.perpetrator, self.actor1, self.actor2, claimed = (
            _codes_by(cas[column], lambda fid: KIND_CODES.index(kinds[fid]))
            for column in ("victim", "perpetrator", "actor1", "actor2", "claimed_as"))
        # How the conflict data record each event: an attack on civilians its perpetrator
        # reported as combat is a clash with the armed group claimed.
        reported = claimed != KIND_CODES.index("")
        self.recorded_mechanism = np.where(reported, MECHANISM_NAMES.index("clash"),
                                           self.mechanism)
        self.recorded_actor2 = np.where(reported, claimed, self.actor2)
        self.event = cas["event"].to_numpy(np.int64)
        self.killed = cas["killed"].to_numpy(np.float64)
        ts = frames.timeseries
        self.ts = ts
        self.ts_day = self._days(ts["date"])
        self.ts_country = _codes_by(ts["country"], COUNTRY_CODES.index)
        self.armed_columns = [f"territory_{fid}" for fid, kind in frames.faction_kinds.items()
                              if kind in ARMED_GROUP_KINDS and f"territory_{fid}" in ts]
        self._columns: dict[str, np.ndarray] = {}

    def _days(self, dates: pd.Series) -> np.ndarray:
        values = pd.to_datetime(dates).to_numpy("datetime64[D]")
        return (values - np.datetime64(self.start, "D")).astype(np.int64)

    def offset(self, day: dt.date) -> int:
        """Days from the run's start."""
        return (day - self.start).days

    def inside(self, first: dt.date, last: dt.date) -> bool:
        """True when the run covers every day from first to last."""
        return self.start <= first and last <= self.end

    def series(self, column: str) -> np.ndarray:
        """A time-series column as floats (cached)."""
        if column not in self._columns:
            self._columns[column] = self.ts[column].to_numpy(np.float64)
        return self._columns[column]

    def row(self, day: int, country: str) -> int | None:
        """Position of the time series' row for a day and country, or None."""
        rows = np.flatnonzero((self.ts_day == day)
                              & (self.ts_country == COUNTRY_CODES.index(country)))
        return int(rows[0]) if rows.size else None


def _codes_by(values: pd.Series, code_of: Callable[[Any], int]) -> np.ndarray:
    """`code_of` of each value (e.g. its position in a list), computed once per distinct value."""
    codes, uniques = pd.factorize(values)
    lookup = np.array([code_of(u) for u in uniques] + [-1], dtype=np.int64)
    return lookup[codes]


_CIVILIAN_TARGETING_CODES = [MECHANISM_NAMES.index(m) for m in CIVILIAN_TARGETING_MECHANISMS]


def _chosen(codes: np.ndarray, kinds: Sequence[str]) -> np.ndarray:
    """True where a kind code is one of `kinds`."""
    table = np.zeros(len(KIND_CODES), dtype=bool)
    table[[KIND_CODES.index(k) for k in kinds]] = True
    return table[codes]


def _death_mask(a: _Arrays, country: str, start: dt.date, end: dt.date,
                victims: Sequence[str], perpetrators: Sequence[str] | None,
                involving: Sequence[str] | None, mechanism: str | None = None) -> np.ndarray:
    mask = (a.day >= a.offset(start)) & (a.day <= a.offset(end))
    mask &= np.isin(a.country, [COUNTRY_CODES.index(iso) for iso in countries_in(country)])
    if tuple(victims) == (CIVILIAN_TARGETING,):
        mask &= np.isin(a.recorded_mechanism, _CIVILIAN_TARGETING_CODES)
    elif tuple(victims) != ("all",):
        mask &= _chosen(a.victim, victims)
    if perpetrators is not None:
        mask &= _chosen(a.perpetrator, perpetrators)
    if involving is not None:
        mask &= _chosen(a.actor1, involving) | _chosen(a.recorded_actor2, involving)
    if mechanism is not None:
        mask &= a.mechanism == MECHANISM_NAMES.index(mechanism)
    return mask


def _deaths(a: _Arrays, c: Comparison, start: dt.date, end: dt.date) -> float:
    return float(a.killed[_death_mask(a, c.country, start, end, c.victims, c.perpetrators,
                                      c.involving)].sum())


def _statistic(a: _Arrays, target: Target) -> float:
    c = target.compare
    first, last = c.window()
    if not a.inside(first, last):
        return math.nan
    if c.statistic == "deaths":
        return _deaths(a, c, c.start, c.end)
    if c.statistic == "deaths_ratio":
        before = _deaths(a, c, c.start, c.end)
        return _deaths(a, c, c.start_b, c.end_b) / before if before > 0 else math.nan
    if c.statistic == "max_event_deaths":
        mask = _death_mask(a, c.country, c.start, c.end, c.victims, c.perpetrators, None,
                           c.mechanism)
        if not mask.any():
            return 0.0
        return float(np.bincount(a.event[mask], weights=a.killed[mask]).max())
    if c.statistic == "civilian_death_share":
        counted = c.victims if c.victims == (CIVILIAN_TARGETING,) else ("civilians",)
        civilians = _death_mask(a, c.country, c.start, c.end, counted, None, None)
        total = a.killed[civilians].sum()
        if total <= 0:
            return math.nan
        by = civilians & _chosen(a.perpetrator, c.perpetrators)
        return float(a.killed[by].sum() / total)
    if c.statistic == "territory_share":
        return _territory_share(a, c.country, a.offset(c.date), c.category)
    if c.statistic == "fighters":
        return _fighters(a, c.country, a.offset(c.date), c.faction)
    return _event_count(a, c.country, a.offset(c.start), a.offset(c.end), c.event)


def _territory_share(a: _Arrays, country: str, day: int, category: str) -> float:
    """Share of the country's cells (or all three's) in a control category on a day."""
    shares, weights = [], []
    for iso in countries_in(country):
        row = a.row(day, iso)
        if row is None:
            return math.nan
        if category == "armed_groups":
            share = sum(a.series(column)[row] for column in a.armed_columns)
        elif category == "not_state":
            share = 1.0 - a.series("territory_state")[row]
        else:
            share = a.series(f"territory_{category}")[row]
        shares.append(share)
        weights.append(a.frames.cells_per_country[iso])
    return float(np.average(shares, weights=weights))


def _fighters(a: _Arrays, country: str, day: int, faction: str | None) -> float:
    """A faction's personnel on a day, in one country or the three."""
    column = f"personnel_{faction}"
    if column not in a.ts:
        raise ValueError(f"no faction {faction!r} in the run: a fighters target needs one of "
                         + ", ".join(sorted(a.frames.faction_kinds)))
    rows = [a.row(day, iso) for iso in countries_in(country)]
    if any(row is None for row in rows):
        return math.nan
    return float(sum(a.series(column)[row] for row in rows))


def _event_count(a: _Arrays, country: str, first: int, last: int, event: str) -> float:
    """Events in the window: the cumulative count at its end minus the day before it."""
    count = 0.0
    cumulative = a.series(event)
    for iso in countries_in(country):
        at_end = a.row(last, iso)
        before = a.row(first - 1, iso) if first > 0 else None
        if at_end is None or (first > 0 and before is None):
            return math.nan
        count += cumulative[at_end] - (cumulative[before] if before is not None else 0.0)
    return float(count)


def target_statistics(source: SahelModel | RunFrames, targets: Sequence[Target]
                      ) -> dict[str, float]:
    """Each target's statistic in one finished run: {target name: value} (NaN: undefined)."""
    frames = source if isinstance(source, RunFrames) else RunFrames.from_model(source)
    arrays = _Arrays(frames)
    return {t.name: _statistic(arrays, t) for t in targets}
