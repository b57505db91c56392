"""Replacement: state-side units are brought back toward their establishment strength.

Recruitment and replacements restore the deficit (initial - strength) at a rate of
1 / `replacement_days` a day for every present state, militia and Russian unit row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import JuntaParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: JuntaParams, rng: Stream) -> None:
    """Refill state-side losses by one day's share."""
    units = world.forces
    refill(units.strength, units.initial, units.present, world.unit_state_side,
           params.replacement_days)


@numba.njit(cache=True)
def refill(strength, initial, present, state_side, days) -> None:
    """Restore 1 / `days` of each present state-side row's deficit, in place."""
    for i in range(strength.size):
        if present[i] and state_side[i]:
            strength[i] += max(initial[i] - strength[i], 0.0) / days
