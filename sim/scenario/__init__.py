"""Scenario files: the pydantic schema, TOML loading with `extends`, and one-line errors.

A scenario is the single place where every parameter of a run is named, typed, bounded,
documented and given its unit; the CLI, sweeps and the dashboard read it from here.

Modules, bottom to top: `errors` (ScenarioError, locating a problem), `parameters` (the
behavioural parameter groups), `schema` (factions, units, events, the scenario; tunable
parameters), `messages` (validation errors as one line), `loading` (TOML, `extends`,
overrides), `levers` (dated events' fields as policy levers) and `catalog` (the bundled
scenarios).
"""

from sim.geography import COMMUNITIES, COUNTRIES
from sim.scenario.catalog import SCENARIO_DIR, bundled_scenarios, resolve_scenario_path
from sim.scenario.errors import ScenarioError, did_you_mean
from sim.scenario.levers import (
    Lever,
    apply_settings,
    event_levers,
    is_lever,
    lever,
)
from sim.scenario.loading import (
    load_scenario,
    merge,
    read_toml,
    validate_data,
)
from sim.scenario.parameters import (
    BlockadeParams,
    CivilianParams,
    CombatParams,
    ComplexAttackParams,
    ControlParams,
    DecisionParams,
    DroneParams,
    ForeignParams,
    JuntaParams,
    MovementParams,
    Parameters,
    RussianSupportParams,
    Strict,
    ViolenceParams,
    iter_parameter_names,
    param,
)
from sim.scenario.schema import (
    ARMED_GROUP_KINDS,
    EVENT_FIELDS,
    FACTION_KINDS,
    FLEET_ACTIONS,
    FOREIGN_KINDS,
    STATE_SIDE_KINDS,
    Country,
    Date,
    DroneFleet,
    Event,
    Faction,
    HeldArea,
    Identifier,
    Junta,
    Scenario,
    Stance,
    Unit,
)
from sim.scenario.tunable import apply_overrides, check_parameter_path, tunable_parameters

__all__ = [
    "ARMED_GROUP_KINDS",
    "COMMUNITIES",
    "COUNTRIES",
    "EVENT_FIELDS",
    "FACTION_KINDS",
    "FLEET_ACTIONS",
    "FOREIGN_KINDS",
    "SCENARIO_DIR",
    "STATE_SIDE_KINDS",
    "BlockadeParams",
    "CivilianParams",
    "CombatParams",
    "ComplexAttackParams",
    "ControlParams",
    "Country",
    "Date",
    "DecisionParams",
    "DroneFleet",
    "DroneParams",
    "Event",
    "Faction",
    "ForeignParams",
    "HeldArea",
    "Identifier",
    "Junta",
    "JuntaParams",
    "Lever",
    "MovementParams",
    "Parameters",
    "RussianSupportParams",
    "Scenario",
    "ScenarioError",
    "Stance",
    "Strict",
    "Unit",
    "ViolenceParams",
    "apply_overrides",
    "apply_settings",
    "bundled_scenarios",
    "check_parameter_path",
    "did_you_mean",
    "event_levers",
    "is_lever",
    "iter_parameter_names",
    "lever",
    "load_scenario",
    "merge",
    "param",
    "read_toml",
    "resolve_scenario_path",
    "tunable_parameters",
    "validate_data",
]
