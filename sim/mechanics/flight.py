"""Flight: people leave cells with deaths and contested cells for the nearest large town.

Each day a cell loses `flight_per_death` people per death there today (civilians or fighters,
from the ledger) and `contested_flight_rate` of its residents if contested (Kalyvas zones 3-4),
at most `max_flight_share` of its residents, and `blockades.flight_block` less out of a
blockaded town (`sim.mechanics.blockades`). They arrive as displaced people in the nearest
town of their country with at least `refuge_min_population` people.

The kernel is a numba loop over the cells of the three countries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import CivilianParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: CivilianParams, rng: Stream) -> None:
    """Move today's fleeing people to their refuges."""
    deaths = ledger.today(world).deaths_per_cell
    flee(world.residents, world.displaced, world.displaced_by_origin, world.sahel_idx,
         world.country_bucket, world.zone, world.refuge, deaths, world.blockaded_by,
         params.flight_per_death, params.contested_flight_rate, params.max_flight_share,
         world.spec.parameters.blockades.flight_block)


@numba.njit(cache=True)
def flee(residents, displaced, displaced_by_origin, sahel_idx, country, zone, refuge, deaths,
         blockaded_by, flight_per_death, contested_rate, max_share, flight_block) -> None:
    """Apply one day's flight in place."""
    g = residents.shape[0]
    for c in sahel_idx:
        contested = zone[c] == 3 or zone[c] == 4
        if not contested and deaths[c] <= 0.0:
            continue
        total = 0.0
        for j in range(g):
            total += residents[j, c]
        if total <= 0.0:
            continue
        share = min(flight_per_death * deaths[c] / total + contested_rate * contested,
                    max_share)
        if blockaded_by[c] > 0:
            share *= 1.0 - flight_block
        for j in range(g):
            residents[j, c] *= 1.0 - share
        displaced[refuge[c]] += total * share
        displaced_by_origin[country[c]] += total * share
