"""Commands decide, every `interval_days`: offensives, raids and the picture of the enemy.

Each junta sends a share of its mobile units on offensives,

    share = offensive_share * posture_factor * (1 + credibility_urgency * (0.5 - credibility)),

within 0-1, more when its credibility is low (it needs victories; source article); none where
no junta rules. Armed groups raid with a
share set by their posture (`raid_share_*`). A unit at less than `regroup_below` of its initial
strength regroups instead. State-side units follow the junta of the country they are in.

Each faction's attraction field is its enemies' personnel, spread over the neighbouring cells
with the weights of three passes of a `field_box_cells`-wide box filter (close to a Gaussian),
so that units sense fights beyond their own cell; armed groups are drawn only to enemy posts
and columns of at most `raid_target_limit` personnel. Factions with the same enemies and kind
share one field. From a junta's dated coup in the run on (Niger, 26 Jul 2023), the jihadist
groups' fields are `1 + post_coup_pull` times stronger in that country's cells: they move in
to exploit the upheaval (`pull_after_coup`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import DecisionParams
    from sim.streams import Stream
    from sim.world import World

FIELD_PASSES = 3  # three box passes approximate a Gaussian (numerical method, not behaviour)


def act(world: World, ledger: Ledger, params: DecisionParams, rng: Stream) -> None:
    """Choose who attacks this period and refresh the attraction fields."""
    units = world.forces
    share = offensive_shares(world, params)  # (F, 4): the three countries, then abroad
    healthy = units.strength >= params.regroup_below * units.initial
    draws = rng.uniforms(units.size)[0]
    chance = share[units.faction, world.country_bucket[units.cell]]
    units.attack[:] = (draws < chance) & healthy
    world.fields = attraction_fields(world.presence, world.presence_cell, world.field_groups,
                                     world.geo.shape, params.raid_target_limit,
                                     params.field_box_cells)
    pull_after_coup(world, ledger.day, params.post_coup_pull)


def offensive_shares(world: World, params: DecisionParams) -> np.ndarray:
    """(F, 4) share of each faction's units on the attack in each country, then abroad."""
    posture = np.array([params.posture_defensive, 1.0, params.posture_offensive])
    raid = np.array([params.raid_share_defensive, params.raid_share_balanced,
                     params.raid_share_offensive])
    ruled = np.array([junta is not None for junta in world.juntas])
    credibility = np.array([junta.credibility if junta is not None else 0.5
                            for junta in world.juntas])
    urgency = 1.0 + params.credibility_urgency * (0.5 - credibility)
    state = (params.offensive_share * posture[world.posture][:, None] * urgency[None, :]
             * ruled[None, :]).clip(0.0, 1.0)
    share = np.where(world.state_side[:, None], state, raid[world.posture][:, None])
    return np.column_stack([share, np.where(world.state_side, state.max(axis=1), share[:, 0])])


def pull_after_coup(world: World, day: int, pull: float) -> None:
    """Scale the jihadist groups' fields by 1 + `pull` in countries whose junta took power.

    A country counts from the day of its junta's dated coup (`World.coup_day`, the scenario's
    `since`; a coup the model draws does not count) and, since fields are refreshed only
    here, from the first decision day on or after it. Only fields shared by a jihadist
    faction change: the state side stays in its own country and the separatists' fight is
    in Mali. Raised fields also weigh more against movement's random `wander` term, so in
    that country the jihadists chase their targets more closely as well as move in.
    """
    after = world.coup_day <= day  # NaN (no coup in the run, or not yet) compares False
    if pull <= 0.0 or not after.any():
        return
    factor = np.append(1.0 + pull * after, 1.0).astype(np.float32)[world.country_bucket]
    jihadist_fields = np.unique(world.field_group[world.jihadists])
    world.fields[jihadist_fields] *= factor[None, :]


def attraction_fields(presence: np.ndarray, counted_cells: np.ndarray, groups: np.ndarray,
                      shape: tuple[int, int], raid_target_limit: float,
                      box_cells: int) -> np.ndarray:
    """Enemy personnel around each cell for each field group, normalised to max 1, (K, C).

    Args:
        presence: (F, C) personnel per faction and cell.
        counted_cells: the cells the unit rows were counted in (`World.presence_cell`), the
            only ones where presence can be non-zero, so the grid need not be scanned.
        groups: (K, F + 1) rows of `sim.world.field_groups`: hostility row, guerrilla flag.
        shape: grid dimensions (nx, ny).
        raid_target_limit: largest enemy force in a cell that guerrillas are drawn to.
        box_cells: width of the box filter, in cells.
    """
    candidates = np.unique(counted_cells)
    occupied = candidates[presence[:, candidates].any(axis=0)]
    enemy = groups[:, :-1] @ presence[:, occupied]
    weak = np.where(enemy <= raid_target_limit, enemy, 0.0)
    sources = np.where(groups[:, -1:] > 0, weak, enemy)
    box = np.ones(int(box_cells)) / box_cells
    weights = box
    for _ in range(FIELD_PASSES - 1):
        weights = np.convolve(weights, box)
    return spread(sources, occupied, weights, shape[1], presence.shape[1])


@numba.njit(cache=True)
def spread(sources: np.ndarray, cells: np.ndarray, weights: np.ndarray, ny: int,
           n_cells: int) -> np.ndarray:
    """Each source's value (K, N) at `cells` (N,) spread with separable `weights`, max 1.

    The window is the outer product of `weights` with itself, applied as two passes (along x,
    then along y) that touch only the cells reached from the few occupied ones; weights that
    fall off the grid are lost (zero padding). Each row is normalised to a maximum of 1 over
    the span of each grid column that the second pass reached (the rest of the row is 0).
    """
    n_k = sources.shape[0]
    nx = n_cells // ny
    half = weights.size // 2
    out = np.zeros((n_k, n_cells), dtype=np.float32)
    column = np.zeros(n_cells)
    touched = np.empty(cells.size * weights.size, dtype=np.int64)
    low = np.empty(nx, dtype=np.int64)  # rows y reached in each column x: low..high
    high = np.empty(nx, dtype=np.int64)
    for k in range(n_k):
        n_touched = 0
        for n in range(cells.size):
            value = sources[k, n]
            if value <= 0.0:
                continue
            x, y = cells[n] // ny, cells[n] % ny
            for xx in range(max(x - half, 0), min(x + half + 1, nx)):
                c = xx * ny + y
                if column[c] == 0.0:
                    touched[n_touched] = c
                    n_touched += 1
                column[c] += value * weights[xx - x + half]
        row = out[k]
        low[:] = ny
        high[:] = -1
        for i in range(n_touched):
            c = touched[i]
            value = column[c]
            column[c] = 0.0
            x, y = c // ny, c % ny
            low[x] = min(low[x], max(y - half, 0))
            high[x] = max(high[x], min(y + half, ny - 1))
            for yy in range(max(y - half, 0), min(y + half + 1, ny)):
                row[x * ny + yy] += value * weights[yy - y + half]
        peak = row[0]  # loops, not row.max() and row /= peak: the same, compiled faster
        for x in range(nx):
            for c in range(x * ny + low[x], x * ny + high[x] + 1):
                peak = max(peak, row[c])
        if peak > 0.0:
            for x in range(nx):
                for c in range(x * ny + low[x], x * ny + high[x] + 1):
                    row[c] = np.float32(row[c] / peak)
    return out
