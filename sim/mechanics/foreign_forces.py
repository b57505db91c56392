"""UN and Western forces: where their presence protects, deters and supports, each day.

Peacekeeping camps (MINUSMA) protect civilians and deter attacks within `peacekeeping_radius`
cells: violence against civilians there is cut by `protection` and engagements by
`deterrence` (`sim.mechanics.violence`, `sim.mechanics.combat`); peacekeepers fight only in
self-defence (their faction is neutral in the scenario's relations). State forces do not enter
the `camp_exclusion` cells around an occupied camp: the army took Kidal only after the camp was
handed over. Western forces (France, the United States) support the state forces of their
partner country within `support_reach` cells of their bases while their support lasts (an
`end_support` event, e.g. after Niger's coup, switches it off before they leave): partner
firepower is multiplied by (1 + `support_firepower`) and the ambush advantage against partner
columns is cut by `support_warning` (`sim.mechanics.combat`). A cell's `supported` value is
the bit mask of the partner countries supported there (bit c for country c), so French
support from Niamey never boosts Burkina Faso's forces that happen to be within its reach.
A country where peacekeepers whose mandate has not ended (`World.mandate_active`, switched off
by an `end_mandate` event) are present is `World.monitored`: the UN mission's human-rights
monitoring restrains the state side's violence there (`sim.mechanics.violence`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import ForeignParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: ForeignParams, rng: Stream) -> None:
    """Mark today's protected and supported cells and the countries a UN mission monitors.

    The marks change only when a foreign unit arrives, leaves or moves, or a Western force's
    support ends: they are recomputed only then.
    """
    units = world.forces
    rows = world.foreign_rows
    state = (units.present[rows].tobytes() + units.cell[rows].tobytes()
             + world.support_active.tobytes() + world.mandate_active.tobytes())
    if state == world.foreign_state:
        return
    world.foreign_state = state
    kind = np.where(world.foreign & world.support_active, 2,
                    np.where(world.foreign & (world.partner_of < 0), 1, 0))
    cover(units.faction, units.cell, units.present, kind, world.support_bit, world.ny,
          world.protected, world.supported, world.excluded, params.peacekeeping_radius,
          params.support_reach, params.camp_exclusion)
    mandated = rows[units.present[rows] & world.mandate_active[units.faction[rows]]]
    world.monitored[:] = False
    world.monitored[world.country_bucket[units.cell[mandated]]] = True
    world.monitored[-1] = False  # a mission abroad monitors none of the three countries


@numba.njit(cache=True)
def cover(faction, cell, present, kind, partner_bit, ny, protected, supported, excluded,
          radius, reach, exclusion) -> None:
    """Mark protected (kind 1) and supported (kind 2: the partner's bit) cells, and exclusions."""
    protected[:] = 0.0
    supported[:] = 0.0
    excluded[:] = False
    nx = protected.size // ny
    for i in range(faction.size):
        k = kind[faction[i]]
        if not present[i] or k == 0:
            continue
        x, y = cell[i] // ny, cell[i] % ny
        r = int(radius) if k == 1 else int(reach)
        for xx in range(max(x - r, 0), min(x + r + 1, nx)):
            for yy in range(max(y - r, 0), min(y + r + 1, ny)):
                if k == 1:
                    protected[xx * ny + yy] = 1.0
                    if abs(xx - x) <= exclusion and abs(yy - y) <= exclusion:
                        excluded[xx * ny + yy] = exclusion > 0
                else:
                    mask = int(supported[xx * ny + yy]) | partner_bit[faction[i]]
                    supported[xx * ny + yy] = float(mask)
