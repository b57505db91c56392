"""SahelModel: the state of the central Sahel and its daily step.

`step()` reads as the ODD's process overview: one call per process, in order. Scenario events
(deployments, withdrawals, policy changes) are scheduled with Mesa's `schedule_event` half a
day before the step of their date, so they fire first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from mesa import Model

from sim.agents import CivilianCommunity, ForceUnit, Junta
from sim.forces import MOBILE, REGIME_PROTECTION, build_forces
from sim.geography import (
    SAHARAN,
    SAHELIAN,
    SUDANIAN,
    Geography,
    build_geography,
    make_grid,
    moore_neighbours,
)
from sim.mechanics import civilians, combat, control, movement, violence
from sim.outputs import (
    COUNTRY_CODES,
    N_COUNTRIES,
    Recorder,
    cell_month_frame,
    events_frame,
    fatalities_frame,
    timeseries_frame,
)
from sim.scenario import (
    COMMUNITIES,
    COUNTRIES,
    STATE_SIDE_KINDS,
    CivilianParams,
    CombatParams,
    Event,
    Scenario,
)
from sim.streams import RandomStreams

ABROAD = N_COUNTRIES  # country bucket for cells outside the three countries
REFUGE_MIN_POPULATION = 50_000
RAID_SHARE = {"defensive": 0.2, "balanced": 0.5, "offensive": 0.8}
DECISION_INTERVAL = 7  # days between commands' decisions and attraction-field updates
REGROUP_BELOW = 0.3  # share of initial strength under which a group stops attacking
COMPLEX_ATTACK_CAPITAL_SHARE = 0.35
COMPLEX_ATTACK_CIVILIAN_SHARE = 0.2
COMPLEX_ATTACK_ATTACKER_LOSS = 0.3


class SahelModel(Model):
    """The central Sahel: juntas, Russian contingents, armed groups and civilians, day by day.

    Args:
        scenario: a validated scenario (see `sim.load_scenario`).
        rng: seed or generator; defaults to the scenario's seed.
    """

    def __init__(self, scenario: Scenario,
                 rng: int | np.random.SeedSequence | np.random.Generator | None = None) -> None:
        super().__init__(rng=scenario.seed if rng is None else rng)
        self.spec = scenario
        self.geo = geo = build_geography(scenario.resolution)
        self.grid = make_grid(geo, random=self.random)
        self.n_cells = geo.n_cells
        self._setup_factions(scenario)
        self._setup_cells()
        self.streams = RandomStreams(self.rng)
        self.forces = build_forces(scenario, geo, self.allowed, self.faction_index,
                                   self.state_side, self.country_bucket,
                                   self.streams.get("setup", 0))
        f = self.forces
        self._allowed_row = np.where(self.state_side[f.faction],
                                     len(self.faction_ids) + self.country_bucket[f.base],
                                     f.faction)
        self._setup_agents(scenario)
        self._setup_civilians()
        self.recorder = Recorder(scenario.days, len(self.faction_ids), len(self.actor_ids))
        self.presence = self._presence()
        self._update_control(initial=True)
        # Mesa keeps weak references to callbacks: the model owns them.
        self._event_actions = [self._event_handler(e) for e in scenario.events]
        for event, action in zip(scenario.events, self._event_actions, strict=True):
            self.schedule_event(action, at=(event.date - scenario.start).days + 0.5)

    # ---------------------------------------------------------------------------------------
    # Set-up
    # ---------------------------------------------------------------------------------------
    def _setup_factions(self, s: Scenario) -> None:
        self.faction_ids = list(s.factions)
        self.faction_index = {f: i for i, f in enumerate(self.faction_ids)}
        specs = list(s.factions.values())
        n = len(specs)
        self.labels = [f.label for f in specs]
        self.hostility = np.array(
            [[s.stance(a, b) == "hostile" for b in self.faction_ids] for a in self.faction_ids],
            dtype=float)
        self.firepower = np.array([f.firepower for f in specs])
        self.restraint = np.array([f.restraint for f in specs])
        self.posture = [f.posture for f in specs]
        self.state_side = np.array([f.kind in STATE_SIDE_KINDS for f in specs])
        self.guerrilla = ~self.state_side
        self._jihadists = np.array([i for i, f in enumerate(specs) if f.kind == "jihadist"],
                                   dtype=np.int64)
        self.bias = np.ones((n, len(COMMUNITIES)))
        for i, f in enumerate(specs):
            for group, weight in f.target_bias.items():
                self.bias[i, COMMUNITIES.index(group)] = weight
        # Control actors: 0 = the state (all state-side forces), then each armed group.
        self.actor_ids = ["state", *[f for f, st in zip(self.faction_ids, self.state_side,
                                                          strict=True) if not st]]
        self.actor_of_faction = np.array(
            [0 if self.state_side[i] else self.actor_ids.index(f)
             for i, f in enumerate(self.faction_ids)])
        self.actor_matrix = np.zeros((len(self.actor_ids), n))
        self.actor_matrix[self.actor_of_faction, np.arange(n)] = 1.0
        self.sanctuary = np.array([f.sanctuary_abroad for f in specs])
        self._field_groups, self._field_group = movement.field_groups(self.hostility,
                                                                      self.guerrilla)

    def _setup_cells(self) -> None:
        geo = self.geo
        country = geo.country.reshape(-1)
        self.country_bucket = np.full(self.n_cells, ABROAD, dtype=np.int64)
        for c, iso in enumerate(COUNTRIES):
            self.country_bucket[country == geo.country_index(iso)] = c
        self.in_sahel = self.country_bucket < ABROAD
        on_land = country > 0
        n = len(self.faction_ids)
        # Rows 0..F-1: where each armed group may go (unused for state-side factions); rows
        # F..F+2: each country's cells, for state-side units, which serve the country where
        # they are based.
        self.allowed = np.zeros((n + N_COUNTRIES, self.n_cells), dtype=bool)
        for f in np.flatnonzero(~self.state_side):
            self.allowed[f] = self.in_sahel | (self.sanctuary[f] & on_land)
        for c in range(N_COUNTRIES):
            self.allowed[n + c] = self.country_bucket == c
        self.actor_allowed = np.zeros((len(self.actor_ids), self.n_cells))
        self.actor_allowed[0] = self.in_sahel
        for a in range(1, len(self.actor_ids)):
            self.actor_allowed[a] = self.allowed[self.faction_ids.index(self.actor_ids[a])]
        self.neighbours = moore_neighbours(geo.nx, geo.ny)
        self.region = geo.region.reshape(-1).astype(np.int64)
        terrain = geo.terrain.reshape(-1)
        p = self.spec.parameters.control
        admin = np.select([terrain == SUDANIAN, terrain == SAHELIAN, terrain == SAHARAN],
                          [p.administration_sudanian, p.administration_sahelian,
                           p.administration_saharan])
        self.administration = admin * self.in_sahel
        # Grid layers, mutated in place through these flat views.
        for name, dtype in (("zone", np.int8), ("controller", np.int8), ("residents", float),
                            ("displaced", float), ("deaths", float)):
            self.grid.create_property_layer(name, default_value=dtype(0), dtype=dtype)
        self.zone = self.grid.zone.data.reshape(-1)
        self.controller = self.grid.controller.data.reshape(-1)
        self.residents_layer = self.grid.residents.data.reshape(-1)
        self.displaced = self.grid.displaced.data.reshape(-1)
        self.deaths = self.grid.deaths.data.reshape(-1)
        # Influence of each control actor over the cells of the three countries only.
        self._sahel_idx = np.flatnonzero(self.in_sahel)
        self._sahel_slot = np.full(self.n_cells, -1, dtype=np.int64)
        self._sahel_slot[self._sahel_idx] = np.arange(self._sahel_idx.size)
        self.influence = np.zeros((len(self.actor_ids), self._sahel_idx.size))
        self.governance = self._initial_governance()
        self.refuge = self._refuge_cells()
        self._moved = np.zeros(self.n_cells, dtype=bool)
        self._presence_buffer = np.zeros((len(self.faction_ids), self.n_cells))
        self._presence_set = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        self._cell_flags = np.zeros(self.n_cells, dtype=bool)
        self._slot = np.full(self.n_cells, -1, dtype=np.int64)

    def _initial_governance(self) -> np.ndarray:
        """Armed groups' hold (0-1) on the areas the scenario says they held at the start."""
        geo = self.geo
        lat = geo.lat.reshape(-1)[self._sahel_idx]
        lon = geo.lon.reshape(-1)[self._sahel_idx]
        governance = np.zeros((len(self.actor_ids), self._sahel_idx.size))
        for area in self.spec.territory:
            if isinstance(area.near, str):
                town = geo.town(area.near)
                centre = (town.lat, town.lon)
            else:
                centre = area.near
            inside = np.hypot(lat - centre[0], lon - centre[1]) <= area.radius
            row = self.actor_ids.index(area.faction)
            governance[row, inside] = np.maximum(governance[row, inside], area.governance)
        return governance

    def _refuge_cells(self) -> np.ndarray:
        """For each cell, the nearest large town of its country (where the displaced go)."""
        from scipy.spatial import cKDTree

        geo = self.geo
        refuge = np.arange(self.n_cells)
        for c, iso in enumerate(COUNTRIES):
            towns = [t for t in geo.towns
                     if t.country == iso and t.population >= REFUGE_MIN_POPULATION]
            cells = np.array([t.cell[0] * geo.ny + t.cell[1] for t in towns])
            mask = self.country_bucket == c
            tree = cKDTree(np.column_stack([cells // geo.ny, cells % geo.ny]))
            idx = np.flatnonzero(mask)
            _, nearest = tree.query(np.column_stack([idx // geo.ny, idx % geo.ny]))
            refuge[idx] = cells[nearest]
        return refuge

    def _setup_agents(self, s: Scenario) -> None:
        self.juntas: dict[str, Junta] = {}
        for iso, spec in s.juntas.items():
            x, y = self.geo.town(spec.capital).cell
            self.juntas[iso] = Junta(self, iso, spec, x * self.geo.ny + y)
        for row in range(self.forces.size):
            unit = s.units[int(self.forces.spec[row])]
            ForceUnit(self, row, unit.id, unit.name, unit.faction, unit.role)
        self.units_by_id = self.agents_by_type[ForceUnit].groupby("unit_id").groups
        self.speed = np.where(self.state_side[self.forces.faction],
                              s.parameters.movement.state_speed,
                              s.parameters.movement.insurgent_speed)
        self.speed = np.where(self.forces.role == MOBILE, self.speed, 0.0)
        self.reach = np.where(self.state_side[self.forces.faction],
                              s.parameters.movement.state_reach, np.inf)

    def _setup_civilians(self) -> None:
        geo = self.geo
        g = len(COMMUNITIES)
        self.residents = geo.population.reshape(g, -1).copy()
        self.residents[:, ~self.in_sahel] = 0.0
        n_regions = len(geo.regions)
        self.n_communities = n_regions * g
        self.communities = [
            CivilianCommunity(self, r * g + k, geo.regions[r].country, geo.regions[r].name, grp)
            for r in range(n_regions) for k, grp in enumerate(COMMUNITIES)]
        self.grievance = np.zeros((self.n_communities, len(self.faction_ids)))
        self._sahel_region = self.region[self._sahel_idx]
        self._sahel_bucket = self.country_bucket[self._sahel_idx]
        self._cells_per_country = np.bincount(self._sahel_bucket, minlength=N_COUNTRIES)
        self.initial_people = self._people_by_country()
        self._members = self.community_members()
        self.civilians_killed = np.zeros(N_COUNTRIES)
        self.recruited_total = np.zeros(N_COUNTRIES)
        self.displaced_by_origin = np.zeros(N_COUNTRIES)

    def _event_handler(self, event: Event):
        def fire() -> None:
            self.apply_event(event)
        return fire

    # ---------------------------------------------------------------------------------------
    # The day
    # ---------------------------------------------------------------------------------------
    @property
    def day(self) -> int:
        """Index of the day being simulated (0 = start date) during a step."""
        return int(self.time) - 1

    @property
    def date(self) -> dt.date:
        """Date the model has reached: the start date plus the days simulated so far."""
        return self.spec.start + dt.timedelta(days=int(self.time))

    @property
    def finished(self) -> bool:
        """True once the scenario's end date has been simulated."""
        return int(self.time) >= self.spec.days

    def step(self) -> None:
        """One day, in the order of the ODD's process overview."""
        day = self.day
        if day >= self.spec.days:
            raise RuntimeError(f"the scenario ends on {self.spec.end}; nothing left to simulate")
        self._today = np.zeros((N_COUNTRIES + 1, len(self.faction_ids) + 1,
                                len(self.faction_ids)), dtype=np.int64)
        self._wounded = np.zeros((N_COUNTRIES + 1, len(self.faction_ids)), dtype=np.int64)
        self._civ_deaths = np.zeros((self.n_communities, len(self.faction_ids)))
        self._capital_attacked = np.zeros(N_COUNTRIES, dtype=bool)
        self.deaths_today = np.zeros(self.n_cells)
        weekly = day % DECISION_INTERVAL == 0
        if weekly:
            self._decide()
        self._move_units()
        self._engage()
        self._complex_attacks()
        self._violence_against_civilians()
        self._communities_respond(weekly)
        if weekly:
            self._entrench()
            self._influence_target()
        self._update_control()
        self._juntas_act()
        self._replace_losses()
        self._record()

    def run(self, progress: Callable[[int, int], object] | None = None) -> SahelModel:
        """Run to the scenario's end date; `progress(days_done, days_total)` is called weekly."""
        total = self.spec.days
        while not self.finished:
            self.step()
            if progress is not None and (int(self.time) % 7 == 0 or self.finished):
                progress(int(self.time), total)
        return self

    # ---------------------------------------------------------------------------------------
    # Processes
    # ---------------------------------------------------------------------------------------
    def apply_event(self, event: Event) -> None:
        """Carry out a scenario event (deploy, withdraw, reinforce, restraint, posture)."""
        day = max(self.day + 1, 0)
        if event.unit is not None:
            rows = self.units_by_id[event.unit]
            first = next(iter(rows))
            fac = self.faction_index[first.faction]
            cell = self.forces.base[first.index]
            if event.action == "deploy":
                strength = None if event.strength is None else event.strength / len(rows)
                for agent in rows:
                    agent.deploy(strength)
                self.recorder.log_events(day, "deployment", np.array([cell]), np.array([fac]),
                                         np.array([-2]), np.array([0]), note=event.unit)
            elif event.action == "withdraw":
                if not any(agent.present for agent in rows):
                    return
                for agent in rows:
                    agent.withdraw()
                self.recorder.log_events(day, "withdrawal", np.array([cell]), np.array([fac]),
                                         np.array([-2]), np.array([0]), note=event.unit)
            elif event.action == "reinforce":
                for agent in rows:
                    agent.reinforce(event.strength / len(rows))
        elif event.action == "set_restraint":
            self.restraint[self.faction_index[event.faction]] = event.restraint
        elif event.action == "set_posture":
            self.posture[self.faction_index[event.faction]] = event.posture

    def _presence(self) -> np.ndarray:
        """Personnel per faction and cell, (F, C), in a buffer reused every day."""
        f = self.forces
        out = self._presence_buffer
        out[self._presence_set] = 0.0  # clear only what was set last time
        live = f.present
        where = (f.faction[live], f.cell[live])
        np.add.at(out, where, f.strength[live])
        self._presence_set = where
        return out

    def _decide(self) -> None:
        """Weekly decisions of juntas and armed groups, and fresh attraction fields.

        Juntas split mobile forces between offensives and defence; armed groups choose raiding
        or holding.
        """
        f = self.forces
        p = self.spec.parameters.junta
        # share[faction, country]: a state-side unit follows the junta of its country.
        share = np.zeros((len(self.faction_ids), N_COUNTRIES + 1))
        for i in range(len(self.faction_ids)):
            for c, iso in enumerate(COUNTRIES):
                junta = self.juntas.get(iso)
                if not self.state_side[i]:
                    share[i, c] = RAID_SHARE[self.posture[i]]
                elif junta is not None:
                    share[i, c] = junta.offensive_share(self.posture[i], p)
            share[i, N_COUNTRIES] = share[i, :N_COUNTRIES].max()  # armed groups abroad
        healthy = f.strength >= REGROUP_BELOW * f.initial
        rng = self.streams.get("decide", self.day)
        chance = share[f.faction, self.unit_country_now()]
        f.attack[:] = (rng.random(f.size) < chance) & healthy
        self.fields = movement.attraction_fields(
            self.presence, self._field_groups, self.geo.shape,
            self.spec.parameters.movement.raid_target_limit)

    def unit_country_now(self) -> np.ndarray:
        """Country bucket of each unit row's current cell (N_COUNTRIES for abroad)."""
        return self.country_bucket[self.forces.cell]

    def _move_units(self) -> None:
        """Mobile units step toward enemies (attack) or their base (defend/hold)."""
        f = self.forces
        rng = self.streams.get("move", self.day)
        u_move, noise = rng.random(f.size), rng.random((f.size, 9), dtype=np.float32)
        moving = np.flatnonzero(f.present & (self.speed > 0))
        old = f.cell[moving]
        new = movement.choose_moves(
            u_move[moving], noise[moving], old, self._allowed_row[moving],
            self._field_group[f.faction[moving]], f.base[moving], f.attack[moving], self.fields,
            self.allowed, self.reach[moving], self.speed[moving], self.neighbours,
            self.spec.parameters.movement.wander, self.geo.ny)
        f.cell[moving] = new
        self._moved[:] = False
        columns = (new != old) & self.state_side[f.faction[moving]]
        self._moved[new[columns]] = True
        self.presence = self._presence()

    def _engage(self) -> None:
        """Engagements between hostile forces sharing a cell (sim.mechanics.combat)."""
        p = self.spec.parameters.combat
        result = combat.resolve_engagements(
            self.streams.get("engage", self.day), self.presence, self._moved, self.hostility,
            self.firepower,
            self.guerrilla, p.engage_probability, p.evasion, p.aimed_fire_rate, p.area_fire_rate,
            p.ambush_multiplier, p.killed_fraction, p.max_daily_loss,
            occupied=self._occupied_cells())
        if result.cells.size == 0:
            return
        self._apply_losses(result.cells, result.losses)
        bucket = self.country_bucket[result.cells]
        np.add.at(self._today, (bucket, slice(1, None)), result.killed.transpose(2, 0, 1))
        np.add.at(self._wounded, bucket, result.wounded.T)
        deaths = result.killed.sum(axis=(0, 1))
        np.add.at(self.deaths_today, result.cells, deaths)
        forces = self.presence[:, result.cells]
        actor1 = np.where(forces[self.guerrilla].sum(axis=0) > 0,
                          np.where(self.guerrilla[:, None], forces, -1).argmax(axis=0),
                          forces.argmax(axis=0))
        enemy = np.where(self.hostility[actor1].T > 0, forces, -1.0)
        actor2 = np.where(enemy.max(axis=0) > 0, enemy.argmax(axis=0), -2)
        day = self.day
        ambush = result.ambush
        self.recorder.log_events(day, "ambush", result.cells[ambush], actor1[ambush],
                                 actor2[ambush], deaths[ambush])
        self.recorder.log_events(day, "clash", result.cells[~ambush], actor1[~ambush],
                                 actor2[~ambush], deaths[~ambush])
        self.presence = self._presence()

    def _occupied_cells(self) -> np.ndarray:
        """Sorted ids of the cells where any unit is present."""
        f = self.forces
        self._cell_flags[:] = False
        self._cell_flags[f.cell[f.present]] = True
        return np.flatnonzero(self._cell_flags)

    def _apply_losses(self, cells: np.ndarray, losses: np.ndarray) -> None:
        """Take each faction's casualties in a cell from its rows there, pro rata."""
        f = self.forces
        self._slot[cells] = np.arange(cells.size)
        slot = self._slot[f.cell]
        hit = np.flatnonzero((slot >= 0) & f.present)
        fac, k = f.faction[hit], slot[hit]
        there = self.presence[fac, f.cell[hit]]
        share = np.divide(f.strength[hit], there, out=np.zeros(hit.size), where=there > 0)
        f.strength[hit] = np.maximum(f.strength[hit] - losses[fac, k] * share, 0.0)
        self._slot[cells] = -1
        gone = hit[f.strength[hit] < 1.0]
        f.present[gone] = False
        f.strength[gone] = 0.0

    def _complex_attacks(self) -> None:
        """Rare jihadist complex attacks on high-value targets or a large garrison.

        The targets are a capital's air base or a school used as barracks, or the largest
        concentration of state forces in the country.
        """
        p = self.spec.parameters.combat
        f = self.forces
        rng = self.streams.get("complex_attack", self.day)
        draws = rng.random(len(self._jihadists))
        n_f = len(self.faction_ids)
        strength = np.bincount(f.faction, weights=f.strength * f.present, minlength=n_f)
        initial = np.bincount(f.faction, weights=f.initial, minlength=n_f)
        rates = p.complex_attack_rate / 365.0 * strength / np.maximum(initial, 1.0)
        for fac, draw in zip(self._jihadists, draws, strict=True):
            if draw >= rates[fac]:
                continue
            mine = f.present & (f.faction == fac)
            by_country = np.bincount(self.country_bucket[f.cell[mine]],
                                     weights=f.strength[mine], minlength=N_COUNTRIES + 1)
            if by_country[:N_COUNTRIES].sum() <= 0:
                continue
            c = int(rng.choice(N_COUNTRIES, p=by_country[:N_COUNTRIES]
                                    / by_country[:N_COUNTRIES].sum()))
            self._complex_attack(int(fac), c, p, rng)

    def _complex_attack(self, fac: int, c: int, p: CombatParams, rng: np.random.Generator
                        ) -> None:
        f = self.forces
        junta = self.juntas.get(COUNTRY_CODES[c])
        if junta is not None and rng.random() < COMPLEX_ATTACK_CAPITAL_SHARE:
            target = junta.capital_cell
        else:  # the country's largest concentration of state-side personnel
            defenders = self.presence[self.state_side].sum(axis=0) * (self.country_bucket == c)
            target = int(defenders.argmax())
        present = self.presence[:, target] * self.state_side
        if present.sum() <= 0:
            return
        toll = combat.complex_attack_toll(rng, p.complex_attack_median_killed,
                                          p.complex_attack_sigma, present.sum())
        civ = min(round(toll * COMPLEX_ATTACK_CIVILIAN_SHARE),
                  int(self.residents[:, target].sum() * 0.01))
        attackers = round(toll * COMPLEX_ATTACK_ATTACKER_LOSS)
        soldiers = max(toll - civ - attackers, 0)
        killed = np.minimum(np.floor(soldiers * present / present.sum()), present).astype(np.int64)
        wounded = np.floor(killed * (1 - p.killed_fraction) / p.killed_fraction).astype(np.int64)
        wounded = np.minimum(wounded, np.floor(present - killed).astype(np.int64))
        losses = np.zeros((len(self.faction_ids), 1))
        losses[:, 0] = killed + wounded
        self._apply_losses(np.array([target]), losses)
        self._today[c, 1:, fac] += killed
        self._wounded[c] += wounded
        # Attackers fall at the hands of the strongest defender; their losses come from the
        # attacking faction's group in this country nearest the target.
        defender = int(present.argmax())
        mine = np.flatnonzero(f.present & (f.faction == fac) & (self.country_bucket[f.cell] == c))
        lost = 0
        if attackers and mine.size:
            nearest = mine[movement.chebyshev(f.cell[mine], target, self.geo.ny).argmin()]
            lost = int(min(attackers, np.floor(f.strength[nearest])))
            f.strength[nearest] -= lost
            if f.strength[nearest] < 1.0:
                f.present[nearest] = False
                f.strength[nearest] = 0.0
            self._today[c, 1 + fac, defender] += lost
        civilians_killed = 0
        if civ > 0:
            victims = self._split_victims(target, civ, fac, rng)
            self._kill_civilians(np.array([target]), np.array([fac]), victims)
            civilians_killed = int(victims.sum())
        fighters = int(killed.sum()) + lost
        self.deaths_today[target] += fighters  # civilians were added by _kill_civilians
        total = fighters + civilians_killed
        if junta is not None and target == junta.capital_cell:
            self._capital_attacked[c] = True
        self.recorder.log_events(self.day, "complex_attack", np.array([target]), np.array([fac]),
                                 np.array([defender]), np.array([total]))
        self.presence = self._presence()

    def _split_victims(self, cell: int, n: int, fac: int, rng: np.random.Generator
                       ) -> np.ndarray:
        residents = self.residents[:, cell]
        people = residents * self.bias[fac]
        if people.sum() <= 0:  # the faction spares every community living here: no bias
            people = residents
        if people.sum() <= 0:
            return np.zeros((1, len(COMMUNITIES)), dtype=np.int64)
        victims = rng.multinomial(n, people / people.sum())
        return np.minimum(victims, np.floor(self.residents[:, cell]).astype(np.int64))[None]

    def _violence_against_civilians(self) -> None:
        """Armed units kill civilians (sim.mechanics.violence)."""
        p = self.spec.parameters.violence
        f = self.forces
        rng = self.streams.get("violence", self.day)
        uniforms = rng.random((3, f.size))  # event, size, rounding: one of each per unit row
        rows = np.flatnonzero(f.present)
        fac = f.faction[rows]
        cell = f.cell[rows]
        slot = self._sahel_slot[cell]
        own = np.where(slot >= 0, self.influence[self.actor_of_faction[fac], slot], 0.0)
        contested = (self.zone >= 2) & (self.zone <= 4)
        result = violence.violence_against_civilians(
            rng, uniforms[:, rows], cell, self.restraint[fac], f.strength[rows], self.bias[fac],
            own, self.residents, contested,
            p.base_rate, p.contested_multiplier, p.size_scale, p.size_tail, p.size_cap,
            p.indiscriminate_multiplier)
        if result.cells.size:
            perpetrators = fac[result.units]
            self._kill_civilians(result.cells, perpetrators, result.victims)
            deaths = result.victims.sum(axis=1)
            keep = deaths > 0
            self.recorder.log_events(self.day, "violence_against_civilians", result.cells[keep],
                                     perpetrators[keep], np.full(keep.sum(), -1), deaths[keep])

    def _kill_civilians(self, cells: np.ndarray, perpetrators: np.ndarray,
                        victims: np.ndarray) -> None:
        """Remove civilian victims (E, G) and book them by country, community and perpetrator."""
        g = len(COMMUNITIES)
        groups = np.arange(g)
        np.subtract.at(self.residents, (groups[None, :], cells[:, None]), victims)
        deaths = victims.sum(axis=1)
        bucket = self.country_bucket[cells]
        np.add.at(self._today, (bucket, 0, perpetrators), deaths)
        np.add.at(self.civilians_killed, bucket, deaths)
        community = self.region[cells][:, None] * g + groups[None, :]
        np.add.at(self._civ_deaths, (community, perpetrators[:, None]), victims)
        np.add.at(self.deaths_today, cells, deaths)

    def community_members(self) -> np.ndarray:
        """Living residents of each community (region x group), (n_communities,)."""
        n_regions = len(self.geo.regions)
        g = len(COMMUNITIES)
        key = (self._sahel_region[None, :] * g + np.arange(g)[:, None]).ravel()
        return np.bincount(key, weights=self.residents[:, self._sahel_idx].ravel(),
                           minlength=n_regions * g)

    def _communities_respond(self, weekly: bool) -> None:
        """Communities respond (sim.mechanics.civilians).

        Grievance daily; recruitment weekly (7 days' worth); flight daily.
        """
        p = self.spec.parameters.civilians
        if weekly:
            self._members = self.community_members()
        civilians.decay_grievance(self.grievance, p.grievance_half_life)
        civilians.add_grievance(self.grievance, self._civ_deaths, self._members,
                                p.grievance_per_death)
        if weekly:
            self._recruit(self._members, p, DECISION_INTERVAL)
        self._flee(p)

    def _recruit(self, members: np.ndarray, p: CivilianParams, days: int) -> None:
        f = self.forces
        g, n_regions, n_f = len(COMMUNITIES), len(self.geo.regions), len(self.faction_ids)
        live = np.flatnonzero(f.present & self.in_sahel[f.cell])
        unit_region = self.region[f.cell[live]]
        key = f.faction[live] * n_regions + unit_region
        by_region = np.bincount(key, weights=f.strength[live], minlength=n_f * n_regions)
        by_region = by_region.reshape(n_f, n_regions).T  # (R, F)
        reach = np.minimum(by_region / 200.0, 1.0)
        community_reach = np.repeat(reach, g, axis=0)  # (R*G, F)
        support = civilians.support(self.grievance, self.hostility)
        drawn = civilians.recruits(self.streams.get("recruit", self.day), members, support,
                                   community_reach, self.guerrilla,
                                   p.recruitment_rate * days)
        total = drawn.sum()
        if total == 0:
            return
        # Remove recruits from their communities' cells pro rata.
        leaving = drawn.sum(axis=1)
        keep = 1.0 - np.divide(leaving, members, out=np.zeros_like(members), where=members > 0)
        scale = keep.reshape(n_regions, g)
        self.residents[:, self._sahel_idx] *= scale[self._sahel_region].T
        country_of_region = np.array([list(COUNTRIES).index(r.country)
                                      for r in self.geo.regions])
        np.add.at(self.recruited_total, np.repeat(country_of_region, g), leaving)
        # Add them to their faction's rows in the region, pro rata to strength.
        per_region = drawn.reshape(n_regions, g, n_f).sum(axis=1)  # (R, F)
        denom = by_region[unit_region, f.faction[live]]
        add = np.divide(per_region[unit_region, f.faction[live]] * f.strength[live], denom,
                        out=np.zeros(live.size), where=denom > 0)
        f.strength[live] += add

    def _flee(self, p: CivilianParams) -> None:
        zone = self._zone_sahel
        contested_s = (zone == 3) | (zone == 4)
        fleeing = np.flatnonzero(contested_s | (self.deaths_today[self._sahel_idx] > 0))
        cells = self._sahel_idx[fleeing]
        residents = self.residents[:, cells]
        total = residents.sum(axis=0)
        contested = contested_s[fleeing]
        leaving = civilians.flight(total, self.deaths_today[cells], contested,
                                   p.flight_per_death, p.contested_flight_rate)
        keep = 1.0 - np.divide(leaving, total, out=np.zeros_like(total), where=total > 0)
        self.residents[:, cells] = residents * keep
        np.add.at(self.displaced, self.refuge[cells], leaving)
        self.displaced_by_origin += np.bincount(self.country_bucket[cells], weights=leaving,
                                                minlength=N_COUNTRIES + 1)[:N_COUNTRIES]

    def _entrench(self) -> None:
        """Weekly: armed groups entrench where they control and lose their hold elsewhere."""
        days = self.spec.parameters.control.governance_days / DECISION_INTERVAL
        control.entrench(self.governance, self.controller[self._sahel_idx], days)

    def _influence_target(self) -> None:
        """Weekly: each actor's target influence from the personnel within its reach."""
        p = self.spec.parameters.control
        f = self.forces
        actor_presence = self.actor_matrix @ self.presence
        garrisoned = np.zeros(self.n_cells, dtype=bool)
        guards = f.present & (f.role != MOBILE) & self.state_side[f.faction]
        garrisoned[f.cell[guards]] = True
        reach = control.reach(actor_presence, self.geo.shape)
        governance = np.zeros_like(actor_presence)
        governance[:, self._sahel_idx] = self.governance
        target = control.influence_target(reach, governance, self.administration, garrisoned,
                                          p.presence_half, p.town_state_floor,
                                          p.state_presence_weight)
        self._target = (target * self.actor_allowed)[:, self._sahel_idx]

    def _update_control(self, initial: bool = False) -> None:
        """Influence, Kalyvas zones and the controlling actor (sim.mechanics.control)."""
        p = self.spec.parameters.control
        if initial:
            self._influence_target()
            self.influence[:] = self._target
        else:
            control.relax(self.influence, self._target, p.adjustment_days)
        zone = control.zones(self.influence, p.contested_margin, p.minimum_influence)
        self._zone_sahel = zone
        self.zone[self._sahel_idx] = zone
        self.controller[self._sahel_idx] = control.controller(self.influence, zone)

    def _juntas_act(self) -> None:
        """Credibility follows the day's fights; coups are attempted (sim.agents.Junta)."""
        p = self.spec.parameters.junta
        f = self.forces
        uniforms = self.streams.get("junta", self.day).random((N_COUNTRIES, 2))
        guards = np.flatnonzero(f.present & (f.role == REGIME_PROTECTION))
        killed = self._today[:N_COUNTRIES, 1:]  # (country, victim faction, perpetrator)
        state = self.state_side
        enemy_killed = killed[:, ~state][:, :, state].sum(axis=(1, 2))
        own_killed = killed[:, state].sum(axis=(1, 2))
        for c, iso in enumerate(COUNTRIES):
            junta = self.juntas.get(iso)
            if junta is None:
                continue
            junta.update_credibility(enemy_killed[c], own_killed[c],
                                     bool(self._capital_attacked[c]), p)
            protection = f.strength[guards[f.cell[guards] == junta.capital_cell]].sum()
            outcome = junta.face_coup(uniforms[c], protection, p)
            if outcome is not None:
                self.recorder.log_events(self.day, "coup_attempt", np.array([junta.capital_cell]),
                                         np.array([-2]), np.array([-2]), np.array([0]),
                                         note=f"coup attempt {outcome}")

    def _replace_losses(self) -> None:
        """Bring state-side units back toward their establishment strength.

        Recruitment and replacements restore deficit / replacement_days per day.
        """
        f = self.forces
        days = self.spec.parameters.junta.replacement_days
        refill = f.present & self.state_side[f.faction]
        f.strength[refill] += np.maximum(f.initial[refill] - f.strength[refill], 0.0) / days

    def _record(self) -> None:
        rec, d = self.recorder, self.day
        np.copyto(rec.killed[d], self._today)
        rec.wounded[d] = self._wounded
        n_cat = len(self.actor_ids) + 1
        idx = self._sahel_idx
        code = self.controller[idx].astype(np.int64)
        code[code == control.CONTESTED] = n_cat - 1
        key = self._sahel_bucket * n_cat + code
        np.sum(self.residents, axis=0, out=self.residents_layer)
        self.deaths += self.deaths_today
        total = self.residents_layer[idx]
        cells = np.bincount(key, minlength=N_COUNTRIES * n_cat).reshape(N_COUNTRIES, n_cat)
        people = np.bincount(key, weights=total, minlength=N_COUNTRIES * n_cat)
        people = people.reshape(N_COUNTRIES, n_cat)
        rec.territory[d] = cells / self._cells_per_country[:, None]
        rec.population[d] = people / np.maximum(people.sum(axis=1, keepdims=True), 1e-9)
        rec.residents[d] = people.sum(axis=1)
        rec.displaced[d] = np.bincount(self._sahel_bucket, weights=self.displaced[idx],
                                       minlength=N_COUNTRIES)
        rec.recruited[d] = self.recruited_total
        bucket = self.country_bucket
        f = self.forces
        n_f = len(self.faction_ids)
        live = f.present
        where = bucket[f.cell[live]] * n_f + f.faction[live]
        rec.personnel[d] = np.bincount(where, weights=f.strength[live],
                                       minlength=(N_COUNTRIES + 1) * n_f
                                       ).reshape(N_COUNTRIES + 1, n_f)[:N_COUNTRIES]
        for c, iso in enumerate(COUNTRIES):
            junta = self.juntas.get(iso)
            if junta is not None:
                rec.credibility[d, c] = junta.credibility
                rec.coup_attempts[d, c] = junta.coup_attempts
                rec.coups[d, c] = junta.coups

    # ---------------------------------------------------------------------------------------
    # Accounting and outputs
    # ---------------------------------------------------------------------------------------
    def _people_by_country(self) -> np.ndarray:
        total = self.residents.sum(axis=0)
        return np.bincount(self.country_bucket, weights=total, minlength=N_COUNTRIES + 1)[
            :N_COUNTRIES]

    def people_balance(self) -> pd.DataFrame:
        """Per country: initial people vs residents + displaced + civilians killed + recruited."""
        residents = self._people_by_country()
        frame = pd.DataFrame({
            "country": list(COUNTRIES), "initial": self.initial_people, "residents": residents,
            "displaced": self.displaced_by_origin, "killed": self.civilians_killed[:N_COUNTRIES],
            "recruited": self.recruited_total})
        frame["residual"] = frame["initial"] - frame[
            ["residents", "displaced", "killed", "recruited"]].sum(axis=1)
        return frame

    def timeseries(self) -> pd.DataFrame:
        """Daily series per country: control, fatalities, displacement, forces, juntas."""
        upto = min(int(self.time), self.spec.days)
        russian = [f for f, spec in self.spec.factions.items() if spec.kind == "russian"]
        return timeseries_frame(self.recorder, self.spec.start, upto, self.faction_ids,
                                self.actor_ids, russian)

    def fatalities(self) -> pd.DataFrame:
        """Deaths by date, country, victim and perpetrator (long form)."""
        upto = min(int(self.time), self.spec.days)
        return fatalities_frame(self.recorder, self.spec.start, upto, self.faction_ids)

    def events(self) -> pd.DataFrame:
        """The event log, with ACLED's column names where they apply."""
        return events_frame(self.recorder, self.spec.start, self._geo_tables(), self.labels)

    def cell_months(self) -> pd.DataFrame:
        """Fatalities per PRIO-GRID cell and month."""
        return cell_month_frame(self.events())

    def _geo_tables(self) -> dict[str, Any]:
        if not hasattr(self, "_geo_cache"):
            geo = self.geo
            codes = np.array(geo.country_codes, dtype=object)[geo.country.reshape(-1)]
            admin1 = np.array([r.name for r in geo.regions] + [""], dtype=object)
            self._geo_cache = {
                "ny": geo.ny, "lat": geo.lat.reshape(-1), "lon": geo.lon.reshape(-1),
                "prio_gid": geo.prio_gid.reshape(-1), "country": codes,
                "admin1": admin1[self.region], "location": _nearest_town_names(geo),
            }
        return self._geo_cache

    def unit_table(self) -> pd.DataFrame:
        """Current state of every force row: unit, faction, role, strength, position."""
        f, geo = self.forces, self.geo
        return pd.DataFrame({
            "unit": [self.spec.units[i].id for i in f.spec],
            "faction": np.array(self.faction_ids, dtype=object)[f.faction],
            "role": np.array(["mobile", "garrison", "regime_protection"])[f.role],
            "strength": f.strength, "present": f.present, "attack": f.attack,
            "lat": geo.lat.reshape(-1)[f.cell], "lon": geo.lon.reshape(-1)[f.cell],
            "country": np.array(COUNTRY_CODES)[self.country_bucket[f.cell]],
        })


def _nearest_town_names(geo: Geography) -> np.ndarray:
    """Name of the nearest town to each cell centre (towns of 1,000+ people)."""
    from scipy.spatial import cKDTree

    towns = [t for t in geo.towns if t.population >= 1000]
    tree = cKDTree([(t.lon, t.lat) for t in towns])
    _, idx = tree.query(np.column_stack([geo.lon.reshape(-1), geo.lat.reshape(-1)]))
    names = np.array([t.name for t in towns], dtype=object)
    return names[idx]

