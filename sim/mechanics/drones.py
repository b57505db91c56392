"""Drone strikes: the juntas' armed drones from their air bases, armed groups' bomb-carrying drones.

Each fleet k (`sim.fleets.Fleets`, scenario tables `[drones.<id>]`) flies, from its start date
and unless grounded,

    n_k ~ Poisson(size_k * sorties_k)

strike sorties a day. A sortie is launched from the fleet's air base, or for an armed group's
drones without a base from one of the faction's present unit rows drawn at random. It looks
for targets within `range_km` of the launch point: for a state fleet, cells of its own country
with at least `min_concentration` fighters hostile to its faction; for an armed group's drones,
cells of the three countries with state-side personnel hostile to it (posts, command posts).
The target cell is drawn in proportion to the hostile personnel H there (larger
concentrations are found more easily); a state sortie strikes with probability
H / (H + `detection_personnel`), an armed group's always (it knows where the posts are).

A strike causes Poisson(`casualties_per_strike`) casualties among the hostile personnel
(`group_casualties_per_strike` for an armed group's drones), at most `max_loss_share` of H,
Binomial(casualties, `killed_fraction`) of them killed, the rest wounded; both are split over
the hostile factions present in proportion to their personnel and taken from their rows.
Civilians die with probability

    collateral_rate * (1 - restraint) * R / (R + populated_half)

where R is the cell's residents (none where nobody lives) and the restraint is the fleet's if
the scenario sets one, else its faction's current restraint. A state strike that harms
civilians hits a gathering (a funeral, a wedding, a market crowd taken for a concentration of
fighters) with probability `gathering_share`, times `market_multiplier` on the cell's weekly
market day ((cell + day) mod 7 = 0); it then kills Poisson(`gathering_killed`) civilians,
else (and always for an armed group's drones, aimed at posts) max(1,
Poisson(`bystanders_killed`)), at most
`max_resident_share` of R, drawn over the communities living there (`sim.mechanics.victims`,
with no community bias: the surroundings decide). Every strike is an "Explosions/Remote
violence / Air/drone strike" event, actor1 the operating faction, actor2 the strongest hostile
faction in the cell.

A complex attack on a fleet's air base (`hit_air_base`, called by
`sim.mechanics.complex_attacks.attack`) destroys Binomial(size, `base_destroyed_share`)
airframes and grounds the fleet for `grounded_days`, applied by this process the same day.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numba
import numpy as np

from sim.forces import take_losses
from sim.geography import KM_PER_DEGREE
from sim.ledger import MECHANISM_NAMES
from sim.ledger_rows import event_rows
from sim.mechanics.victims import draw_victims
from sim.streams import binomial, multinomial, poisson, uniform

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.scenario import DroneParams
    from sim.streams import Stream
    from sim.world import World

# Random numbers: item k (a fleet) draws its air-base losses (draws 0-1) and its sorties
# (draw 10 on); item SORTIE_ITEM * (k + 1) + s is its sortie s, with these first draws:
SORTIE_ITEM = 100_000
DRONE_STRIKE = MECHANISM_NAMES.index("drone_strike")
_LAUNCH, _TARGET, _STRIKE, _HARM, _GATHERING = 0, 1, 2, 3, 4
_CASUALTIES, _KILLED, _CIVILIANS, _SPLIT_KILLED, _SPLIT_WOUNDED, _VICTIMS = (
    100, 110, 200, 300, 400, 500)


def act(world: World, ledger: Ledger, params: DroneParams, rng: Stream) -> None:
    """Today's drone strikes, booked with their casualties."""
    fleets = world.fleets
    if fleets is None or not fleets.ids:
        return
    counts, total = sorties_today(
        fleets.size, fleets.sorties, fleets.start_day, fleets.grounded_until, fleets.hit_day,
        fleets.destroyed, params.base_destroyed_share, params.grounded_days, rng.key, rng.day)
    if total == 0:
        return
    units, geo = world.forces, world.geo
    fleet, cells, target, killed, wounded, victims = fly(
        counts, fleets.faction, fleets.state_side, fleets.base, fleets.range_km,
        fleets.restraint, fleets.reach, fleets.reach_start, world.restraint, world.hostility,
        world.presence, units.faction, units.cell, units.strength, units.present,
        world.geo.lat.reshape(-1), world.geo.lon.reshape(-1), world.in_sahel, world.residents,
        geo.nx, geo.ny, geo.resolution, params.min_concentration, params.detection_personnel,
        params.casualties_per_strike, params.group_casualties_per_strike,
        params.killed_fraction, params.max_loss_share, params.collateral_rate,
        params.populated_half, params.gathering_share, params.market_multiplier,
        params.bystanders_killed, params.gathering_killed, params.max_resident_share,
        rng.key, rng.day)
    if fleet.size == 0:
        return
    events, casualties = event_rows(cells, DRONE_STRIKE, fleets.faction[fleet], target,
                                    killed, wounded, victims)
    ledger.log(events, casualties)
    world.refresh_presence()


def hit_air_base(world: World, cell: int, day: int) -> None:
    """Mark the fleets based at `cell`, hit by a complex attack today.

    `act` destroys part of each and grounds it the same day.
    """
    fleets = world.fleets
    if fleets is not None and fleets.ids:
        fleets.hit_day[fleets.base == cell] = day


@numba.njit(cache=True)
def sorties_today(size, sorties, start_day, grounded_until, hit_day, destroyed,
                  destroyed_share, grounded_days, key, day):
    """Sorties of each fleet today (K,) and their total.

    A fleet whose air base was hit today first loses Binomial(size, destroyed_share)
    airframes and is grounded for `grounded_days`.
    """
    k_fleets = size.size
    counts = np.zeros(k_fleets, dtype=np.int64)
    total = 0
    for k in range(k_fleets):
        if hit_day[k] == day:
            lost = binomial(int(size[k]), destroyed_share, key, day, k, 0)
            size[k] -= lost
            destroyed[k] += lost
            grounded_until[k] = day + math.ceil(grounded_days)
        if day < start_day[k] or day < grounded_until[k] or size[k] <= 0.0:
            continue
        n = poisson(size[k] * sorties[k], key, day, k, 10)
        counts[k] = min(n, int(4.0 * size[k] + 1.0))
        total += counts[k]
    return counts, total


@numba.njit(cache=True)
def distance_km(lat1, lon1, lat2, lon2):
    """Equirectangular distance in km between two points (degrees)."""
    dx = (lon2 - lon1) * KM_PER_DEGREE * math.cos(math.radians(0.5 * (lat1 + lat2)))
    dy = (lat2 - lat1) * KM_PER_DEGREE
    return math.sqrt(dx * dx + dy * dy)


@numba.njit(cache=True)
def hostile_personnel(presence, hostility, faction, cell):
    """Personnel in `cell` of the factions hostile to `faction`."""
    total = 0.0
    for g in range(presence.shape[0]):
        if hostility[faction, g] > 0.0:
            total += presence[g, cell]
    return total


@numba.njit(cache=True)
def candidate_cells(launch, range_km, lat, lon, in_sahel, nx, ny, resolution):
    """Cells of the three countries within `range_km` of the cell `launch`."""
    lx, ly = launch // ny, launch % ny
    wy = math.ceil(range_km / (resolution * KM_PER_DEGREE)) + 1
    coslat = max(math.cos(math.radians(abs(lat[launch]) + wy * resolution)), 0.05)
    wx = math.ceil(range_km / (resolution * KM_PER_DEGREE * coslat)) + 1
    out = np.empty((2 * wx + 1) * (2 * wy + 1), dtype=np.int64)
    n = 0
    for x in range(max(lx - wx, 0), min(lx + wx, nx - 1) + 1):
        for y in range(max(ly - wy, 0), min(ly + wy, ny - 1) + 1):
            c = x * ny + y
            if in_sahel[c] and distance_km(lat[launch], lon[launch], lat[c], lon[c]) <= range_km:
                out[n] = c
                n += 1
    return out[:n]


@numba.njit(cache=True)
def choose_target(cells, presence, hostility, faction, min_target, u):
    """Draw a target among `cells` in proportion to the hostile personnel there.

    Only cells with at least `min_target` count; returns (cell, hostile personnel), or
    (-1, 0) if there is none.
    """
    total = 0.0
    for c in cells:
        h = hostile_personnel(presence, hostility, faction, c)
        if h >= min_target:
            total += h
    if total <= 0.0:
        return -1, 0.0
    threshold = u * total
    cumulative = 0.0
    last, last_h = -1, 0.0
    for c in cells:
        h = hostile_personnel(presence, hostility, faction, c)
        if h >= min_target:
            cumulative += h
            last, last_h = c, h
            if cumulative > threshold:
                return c, h
    return last, last_h


@numba.njit(cache=True)
def harm_probability(residents, restraint, collateral_rate, populated_half):
    """Chance a strike kills civilians: by the cell's residents and the restraint."""
    if residents < 1.0:
        return 0.0
    p = collateral_rate * (1.0 - restraint) * residents / (residents + populated_half)
    return min(max(p, 0.0), 1.0)


@numba.njit(cache=True)
def fly(counts, fleet_faction, fleet_state, base, range_km, fleet_restraint, reach,
        reach_start, restraint, hostility, presence, unit_faction, unit_cell, unit_strength,
        unit_present, lat, lon, in_sahel, residents, nx, ny, resolution, min_concentration,
        detection_personnel, casualties_per_strike, group_casualties_per_strike,
        killed_fraction, max_loss_share, collateral_rate, populated_half, gathering_share,
        market_multiplier, bystanders_killed, gathering_killed, max_resident_share, key, day):
    """Fly today's sorties and return the strikes.

    Returns fleet (S,), cell (S,), actor2 (S,), fighters killed and wounded by faction (S, F)
    and civilian victims by community (S, G). Losses are taken from the unit rows (and from
    `presence`, so later sorties see them) and victims from the residents as strikes happen.
    """
    n_factions = presence.shape[0]
    g = residents.shape[0]
    total = 0
    for k in range(counts.size):
        total += counts[k]
    fleet = np.empty(total, dtype=np.int64)
    cells = np.empty(total, dtype=np.int64)
    target = np.empty(total, dtype=np.int64)
    killed = np.zeros((total, n_factions), dtype=np.int64)
    wounded = np.zeros((total, n_factions), dtype=np.int64)
    victims = np.zeros((total, g), dtype=np.int64)
    weights = np.empty(n_factions)
    losses = np.empty(n_factions)
    no_bias = np.ones(g)
    n = 0
    for k in range(counts.size):
        if counts[k] == 0:
            continue
        f = fleet_faction[k]
        own_restraint = fleet_restraint[k] if fleet_restraint[k] >= 0.0 else restraint[f]
        state = fleet_state[k]
        min_target = min_concentration if state else 1.0
        mean_casualties = casualties_per_strike if state else group_casualties_per_strike
        mine = np.flatnonzero(unit_present & (unit_faction == f))
        for s in range(counts[k]):
            item = SORTIE_ITEM * (k + 1) + s
            if base[k] >= 0:
                options = reach[reach_start[k]:reach_start[k + 1]]
            else:
                if mine.size == 0:
                    break
                row = mine[min(int(uniform(key, day, item, _LAUNCH) * mine.size), mine.size - 1)]
                options = candidate_cells(unit_cell[row], range_km[k], lat, lon, in_sahel, nx,
                                          ny, resolution)
            c, h = choose_target(options, presence, hostility, f, min_target,
                                 uniform(key, day, item, _TARGET))
            if c < 0:
                continue
            if state and uniform(key, day, item, _STRIKE) >= h / (h + detection_personnel):
                continue
            # Fighters: casualties split over the hostile factions by their personnel.
            strongest, most = -1, 0.0
            for j in range(n_factions):
                weights[j] = presence[j, c] if hostility[f, j] > 0.0 else 0.0
                if weights[j] > most:
                    strongest, most = j, weights[j]
            casualties = poisson(mean_casualties, key, day, item, _CASUALTIES)
            casualties = min(casualties, math.floor(max_loss_share * h))
            dead = binomial(casualties, killed_fraction, key, day, item, _KILLED)
            multinomial(dead, weights, killed[n], key, day, item, _SPLIT_KILLED)
            multinomial(casualties - dead, weights, wounded[n], key, day, item, _SPLIT_WOUNDED)
            for j in range(n_factions):
                losses[j] = min(float(killed[n, j] + wounded[n, j]), presence[j, c])
            take_losses(unit_strength, unit_present, unit_faction, unit_cell, presence, c,
                        losses)
            for j in range(n_factions):
                presence[j, c] = max(presence[j, c] - losses[j], 0.0)
            # Civilians: by the surroundings and the restraint.
            here = 0.0
            for j in range(g):
                here += residents[j, c]
            p = harm_probability(here, own_restraint, collateral_rate, populated_half)
            if uniform(key, day, item, _HARM) < p:
                gathering = gathering_share
                if (c + day) % 7 == 0:
                    gathering *= market_multiplier
                if state and uniform(key, day, item, _GATHERING) < gathering:
                    dead_civilians = poisson(gathering_killed, key, day, item, _CIVILIANS)
                else:
                    dead_civilians = max(poisson(bystanders_killed, key, day, item, _CIVILIANS),
                                         1)
                dead_civilians = min(dead_civilians, math.floor(max_resident_share * here))
                if dead_civilians > 0:
                    draw_victims(residents, c, no_bias, dead_civilians, victims[n], key, day,
                                 item, _VICTIMS)
            fleet[n] = k
            cells[n] = c
            target[n] = strongest
            n += 1
    return fleet[:n], cells[:n], target[:n], killed[:n], wounded[:n], victims[:n]
