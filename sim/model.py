"""SahelModel: set-up and the daily step of the central Sahel.

`step()` reads as the ODD's process overview: one call per process, in order, each
`act(world, ledger, params, rng)` from `sim.mechanics`. Scenario events (deployments,
withdrawals, policy changes) are scheduled with Mesa's `schedule_event` half a day before the
step of their date, so they fire first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from mesa import Model
from mesa.discrete_space import OrthogonalMooreGrid
from scipy.spatial import cKDTree

from sim.agents import CivilianCommunity, ForceUnit, Junta
from sim.geography import COMMUNITIES, COUNTRIES, COUNTRY_CODES, build_geography
from sim.kernel_cache import ensure_cached
from sim.ledger import Ledger, Today
from sim.mechanics import (
    blockades,
    combat,
    complex_attacks,
    control,
    decisions,
    drones,
    flight,
    foreign_forces,
    grievance,
    influence,
    juntas,
    movement,
    recovery,
    recruitment,
    reinforcement,
    replacement,
    scenario_events,
    violence,
)
from sim.scenario import Event, Scenario
from sim.streams import RandomStreams
from sim.tables import (
    Recorder,
    cell_control_frame,
    cell_month_frame,
    events_frame,
    fatalities_frame,
    timeseries_frame,
)
from sim.world import World
from sim.world_setup import build_world


class SahelModel(Model):
    """The central Sahel: juntas, Russian contingents, armed groups and civilians, day by day.

    Args:
        scenario: a validated scenario (see `sim.load_scenario`).
        rng: seed or generator; defaults to the scenario's seed.
    """

    def __init__(self, scenario: Scenario,
                 rng: int | np.random.SeedSequence | np.random.Generator | None = None) -> None:
        ensure_cached()
        super().__init__(rng=scenario.seed if rng is None else rng)
        self.spec = scenario
        self.streams = RandomStreams(self.rng)
        geo = build_geography(scenario.resolution)
        self.world = world = build_world(scenario, geo, self.streams.get("setup", -1).key)
        self.ledger = Ledger(len(world.faction_ids))
        self.recorder = Recorder(scenario.days, len(world.faction_ids), len(world.actor_ids),
                                 world.n_cells)
        self._grid: OrthogonalMooreGrid | None = None
        dates = pd.date_range(scenario.start, periods=scenario.days, freq="D")
        self._month_end = dates.is_month_end | (np.arange(scenario.days) == scenario.days - 1)
        self._setup_agents()
        world.target = influence.targets(world, scenario.parameters.control)
        world.influence[:] = world.target
        control.act(world, self.ledger, scenario.parameters.control,
                    self.streams.get("control", -1 - scenario.spin_up_days))
        self._spin_up()
        # Mesa keeps weak references to callbacks: the model owns them.
        self._event_actions = [self._event_handler(e) for e in scenario.events]
        for event, action in zip(scenario.events, self._event_actions, strict=True):
            self.schedule_event(action, at=(event.date - scenario.start).days + 0.5)
        self._returns: list[Callable[[], None]] = []  # recalled rows' return home
        self._coups = [self._coup_handler(c) for c in self._coup_countries()]
        for c, action in zip(self._coup_countries(), self._coups, strict=True):
            since = scenario.juntas[list(COUNTRIES)[c]].since
            self.schedule_event(action, at=(since - scenario.start).days + 0.5)

    def _setup_agents(self) -> None:
        world, s = self.world, self.spec
        world.juntas = [Junta(self, iso, s.juntas[iso], int(world.capital_cell[c]))
                        if iso in s.juntas else None for c, iso in enumerate(COUNTRIES)]
        units = world.forces
        for row in range(units.size):
            unit = s.units[int(units.spec[row])]
            ForceUnit(self, row, unit.id, unit.name, unit.faction, unit.role)
        self.units_by_id = self.agents_by_type[ForceUnit].groupby("unit_id").groups
        g = len(COMMUNITIES)
        self.communities = [
            CivilianCommunity(self, r * g + k, region.country, region.name, group)
            for r, region in enumerate(world.geo.regions) for k, group in enumerate(COMMUNITIES)]

    def _coup_countries(self) -> list[int]:
        juntas, start, end = self.spec.juntas, self.spec.start, self.spec.end
        return [c for c, iso in enumerate(COUNTRIES)
                if iso in juntas and juntas[iso].since is not None
                and start <= juntas[iso].since <= end]

    def _event_handler(self, event: Event) -> Callable[[], None]:
        def fire() -> None:
            self.apply_event(event)
        return fire

    def _coup_handler(self, country: int) -> Callable[[], None]:
        def fire() -> None:
            self.ledger.open_day(max(self.day + 1, 0))
            params = self.spec.parameters.junta
            recall = scenario_events.take_power(self.world, self.ledger, country,
                                                params.post_coup_recall)
            if recall.rows.size:
                self._returns.append(self._return_handler(recall, country))
                self.schedule_event(self._returns[-1],
                                    at=self.time + round(params.post_coup_recall_days))
        return fire

    def _return_handler(self, recall: scenario_events.Recall,
                        country: int) -> Callable[[], None]:
        def fire() -> None:
            self.ledger.open_day(max(self.day + 1, 0))
            scenario_events.end_recall(self.world, self.ledger, recall, country)
        return fire

    def apply_event(self, event: Event) -> None:
        """Carry out a scenario event (see `sim.mechanics.scenario_events`)."""
        self.ledger.open_day(max(self.day + 1, 0))
        rows = self.units_by_id.get(event.unit, ()) if event.unit else ()
        scenario_events.apply(self.world, self.ledger, event, rows,
                              self.spec.parameters.russian_support)

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
        """One day: the processes (`simulate_day`), then the day's deaths and the record."""
        day, world = self.day, self.world
        if day >= self.spec.days:
            raise RuntimeError(f"the scenario ends on {self.spec.end}; nothing left to simulate")
        today = self.simulate_day(day, self.ledger)
        self.ledger.add_deaths_today(world, world.deaths)
        self.recorder.record(world, day, bool(self._month_end[day]), today.capital_attacked)

    def simulate_day(self, day: int, ledger: Ledger) -> Today:
        """The processes of one day, in the order of the ODD's process overview."""
        world, p, rng = self.world, self.spec.parameters, self.streams.get
        ledger.open_day(day)
        periodic = world.is_decision_day(day)
        foreign_forces.act(world, ledger, p.foreign, rng("foreign", day))
        if periodic:
            decisions.act(world, ledger, p.decisions, rng("decide", day))
        movement.act(world, ledger, p.movement, rng("move", day))
        combat.act(world, ledger, p.combat, rng("engage", day))
        complex_attacks.act(world, ledger, p.complex_attacks, rng("complex_attack", day))
        drones.act(world, ledger, p.drones, rng("drone", day))
        violence.act(world, ledger, p.violence, rng("violence", day))
        blockades.act(world, ledger, p.blockades, rng("blockade", day))
        grievance.act(world, ledger, p.civilians, rng("grievance", day))
        if periodic:
            recruitment.act(world, ledger, p.civilians, rng("recruit", day))
            reinforcement.act(world, ledger, p.decisions, rng("reinforce", day))
        flight.act(world, ledger, p.civilians, rng("flight", day))
        if periodic:
            influence.act(world, ledger, p.control, rng("influence", day))
        control.act(world, ledger, p.control, rng("control", day))
        juntas.act(world, ledger, p.junta, rng("junta", day))
        replacement.act(world, ledger, p.junta, rng("replacement", day))
        recovery.act(world, ledger, p.combat, rng("recovery", day))
        return ledger.today(world)

    def _spin_up(self) -> None:
        """Simulate `spin_up_days` days before the start and keep only the world they leave.

        Positions, control, grievance, strengths and the displaced settle from their set-up
        values; the days' events and deaths go to a ledger that is then dropped, and the
        juntas (credibility, leader, coup counts) and the people balance restart at the start
        date (ODD 5). No dated event falls in these days (events lie inside the run).
        """
        world = self.world
        ledger = Ledger(len(world.faction_ids))
        for day in range(-self.spec.spin_up_days, 0):
            self.simulate_day(day, ledger)
        world.recruited[:] = 0.0
        world.initial_people = world.people_by_country() + world.displaced_by_origin
        for junta in world.juntas:
            if junta is not None:
                junta.restart()

    def run(self, progress: Callable[[int, int], object] | None = None) -> SahelModel:
        """Run to the scenario's end date; `progress(days_done, days_total)` is called weekly."""
        total = self.spec.days
        while not self.finished:
            self.step()
            if progress is not None and (int(self.time) % 7 == 0 or self.finished):
                progress(int(self.time), total)
        return self

    # ---------------------------------------------------------------------------------------
    # Views and outputs
    # ---------------------------------------------------------------------------------------
    @property
    def grid(self) -> OrthogonalMooreGrid:
        """Mesa's grid over the map, sharing the world's cell layers (built on first use)."""
        if self._grid is None:
            self._grid = OrthogonalMooreGrid(self.world.geo.shape, torus=False,
                                             random=self.random)
            for layer in self.world.layers.values():
                self._grid.add_property_layer(layer)
        return self._grid

    def __getattr__(self, name: str) -> Any:
        """The world's state (faction_ids, zone, residents, ...) read through the model."""
        if name != "world" and "world" in self.__dict__ and hasattr(self.world, name):
            return getattr(self.world, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def people_balance(self) -> pd.DataFrame:
        """Per country: initial people vs residents + displaced + civilians killed + recruited."""
        world = self.world
        frame = pd.DataFrame({
            "country": list(COUNTRIES), "initial": world.initial_people,
            "residents": world.people_by_country(), "displaced": world.displaced_by_origin,
            "killed": self.ledger.civilians_killed(world.country_bucket),
            "recruited": world.recruited.sum(axis=1)})
        frame["residual"] = frame["initial"] - frame[
            ["residents", "displaced", "killed", "recruited"]].sum(axis=1)
        return frame

    @property
    def _upto(self) -> int:
        return min(int(self.time), self.spec.days)

    def timeseries(self) -> pd.DataFrame:
        """Daily series per country, one column per declared output (`sim.outputs.SERIES`)."""
        w = self.world
        russian = [i for i, fid in enumerate(w.faction_ids)
                   if self.spec.factions[fid].kind == "russian"]
        return timeseries_frame(self.recorder, self.ledger, w.country_bucket, self.spec.start,
                                self._upto, w.faction_ids, w.actor_ids, russian)

    def fatalities(self) -> pd.DataFrame:
        """Deaths by date, country, victim and perpetrator (long form)."""
        w = self.world
        return fatalities_frame(self.ledger, w.country_bucket, self.spec.start, self._upto,
                                w.faction_ids)

    def events(self) -> pd.DataFrame:
        """The event log, with ACLED's column names where they apply."""
        labels = [f.label for f in self.spec.factions.values()]
        return events_frame(self.ledger, self.spec.start, self._geo_tables(), labels)

    def cell_months(self) -> pd.DataFrame:
        """Fatalities per PRIO-GRID cell and month."""
        return cell_month_frame(self.events())

    def cell_control(self) -> pd.DataFrame:
        """Kalyvas zone and controlling actor per cell of the three countries and month."""
        w = self.world
        return cell_control_frame(self.recorder, self.spec.start, self._geo_tables(),
                                  w.sahel_idx, w.actor_ids)

    def _geo_tables(self) -> dict[str, Any]:
        if "_geo_cache" not in self.__dict__:
            geo, region = self.world.geo, self.world.region
            codes = np.array(geo.country_codes, dtype=object)[geo.country.reshape(-1)]
            admin1 = np.array([r.name for r in geo.regions] + [""], dtype=object)
            towns = [t for t in geo.towns if t.population >= 1000]
            _, nearest = cKDTree([(t.lon, t.lat) for t in towns]).query(
                np.column_stack([geo.lon.reshape(-1), geo.lat.reshape(-1)]))
            self._geo_cache = {
                "ny": geo.ny, "lat": geo.lat.reshape(-1), "lon": geo.lon.reshape(-1),
                "prio_gid": geo.prio_gid.reshape(-1), "country": codes,
                "admin1": admin1[region],
                "location": np.array([t.name for t in towns], dtype=object)[nearest],
            }
        return self._geo_cache

    def unit_table(self) -> pd.DataFrame:
        """Current state of every force row: unit, faction, role, strength, position."""
        w = self.world
        f, geo = w.forces, w.geo
        return pd.DataFrame({
            "unit": [self.spec.units[i].id for i in f.spec],
            "faction": np.array(w.faction_ids, dtype=object)[f.faction],
            "role": np.array(["mobile", "garrison", "regime_protection"])[f.role],
            "strength": f.strength, "present": f.present, "attack": f.attack,
            "lat": geo.lat.reshape(-1)[f.cell], "lon": geo.lon.reshape(-1)[f.cell],
            "country": np.array(COUNTRY_CODES)[w.country_bucket[f.cell]],
        })


__all__ = ["SahelModel", "World"]
