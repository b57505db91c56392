"""Mesa agents: juntas, force units and civilian communities.

Agents hold identity and decisions; the hot state they act on (strength, position, grievance)
lives in the model's numpy arrays, which the agents expose as properties, so that thousands of
units and communities act at once in vectorised mechanics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa import Agent

if TYPE_CHECKING:
    from mesa import Model
    from mesa.discrete_space import Cell

    from sim.scenario import Junta as JuntaSpec
    from sim.scenario import JuntaParams


class Junta(Agent):
    """A country's military government: credibility, coup risk and force allocation."""

    model: Model

    def __init__(self, model: Model, country: str, spec: JuntaSpec, capital_cell: int):
        super().__init__(model)
        self.country = country
        self.spec_leader = spec.leader
        self.capital_cell = capital_cell
        self.baseline = spec.credibility
        self.restart()

    def restart(self) -> None:
        """The junta of the start date: its leader and credibility, no coups counted yet."""
        self.leader = self.spec_leader
        self.credibility = self.baseline
        self.coup_attempts = 0
        self.coups = 0

    def update_credibility(
        self, enemy_killed: float, own_killed: float, capital_attacked: bool, p: JuntaParams
    ) -> None:
        """Update credibility from the day's fighting.

        It rises with victories, falls with losses and attacks on the capital, and drifts back
        toward its baseline.
        """
        change = (p.credibility_gain_per_kill * enemy_killed
                  - p.credibility_loss_per_death * own_killed
                  - p.capital_attack_shock * capital_attacked
                  + p.credibility_recovery * (self.baseline - self.credibility))
        self.credibility = min(1.0, max(0.0, self.credibility + change))

    def coup_hazard(self, p: JuntaParams) -> float:
        """Daily chance of a coup attempt.

        coup_rate/365 * (1 - credibility / coup_threshold)^2 below the threshold, else 0.
        """
        shortfall = max(0.0, 1.0 - self.credibility / p.coup_threshold)
        return p.coup_rate / 365.0 * shortfall**2

    def coup_success_probability(self, protection: float, p: JuntaParams) -> float:
        """Chance an attempt succeeds, halved by `protection_reference` guards."""
        return p.coup_success * p.protection_reference / (p.protection_reference + protection)

    def take_power(self) -> None:
        """The junta's own coup (a dated scenario fact): it rules from today."""
        self.coup_attempts += 1
        self.coups += 1
        self.credibility = self.baseline

    def face_coup(self, uniforms: np.ndarray, protection: float, p: JuntaParams) -> str | None:
        """Today's coup attempt, if any, from two uniform draws (attempt, success).

        Returns:
            'failed', 'succeeded' or None (no attempt).
        """
        if uniforms[0] >= self.coup_hazard(p):
            return None
        self.coup_attempts += 1
        if uniforms[1] < self.coup_success_probability(protection, p):
            self.coups += 1
            self.leader = f"new junta ({self.coups})"
            self.credibility = self.baseline
            return "succeeded"
        return "failed"


class ForceUnit(Agent):
    """A mobile group, garrison or guard of one faction.

    Its state is row `index` of the model's unit arrays (`model.world.forces`).
    """

    model: Model

    def __init__(self, model: Model, index: int, unit_id: str, name: str, faction: str,
                 role: str):
        super().__init__(model)
        self.index = index
        self.unit_id = unit_id
        self.name = name
        self.faction = faction
        self.role = role

    @property
    def strength(self) -> float:
        """Personnel fit to fight."""
        return float(self.model.world.forces.strength[self.index])

    @property
    def present(self) -> bool:
        """Deployed in the theatre (not yet arrived, withdrawn or destroyed = False)."""
        return bool(self.model.world.forces.present[self.index])

    @property
    def cell(self) -> Cell:
        """The grid cell the unit is in."""
        flat = int(self.model.world.forces.cell[self.index])
        return self.model.grid[divmod(flat, self.model.world.ny)]

    def deploy(self, strength: float | None) -> None:
        """Arrive at the base (with a new strength if given)."""
        forces = self.model.world.forces
        forces.present[self.index] = True
        forces.cell[self.index] = forces.base[self.index]
        if strength is not None:
            forces.strength[self.index] = strength
            forces.initial[self.index] = strength

    def advance(self, cell: int) -> None:
        """Make `cell` the unit's base (an offensive toward an objective); garrisons move there."""
        forces = self.model.world.forces
        forces.base[self.index] = cell
        if forces.role[self.index] != 0:  # not mobile: a garrison or guard moves at once
            forces.cell[self.index] = cell

    def withdraw(self) -> None:
        """Leave the theatre."""
        self.model.world.forces.present[self.index] = False

    def reinforce(self, personnel: float) -> None:
        """Add personnel (also to the establishment the unit is refilled toward)."""
        self.model.world.forces.strength[self.index] += personnel
        self.model.world.forces.initial[self.index] += personnel


class CivilianCommunity(Agent):
    """One community group in one admin1 region.

    Its grievance is row `index` of the model's grievance array (one column per faction).
    """

    model: Model

    def __init__(self, model: Model, index: int, country: str, region: str, group: str):
        super().__init__(model)
        self.index = index
        self.country = country
        self.region = region
        self.group = group

    @property
    def grievance(self) -> dict[str, float]:
        """Grievance toward each faction."""
        world = self.model.world
        row = world.grievance[self.index]
        return {f: float(row[i]) for i, f in enumerate(world.faction_ids)}

    @property
    def members(self) -> float:
        """Living residents (not displaced)."""
        return float(self.model.world.community_members()[self.index])
