"""Violence against civilians by armed units.

Every present unit commits a violent event on a given day with probability

    p = base_rate * (1 - restraint) * min(strength / 100, strength_cap)
        * (contested_multiplier if the cell is in Kalyvas zones 2-4)

where the cell has residents. Armed groups punish communities that side with the state: their
probability is multiplied by 1 + `collaboration_multiplier` x the state's influence in the
cell; the state side, in turn, punishes communities suspected of supporting the armed groups:
its probability is multiplied by 1 + `suspicion_multiplier` x the armed groups' influence there.
Factions avenge their dead: the probability is multiplied by 1 + `reprisal_multiplier`
x L / 100, L the faction's fighters killed by others in the cell's region, a memory that
halves every `reprisal_half_life` days (`World.losses_to_avenge`). Where an elected government
still rules (a country whose junta has not yet taken power: Niger before 26 Jul 2023) and
negotiates with the armed groups, their probability is cut by `dialogue_restraint`; in a
country where a UN mission with a mandate is present (`World.monitored`), the state side's is
cut by `monitoring_restraint` (its human-rights monitoring: Mali until MINUSMA's mandate ended
on 30 Jun 2023). Within
reach of an occupied peacekeeping camp it is cut by `foreign.protection`
(`sim.mechanics.foreign_forces`). Event sizes are Pareto-distributed (heavy-tailed, so single
events of hundreds occur), multiplied by `indiscriminate_multiplier` where the perpetrator's
own influence is below `weak_control` (Kalyvas: indiscriminate violence where control is low),
capped by `size_cap` and by `max_resident_share` of the cell's residents. Victims are drawn by
`sim.mechanics.victims`.

A state-side faction reports an event, with its `reported_as_combat` chance, as fighters killed
in combat: its dead are claimed as fighters of the armed group with the most influence in the
cell (none where no armed group has any) and the conflict data record a clash
(`Ledger.claim`; the calibration's ACLED-based statistics read the record, every other output
what happened).

The kernel is a numba loop over unit rows, which draws and removes victims event by event, so
that events in one cell never kill more people than live there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

from sim.ledger import CIVILIANS
from sim.mechanics.victims import book_victims, draw_victims
from sim.streams import item_uniforms, uniform

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import ViolenceParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: ViolenceParams, rng: Stream) -> None:
    """Today's events against civilians, booked with their victims."""
    units = world.forces
    if params.reprisal_multiplier > 0.0:  # the memory matters only while reprisals are on
        world.losses_to_avenge *= 2.0 ** (-1.0 / params.reprisal_half_life)
        world.losses_to_avenge += ledger.fighters_killed_today(world.region,
                                                               world.losses_to_avenge.shape[1])
    rows, victims = commit_violence(
        units.cell, units.faction, units.strength, units.present, world.restraint, world.bias,
        world.actor_of_faction, world.guerrilla, world.influence, world.sahel_slot, world.zone,
        world.protected, world.residents, params.base_rate, params.strength_cap,
        params.contested_multiplier, params.collaboration_multiplier,
        params.suspicion_multiplier, world.influence[1:].sum(axis=0), params.size_scale,
        params.size_tail, params.size_cap, params.max_resident_share,
        params.indiscriminate_multiplier, params.weak_control,
        world.spec.parameters.foreign.protection, world.losses_to_avenge,
        params.reprisal_multiplier, world.region, dialogue_by_country(world, params),
        monitoring_by_country(world, params), world.country_bucket, rng.key, rng.day)
    keep = victims.sum(axis=1) > 0
    if not keep.any():
        return
    rows, victims = rows[keep], victims[keep]
    cells, perpetrators = units.cell[rows], units.faction[rows]
    events = ledger.add_events("violence_against_civilians", cells, perpetrators, CIVILIANS)
    book_victims(world, ledger, events, cells, perpetrators, victims)
    shares = world.reported_as_combat[perpetrators]
    if shares.any():
        report_as_combat(world, ledger, rows, events, cells, shares, rng)


_CLAIM_DRAW = 1000  # a unit row's draw deciding whether its event is reported as combat


def report_as_combat(world: World, ledger: Ledger, rows: np.ndarray, events: np.ndarray,
                     cells: np.ndarray, shares: np.ndarray, rng: Stream) -> None:
    """Claim the dead of some of today's events as fighters (see the module docstring).

    Uses draw `_CLAIM_DRAW` of each event's unit row. Only cells of the three countries have
    influence, so events elsewhere are never claimed; ties go to the armed group listed first.
    """
    if world.influence.shape[0] < 2:  # no armed group to claim
        return
    slot = world.sahel_slot[cells]
    armed = world.influence[1:, np.maximum(slot, 0)]  # (armed groups, events)
    claimed = ((item_uniforms(rng.key, rng.day, rows, _CLAIM_DRAW) < shares) & (slot >= 0)
               & (armed.max(axis=0) > 0.0))
    if claimed.any():
        enemy = world.actor_faction[1 + armed[:, claimed].argmax(axis=0)]
        ledger.claim(events[claimed], enemy)


def dialogue_by_country(world: World, params: ViolenceParams) -> np.ndarray:
    """The share of armed groups' violence each country's government prevents by dialogue.

    (N_COUNTRIES + 1,): `dialogue_restraint` in a country whose junta has not yet taken power
    (an elected government), 0 where a junta rules, where no government is modelled and abroad.
    """
    elected = [junta is not None and not in_power
               for junta, in_power in zip(world.juntas, world.junta_in_power, strict=True)]
    return np.append(np.where(elected, params.dialogue_restraint, 0.0), 0.0)


def monitoring_by_country(world: World, params: ViolenceParams) -> np.ndarray:
    """The share of the state side's violence a UN mission's monitoring prevents per country.

    (N_COUNTRIES + 1,): `monitoring_restraint` where a UN mission with a mandate is present,
    else 0.
    """
    return np.where(world.monitored, params.monitoring_restraint, 0.0)


def event_probability(restraint: float, strength: float, contested: bool, base_rate: float,
                      strength_cap: float, contested_multiplier: float) -> float:
    """A unit's daily chance of an event (see the module docstring)."""
    size = min(strength / 100.0, strength_cap)
    factor = contested_multiplier if contested else 1.0
    return min(max(base_rate * (1.0 - restraint) * size * factor, 0.0), 1.0)


def pareto_size(uniform_draw: float, scale: float, tail: float) -> float:
    """Heavy-tailed event size from a uniform draw u in [0, 1): scale * (1 - u)^(-1/tail)."""
    return scale * (1.0 - uniform_draw) ** (-1.0 / tail)


_probability = numba.njit(cache=True)(event_probability)
_pareto = numba.njit(cache=True)(pareto_size)


@numba.njit(cache=True)
def commit_violence(cell, faction, strength, present, restraint, bias, actor_of_faction,
                    guerrilla, influence, sahel_slot, zone, protected, residents, base_rate,
                    strength_cap, contested_multiplier, collaboration_multiplier,
                    suspicion_multiplier, rival_influence, size_scale,
                    size_tail, size_cap, max_resident_share, indiscriminate_multiplier,
                    weak_control, protection, losses_to_avenge, reprisal_multiplier, region,
                    dialogue, monitoring, country, key, day):
    """Events of the day: (E,) perpetrating unit rows and (E, G) victims by community.

    Draws per unit row: 0 the event, 1 its size, 2 rounding, from 3 the victims' split (two
    per community group), `_CLAIM_DRAW` the report (`report_as_combat`).
    """
    g = residents.shape[0]
    units = np.empty(cell.size, dtype=np.int64)
    victims = np.zeros((cell.size, g), dtype=np.int64)
    n = 0
    for i in range(cell.size):
        if not present[i]:
            continue
        c, f = cell[i], faction[i]
        here = 0.0
        for j in range(g):
            here += residents[j, c]
        if here < 1.0:
            continue
        contested = 2 <= zone[c] <= 4
        p = _probability(restraint[f], strength[i], contested, base_rate, strength_cap,
                         contested_multiplier)
        slot = sahel_slot[c]
        if guerrilla[f] and slot >= 0:  # punishing communities that side with the state
            p = min(p * (1.0 + collaboration_multiplier * influence[0, slot]), 1.0)
        elif actor_of_faction[f] == 0 and slot >= 0:  # the state side punishing suspects
            p = min(p * (1.0 + suspicion_multiplier * rival_influence[slot]), 1.0)
        if reprisal_multiplier > 0.0 and region[c] >= 0:  # for the faction's dead there
            p = min(p * (1.0 + reprisal_multiplier * losses_to_avenge[f, region[c]] / 100.0),
                    1.0)
        if guerrilla[f]:  # an elected government's local accords
            p *= 1.0 - dialogue[country[c]]
        elif actor_of_faction[f] == 0:  # the state side under a UN mission's eyes
            p *= 1.0 - monitoring[country[c]]
        p *= 1.0 - protection * protected[c]
        if uniform(key, day, i, 0) >= p:
            continue
        size = _pareto(uniform(key, day, i, 1), size_scale, size_tail)
        a = actor_of_faction[f]
        own = influence[a, slot] if slot >= 0 and a >= 0 else 0.0
        if own < weak_control:
            size *= indiscriminate_multiplier
        size = min(size, size_cap, max_resident_share * here)
        deaths = int(np.floor(size + uniform(key, day, i, 2)))
        draw_victims(residents, c, bias[f], deaths, victims[n], key, day, i, 3)
        units[n] = i
        n += 1
    return units[:n], victims[:n]
