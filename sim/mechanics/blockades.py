"""Blockades: armed groups besiege towns the state still holds (Djibo, Timbuktu).

Every `interval_days` a town of at least `min_population` people that the state holds or
contests is blockaded by the armed group that dominates at least `ring_share` of the cells of
the three countries in the ring of radius `ring_cells` around it (a cell it holds, zones 4-5,
counts fully; a contested cell where it is the strongest armed group counts half); the blockade
lifts when that no longer holds. Each day around a blockaded town the blockading group kills
Poisson(`death_rate` x (residents + `displaced_exposure` x displaced) / 100,000) civilians
(attacks on convoys, on people leaving, on supply runs; the displaced sheltering there share
the residents' exposure, as in Djibo; residents' victims drawn by `sim.mechanics.victims`,
the displaced's split over the town's communities; logged as violence against civilians), and
`flight_block` of the flight out of the town is prevented (`sim.mechanics.flight`). Where an
elected government negotiates with the armed groups (Niger before its coup), the killings are
cut by `violence.dialogue_restraint`, as are the groups' other attacks on civilians
(`sim.mechanics.violence.dialogue_by_country`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

from sim.ledger import CIVILIANS, MECHANISM_NAMES
from sim.mechanics.victims import draw_victims
from sim.mechanics.violence import dialogue_by_country
from sim.streams import binomial, multinomial, poisson

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import BlockadeParams
    from sim.streams import Stream
    from sim.world import World

BLOCKADE = MECHANISM_NAMES.index("blockade")
DISPLACED_DRAW = 64  # the draws of the displaced's victims (after draw_victims' from 8)


def act(world: World, ledger: Ledger, params: BlockadeParams, rng: Stream) -> None:
    """Update which towns are blockaded (periodically) and draw today's deaths around them."""
    towns = world.town_cells
    if world.is_decision_day(rng.day):
        besiege(towns, world.controller, world.influence, world.sahel_slot,
                world.country_bucket, world.blockaded_by, world.ny, int(params.ring_cells),
                params.ring_share)
    events, casualties = siege_victims(
        towns, world.blockaded_by, world.actor_faction, world.residents, world.bias,
        world.displaced, world.displaced_by_origin, world.country_bucket, params.death_rate,
        dialogue_by_country(world, world.spec.parameters.violence), params.displaced_exposure,
        rng.key, rng.day)
    if len(events):
        ledger.log(events, casualties)


@numba.njit(cache=True)
def besiege(towns, controller, influence, sahel_slot, country, blockaded_by, ny, ring,
            share) -> None:
    """Set `blockaded_by` of each town cell: the armed group dominating its ring, or -1."""
    nx = controller.size // ny
    held = np.zeros(influence.shape[0])
    for town in towns:
        blockaded_by[town] = -1
        if controller[town] > 0 or controller[town] == -2:  # held by a group, or ungoverned
            continue
        held[:] = 0.0
        cells = 0
        x, y = town // ny, town % ny
        for xx in range(max(x - ring, 0), min(x + ring + 1, nx)):
            for yy in range(max(y - ring, 0), min(y + ring + 1, ny)):
                c = xx * ny + yy
                if c == town or country[c] >= 3:
                    continue
                cells += 1
                if controller[c] > 0:
                    held[controller[c]] += 1.0
                elif controller[c] == -1:  # contested: half to the strongest armed group
                    s = sahel_slot[c]
                    held[strongest(influence[:, s])] += 0.5
        if cells == 0:
            continue
        best = strongest(held)
        if held[best] >= share * cells:
            blockaded_by[town] = best


@numba.njit(cache=True)
def strongest(values):
    """The armed group (index >= 1) with the largest value, the first of equals (argmax)."""
    best = 1
    for a in range(2, values.size):
        if values[a] > values[best]:
            best = a
    return best


@numba.njit(cache=True)
def siege_victims(towns, blockaded_by, actor_faction, residents, bias, displaced,
                  displaced_by_origin, country, death_rate, dialogue, exposure, key, day):
    """Civilians killed around each blockaded town today, as the ledger's rows.

    `dialogue` (N_COUNTRIES + 1,) is the share of the killings each country's elected
    government prevents by its dialogue with the armed groups.

    Victims among the displaced (Binomial by their share of the exposed people) leave
    `displaced` and `displaced_by_origin` (a refuge is in its people's country) and are booked
    over the town's communities in proportion to its residents (they have no group of their
    own). Returns events (K, 4) of the towns with victims and their casualties (R, 5)
    (`sim.ledger.Ledger.log`).
    """
    g = residents.shape[0]
    victims = np.zeros((towns.size, g), dtype=np.int64)
    hit = np.zeros(towns.size, dtype=np.bool_)
    n_events, n_rows = 0, 0
    for t in range(towns.size):
        town = towns[t]
        if blockaded_by[town] <= 0:
            continue
        people = 0.0
        for j in range(g):
            people += residents[j, town]
        sheltered = exposure * max(displaced[town], 0.0)
        rate = death_rate * (1.0 - dialogue[country[town]])
        n = poisson(rate * (people + sheltered) / 100000.0, key, day, town, 0)
        among = 0
        if n > 0 and sheltered > 0.0:
            among = min(binomial(n, sheltered / (people + sheltered), key, day, town,
                                 DISPLACED_DRAW), int(np.floor(displaced[town])))
        if n - among > 0:
            draw_victims(residents, town, bias[actor_faction[blockaded_by[town]]], n - among,
                         victims[t], key, day, town, 8)
        if among > 0:
            displaced[town] -= among
            displaced_by_origin[country[town]] -= among
            weights = np.maximum(residents[:, town], 0.0)
            if weights.sum() <= 0.0:
                weights[:] = 1.0  # nobody left of its own: the displaced are booked evenly
            split = np.zeros(g, dtype=np.int64)
            multinomial(among, weights, split, key, day, town, DISPLACED_DRAW + 2)
            victims[t] += split
        for j in range(g):
            if victims[t, j] > 0:
                hit[t] = True
                n_rows += 1
        n_events += hit[t]
    events = np.empty((n_events, 4), dtype=np.int64)
    casualties = np.zeros((n_rows, 5), dtype=np.int64)
    k, r = 0, 0
    for t in range(towns.size):
        if not hit[t]:
            continue
        fac = actor_faction[blockaded_by[towns[t]]]
        events[k, 0], events[k, 1], events[k, 2], events[k, 3] = towns[t], BLOCKADE, fac, CIVILIANS
        for j in range(g):
            if victims[t, j] > 0:
                casualties[r, 0], casualties[r, 1] = k, j
                casualties[r, 2], casualties[r, 3] = fac, victims[t, j]
                r += 1
        k += 1
    return events, casualties
