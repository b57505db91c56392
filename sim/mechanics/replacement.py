"""Replacement: state-side units are brought back toward their establishment strength.

Recruitment and replacements restore the deficit (initial - strength) at a rate of
1 / `replacement_days` a day for every present state, militia and Russian unit row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import JuntaParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: JuntaParams, rng: Stream) -> None:
    """Refill state-side losses by one day's share."""
    units = world.forces
    refill = units.present & world.state_side[units.faction]
    deficit = np.maximum(units.initial[refill] - units.strength[refill], 0.0)
    units.strength[refill] += deficit / params.replacement_days
