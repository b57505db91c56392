"""Setting up the world of a run from a scenario and its geography.

`build_world` turns the scenario's factions, units, juntas and held areas into the arrays of
`sim.world.World`: which cells each faction may enter, the state's administration, the towns
the displaced go to, the capitals, the force rows and the residents.
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import PropertyLayer
from scipy.spatial import cKDTree

from sim.fleets import build_fleets
from sim.forces import build_forces
from sim.geography import (
    ABROAD,
    COMMUNITIES,
    COUNTRIES,
    N_COUNTRIES,
    SAHARAN,
    SAHELIAN,
    SUDANIAN,
    Geography,
)
from sim.scenario import ARMED_GROUP_KINDS, FOREIGN_KINDS, STATE_SIDE_KINDS, Scenario
from sim.world import LAYERS, POSTURES, STATIC_LAYERS, World

EARTH_RADIUS_KM = 6371.0  # mean radius of the Earth


def build_world(scenario: Scenario, geo: Geography, placement_key: np.uint64) -> World:
    """Set up the world of a run: factions, cells, forces and civilians."""
    specs = list(scenario.factions.values())
    ids = list(scenario.factions)
    state_side = np.array([f.kind in STATE_SIDE_KINDS for f in specs])
    guerrilla = np.array([f.kind in ARMED_GROUP_KINDS for f in specs])
    bias = np.ones((len(specs), len(COMMUNITIES)))
    for i, f in enumerate(specs):
        for group, weight in f.target_bias.items():
            bias[i, COMMUNITIES.index(group)] = weight
    actor_ids = ["state", *[fid for fid, g in zip(ids, guerrilla, strict=True) if g]]
    actor_of_faction = np.array([0 if state_side[i] else
                                 (actor_ids.index(fid) if guerrilla[i] else -1)
                                 for i, fid in enumerate(ids)])
    country = geo.country.reshape(-1)
    bucket = np.full(geo.n_cells, ABROAD, dtype=np.int64)
    for c, iso in enumerate(COUNTRIES):
        bucket[country == geo.country_index(iso)] = c
    in_sahel = bucket < ABROAD
    allowed = np.zeros((len(ids) + N_COUNTRIES, geo.n_cells), dtype=bool)
    for i, f in enumerate(specs):
        if guerrilla[i]:
            allowed[i] = in_sahel | (f.sanctuary_abroad & (country > 0))
    for c in range(N_COUNTRIES):
        allowed[len(ids) + c] = bucket == c
    p = scenario.parameters.control
    terrain = geo.terrain.reshape(-1)
    saharan = np.full(geo.n_cells, p.administration_saharan)
    if p.saharan_reach_km > 0:
        saharan *= np.exp(-town_distance_km(geo) / p.saharan_reach_km)
    administration = np.select(
        [terrain == SUDANIAN, terrain == SAHELIAN, terrain == SAHARAN],
        [p.administration_sudanian, p.administration_sahelian, saharan]
    ) * in_sahel
    layers = {name: PropertyLayer(name, geo.shape, default_value=dtype(0), dtype=dtype)
              for name, dtype in LAYERS}
    layers["blockaded_by"].data[:] = -1
    for name in STATIC_LAYERS:
        layers[name] = PropertyLayer.from_data(name, np.ascontiguousarray(getattr(geo, name)))
    residents = geo.population.reshape(len(COMMUNITIES), -1).copy()
    residents[:, ~in_sahel] = 0.0
    capital = np.full(N_COUNTRIES, -1, dtype=np.int64)
    for iso, junta in scenario.juntas.items():
        x, y = geo.town(junta.capital).cell
        capital[list(COUNTRIES).index(iso)] = x * geo.ny + y
    forces = build_forces(scenario, geo, allowed, {fid: i for i, fid in enumerate(ids)},
                          ~guerrilla, bucket, placement_key)
    countries = list(COUNTRIES)
    partner_of = np.array([countries.index(f.country) if f.kind == "western" else -1
                           for f in specs])
    in_power = np.array([iso in scenario.juntas and (scenario.juntas[iso].since is None
                                                     or scenario.juntas[iso].since < scenario.start)
                         for iso in countries])
    min_town = scenario.parameters.blockades.min_population
    towns = sorted({t.cell[0] * geo.ny + t.cell[1] for t in geo.towns
                    if t.country in COUNTRIES and t.population >= min_town})
    return World(
        spec=scenario, geo=geo, faction_ids=ids,
        hostility=np.array([[scenario.stance(a, b) == "hostile" for b in ids] for a in ids],
                           dtype=float),
        firepower=np.array([f.firepower for f in specs]),
        restraint=np.array([f.restraint for f in specs]),
        reported_as_combat=np.array([f.reported_as_combat for f in specs]),
        posture=np.array([POSTURES.index(f.posture) for f in specs], dtype=np.int64),
        state_side=state_side, guerrilla=guerrilla,
        foreign=np.array([f.kind in FOREIGN_KINDS for f in specs]),
        russian=np.array([f.kind == "russian" for f in specs]), bias=bias, actor_ids=actor_ids,
        actor_of_faction=actor_of_faction, country_bucket=bucket, allowed=allowed,
        administration=administration,
        refuge=refuge_cells(geo, bucket, scenario.parameters.civilians.refuge_min_population),
        layers=layers, forces=forces, residents=residents, capital_cell=capital,
        period_days=int(scenario.parameters.decisions.interval_days),
        first_day=-scenario.spin_up_days,
        town_cells=np.array(towns, dtype=np.int64), partner_of=partner_of,
        support_active=partner_of >= 0,
        mandate_active=np.array([f.kind == "peacekeeping" for f in specs]),
        junta_in_power=in_power,
        fleets=build_fleets(scenario, geo, {fid: i for i, fid in enumerate(ids)}, state_side))


def town_distance_km(geo: Geography) -> np.ndarray:
    """(C,) great-circle km from each cell's centre to the nearest town of the three countries.

    Found by the nearest chord between unit vectors, which is the nearest arc too.
    """
    towns = [t for t in geo.towns if t.country in COUNTRIES]
    tree = cKDTree(_on_sphere(np.array([t.lat for t in towns]), np.array([t.lon for t in towns])))
    chord, _ = tree.query(_on_sphere(geo.lat.reshape(-1), geo.lon.reshape(-1)))
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / 2.0, 1.0))


def _on_sphere(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(N, 3) unit vectors of points given in degrees."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def refuge_cells(geo: Geography, bucket: np.ndarray, min_population: float) -> np.ndarray:
    """For each cell, the nearest town of its country of at least `min_population` people."""
    refuge = np.arange(geo.n_cells)
    for c, iso in enumerate(COUNTRIES):
        towns = [t for t in geo.towns if t.country == iso and t.population >= min_population]
        if not towns:
            towns = [max((t for t in geo.towns if t.country == iso),
                         key=lambda t: t.population)]
        cells = np.array([t.cell[0] * geo.ny + t.cell[1] for t in towns])
        idx = np.flatnonzero(bucket == c)
        tree = cKDTree(np.column_stack([cells // geo.ny, cells % geo.ny]))
        _, nearest = tree.query(np.column_stack([idx // geo.ny, idx % geo.ny]))
        refuge[idx] = cells[nearest]
    return refuge
