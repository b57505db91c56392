"""Juntas: credibility follows the day's fighting; coups are attempted and may succeed.

Credibility rises with enemy fighters the state side killed today and falls with state-side
fighters killed and complex attacks on the capital (from the ledger), drifting back toward its
baseline (`sim.agents.Junta.update_credibility`). A coup is attempted with daily hazard
coup_rate / 365 * (1 - credibility / coup_threshold)^2 (zero above the threshold) and succeeds
with a chance that regime-protection guards at the capital reduce
(`sim.agents.Junta.face_coup`); attempts are logged as events. Before a junta's own coup (its
`since` date) the country has an elected government and no coup risk is modelled.

While Russian regime-protection personnel (at least `russian_support.guards_needed`) guard a
capital, `russian_support.garrison_release` of the capital's own garrison rows are freed to
operate as mobile units; they return to garrison when the Russians leave.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

from sim.forces import GARRISON, MOBILE
from sim.geography import N_COUNTRIES
from sim.ledger import NONE

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import JuntaParams, RussianSupportParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: JuntaParams, rng: Stream) -> None:
    """Update each junta's credibility, face its coup risk and free or recall its garrison."""
    units = world.forces
    today = ledger.today(world)
    protection, russian = guards_at_capitals(
        world.guard_rows, units.present, units.cell, units.base, units.strength, units.faction,
        world.russian, world.capital_cell, world.country_bucket)
    release_garrisons(world, russian, world.spec.parameters.russian_support)
    draws = rng.uniforms(N_COUNTRIES, 2).T
    for c, junta in enumerate(world.juntas):
        if junta is None:
            continue
        junta.update_credibility(today.enemies_killed[c], today.state_killed[c],
                                 bool(today.capital_attacked[c]), params)
        if not world.junta_in_power[c]:
            continue  # an elected government until the junta's coup: no coup risk modelled
        outcome = junta.face_coup(draws[c], float(protection[c]), params)
        if outcome is not None:
            ledger.add_events("coup_attempt", np.array([world.capital_cell[c]]), NONE, NONE,
                              note=f"coup attempt {outcome}")


@numba.njit(cache=True)
def guards_at_capitals(guards, present, cell, base, strength, faction, russian, capital_cell,
                       country):
    """Regime-protection personnel at each country's capital, all and Russian, (4,) each."""
    protection = np.zeros(capital_cell.size + 1)
    russians = np.zeros(capital_cell.size + 1)
    for i in guards:
        k = country[base[i]]
        if k < capital_cell.size and present[i] and cell[i] == capital_cell[k]:
            protection[k] += strength[i]
            if russian[faction[i]]:
                russians[k] += strength[i]
    return protection, russians


def release_garrisons(world: World, russian_guards: np.ndarray,
                      params: RussianSupportParams) -> None:
    """Free `garrison_release` of each capital's garrison rows while Russian guards protect it.

    Freed rows operate as mobile units from the capital; when the guards leave they return to
    their garrison at once.
    """
    guarded = (russian_guards[:N_COUNTRIES] >= params.guards_needed).tobytes()
    if guarded == world.guarded_capitals:
        return  # the same capitals are guarded as yesterday: nothing to change
    world.guarded_capitals = guarded
    units = world.forces
    rows = world.capital_garrison
    country = world.country_bucket[units.base[rows]]
    free = np.zeros(rows.size, dtype=bool)
    for c in range(N_COUNTRIES):
        mine = np.flatnonzero(country == c)
        if mine.size and russian_guards[c] >= params.guards_needed:
            free[mine[:round(params.garrison_release * mine.size)]] = True
    back = rows[world.released[rows] & ~free]
    units.cell[back] = units.base[back]
    units.role[rows] = np.where(free, MOBILE, GARRISON)
    world.released[rows] = free
