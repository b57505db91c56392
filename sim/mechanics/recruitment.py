"""Recruitment of armed groups from aggrieved communities, every `interval_days`.

Armed group a recruits Poisson(recruitment_rate * days * members/1000 * support[c, a]
* reach[a, region]) fighters from community c, where support comes from grievance toward a's
enemies (`sim.mechanics.grievance.support`; grievance toward a's armed rivals weighs
`rival_support`) and reach = min(personnel of a in the region /
`recruitment_reach_personnel`, 1). At most `max_recruit_share` of a community joins in one
draw. Recruits leave their community's cells pro rata and join the group's rows in the region
pro rata to strength; they are counted by country and group (`World.recruited`).

Groups also recruit where they govern: Poisson(governed_recruitment_rate * days * residents
of c in cells the group controls / 1000) more, whatever the community's grievance, wherever
the group has units in the region. Zakat, control of mines and markets and local bargains pay
and bind fighters in the areas a group holds (Nsaibia, Beevor and Berger, GI-TOC/ACLED, Oct
2023), so territory feeds strength and strength takes territory: the feedback through which a
group can grow, with no trend in time.

Both draws of group a are multiplied by its room to grow, max(0, 1 - S_a / (`strength_ceiling`
x S0_a)), S_a its present personnel and S0_a its personnel at the start (the order of battle):
weapons, pay and commanders limit how many recruits a group absorbs, so with a ceiling
recruitment replaces losses rather than grows without bound (0: no ceiling).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

from sim.geography import COMMUNITIES
from sim.mechanics.grievance import support, support_weights
from sim.streams import poisson

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import CivilianParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: CivilianParams, rng: Stream) -> None:
    """Draw `world.period_days` days' worth of recruits and add them to their groups."""
    units = world.forces
    g, n_regions, n_f = len(COMMUNITIES), len(world.geo.regions), len(world.faction_ids)
    world.members = members = world.community_members()
    live = np.flatnonzero(units.present & world.in_sahel[units.cell])
    unit_region = world.region[units.cell[live]]
    by_region = np.bincount(units.faction[live] * n_regions + unit_region,
                            weights=units.strength[live], minlength=n_f * n_regions)
    by_region = by_region.reshape(n_f, n_regions).T  # (R, F)
    reach = np.minimum(by_region / params.recruitment_reach_personnel, 1.0)
    expected = (params.recruitment_rate * world.period_days * (members[:, None] / 1000.0)
                * support(world.grievance, support_weights(world.hostility, world.guerrilla,
                                                           params.rival_support))
                * np.repeat(reach, g, axis=0)
                * world.guerrilla)
    expected += (params.governed_recruitment_rate * world.period_days / 1000.0
                 * governed_members(world, n_regions, g) * np.repeat(by_region > 0, g, axis=0))
    expected *= room_to_grow(units.faction, units.strength, units.initial, units.present,
                             params.strength_ceiling, n_f)
    drawn = draw_recruits(expected, members, params.max_recruit_share, rng.key, rng.day)
    if not drawn.any():
        return
    leaving = drawn.sum(axis=1)
    keep = 1.0 - np.divide(leaving, members, out=np.zeros_like(members), where=members > 0)
    scale_communities(world.residents, world.sahel_idx, world.region, keep)
    world.recruited += world.country_of_community @ drawn
    per_region = drawn.reshape(n_regions, g, n_f).sum(axis=1)  # (R, F)
    fac = units.faction[live]
    denom = by_region[unit_region, fac]
    units.strength[live] += np.divide(per_region[unit_region, fac] * units.strength[live],
                                      denom, out=np.zeros(live.size), where=denom > 0)
    world.refresh_presence()


def room_to_grow(faction: np.ndarray, strength: np.ndarray, initial: np.ndarray,
                 present: np.ndarray, ceiling: float, n_factions: int) -> np.ndarray:
    """(F,) share of each faction's recruits it can absorb: 1 - now / (ceiling x start), in 0-1.

    `now` sums the present rows' strength, `start` every row's initial strength; a ceiling of 0,
    or a faction with no personnel at the start, leaves recruitment as it is (1).
    """
    if ceiling <= 0.0:
        return np.ones(n_factions)
    now = np.bincount(faction[present], weights=strength[present], minlength=n_factions)
    limit = ceiling * np.bincount(faction, weights=initial, minlength=n_factions)
    used = np.divide(now, limit, out=np.zeros(n_factions), where=limit > 0)
    return np.clip(1.0 - used, 0.0, 1.0)


def governed_members(world: World, n_regions: int, g: int) -> np.ndarray:
    """(communities, F) residents of each community in cells each armed group controls."""
    return governed_residents(world.residents, world.sahel_idx, world.controller, world.region,
                              world.actor_faction, n_regions * g, len(world.faction_ids))


@numba.njit(cache=True)
def governed_residents(residents: np.ndarray, cells: np.ndarray, controller: np.ndarray,
                       region: np.ndarray, actor_faction: np.ndarray, n_communities: int,
                       n_factions: int) -> np.ndarray:
    """Residents (communities, F) of `cells` an armed group controls (controller > 0).

    Summed group by group, then cell by cell, the order of the `np.bincount` it replaces.
    """
    g = residents.shape[0]
    out = np.zeros((n_communities, n_factions))
    for j in range(g):
        for c in cells:
            if controller[c] > 0:
                out[region[c] * g + j, actor_faction[controller[c]]] += residents[j, c]
    return out


@numba.njit(cache=True)
def draw_recruits(expected: np.ndarray, members: np.ndarray, max_share: float,
                  key: np.uint64, day: int) -> np.ndarray:
    """Poisson recruits (communities, F), at most `max_share` of each community in all."""
    n_c, n_f = expected.shape
    out = np.zeros((n_c, n_f), dtype=np.int64)
    for c in range(n_c):
        total = 0
        for f in range(n_f):
            if expected[c, f] > 0.0:
                out[c, f] = poisson(expected[c, f], key, day, c * n_f + f, 0)
                total += out[c, f]
        cap = int(np.floor(max_share * members[c]))
        if total > cap:
            for f in range(n_f):
                out[c, f] = int(np.floor(out[c, f] * cap / total))
    return out


@numba.njit(cache=True)
def scale_communities(residents: np.ndarray, cells: np.ndarray, region: np.ndarray,
                      keep: np.ndarray) -> None:
    """Multiply each community's residents in `cells` by its `keep` share, in place."""
    g = residents.shape[0]
    for c in cells:
        for j in range(g):
            residents[j, c] *= keep[region[c] * g + j]
