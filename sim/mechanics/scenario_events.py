"""Scenario events: deployments, withdrawals, reinforcements and policy changes on their date.

Unlike the daily processes, these fire when Mesa's event schedule reaches their date (half a
day before that day's step). A deployment brings a unit's rows to their base (with a new
strength if the event gives one), a withdrawal takes them out of the theatre, a reinforcement
adds personnel; `set_restraint` and `set_posture` change a faction's policy from that day;
`set_fleet_size`, `set_fleet_restraint` and `remove_fleet` change a drone fleet from that day.
Deployments and withdrawals are logged as strategic developments.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from sim.ledger import NONE
from sim.scenario import FLEET_ACTIONS
from sim.world import POSTURES

if TYPE_CHECKING:
    from sim.agents import ForceUnit
    from sim.ledger import Ledger
    from sim.scenario import Event
    from sim.world import World


def apply(world: World, ledger: Ledger, event: Event, rows: Iterable[ForceUnit]) -> None:
    """Carry out `event`; `rows` are the agents of the unit it names (if any)."""
    rows = list(rows)
    if event.action == "set_restraint":
        world.restraint[world.faction_index[event.faction]] = event.restraint
    elif event.action == "set_posture":
        world.posture[world.faction_index[event.faction]] = POSTURES.index(event.posture)
    elif event.action in FLEET_ACTIONS:
        fleets = world.fleets
        k = fleets.index(event.fleet)
        if event.action == "set_fleet_size":
            fleets.size[k] = event.size
        elif event.action == "set_fleet_restraint":
            fleets.restraint[k] = event.restraint
        else:  # remove_fleet
            fleets.size[k] = 0.0
        return
    elif rows:
        first = rows[0]
        fac = world.faction_index[first.faction]
        cell = np.array([world.forces.base[first.index]])
        if event.action == "deploy":
            strength = None if event.strength is None else event.strength / len(rows)
            for agent in rows:
                agent.deploy(strength)
            ledger.add_events("deployment", cell, fac, NONE, note=event.unit)
        elif event.action == "withdraw":
            if not any(agent.present for agent in rows):
                return
            for agent in rows:
                agent.withdraw()
            ledger.add_events("withdrawal", cell, fac, NONE, note=event.unit)
        elif event.action == "reinforce":
            for agent in rows:
                agent.reinforce(event.strength / len(rows))
    world.refresh_presence()
