"""Engagements: stochastic Lanchester attrition between hostile forces sharing a cell.

Each day, in every cell where mutually hostile factions are present, a fight happens with
probability `engage_probability`, times (1 - `evasion`) where guerrillas are outnumbered by
conventional forces (they slip away), also when a column comes upon them: guerrillas fight a
column only when they are at least as many or fail to slip away. Expected casualties per
faction follow

- aimed fire (conventional clash, Lanchester square law): dA/dt = -sum_b k fp_b B;
- the mixed law (Deitchman 1962) when guerrillas ambush a moving column: the column A suffers
  aimed fire multiplied by `ambush_multiplier`, the hidden guerrillas G suffer area fire
  dG/dt = -c fp_A A G;

then realised casualties are Poisson draws capped at `max_daily_loss` of the force, split into
killed (binomial, `killed_fraction`) and wounded, and attributed to perpetrators in proportion
to their share of the fire (multinomial). The initiator (ACLED's actor1) is the guerrillas in an
ambush, else the faction with most personnel on offensive or raiding orders in the cell, else
the strongest faction present; actor2 is the strongest faction hostile to it.

A column ambushed where the state holds no ground (Kalyvas zones 4-5, or ungoverned) by
ambushers who outnumber it is cut off (Tinzaouaten, Jul 2024): it fights up to
`trapped_rounds` more rounds, each a day's exchange on the survivors, until it is no longer
outnumbered or nothing of it is left; its wounded are not evacuated, so `trapped_killed_fraction`
of its casualties die. The rounds are booked as one event on the day of the ambush.

The kernel is one numba pass over the occupied cells (a bit mask of the factions present finds
the hostile ones); as numpy it was some thirty array calls a day on small arrays.

Around occupied peacekeeping camps fights are `deterrence` less likely; where Western forces
support their partner country's forces, those fight with firepower x (1 + `support_firepower`)
and suffer an ambush advantage reduced by `support_warning` (`sim.mechanics.foreign_forces`).
When an armed group attacks in a populated cell, Poisson(`raid_civilians_per_death` x fighters
killed) civilians die with the fighters (raids on villages and towns), drawn by
`sim.mechanics.victims`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

from sim.forces import refresh_presence
from sim.ledger import MECHANISM_NAMES, N_GROUPS
from sim.mechanics.victims import draw_victims
from sim.streams import binomial, multinomial, poisson, uniform

AMBUSH, CLASH = MECHANISM_NAMES.index("ambush"), MECHANISM_NAMES.index("clash")
RAID_DRAWS = 1 << 20  # a cell's draws from here on are its raid victims'.

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import CombatParams
    from sim.streams import Stream
    from sim.world import World


def act(world: World, ledger: Ledger, params: CombatParams, rng: Stream) -> None:
    """Fight today's engagements, take the losses and book them."""
    units = world.forces
    foreign = world.spec.parameters.foreign
    events, casualties = fight(
        world.presence, world.assault, world.presence_cell, world.moved, units.cell,
        units.present, units.strength, units.faction, units.attack, world.hostility,
        world.enemy_mask, world.firepower, world.guerrilla, world.protected, world.supported,
        world.partner_bit, world.residents, world.bias, params.engage_probability,
        params.evasion, params.aimed_fire_rate, params.area_fire_rate,
        params.ambush_multiplier, params.killed_fraction, params.max_daily_loss,
        params.raid_civilians_per_death, foreign.deterrence, foreign.support_firepower,
        foreign.support_warning, world.zone, params.trapped_rounds,
        params.trapped_killed_fraction, rng.key, rng.day)
    if len(events):
        ledger.log(events, casualties)


@numba.njit(cache=True)
def fight(presence, assault, presence_cell, moved, cell, present, strength, faction, attack,
          hostility, enemies, firepower, guerrilla, protected, supported, partner, residents,
          bias, engage_probability, evasion, aimed_rate, area_rate, ambush_multiplier,
          killed_fraction, max_daily_loss, raid_per_death, deterrence, support_firepower,
          support_warning, zone, trapped_rounds, trapped_killed_fraction, key, day):
    """The day's engagements (`engage`), their raid victims and the recount of presence.

    One call a day instead of some ten numpy calls of glue. Returns the ledger's rows
    (`sim.ledger.Ledger.log`): events (K, 4) and casualties, the fighters' then the
    civilians' by engagement and community group.
    """
    cells, ambush, actor1, actor2, rows = engage(
        presence, assault, moved, cell, present, strength, faction, hostility, enemies,
        firepower, guerrilla, protected, supported, partner, engage_probability, evasion,
        aimed_rate, area_rate, ambush_multiplier, killed_fraction, max_daily_loss,
        deterrence, support_firepower, support_warning, zone, trapped_rounds,
        trapped_killed_fraction, key, day)
    n_k = cells.size
    events = np.empty((n_k, 4), dtype=np.int64)
    deaths = np.zeros(n_k)
    for k in range(n_k):
        events[k, 0] = cells[k]
        events[k, 1] = AMBUSH if ambush[k] else CLASH
        events[k, 2] = actor1[k]
        events[k, 3] = actor2[k]
    for r in range(rows.shape[0]):
        deaths[rows[r, 0]] += rows[r, 3]
    victims = raid_victims(cells, actor1, deaths, guerrilla, residents, bias, raid_per_death,
                           key, day)
    n_civ = 0
    for k in range(n_k):
        for j in range(victims.shape[1]):
            if victims[k, j] > 0:
                n_civ += 1
    out = np.zeros((rows.shape[0] + n_civ, 5), dtype=np.int64)
    for r in range(rows.shape[0]):
        out[r, 0] = rows[r, 0]
        out[r, 1] = N_GROUPS + rows[r, 1]
        out[r, 2] = rows[r, 2]
        out[r, 3] = rows[r, 3]
        out[r, 4] = rows[r, 4]
    r = rows.shape[0]
    for k in range(n_k):
        for j in range(victims.shape[1]):
            if victims[k, j] > 0:
                out[r, 0] = k
                out[r, 1] = j
                out[r, 2] = actor1[k]
                out[r, 3] = victims[k, j]
                r += 1
    if n_k > 0:
        refresh_presence(presence, assault, presence_cell, faction, cell, strength, present,
                         attack)
    return events, out


@numba.njit(cache=True)
def raid_victims(cells, actor1, deaths, guerrilla, residents, bias, per_death, key, day):
    """Civilians killed when armed groups attack in populated cells, (K, G).

    Poisson(`per_death` x fighters killed) per engagement an armed group initiated; victims
    drawn by `sim.mechanics.victims.draw_victims` (and removed from the residents).
    """
    out = np.zeros((cells.size, residents.shape[0]), dtype=np.int64)
    for k in range(cells.size):
        a = actor1[k]
        if a < 0 or not guerrilla[a] or deaths[k] <= 0:
            continue
        n = poisson(per_death * deaths[k], key, day, cells[k], RAID_DRAWS)
        if n > 0:
            draw_victims(residents, cells[k], bias[a], n, out[k], key, day, cells[k],
                         RAID_DRAWS + 64)
    return out


@numba.njit(cache=True)
def expected_casualties(forces: np.ndarray, hostility: np.ndarray, firepower: np.ndarray,
                        guerrilla: np.ndarray, ambush: bool, aimed_rate: float,
                        area_rate: float, ambush_multiplier: np.ndarray) -> np.ndarray:
    """Expected casualties inflicted on victim a by perpetrator b in one cell, (F, F).

    Args:
        forces: (F,) personnel per faction in the cell.
        hostility: (F, F) 1 where hostile.
        firepower: (F,) relative effectiveness per fighter.
        guerrilla: (F,) True for armed groups (they can hide and ambush).
        ambush: True where guerrillas ambush a moving column (mixed law).
        aimed_rate: Lanchester aimed-fire coefficient k (casualties per fighter-day).
        area_rate: Deitchman area-fire coefficient c (per fighter squared per day).
        ambush_multiplier: (F,) factor on guerrilla aimed fire on each faction's column in an
            ambush.
    """
    n = forces.size
    out = np.zeros((n, n))
    for a in range(n):
        if forces[a] <= 0.0:
            continue
        for b in range(n):
            if forces[b] <= 0.0 or hostility[a, b] <= 0.0:
                continue
            shooters = firepower[b] * forces[b]
            if ambush and guerrilla[a] and not guerrilla[b]:  # hidden: area fire c A G
                out[a, b] = area_rate * hostility[a, b] * shooters * forces[a]
            elif ambush and guerrilla[b] and not guerrilla[a]:  # the column under fire
                out[a, b] = aimed_rate * hostility[a, b] * shooters * ambush_multiplier[a]
            else:
                out[a, b] = aimed_rate * hostility[a, b] * shooters
    return out


@numba.njit(cache=True)
def engage(presence, assault, moved, cell, present, strength, faction, hostility, enemies,
           firepower, guerrilla, protected, supported, partner, engage_probability, evasion,
           aimed_rate, area_rate, ambush_multiplier, killed_fraction, max_daily_loss,
           deterrence, support_firepower, support_warning, zone, trapped_rounds,
           trapped_killed_fraction, key, day):
    """Resolve today's engagements; losses are taken from the unit rows in place.

    Peacekeepers deter fights in `protected` cells; in a `supported` cell (a bit mask of the
    partner countries supported there) a faction whose country bit (`partner`) is set fights
    with more firepower and suffers less from ambushes.

    Returns:
        cells (K,), ambush (K,), actor1 (K,), actor2 (K,) of the engagements, and casualty
        rows (R, 5): engagement index, victim faction, perpetrator, killed, wounded.
    Draws per cell: 0 whether the fight happens; from 1 + 64 a the casualties of faction a
    (Poisson, then binomial from + 48), from 1 + 64 (F + a) and 1 + 64 (2 F + a) their split;
    a cut-off column's round r (from 0) shifts these by 192 F r.
    """
    n_f = presence.shape[0]
    seen = np.zeros(presence.shape[1], dtype=np.bool_)
    factions_in = np.zeros(presence.shape[1], dtype=np.int64)  # bit mask, from the rows
    n_occ = 0
    for i in range(cell.size):
        if present[i] and not seen[cell[i]]:
            seen[cell[i]] = True
            n_occ += 1
        if present[i] and strength[i] > 0.0:
            factions_in[cell[i]] |= np.int64(1) << faction[i]
    occupied = np.empty(n_occ, dtype=np.int64)  # in cell order (a scan: np.sort compiles slowly)
    n_occ = 0
    for c in range(seen.size):
        if seen[c]:
            occupied[n_occ] = c
            n_occ += 1
    cells = np.empty(n_occ, dtype=np.int64)
    ambushes = np.zeros(n_occ, dtype=np.bool_)
    actor1 = np.empty(n_occ, dtype=np.int64)
    actor2 = np.empty(n_occ, dtype=np.int64)
    losses = np.zeros((n_occ, n_f))
    rows = np.zeros((4 * n_f, 5), dtype=np.int64)
    n_rows, k = 0, 0
    share = np.empty(n_f)
    split = np.zeros(n_f, dtype=np.int64)
    wounded = np.zeros(n_f, dtype=np.int64)
    tally = np.zeros((n_f, n_f, 2), dtype=np.int64)  # killed, wounded of a by b
    alive = np.empty(n_f)
    fire = np.empty(n_f)
    multiplier = np.empty(n_f)
    for c in occupied:
        mask = factions_in[c]  # the factions with personnel here, without reading presence
        hostile = False
        for f in range(n_f):
            if (mask >> f) & 1 and enemies[f] & mask:
                hostile = True
                break
        if not hostile:
            continue
        forces = presence[:, c]
        hidden, regular = 0.0, 0.0
        for f in range(n_f):
            if guerrilla[f]:
                hidden += forces[f]
            else:
                regular += forces[f]
        ambush = moved[c] and hidden > 0.0
        chance = engage_probability * (1.0 - deterrence * protected[c])
        if 0.0 < hidden < regular:  # outnumbered guerrillas slip away, a column or not
            chance *= 1.0 - evasion
        if uniform(key, day, c, 0) >= chance:
            continue
        for f in range(n_f):
            boost = 1.0 if int(supported[c]) & partner[f] else 0.0
            fire[f] = firepower[f] * (1.0 + support_firepower * boost)
            multiplier[f] = 1.0 + (ambush_multiplier - 1.0) * (1.0 - support_warning * boost)
        trapped = ambush and (zone[c] == 0 or zone[c] >= 4) and outnumbered(forces, guerrilla)
        tally[:, :, :] = 0
        for r in range(1 + trapped_rounds if trapped else 1):
            offset = r * 64 * 3 * n_f  # each round's draws
            for f in range(n_f):
                alive[f] = forces[f] - losses[k, f]
            if r > 0 and not outnumbered(alive, guerrilla):
                break  # the column broke out, or nobody of it is left
            expected = expected_casualties(alive, hostility, fire, guerrilla, ambush,
                                           aimed_rate, area_rate, multiplier)
            for a in range(n_f):
                total = 0.0
                for b in range(n_f):
                    total += expected[a, b]
                if total <= 0.0:
                    continue
                lost = min(poisson(total, key, day, c, offset + 1 + 64 * a),
                           int(np.floor(max_daily_loss * alive[a])))
                if lost <= 0:
                    continue
                losses[k, a] += lost
                dying = trapped_killed_fraction if trapped and not guerrilla[a] else killed_fraction
                killed = binomial(lost, dying, key, day, c, offset + 1 + 64 * a + 48)
                for b in range(n_f):
                    share[b] = expected[a, b]
                multinomial(killed, share, split, key, day, c, offset + 1 + 64 * (n_f + a))
                multinomial(lost - killed, share, wounded, key, day, c,
                            offset + 1 + 64 * (2 * n_f + a))
                for b in range(n_f):
                    tally[a, b, 0] += split[b]
                    tally[a, b, 1] += wounded[b]
        if n_rows + n_f * n_f > rows.shape[0]:
            grown = np.zeros((2 * rows.shape[0] + n_f * n_f, 5), dtype=np.int64)
            for r in range(n_rows):  # a loop: slice assignment compiles ~30 MB more
                for j in range(5):
                    grown[r, j] = rows[r, j]
            rows = grown
        for a in range(n_f):
            for b in range(n_f):
                if tally[a, b, 0] > 0 or tally[a, b, 1] > 0:
                    rows[n_rows, 0] = k
                    rows[n_rows, 1] = a
                    rows[n_rows, 2] = b
                    rows[n_rows, 3] = tally[a, b, 0]
                    rows[n_rows, 4] = tally[a, b, 1]
                    n_rows += 1
        first = initiator(forces, assault[:, c], guerrilla, ambush)
        second, best = -2, 0.0
        for f in range(n_f):
            if hostility[first, f] > 0.0 and forces[f] > best:
                second, best = f, forces[f]
        cells[k], ambushes[k], actor1[k], actor2[k] = c, ambush, first, second
        k += 1
    take_cell_losses(losses[:k], cells[:k], presence, cell, present, strength, faction,
                     factions_in)
    return cells[:k], ambushes[:k], actor1[:k], actor2[:k], rows[:n_rows]


@numba.njit(cache=True)
def outnumbered(forces: np.ndarray, guerrilla: np.ndarray) -> bool:
    """Whether a column (regular forces) is left and its ambushers outnumber it."""
    hidden, regular = 0.0, 0.0
    for f in range(forces.size):
        if guerrilla[f]:
            hidden += forces[f]
        else:
            regular += forces[f]
    return 0.0 < regular < hidden


@numba.njit(cache=True)
def initiator(forces: np.ndarray, assault: np.ndarray, guerrilla: np.ndarray,
              ambush: bool) -> int:
    """The side that attacked: the ambushers, else the most personnel on attack orders."""
    best, best_force = -1, 0.0
    for f in range(forces.size):
        weight = forces[f] if ambush and guerrilla[f] else (0.0 if ambush else assault[f])
        if weight > best_force:
            best, best_force = f, weight
    if best < 0:
        for f in range(forces.size):
            if forces[f] > best_force:
                best, best_force = f, forces[f]
    return best


@numba.njit(cache=True)
def take_cell_losses(losses, cells, presence, cell, present, strength, faction, slot) -> None:
    """Take each faction's casualties in a cell from its rows there, pro rata to strength.

    `slot` (C,) int64 is scratch space (overwritten where the rows are).
    """
    if cells.size == 0:
        return
    for i in range(cell.size):
        slot[cell[i]] = -1
    for k in range(cells.size):
        slot[cells[k]] = k
    for i in range(cell.size):
        k = slot[cell[i]]
        if not present[i] or k < 0:
            continue
        there = presence[faction[i], cell[i]]
        if there <= 0.0:
            continue
        strength[i] = max(strength[i] - losses[k, faction[i]] * strength[i] / there, 0.0)
        if strength[i] < 1.0:
            strength[i] = 0.0
            present[i] = False
