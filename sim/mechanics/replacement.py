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
    deficit = np.maximum(units.initial - units.strength, 0.0)
    units.strength += deficit * (units.present & world.unit_state_side) / params.replacement_days
