"""Influence targets and entrenchment, every `interval_days` (the slow part of control).

Armed groups entrench where they control and lose their hold elsewhere: governance moves
toward 1 or 0 with time constant `governance_days`. Each control actor (the state: all state,
militia and Russian forces; then each armed group) gets a target influence

    T_a = E_a / (sum_b E_b + presence_half)

from its effective presence E_a: its personnel within reach (a `reach_cells` x `reach_cells`
box of cells, state personnel weighted by `state_presence_weight`, as columns pass through while
armed groups live among the people), plus governance times `administration_personnel`, plus, for
the state, its administration where no group governs. The state's target is at least
`town_state_floor` in cells the state holds: cells with a garrison, or with a unit at its base
(a town it occupies, as when the army took Kidal after an advance). `sim.mechanics.control`
relaxes influence toward these targets daily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

from sim.forces import MOBILE

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import ControlParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: ControlParams, rng: Stream) -> None:
    """Entrench, then set each actor's influence target from presence and governance."""
    entrench(world.governance, world.controller[world.sahel_idx],
             params.governance_days / world.period_days)
    world.target = targets(world, params)


def targets(world: World, params: ControlParams) -> np.ndarray:
    """(A, S) target influence of each actor over the three countries' cells."""
    units = world.forces
    holding = (units.role != MOBILE) | (units.cell == units.base)
    return influence_targets(
        units.faction, units.cell, units.strength, units.present, holding,
        world.state_side, world.actor_of_faction, world.sahel_idx, world.sahel_slot,
        world.governance, world.administration, world.ny, int(params.reach_cells),
        params.state_presence_weight, params.administration_personnel, params.presence_half,
        params.town_state_floor)


@numba.njit(cache=True)
def influence_targets(faction, cell, strength, present, static, state_side, actor_of_faction,
                      sahel_idx, sahel_slot, governance, admin, ny, reach_cells, state_weight,
                      admin_personnel, presence_half, town_floor):
    """Target influence (A, S): personnel in reach scattered from the unit rows, then shares."""
    n_a, n_s = governance.shape
    nx = sahel_slot.size // ny
    half = reach_cells // 2
    effective = np.zeros((n_a, n_s))
    garrisoned = np.zeros(n_s, dtype=np.bool_)
    for i in range(faction.size):
        if not present[i]:
            continue
        a = actor_of_faction[faction[i]]
        if a < 0:  # peacekeeping and western forces are no control actors
            continue
        weight = state_weight if a == 0 else 1.0
        x, y = cell[i] // ny, cell[i] % ny
        if state_side[faction[i]] and static[i] and sahel_slot[cell[i]] >= 0:
            garrisoned[sahel_slot[cell[i]]] = True
        for xx in range(max(x - half, 0), min(x + half + 1, nx)):
            for yy in range(max(y - half, 0), min(y + half + 1, ny)):
                s = sahel_slot[xx * ny + yy]
                if s >= 0:
                    effective[a, s] += weight * strength[i]
    target = np.empty((n_a, n_s))
    for s in range(n_s):
        held = 0.0
        for a in range(1, n_a):
            held = max(held, governance[a, s])
            effective[a, s] += governance[a, s] * admin_personnel
        effective[0, s] += admin[sahel_idx[s]] * (1.0 - held) * admin_personnel
        total = presence_half
        for a in range(n_a):
            total += effective[a, s]
        for a in range(n_a):
            target[a, s] = effective[a, s] / total
        if garrisoned[s]:
            target[0, s] = max(target[0, s], town_floor)
    return target


@numba.njit(cache=True)
def entrench(governance: np.ndarray, controller_code: np.ndarray, steps: float) -> None:
    """Move armed groups' governance toward 1 where they control and 0 elsewhere, in place.

    `steps` is the time constant in decision periods. Row 0, the state, is unused: the state's
    hold is its administration. One pass per armed group instead of five array operations.
    """
    for a in range(1, governance.shape[0]):
        row = governance[a]
        for s in range(row.size):
            row[s] += ((controller_code[s] == a) - row[s]) / steps
