"""Movement of force units over the grid, one Moore step at most per day.

Each day a mobile unit moves with probability `speed` (state or armed group) to the
neighbouring cell (or stays) with the best score:

- on offensive (state) or raiding (armed groups): its faction's attraction field (see
  `sim.mechanics.decisions`);
- defending or holding: minus `home_weight` times the distance to its base, in cells;

plus `wander` times uniform noise. State-side units may not leave their country's cells or go
beyond `state_reach` cells (Chebyshev distance) of their base (a unit beyond it, as after an
advance, may only close in on its base), nor into the cells around an
occupied peacekeeping camp (`sim.mechanics.foreign_forces`); armed groups may use foreign
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
    move_units(units.cell, units.base, units.present, units.attack, units.role,
               world.unit_state_side, world.allowed_row, world.unit_field_group, world.fields,
               world.allowed, world.excluded, world.neighbours,
               world.moved, params.state_speed, params.insurgent_speed, params.state_reach,
               params.wander, params.home_weight, world.ny, rng.key, rng.day)
    world.refresh_presence()


def chebyshev(cells: np.ndarray, targets: np.ndarray, ny: int) -> np.ndarray:
    """Chebyshev distance in cells between flat ids (broadcasting)."""
    return np.maximum(np.abs(cells // ny - targets // ny), np.abs(cells % ny - targets % ny))


@numba.njit(cache=True)
def move_units(cell, base, present, attack, role, state_side, allowed_row, group, field,
               allowed, excluded, neighbours, moved, state_speed, insurgent_speed, state_reach,
               wander, home_weight, ny, key, day) -> None:
    """Move the mobile units in place; `moved` (C,) is set where a state unit moved.

    Per unit row: `state_side` (its faction is state-side, so it moves as a column, at
    `state_speed`, within `state_reach` of its base and never into `excluded` cells),
    `group` (its attraction field).
    Draws per unit row: 0 whether it moves, 1-9 noise for its nine options.
    """
    moved[:] = False
    for i in range(cell.size):
        speed = state_speed if state_side[i] else insurgent_speed
        if not present[i] or role[i] != MOBILE or uniform(key, day, i, 0) >= speed:
            continue
        reach = state_reach if state_side[i] else np.inf
        here = cell[i]
        bx, by = base[i] // ny, base[i] % ny
        now = max(abs(here // ny - bx), abs(here % ny - by))
        best, best_score = here, -np.inf
        for j in range(9):
            option = neighbours[here, j]
            distance = max(abs(option // ny - bx), abs(option % ny - by))
            # Beyond reach (e.g. after its base moved), a unit may only close in on its base.
            if j > 0 and (not allowed[allowed_row[i], option]
                          or (distance > reach and distance >= now)
                          or (state_side[i] and excluded[option])):
                continue
            score = float(field[group[i], option]) if attack[i] else -distance * home_weight
            score += wander * uniform(key, day, i, 1 + j)
            if score > best_score:
                best, best_score = option, score
        if best != here:
            cell[i] = best
            if state_side[i]:
                moved[best] = True
