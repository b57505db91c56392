"""Reinforcement: an armed group's command moves fighters between its units.

A group's units are its katibas and fronts; the scenario's order of battle gives each row its
allotted share of the group (its strength on arrival over the group's). Losses, recruits and
returning wounded change the rows unevenly: the units in the fight shrink, those in quiet
country grow. Every decision period the command closes a share 1 - (1 - `reinforcement_rate`)
^ period_days of the gap between each present row's strength and its allotted share of the
group's present strength. Fighters move between rows, never in or out of the group, so the
group's strength is unchanged. Rows in sanctuary abroad take part like the others: the command
sends fighters resting abroad back into the three countries, and recruits to a unit abroad.
A row's allotment is its establishment (`Forces.initial`: its strength on arrival, reset by a
`deploy` with a strength and raised by `reinforce`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import DecisionParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: DecisionParams, rng: Stream) -> None:
    """Move one period's share of each armed group's fighters toward their allotted rows."""
    if params.reinforcement_rate <= 0.0:
        return
    units = world.forces
    rows = np.flatnonzero(units.present & ~world.unit_conventional)
    if rows.size == 0:
        return
    closed = 1.0 - (1.0 - params.reinforcement_rate) ** world.period_days
    units.strength[rows] = reallocated(units.strength[rows], units.initial[rows],
                                       units.faction[rows], closed)
    world.refresh_presence()


def reallocated(strength: np.ndarray, allotted: np.ndarray, faction: np.ndarray,
                closed: float) -> np.ndarray:
    """Strengths moved a share `closed` of the way to each faction's allotment of its total."""
    n_f = int(faction.max()) + 1
    total = np.bincount(faction, weights=strength, minlength=n_f)
    allotment = np.bincount(faction, weights=allotted, minlength=n_f)
    allotted_share = np.divide(allotted, allotment[faction], out=np.zeros_like(allotted),
                               where=allotment[faction] > 0)
    gap = np.where(allotment[faction] > 0, allotted_share * total[faction] - strength, 0.0)
    return strength + closed * gap  # a group with no allotment is left as it is
