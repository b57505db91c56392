"""Movement of force units over the grid, one Moore step at most per day.

Each week every faction gets an attraction field: the personnel of its enemies, smoothed with
three passes of a 5-cell box filter (close to a Gaussian of 2.4 cells), so units sense fights
beyond their own cell. Each day a mobile unit moves with probability `speed` to the
neighbouring cell (or stays) with the best score:

- on offensive (state) or raiding (armed groups): the attraction field, normalised (armed
  groups are drawn only to enemy posts and columns of at most `raid_target_limit` personnel);
- defending or holding: minus the distance to its base;

plus `wander` times uniform noise. State-side units may not leave their country's cells or go
beyond `state_reach` cells (Chebyshev distance) of their base; armed groups may use foreign
cells only where their faction has `sanctuary_abroad`.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

BOX_SIZE, BOX_PASSES = 5, 3  # three 5-cell box passes: variance 3 * (5^2 - 1) / 12 = 6 ~ 2.4^2


def field_groups(hostility: np.ndarray, guerrilla: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Factions with the same enemies and kind share one attraction field.

    Returns:
        (K, F + 1) distinct rows of [hostility row, guerrilla flag], and (F,) the row of each
        faction.
    """
    kinds = np.column_stack([hostility, guerrilla])
    unique, which = np.unique(kinds, axis=0, return_inverse=True)
    return unique, which.ravel()


def attraction_fields(presence: np.ndarray, groups: np.ndarray, shape: tuple[int, int],
                      raid_target_limit: float) -> np.ndarray:
    """Enemy personnel around each cell for each field group, normalised to max 1, (K, C).

    Guerrilla groups are drawn only to enemy concentrations of at most `raid_target_limit`
    personnel in a cell (posts and columns they can overrun), not to strongholds.

    Args:
        presence: (F, C) personnel per faction and cell.
        groups: (K, F + 1) rows of `field_groups`.
        shape: grid dimensions (nx, ny).
        raid_target_limit: largest enemy force in a cell that guerrillas are drawn to.
    """
    enemy = groups[:, :-1] @ presence
    weak = np.where(enemy <= raid_target_limit, enemy, 0.0)
    smooth = np.where(groups[:, -1:] > 0, weak, enemy).astype(np.float32)
    smooth = smooth.reshape(len(groups), *shape)
    for _ in range(BOX_PASSES):  # repeated box filters approximate a Gaussian
        for axis in (1, 2):
            smooth = uniform_filter1d(smooth, BOX_SIZE, axis=axis, mode="constant")
    smooth = smooth.reshape(len(groups), -1)
    peak = smooth.max(axis=1, keepdims=True)
    return np.divide(smooth, peak, out=np.zeros_like(smooth), where=peak > 0)


def chebyshev(cells: np.ndarray, targets: np.ndarray, ny: int) -> np.ndarray:
    """Chebyshev distance in cells between flat ids (broadcasting)."""
    return np.maximum(np.abs(cells // ny - targets // ny), np.abs(cells % ny - targets % ny))


def choose_moves(
    u_move: np.ndarray,
    noise: np.ndarray,
    cell: np.ndarray,
    allowed_row: np.ndarray,
    group: np.ndarray,
    base: np.ndarray,
    attack: np.ndarray,
    field: np.ndarray,
    allowed: np.ndarray,
    reach: np.ndarray,
    speed: np.ndarray,
    neighbours: np.ndarray,
    wander: float,
    ny: int,
) -> np.ndarray:
    """New cell of each unit.

    Args:
        u_move: (U,) uniform draws: a unit moves if its draw is below its speed.
        noise: (U, 9) uniform draws for the random part of the choice.
        cell: (U,) current flat cell.
        allowed_row: (U,) row of `allowed` that applies to each unit.
        base: (U,) base flat cell.
        attack: (U,) True to climb the attraction field, False to return toward base.
        field: (K, C) attraction per field group and cell.
        allowed: (R, C) rows of cells a unit may enter.
        group: (U,) field group of each unit.
        reach: (U,) maximum distance from base in cells (inf for armed groups).
        speed: (U,) probability of moving today.
        neighbours: (C, 9) Moore neighbourhood including the cell itself.
        wander: weight of random noise in the choice.
        ny: grid height, for distances.
    """
    new = cell.copy()
    movers = np.flatnonzero(u_move < speed)
    options = neighbours[cell[movers]]  # (M, 9)
    rows = allowed_row[movers, None]
    distance = chebyshev(options, base[movers, None], ny)
    score = np.where(attack[movers, None], field[group[movers, None], options], -distance / 10.0)
    score += wander * noise[movers]
    ok = allowed[rows, options] & (distance <= reach[movers, None])
    ok[:, 0] = True  # staying is always possible
    score[~ok] = -np.inf
    new[movers] = options[np.arange(movers.size), score.argmax(axis=1)]
    return new
