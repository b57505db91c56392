"""Force units as arrays: one row per mobile group, garrison or guard, and their placement.

A scenario unit with `groups = n` becomes n rows of equal strength, placed at random within
`spread` degrees of its base on cells its faction may enter (else at the base itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from sim.geography import Geography
from sim.scenario import Scenario, Unit
from sim.streams import uniform

ROLES = ("mobile", "garrison", "regime_protection")
MOBILE, GARRISON, REGIME_PROTECTION = 0, 1, 2


@dataclass(slots=True)
class Forces:
    """Hot state of every force row (length U)."""

    faction: np.ndarray  # int64 faction index
    spec: np.ndarray  # int64 index of the scenario unit the row belongs to
    role: np.ndarray  # int8 MOBILE, GARRISON, REGIME_PROTECTION
    strength: np.ndarray  # float64 personnel fit to fight
    initial: np.ndarray  # float64 strength on arrival
    cell: np.ndarray  # int64 flat cell
    base: np.ndarray  # int64 flat cell the row returns to and operates around
    present: np.ndarray  # bool in the theatre
    attack: np.ndarray  # bool on offensive / raiding this week

    @property
    def size(self) -> int:
        """Number of rows."""
        return int(self.faction.size)


def base_cell(unit: Unit, geo: Geography) -> int:
    """Flat cell of a unit's base (town name or [lat, lon])."""
    if isinstance(unit.base, str):
        x, y = geo.town(unit.base).cell
    else:
        x, y = geo.cell_of(*unit.base)
    return x * geo.ny + y


def build_forces(
    scenario: Scenario, geo: Geography, allowed: np.ndarray, faction_index: dict[str, int],
    conventional: np.ndarray, country_of_cell: np.ndarray, key: np.uint64,
) -> Forces:
    """Expand the scenario's units into rows, placed around their bases.

    Args:
        scenario: the validated scenario.
        geo: its geography.
        allowed: (F + 3, C) cells each faction may enter, then each country's cells.
        faction_index: faction id -> row of `allowed`.
        conventional: (F,) True for every faction but the armed groups: state, militia,
            Russian, peacekeeping and western forces stay in the country of their base.
        country_of_cell: (C,) country index of each cell (3 outside the three countries).
        key: the set-up stream's key (placement is part of the run's randomness).
    """
    rows: dict[str, list] = {k: [] for k in ("faction", "spec", "role", "strength", "cell")}
    present: list[bool] = []
    for spec_index, unit in enumerate(scenario.units):
        f = faction_index[unit.faction]
        home = base_cell(unit, geo)
        row = len(faction_index) + country_of_cell[home] if conventional[f] else f
        cells = np.full(unit.groups, home, dtype=np.int64)
        if unit.groups > 1 and unit.spread > 0:
            draws = np.array([[uniform(key, -1, spec_index, 2 * g + k) for g in range(unit.groups)]
                              for k in range(2)])
            angle = 2 * np.pi * draws[0]
            radius = unit.spread * np.sqrt(draws[1])
            hx, hy = divmod(home, geo.ny)
            x = np.clip(np.round(hx + radius * np.cos(angle) / geo.resolution), 0, geo.nx - 1)
            y = np.clip(np.round(hy + radius * np.sin(angle) / geo.resolution), 0, geo.ny - 1)
            spread_cells = (x * geo.ny + y).astype(np.int64)
            cells = np.where(allowed[row, spread_cells], spread_cells, home)
        rows["faction"] += [f] * unit.groups
        rows["spec"] += [spec_index] * unit.groups
        rows["role"] += [ROLES.index(unit.role)] * unit.groups
        rows["strength"] += [unit.strength / unit.groups] * unit.groups
        rows["cell"] += list(cells)
        present += [unit.present] * unit.groups
    strength = np.asarray(rows["strength"], dtype=float)
    cell = np.asarray(rows["cell"], dtype=np.int64)
    return Forces(
        faction=np.asarray(rows["faction"], dtype=np.int64),
        spec=np.asarray(rows["spec"], dtype=np.int64),
        role=np.asarray(rows["role"], dtype=np.int8),
        strength=strength, initial=strength.copy(), cell=cell, base=cell.copy(),
        present=np.asarray(present, dtype=bool), attack=np.zeros(cell.size, dtype=bool))


@numba.njit(cache=True)
def refresh_presence(presence: np.ndarray, assault: np.ndarray, counted_cell: np.ndarray,
                     faction: np.ndarray, cell: np.ndarray, strength: np.ndarray,
                     present: np.ndarray, attack: np.ndarray) -> None:
    """Recount personnel per faction and cell (F, C) in place, and those on attack orders.

    Clears only the entries the rows were counted in last time (`counted_cell`), then adds
    every present row at its current cell.
    """
    for i in range(faction.size):
        presence[faction[i], counted_cell[i]] = 0.0
        assault[faction[i], counted_cell[i]] = 0.0
    for i in range(faction.size):
        if present[i]:
            presence[faction[i], cell[i]] += strength[i]
            if attack[i]:
                assault[faction[i], cell[i]] += strength[i]
        counted_cell[i] = cell[i]


@numba.njit(cache=True)
def take_losses(strength: np.ndarray, present: np.ndarray, faction: np.ndarray,
                cell: np.ndarray, presence: np.ndarray, target_cell: int,
                losses: np.ndarray) -> None:
    """Take each faction's casualties (F,) in one cell from its rows there, pro rata.

    Rows left with less than one person are gone.
    """
    for i in range(faction.size):
        if not present[i] or cell[i] != target_cell:
            continue
        there = presence[faction[i], target_cell]
        if there <= 0.0 or losses[faction[i]] <= 0.0:
            continue
        strength[i] = max(strength[i] - losses[faction[i]] * strength[i] / there, 0.0)
        if strength[i] < 1.0:
            strength[i] = 0.0
            present[i] = False
