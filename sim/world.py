"""The world a run acts on: the hot state as numpy arrays, and the static views of the map.

`sim.world_setup.build_world` sets it up from a scenario and its geography; the processes in
`sim.mechanics` read and update it in place. Mesa's grid is not needed for the day's work: the
cell layers (zone, controller, residents, displaced, deaths, blockades, protection and support,
and the static ones) are Mesa `PropertyLayer` objects whose arrays the world works on through
flat views, and `SahelModel.grid` attaches the same layer objects to an `OrthogonalMooreGrid`
when something asks for the grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numba
import numpy as np
from mesa.discrete_space import PropertyLayer

from sim.fleets import Fleets
from sim.forces import GARRISON, REGIME_PROTECTION, Forces, refresh_presence
from sim.geography import (
    ABROAD,
    COMMUNITIES,
    COUNTRIES,
    N_COUNTRIES,
    Geography,
    moore_neighbours,
)
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.agents import Junta

LAYERS = (("zone", np.int8), ("controller", np.int8), ("residents", np.float64),
          ("displaced", np.float64), ("deaths", np.float64), ("blockaded_by", np.int8),
          ("protected", np.float64), ("supported", np.float64))
STATIC_LAYERS = ("country", "region", "terrain", "prio_gid")
POSTURES = ("defensive", "balanced", "offensive")


@dataclass(slots=True, eq=False)
class World:
    """State of one run.

    Shapes: F factions, A control actors (0 = the state), C cells, S cells of the three
    countries, G community groups, U unit rows, K attraction-field groups.
    """

    spec: Scenario
    geo: Geography
    faction_ids: list[str]
    hostility: np.ndarray  # (F, F) 1.0 where hostile
    firepower: np.ndarray  # (F,)
    restraint: np.ndarray  # (F,) changed by scenario events
    reported_as_combat: np.ndarray  # (F,) share of attacks on civilians reported as combat
    posture: np.ndarray  # (F,) index into POSTURES, changed by scenario events
    state_side: np.ndarray  # (F,) state, militia and Russian factions
    guerrilla: np.ndarray  # (F,) armed groups (jihadist, separatist): hide, ambush, recruit
    foreign: np.ndarray  # (F,) peacekeeping and western factions
    russian: np.ndarray  # (F,) Russian factions
    bias: np.ndarray  # (F, G) victim weights by community
    actor_ids: list[str]  # control actors: "state", then each armed group
    actor_of_faction: np.ndarray  # (F,) -1 for foreign factions (no control actor)
    country_bucket: np.ndarray  # (C,) 0-2 for the three countries, ABROAD elsewhere
    allowed: np.ndarray  # (F + 3, C) cells an armed group may enter; then each country's cells
    administration: np.ndarray  # (C,) the state's unopposed administrative hold
    refuge: np.ndarray  # (C,) the large town of its country where a cell's displaced go
    layers: dict[str, PropertyLayer]
    forces: Forces
    residents: np.ndarray  # (G, C) residents by community group
    capital_cell: np.ndarray  # (3,) flat cell of each junta's capital, -1 without a junta
    period_days: int  # days between decisions, recruitment, reinforcement, influence targets
    first_day: int  # the first simulated day: -spin_up_days (decisions are taken on it)
    town_cells: np.ndarray  # (T,) cells of towns that can be blockaded
    partner_of: np.ndarray  # (F,) for a western faction, the country whose forces it supports
    support_active: np.ndarray  # (F,) a western faction still supports its partners
    mandate_active: np.ndarray  # (F,) a peacekeeping faction's mandate has not ended
    junta_in_power: np.ndarray  # (3,) the junta rules (False before its coup)
    juntas: list[Junta | None] = field(default_factory=list)  # per country, set by the model
    fleets: Fleets | None = None  # armed-drone fleets (sim.mechanics.drones)
    # Derived in __post_init__.
    faction_index: dict[str, int] = field(init=False)
    jihadists: np.ndarray = field(init=False)
    enemy_mask: np.ndarray = field(init=False)  # (F,) bit mask of each faction's enemies
    faction_country: np.ndarray = field(init=False)  # (F,) country index, -1 for armed groups
    actor_matrix: np.ndarray = field(init=False)  # (A, F) 1 where a faction serves an actor
    actor_faction: np.ndarray = field(init=False)  # (A,) faction of an armed-group actor
    actor_allowed: np.ndarray = field(init=False)  # (A, C)
    field_groups: np.ndarray = field(init=False)
    field_group: np.ndarray = field(init=False)  # (F,) attraction-field group of a faction
    neighbours: np.ndarray = field(init=False)  # (C, 9) Moore neighbourhood, self first
    region: np.ndarray = field(init=False)  # (C,) admin1 region index (-1 outside)
    in_sahel: np.ndarray = field(init=False)
    sahel_idx: np.ndarray = field(init=False)  # (S,) flat ids of the three countries' cells
    sahel_slot: np.ndarray = field(init=False)  # (C,) position in sahel_idx, -1 outside
    cells_per_country: np.ndarray = field(init=False)
    allowed_row: np.ndarray = field(init=False)  # (U,) row of `allowed` for each unit row
    guard_rows: np.ndarray = field(init=False)  # regime-protection rows of state-side units
    unit_state_side: np.ndarray = field(init=False)  # (U,) the row's faction is state-side
    unit_field_group: np.ndarray = field(init=False)  # (U,) the row's attraction field
    unit_conventional: np.ndarray = field(init=False)  # (U,) not an armed group's row
    capital_garrison: np.ndarray = field(init=False)  # garrison rows of the juntas' capitals
    released: np.ndarray = field(init=False)  # (U,) garrison rows freed for operations
    coup_day: np.ndarray = field(init=False)  # (3,) day of the junta's coup in the run, or NaN
    guarded_capitals: bytes = field(init=False)  # capitals whose garrison is freed, as bytes
    excluded: np.ndarray = field(init=False)  # (C,) state forces stay out (peacekeeping camps)
    partner_bit: np.ndarray = field(init=False)  # (F,) a state-side faction's country bit
    support_bit: np.ndarray = field(init=False)  # (F,) a western faction's partner's bit
    foreign_rows: np.ndarray = field(init=False)  # unit rows of peacekeeping and western forces
    foreign_state: bytes = field(init=False)  # what the foreign forces' marks were made from
    monitored: np.ndarray = field(init=False)  # (3 + 1,) a UN mission is in the country; abroad
    presence: np.ndarray = field(init=False)  # (F, C) personnel per faction and cell
    assault: np.ndarray = field(init=False)  # (F, C) of them on offensive or raiding orders
    presence_cell: np.ndarray = field(init=False)  # (U,) cell each row was counted in
    moved: np.ndarray = field(init=False)  # (C,) a state column moved here today
    fields: np.ndarray = field(init=False)  # (K, C) attraction fields, refreshed weekly
    influence: np.ndarray = field(init=False)  # (A, S)
    target: np.ndarray = field(init=False)  # (A, S) influence targets, refreshed weekly
    governance: np.ndarray = field(init=False)  # (A, S) armed groups' entrenched hold
    grievance: np.ndarray = field(init=False)  # (communities, F)
    members: np.ndarray = field(init=False)  # (communities,) living residents, weekly
    community_country: np.ndarray = field(init=False)  # (communities,)
    country_of_community: np.ndarray = field(init=False)  # (3, communities) 1 where it lives
    initial_people: np.ndarray = field(init=False)  # (3,)
    recruited: np.ndarray = field(init=False)  # (3, F) cumulative recruits by group
    displaced_by_origin: np.ndarray = field(init=False)  # (3,) cumulative
    convalescent: np.ndarray = field(init=False)  # (F,) wounded fighters who will rejoin
    losses_to_avenge: np.ndarray = field(init=False)  # (F, regions) decaying own dead
    # Flat (C,) views of the cell layers, the arrays Mesa's grid shares (set once: a layer's
    # array is never replaced, only written).
    zone: np.ndarray = field(init=False)  # Kalyvas zone 1-5 (0 outside the three countries)
    controller: np.ndarray = field(init=False)  # 0 the state, a >= 1 an armed group, -1 contested
    residents_total: np.ndarray = field(init=False)  # all groups, refreshed when recorded
    displaced: np.ndarray = field(init=False)  # displaced people who arrived in each cell
    deaths: np.ndarray = field(init=False)  # cumulative deaths in each cell
    blockaded_by: np.ndarray = field(init=False)  # actor blockading a town's cell, -1 if none
    protected: np.ndarray = field(init=False)  # 1 within reach of an occupied peacekeeping camp
    supported: np.ndarray = field(init=False)  # bit mask of the partner countries supported

    def __post_init__(self) -> None:
        for name, _ in LAYERS:
            view = self.layers[name].data.reshape(-1)
            setattr(self, "residents_total" if name == "residents" else name, view)
        f = len(self.faction_ids)
        self.faction_index = {fid: i for i, fid in enumerate(self.faction_ids)}
        kinds = [self.spec.factions[fid].kind for fid in self.faction_ids]
        self.jihadists = np.array([i for i, k in enumerate(kinds) if k == "jihadist"],
                                  dtype=np.int64)
        countries = list(COUNTRIES)
        self.faction_country = np.array(
            [countries.index(self.spec.factions[fid].country)
             if self.spec.factions[fid].country else -1 for fid in self.faction_ids])
        bits = np.left_shift(np.int64(1), np.arange(f, dtype=np.int64))
        self.enemy_mask = (self.hostility > 0).astype(np.int64) @ bits
        self.actor_matrix = np.zeros((len(self.actor_ids), f))
        self.actor_faction = np.array([self.faction_index.get(a, -1) for a in self.actor_ids])
        serving = self.actor_of_faction >= 0
        self.actor_matrix[self.actor_of_faction[serving], np.flatnonzero(serving)] = 1.0
        self.field_groups, self.field_group = field_groups(self.hostility, self.guerrilla)
        geo = self.geo
        self.neighbours = moore_neighbours(geo.nx, geo.ny)
        self.region = geo.region.reshape(-1).astype(np.int64)
        self.in_sahel = self.country_bucket < ABROAD
        self.sahel_idx = np.flatnonzero(self.in_sahel)
        self.sahel_slot = np.full(self.n_cells, -1, dtype=np.int64)
        self.sahel_slot[self.sahel_idx] = np.arange(self.sahel_idx.size)
        self.cells_per_country = np.bincount(self.country_bucket[self.sahel_idx],
                                             minlength=N_COUNTRIES)
        self.actor_allowed = np.zeros((len(self.actor_ids), self.n_cells))
        self.actor_allowed[0] = self.in_sahel
        for a, actor in enumerate(self.actor_ids[1:], start=1):
            self.actor_allowed[a] = self.allowed[self.faction_index[actor]]
        units = self.forces
        self.allowed_row = np.where(self.guerrilla[units.faction], units.faction,
                                    f + self.country_bucket[units.base])
        self.unit_state_side = self.state_side[units.faction]
        self.unit_conventional = ~self.guerrilla[units.faction]
        self.capital_garrison = np.flatnonzero(
            (units.role == GARRISON) & self.unit_state_side
            & np.isin(units.base, self.capital_cell[self.capital_cell >= 0]))
        self.released = np.zeros(units.size, dtype=bool)
        self.guarded_capitals = b""
        self.unit_field_group = self.field_group[units.faction]
        self.guard_rows = np.flatnonzero((units.role == REGIME_PROTECTION)
                                         & self.unit_state_side)
        self.presence = np.zeros((f, self.n_cells))
        self.assault = np.zeros((f, self.n_cells))
        self.presence_cell = units.cell.copy()
        self.refresh_presence()
        self.moved = np.zeros(self.n_cells, dtype=bool)
        self.excluded = np.zeros(self.n_cells, dtype=bool)
        self.partner_bit = country_bit(np.where(self.state_side, self.faction_country, -1))
        self.support_bit = country_bit(self.partner_of)
        self.foreign_rows = np.flatnonzero(self.foreign[units.faction])
        self.foreign_state = b""
        self.monitored = np.zeros(N_COUNTRIES + 1, dtype=bool)
        self.fields = np.zeros((len(self.field_groups), self.n_cells), dtype=np.float32)
        self.coup_day = np.full(N_COUNTRIES, np.nan)
        s = self.sahel_idx.size
        self.influence = np.zeros((len(self.actor_ids), s))
        self.target = np.zeros((len(self.actor_ids), s))
        self.governance = initial_governance(self)
        n_regions, g = len(geo.regions), len(COMMUNITIES)
        self.grievance = np.zeros((n_regions * g, f))
        self.members = self.community_members()
        self.community_country = np.repeat(
            np.array([list(COUNTRIES).index(r.country) for r in geo.regions], dtype=np.int64), g)
        self.country_of_community = (self.community_country[None, :]
                                     == np.arange(N_COUNTRIES)[:, None]).astype(float)
        self.initial_people = self.people_by_country()
        self.recruited = np.zeros((N_COUNTRIES, f))
        self.displaced_by_origin = np.zeros(N_COUNTRIES)
        self.convalescent = np.zeros(f)
        self.losses_to_avenge = np.zeros((f, n_regions))

    @property
    def n_cells(self) -> int:
        """Number of grid cells."""
        return self.geo.n_cells

    @property
    def ny(self) -> int:
        """Grid height (flat cell id = x * ny + y)."""
        return self.geo.ny

    def is_decision_day(self, day: int) -> bool:
        """Commands decide, groups recruit and blockades change today (ODD 5)."""
        return day % self.period_days == 0 or day == self.first_day

    def refresh_presence(self) -> None:
        """Recount personnel per faction and cell after units moved or lost strength."""
        units = self.forces
        refresh_presence(self.presence, self.assault, self.presence_cell, units.faction,
                         units.cell, units.strength, units.present, units.attack)

    def community_members(self) -> np.ndarray:
        """Living residents of each community (region x group), (communities,)."""
        return community_totals(self.residents, self.sahel_idx, self.region,
                                len(self.geo.regions) * len(COMMUNITIES))

    def people_by_country(self) -> np.ndarray:
        """(3,) residents of each country now."""
        total = self.residents.sum(axis=0)
        return np.bincount(self.country_bucket, weights=total,
                           minlength=N_COUNTRIES + 1)[:N_COUNTRIES]



def country_bit(country: np.ndarray) -> np.ndarray:
    """1 << country for each entry, 0 where there is none (-1): masks of countries."""
    return np.where(country >= 0, np.left_shift(1, np.maximum(country, 0)), 0)


def field_groups(hostility: np.ndarray, guerrilla: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Factions with the same enemies and kind share one attraction field.

    Returns:
        (K, F + 1) distinct rows of [hostility row, guerrilla flag], and (F,) the row of each
        faction.
    """
    kinds = np.column_stack([hostility, guerrilla])
    unique, which = np.unique(kinds, axis=0, return_inverse=True)
    return unique, which.ravel()


@numba.njit(cache=True)
def community_totals(residents: np.ndarray, cells: np.ndarray, region: np.ndarray,
                     n_communities: int) -> np.ndarray:
    """Residents of each community (region x group) over `cells`."""
    g = residents.shape[0]
    out = np.zeros(n_communities)
    for c in cells:
        for j in range(g):
            out[region[c] * g + j] += residents[j, c]
    return out


def initial_governance(world: World) -> np.ndarray:
    """Armed groups' hold (0-1) on the areas the scenario says they held at the start, (A, S)."""
    geo, idx = world.geo, world.sahel_idx
    lat, lon = geo.lat.reshape(-1)[idx], geo.lon.reshape(-1)[idx]
    governance = np.zeros((len(world.actor_ids), idx.size))
    for area in world.spec.territory:
        if isinstance(area.near, str):
            town = geo.town(area.near)
            centre = (town.lat, town.lon)
        else:
            centre = area.near
        inside = np.hypot(lat - centre[0], lon - centre[1]) <= area.radius
        row = world.actor_ids.index(area.faction)
        governance[row, inside] = np.maximum(governance[row, inside], area.governance)
    return governance
