"""Armed-drone fleets as arrays: one row per scenario fleet (`[drones.<id>]`).

A state fleet flies from its air base; an armed group's bomb-carrying drones are launched
where its units are (or from a base if the scenario gives one). Size (airframes or drone
teams) and restraint change with scenario events; a complex attack on an air base destroys
part of the fleet and grounds the rest for a time (`sim.mechanics.drones`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.geography import KM_PER_DEGREE, Geography
from sim.scenario import Scenario

# A day before any run and its spin-up (days count from the run's start, ODD 5).
LONG_AGO = -(2**62)


@dataclass(slots=True)
class Fleets:
    """Hot state of every fleet (length K, in the scenario's order)."""

    ids: list[str]
    faction: np.ndarray  # int64 operating faction
    state_side: np.ndarray  # bool: a state fleet (else an armed group's drones)
    base: np.ndarray  # int64 flat cell of the air base, -1: launched from the faction's units
    size: np.ndarray  # float64 airframes (state) or drone teams (armed groups) in service
    sorties: np.ndarray  # float64 strike sorties per airframe per day
    range_km: np.ndarray  # float64 reach from the launch point
    start_day: np.ndarray  # int64 first day (from the run's start) with armed drones
    restraint: np.ndarray  # float64 restraint toward civilians; < 0: the faction's
    grounded_until: np.ndarray  # int64 no sorties before this day (air base attacked)
    hit_day: np.ndarray  # int64 day its air base was last hit by a complex attack, or LONG_AGO
    destroyed: np.ndarray  # int64 airframes destroyed on the ground so far
    reach: np.ndarray  # int64 cells within range of each fleet with a base, concatenated
    reach_start: np.ndarray  # (K + 1,) fleet k's cells are reach[reach_start[k]:reach_start[k+1]]

    @property
    def size_k(self) -> int:
        """Number of fleets."""
        return len(self.ids)

    def index(self, fleet_id: str) -> int:
        """Row of a fleet by its scenario id."""
        return self.ids.index(fleet_id)


def build_fleets(scenario: Scenario, geo: Geography, faction_index: dict[str, int],
                 state_side: np.ndarray) -> Fleets:
    """The scenario's drone fleets, as arrays."""
    k = len(scenario.drones)
    base = np.full(k, -1, dtype=np.int64)
    start = np.full(k, LONG_AGO, dtype=np.int64)
    for i, fleet in enumerate(scenario.drones.values()):
        if fleet.base is not None:
            x, y = (geo.town(fleet.base).cell if isinstance(fleet.base, str)
                    else geo.cell_of(*fleet.base))
            base[i] = x * geo.ny + y
        if fleet.start is not None:
            start[i] = (fleet.start - scenario.start).days
    specs = list(scenario.drones.values())
    faction = np.array([faction_index[f.faction] for f in specs], dtype=np.int64)
    side = state_side[faction] if k else np.zeros(0, dtype=bool)
    reach = [cells_in_range(geo, int(base[i]), f.range_km, bool(side[i])) if base[i] >= 0
             else np.zeros(0, dtype=np.int64) for i, f in enumerate(specs)]
    reach_start = np.cumsum([0, *(r.size for r in reach)])
    return Fleets(
        ids=list(scenario.drones), faction=faction,
        state_side=side,
        base=base, size=np.array([f.size for f in specs], dtype=float),
        sorties=np.array([f.sorties for f in specs], dtype=float),
        range_km=np.array([f.range_km for f in specs], dtype=float), start_day=start,
        restraint=np.array([-1.0 if f.restraint is None else f.restraint for f in specs],
                           dtype=float),
        grounded_until=np.full(k, LONG_AGO, dtype=np.int64),
        hit_day=np.full(k, LONG_AGO, dtype=np.int64),
        destroyed=np.zeros(k, dtype=np.int64),
        reach=np.concatenate(reach) if reach else np.zeros(0, dtype=np.int64),
        reach_start=np.asarray(reach_start, dtype=np.int64))


def distance_km(geo: Geography, cell: int) -> np.ndarray:
    """(C,) distance in km from a cell's centre to every cell's (equirectangular)."""
    lat, lon = geo.lat.reshape(-1), geo.lon.reshape(-1)
    mean_lat = np.radians((lat + lat[cell]) / 2.0)
    dx = (lon - lon[cell]) * KM_PER_DEGREE * np.cos(mean_lat)
    dy = (lat - lat[cell]) * KM_PER_DEGREE
    return np.hypot(dx, dy)


def cells_in_range(geo: Geography, base: int, range_km: float, own_country: bool) -> np.ndarray:
    """Cells of the three countries within `range_km` of a base.

    Only those of the base's country if `own_country` (state fleets strike at home).
    """
    country = geo.country.reshape(-1)
    inside = geo.in_sahel().reshape(-1)
    if own_country:
        inside &= country == country[base]
    return np.flatnonzero(inside & (distance_km(geo, base) <= range_km)).astype(np.int64)
