"""Scenario events: deployments, withdrawals, reinforcements, advances, policy changes, coups.

Unlike the daily processes, these fire when Mesa's event schedule reaches their date (half a
day before that day's step). A deployment brings a unit's rows to their base (with a new
strength if the event gives one), a withdrawal takes them out of the theatre, a reinforcement
adds personnel, an advance moves the unit's base to a town (an offensive toward an objective:
its rows operate from there); `set_restraint` and `set_posture` change a faction's policy from
that day, `end_support` ends a Western faction's support of its partners, `end_mandate` a UN
mission's mandate (its monitoring); `set_fleet_size`,
`set_fleet_restraint` and `remove_fleet` change a drone fleet from that day. When a Russian unit
arrives in or leaves a country ruled by a junta, the junta's credibility rises by
`russian_support.arrival_credibility` or falls by `departure_credibility` (the source article:
the juntas' credibility rests on Russian-backed success). A junta with a `since` date takes
power on that date (`take_power`) and pulls `junta.post_coup_recall` of its country's mobile
state-side rows back to guard the capital for `junta.post_coup_recall_days` (Niger's junta
against the ECOWAS threat, Aug 2023). Deployments, withdrawals, advances, coups, recalls and
returns are logged as strategic developments.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.forces import GARRISON, MOBILE
from sim.ledger import NONE
from sim.scenario import FLEET_ACTIONS
from sim.world import POSTURES

if TYPE_CHECKING:
    from sim.agents import ForceUnit
    from sim.ledger import Ledger
    from sim.scenario import Event, RussianSupportParams
    from sim.world import World


def apply(world: World, ledger: Ledger, event: Event, rows: Iterable[ForceUnit],
          params: RussianSupportParams) -> None:
    """Carry out `event`; `rows` are the agents of the unit it names (if any)."""
    rows = list(rows)
    if event.action == "set_restraint":
        world.restraint[world.faction_index[event.faction]] = event.restraint
    elif event.action == "set_posture":
        world.posture[world.faction_index[event.faction]] = POSTURES.index(event.posture)
    elif event.action == "end_support":
        world.support_active[world.faction_index[event.faction]] = False
    elif event.action == "end_mandate":
        world.mandate_active[world.faction_index[event.faction]] = False
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
        country = int(world.country_bucket[cell[0]])
        if event.action == "deploy":
            strength = None if event.strength is None else event.strength / len(rows)
            for agent in rows:
                agent.deploy(strength)
            ledger.add_events("deployment", cell, fac, NONE, note=event.unit)
            russian_credibility(world, fac, country, params.arrival_credibility)
        elif event.action == "withdraw":
            if not any(agent.present for agent in rows):
                return
            for agent in rows:
                agent.withdraw()
            ledger.add_events("withdrawal", cell, fac, NONE, note=event.unit)
            russian_credibility(world, fac, country, -params.departure_credibility)
        elif event.action == "reinforce":
            for agent in rows:
                agent.reinforce(event.strength / len(rows))
        elif event.action == "advance":
            x, y = world.geo.town(event.town).cell
            target = x * world.ny + y
            for agent in rows:
                agent.advance(target)
            ledger.add_events("advance", np.array([target]), fac, NONE,
                              note=f"{event.unit} to {event.town}")
    world.refresh_presence()


def russian_credibility(world: World, faction: int, country: int, change: float) -> None:
    """A Russian unit arrived (change > 0) or left: the junta of its country gains or loses."""
    if not world.russian[faction] or country >= len(world.juntas):
        return
    junta = world.juntas[country]
    if junta is not None and world.junta_in_power[country]:
        junta.credibility = min(1.0, max(0.0, junta.credibility + change))


def take_power(world: World, ledger: Ledger, country: int, recall_share: float) -> Recall:
    """The junta of `country` takes power in its coup (its scenario `since` date).

    It pulls `recall_share` of the country's mobile state-side rows back to guard the capital
    (`recall_to_capital`); the model sends them home after `junta.post_coup_recall_days`.
    The day is kept in `World.coup_day` (armed groups' pull toward the country,
    `sim.mechanics.decisions.pull_after_coup`).
    """
    junta = world.juntas[country]
    world.junta_in_power[country] = True
    world.coup_day[country] = ledger.day
    junta.take_power()
    capital = np.array([world.capital_cell[country]])
    ledger.add_events("coup", capital, NONE, NONE, note=f"coup: {junta.leader} takes power")
    return recall_to_capital(world, ledger, country, recall_share)


class Recall(NamedTuple):
    """Rows a junta pulled back to its capital, with the bases they return to."""

    rows: np.ndarray
    home: np.ndarray


def recall_to_capital(world: World, ledger: Ledger, country: int, share: float) -> Recall:
    """Make round(`share` x n) of the country's n mobile state-side rows capital garrisons.

    The rows are present, not Russian and not capital garrison rows freed by Russian guards
    (`World.released`), taken evenly over the rows so that every sector gives up its share.
    """
    units = world.forces
    mobile = np.flatnonzero(
        (units.role == MOBILE) & units.present & world.unit_state_side & ~world.released
        & ~world.russian[units.faction] & (world.country_bucket[units.base] == country))
    k = round(share * mobile.size)
    rows = mobile[np.arange(k) * mobile.size // k] if k else mobile[:0]
    home = units.base[rows].copy()
    capital = int(world.capital_cell[country])
    units.base[rows] = capital
    units.cell[rows] = capital
    units.role[rows] = GARRISON
    _log_by_faction(ledger, "recall", capital, units.faction[rows], "rows to the capital")
    world.refresh_presence()
    return Recall(rows, home)


def end_recall(world: World, ledger: Ledger, recall: Recall, country: int) -> None:
    """The recalled rows become mobile again, back at their sectors' bases at once.

    Rows an `advance` has sent elsewhere in the meantime keep their new base.
    """
    units = world.forces
    capital = int(world.capital_cell[country])
    at_capital = units.base[recall.rows] == capital
    rows = recall.rows[at_capital]
    units.base[rows] = recall.home[at_capital]
    units.cell[rows] = recall.home[at_capital]
    units.role[recall.rows] = MOBILE
    _log_by_faction(ledger, "return", capital, units.faction[recall.rows],
                    "rows back to their sectors")
    world.refresh_presence()


def _log_by_faction(ledger: Ledger, mechanism: str, cell: int, factions: np.ndarray,
                    text: str) -> None:
    """One strategic development per faction moving rows, noting how many rows moved."""
    kinds, counts = np.unique(factions, return_counts=True)
    for fac, count in zip(kinds, counts, strict=True):
        ledger.add_events(mechanism, np.array([cell]), int(fac), NONE, note=f"{count} {text}")
