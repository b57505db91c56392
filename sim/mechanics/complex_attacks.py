"""Complex attacks: rare jihadist assaults on high-value targets (Bamako 17 Sep 2024).

Each jihadist faction attacks with a daily chance `rate` / 365 times its strength relative to
its initial strength, in a country chosen in proportion to its personnel there. The target is
the capital (its air base, a school used as barracks) with probability `capital_share` where the
scenario has a junta, else the country's largest concentration of state-side personnel outside the
capital (so `capital_share` alone sets how often the capital is hit). Deaths are log-normal
(spread `sigma`) around `median_killed` * (1 + massed / `reference_attackers`) **
`attacker_elasticity`, massed being the strength of the faction's present rows, in any country,
within `mass_reach_cells` (Chebyshev) of the target (a raid by a small cell far from them has
the median `median_killed`, a massed assault more), at most
`toll_cap_per_defender` times the defenders present; `civilian_share` of them are bystanders
(at most `civilian_cap_share` of the cell's residents), `attacker_loss_share` are attackers,
who fall to the strongest defender and come from the faction's group in that country nearest
the target; the rest are defenders, split by their personnel, with wounded at the ratio
`killed_fraction` implies. An attack on a drone fleet's air base also destroys or grounds part
of the fleet (`sim.mechanics.drones`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba
import numpy as np

from sim.forces import take_losses
from sim.geography import COMMUNITIES, N_COUNTRIES
from sim.ledger import N_GROUPS
from sim.mechanics.drones import hit_air_base
from sim.mechanics.movement import chebyshev
from sim.mechanics.victims import book_victims, draw_victims
from sim.streams import uniform

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import ComplexAttackParams
    from sim.streams import Stream
    from sim.world import World

_VICTIM_DRAWS = 16  # draws from here on split a complex attack's civilian victims


def act(world: World, ledger: Ledger, params: ComplexAttackParams, rng: Stream) -> None:
    """Draw today's complex attacks and carry them out."""
    units = world.forces
    for fac in attackers(world.jihadists, units.faction, units.strength, units.initial,
                         units.present, params.rate, rng.key, rng.day):
        mine = units.present & (units.faction == fac)
        by_country = np.bincount(world.country_bucket[units.cell[mine]],
                                 weights=units.strength[mine],
                                 minlength=N_COUNTRIES + 1)[:N_COUNTRIES]
        if by_country.sum() <= 0:
            continue
        cumulative = np.cumsum(by_country) / by_country.sum()
        country = int(np.searchsorted(cumulative, uniform(rng.key, rng.day, fac, 1),
                                      side="right"))
        attack(world, ledger, params, int(fac), min(country, N_COUNTRIES - 1), rng)


@numba.njit(cache=True)
def attackers(jihadists, faction, strength, initial, present, rate, key, day):
    """The jihadist factions that attack today (draw 0 of each faction)."""
    out = np.empty(jihadists.size, dtype=np.int64)
    n = 0
    for fac in jihadists:
        chance = rate / 365.0 * strength_ratio(faction, strength, initial, present, fac)
        if uniform(key, day, fac, 0) < chance:
            out[n] = fac
            n += 1
    return out[:n]


@numba.njit(cache=True)
def strength_ratio(faction: np.ndarray, strength: np.ndarray, initial: np.ndarray,
                   present: np.ndarray, fac: int) -> float:
    """A faction's present strength over its initial strength (initial at least 1)."""
    now, start = 0.0, 0.0
    for i in range(faction.size):
        if faction[i] == fac:
            start += initial[i]
            if present[i]:
                now += strength[i]
    return now / max(start, 1.0)


def attack(world: World, ledger: Ledger, params: ComplexAttackParams, fac: int, country: int,
           rng: Stream) -> None:
    """One complex attack by faction `fac` in `country`."""
    units = world.forces
    capital = int(world.capital_cell[country])
    if capital >= 0 and uniform(rng.key, rng.day, fac, 2) < params.capital_share:
        target = capital
    else:
        defenders = world.presence[world.state_side].sum(axis=0) * (world.country_bucket == country)
        if capital >= 0:
            defenders[capital] = 0.0  # the capital is a target only by the draw above
        if defenders.max() <= 0:  # the capital holds every state-side soldier there
            return
        target = int(defenders.argmax())
    present = world.presence[:, target] * world.state_side
    if present.sum() <= 0:
        return
    rows = np.flatnonzero(units.present & (units.faction == fac))
    distance = chebyshev(units.cell[rows], target, world.ny)
    massed = float(units.strength[rows[distance <= params.mass_reach_cells]].sum())
    in_country = world.country_bucket[units.cell[rows]] == country
    nearest = int(rows[in_country][distance[in_country].argmin()]) if in_country.any() else None
    u1 = max(uniform(rng.key, rng.day, fac, 3), 1e-300)
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * uniform(rng.key, rng.day, fac, 4))
    toll = int(min(round(median_toll(params, massed) * math.exp(params.sigma * z)),
                   max(present.sum(), 1.0) * params.toll_cap_per_defender))
    civilians = min(round(toll * params.civilian_share),
                    int(world.residents[:, target].sum() * params.civilian_cap_share))
    attackers = round(toll * params.attacker_loss_share)
    soldiers = max(toll - civilians - attackers, 0)
    killed = np.minimum(np.floor(soldiers * present / present.sum()), present).astype(np.int64)
    kf = params.killed_fraction
    wounded = np.minimum(np.floor(killed * (1 - kf) / kf), np.floor(present - killed))
    wounded = wounded.astype(np.int64)
    take_losses(units.strength, units.present, units.faction, units.cell, world.presence,
                target, (killed + wounded).astype(float))
    defender = int(present.argmax())
    event = ledger.add_events("complex_attack", np.array([target]), fac, defender)
    hit_air_base(world, target, rng.day)
    hit = np.flatnonzero((killed > 0) | (wounded > 0))
    ledger.book(event[0], N_GROUPS + hit, fac, killed[hit], wounded[hit])
    if attackers and nearest is not None:
        lost = int(min(attackers, np.floor(units.strength[nearest])))
        units.strength[nearest] -= lost
        if units.strength[nearest] < 1.0:
            units.present[nearest] = False
            units.strength[nearest] = 0.0
        ledger.book(event[0], N_GROUPS + fac, defender, lost)
    if civilians > 0:
        victims = np.zeros((1, len(COMMUNITIES)), dtype=np.int64)
        draw_victims(world.residents, target, world.bias[fac], civilians, victims[0], rng.key,
                     rng.day, fac, _VICTIM_DRAWS)
        book_victims(world, ledger, event, np.array([target]), np.array([fac]), victims)
    world.refresh_presence()


def median_toll(params: ComplexAttackParams, massed: float) -> float:
    """The median deaths of an attack with `massed` of the faction's fighters within reach."""
    ratio = 1.0 + massed / params.reference_attackers
    return params.median_killed * ratio ** params.attacker_elasticity
