"""Recovery: armed groups' wounded fighters rejoin their group.

State-side units are refilled toward their establishment (`sim.mechanics.replacement`); armed
groups are not refilled toward theirs (`sim.mechanics.reinforcement` only moves fighters
between their units), so without this process every wounded fighter would be lost for good.
Daily, `wounded_return_share` of each armed group's fighters wounded today enter its
convalescent pool (`World.convalescent`); 1 / `wounded_return_days` of the pool rejoins the
group's present rows that day, pro rata to their strength (a group with no present row keeps
its pool until one is present again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import CombatParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: CombatParams, rng: Stream) -> None:
    """Add today's wounded to the pools and return one day's share of them."""
    units = world.forces
    recover(world.convalescent, ledger.wounded_today(), params.wounded_return_share,
            world.guerrilla, params.wounded_return_days, units.faction, units.strength,
            units.present)


@numba.njit(cache=True)
def recover(convalescent, wounded, share, guerrilla, days, faction, strength, present) -> None:
    """The process in one call, in place (as numpy it was some fifteen small array calls)."""
    any_pool = False
    for f in range(convalescent.size):
        convalescent[f] += share * wounded[f] * guerrilla[f]
        any_pool = any_pool or convalescent[f] != 0.0
    if not any_pool:
        return
    total = np.zeros(convalescent.size)  # present strength of each armed group
    for i in range(faction.size):
        if present[i] and guerrilla[faction[i]]:
            total[faction[i]] += strength[i]
    back = np.zeros(convalescent.size)
    for f in range(convalescent.size):
        if total[f] > 0.0:
            back[f] = convalescent[f] / days
        convalescent[f] -= back[f]
    for i in range(faction.size):
        f = faction[i]
        if present[i] and guerrilla[f] and total[f] > 0.0:
            strength[i] += back[f] * strength[i] / total[f]
