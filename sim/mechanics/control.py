"""Territorial control, daily: influence relaxes toward its target; Kalyvas zones; controller.

Each actor's influence I relaxes toward its target T (`sim.mechanics.influence`):

    I <- I + (T - I) / adjustment_days.

The state's balance b = I_state / (I_state + max_a I_a) gives Kalyvas's zone: 1 (b >=
firm_control), 2, 3 (|b - 1/2| < contested_margin / 2: contested), 4, 5 (b <= 1 -
firm_control). Zones 1-2 are state control, 4-5 the strongest armed group's. Cells where no
actor reaches `minimum_influence` are ungoverned (zone 0): nobody holds them, neither the state
nor an armed group (much of the Sahara).

The kernel is one numba loop over the three countries' cells (about ten numpy calls as arrays).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import ControlParams
    from sim.streams import Stream
    from sim.world import World

CONTESTED, UNGOVERNED = -1, -2


def act(world: World, ledger: Ledger, params: ControlParams, rng: Stream) -> None:
    """One day of relaxation, then zones and controllers."""
    update_control(world.influence, world.target, world.sahel_idx, world.zone,
                   world.controller, 1.0 / params.adjustment_days, params.contested_margin,
                   params.minimum_influence, params.firm_control)


@numba.njit(cache=True)
def update_control(influence, target, sahel_idx, zone, controller, rate, contested_margin,
                   minimum, firm) -> None:
    """Relax influence (A, S) by `rate` toward `target`; write zone and controller (C,).

    The relaxation is a pass per actor over contiguous rows (it vectorises), then one pass
    over the cells for the zones.
    """
    n_a, n_s = influence.shape
    for a in range(n_a):
        row, goal = influence[a], target[a]
        for s in range(n_s):
            row[s] += (goal[s] - row[s]) * rate
    lowest, contested_low, contested_high = 1.0 - firm, 0.5 - contested_margin / 2.0, \
        0.5 + contested_margin / 2.0
    for s in range(n_s):
        best, armed = 1, 0.0
        for a in range(1, n_a):
            if influence[a, s] > armed:
                best, armed = a, influence[a, s]
        state = influence[0, s]
        c = sahel_idx[s]
        if max(state, armed) < minimum:
            zone[c] = 0
            controller[c] = UNGOVERNED
            continue
        balance = state / (state + armed)
        z = 5 - ((balance > lowest) + (balance > contested_low) + (balance >= contested_high)
                 + (balance >= firm))
        zone[c] = z
        controller[c] = CONTESTED if z == 3 else (best if z >= 4 else 0)
