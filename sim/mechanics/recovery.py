"""Recovery: armed groups' wounded fighters rejoin their group.

State-side units are refilled toward their establishment (`sim.mechanics.replacement`); armed
groups have no establishment, so without this process every wounded fighter would be lost
for good. Daily, `wounded_return_share` of each armed group's fighters wounded today enter its
convalescent pool (`World.convalescent`); 1 / `wounded_return_days` of the pool rejoins the
group's present rows that day, pro rata to their strength (a group with no present row keeps
its pool until one is present again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import CombatParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: CombatParams, rng: Stream) -> None:
    """Add today's wounded to the pools and return one day's share of them."""
    world.convalescent += (params.wounded_return_share * ledger.wounded_today()
                           * world.guerrilla)
    if not world.convalescent.any():
        return
    units = world.forces
    live = np.flatnonzero(units.present & world.guerrilla[units.faction])
    faction = units.faction[live]
    strength = np.bincount(faction, weights=units.strength[live],
                           minlength=world.convalescent.size)
    back = np.where(strength > 0, world.convalescent / params.wounded_return_days, 0.0)
    world.convalescent -= back
    units.strength[live] += np.divide(back[faction] * units.strength[live], strength[faction],
                                      out=np.zeros(live.size), where=strength[faction] > 0)
