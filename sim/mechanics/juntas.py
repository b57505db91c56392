"""Juntas: credibility follows the day's fighting; coups are attempted and may succeed.

Credibility rises with enemy fighters the state side killed today and falls with state-side
fighters killed and complex attacks on the capital (from the ledger), drifting back toward its
baseline (`sim.agents.Junta.update_credibility`). A coup is attempted with daily hazard
coup_rate / 365 * (1 - credibility)^2 and succeeds with a chance that regime-protection guards
at the capital reduce (`sim.agents.Junta.face_coup`); attempts are logged as events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.geography import N_COUNTRIES
from sim.ledger import NONE

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import JuntaParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: JuntaParams, rng: Stream) -> None:
    """Update each junta's credibility and face its coup risk."""
    units = world.forces
    today = ledger.today(world)
    guards = world.guard_rows
    at_capital = units.present[guards] & (
        units.cell[guards] == world.capital_cell[world.country_bucket[units.base[guards]]])
    protection = np.bincount(world.country_bucket[units.base[guards]],
                             weights=units.strength[guards] * at_capital,
                             minlength=N_COUNTRIES + 1)
    draws = rng.uniforms(N_COUNTRIES, 2).T
    for c, junta in enumerate(world.juntas):
        if junta is None:
            continue
        junta.update_credibility(today.enemies_killed[c], today.state_killed[c],
                                 bool(today.capital_attacked[c]), params)
        outcome = junta.face_coup(draws[c], float(protection[c]), params)
        if outcome is not None:
            ledger.add_events("coup_attempt", np.array([world.capital_cell[c]]), NONE, NONE,
                              note=f"coup attempt {outcome}")
