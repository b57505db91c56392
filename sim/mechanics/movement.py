"""Movement of force units over the grid, one Moore step at most per day.

Each day a mobile unit moves with probability `speed` (state or armed group) to the
neighbouring cell (or stays) with the best score:

- on offensive (state) or raiding (armed groups): its faction's attraction field (see
  `sim.mechanics.decisions`);
- defending or holding: minus `home_weight` times the distance to its base, in cells;

plus `wander` times uniform noise. State-side units may not leave their country's cells or go
beyond `state_reach` cells (Chebyshev distance) of their base; armed groups may use foreign
cells only where their faction has `sanctuary_abroad`. A state unit that changes cell marks it
as crossed by a column (guerrillas there may ambush it).

The kernel is a numba loop over the unit rows: per unit it scores nine cells, which as numpy
operations cost about fifteen array calls a day for a few hundred units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

from sim.forces import MOBILE
from sim.streams import uniform

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import MovementParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: MovementParams, rng: Stream) -> None:
    """Move the mobile units one day and recount presence."""
    units = world.forces
    speed = np.where(world.state_side[units.faction], params.state_speed,
                     params.insurgent_speed) * (units.role == MOBILE)
    reach = np.where(world.state_side[units.faction], params.state_reach, np.inf)
    move_units(units.cell, units.base, units.present, units.attack, speed, reach,
               world.allowed_row, world.field_group[units.faction],
               world.state_side[units.faction], world.fields, world.allowed, world.neighbours,
               world.moved, params.wander, params.home_weight, world.ny, rng.key, rng.day)
    world.refresh_presence()


def chebyshev(cells: np.ndarray, targets: np.ndarray, ny: int) -> np.ndarray:
    """Chebyshev distance in cells between flat ids (broadcasting)."""
    return np.maximum(np.abs(cells // ny - targets // ny), np.abs(cells % ny - targets % ny))


@numba.njit(cache=True)
def move_units(cell: np.ndarray, base: np.ndarray, present: np.ndarray, attack: np.ndarray,
               speed: np.ndarray, reach: np.ndarray, allowed_row: np.ndarray,
               group: np.ndarray, column: np.ndarray, field: np.ndarray, allowed: np.ndarray,
               neighbours: np.ndarray, moved: np.ndarray, wander: float, home_weight: float,
               ny: int, key: np.uint64, day: int) -> None:
    """Move units in place; `moved` (C,) is set where a column (`column` rows) moved.

    Draws per unit row: 0 whether it moves (below its speed), 1-9 noise for its nine options.
    """
    moved[:] = False
    for i in range(cell.size):
        if not present[i] or speed[i] <= 0.0 or uniform(key, day, i, 0) >= speed[i]:
            continue
        here = cell[i]
        bx, by = base[i] // ny, base[i] % ny
        best, best_score = here, -np.inf
        for j in range(9):
            option = neighbours[here, j]
            distance = max(abs(option // ny - bx), abs(option % ny - by))
            if j > 0 and (not allowed[allowed_row[i], option] or distance > reach[i]):
                continue
            score = float(field[group[i], option]) if attack[i] else -distance * home_weight
            score += wander * uniform(key, day, i, 1 + j)
            if score > best_score:
                best, best_score = option, score
        if best != here:
            cell[i] = best
            if column[i]:
                moved[best] = True
