"""Scenario files: the pydantic schema, TOML loading with `extends`, and one-line errors.

A scenario is the single place where every parameter of a run is named, typed, bounded,
documented and given its unit; the CLI, sweeps and the dashboard read it from here.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from sim.geography import COMMUNITIES, COUNTRIES

FACTION_KINDS = ("state", "militia", "russian", "jihadist", "separatist")
STATE_SIDE_KINDS = ("state", "militia", "russian")

Country = Literal["MLI", "BFA", "NER"]
Stance = Literal["allied", "hostile", "neutral"]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


def _not_a_number(value: Any) -> Any:
    """Dates are TOML dates (or ISO strings); numbers would be read as Unix timestamps."""
    if isinstance(value, int | float):
        raise ValueError(f"expected a date such as 2024-08-30, got the number {value}")
    return value


Date = Annotated[dt.date, BeforeValidator(_not_a_number)]


def param(default: float, lo: float, hi: float, unit: str, doc: str) -> Any:
    """A bounded behavioural parameter with its unit, for the schema."""
    return Field(default, ge=lo, le=hi, description=doc, json_schema_extra={"unit": unit})


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message is one line naming file, field and fix."""


class Strict(BaseModel):
    """Base for every scenario table: unknown keys are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


# --------------------------------------------------------------------------------------------
# Behavioural parameters, grouped by process (each group is one module in sim/mechanics).
# --------------------------------------------------------------------------------------------


class CombatParams(Strict):
    """Engagements between hostile forces (sim.mechanics.combat)."""

    engage_probability: float = param(
        0.25, 0.0, 1.0, "1/day", "Chance that hostile forces in one cell fight on a given day")
    aimed_fire_rate: float = param(
        0.015, 0.0, 1.0, "casualties/(fighter*day)",
        "Lanchester aimed-fire coefficient: casualties one effective fighter inflicts per day")
    area_fire_rate: float = param(
        2e-4, 0.0, 0.05, "casualties/(fighter^2*day)",
        "Deitchman area-fire coefficient of a column against hidden guerrillas")
    evasion: float = param(
        0.8, 0.0, 1.0, "probability",
        "Chance outnumbered guerrillas slip away instead of fighting (not in ambushes)")
    ambush_multiplier: float = param(
        2.0, 1.0, 20.0, "x", "Guerrilla fire multiplier when ambushing a moving column")
    killed_fraction: float = param(
        0.3, 0.05, 0.95, "share", "Share of casualties killed (rest wounded); Bamako 77/277")
    max_daily_loss: float = param(
        0.5, 0.05, 1.0, "share", "Largest share of a force that can fall in one day")
    complex_attack_rate: float = param(
        1.0, 0.0, 24.0, "1/year", "Complex attacks on high-value targets per jihadist faction-year")
    complex_attack_median_killed: float = param(
        40.0, 1.0, 500.0, "persons", "Median deaths in a complex attack (Bamako: 77)")
    complex_attack_sigma: float = param(
        0.8, 0.05, 3.0, "log-units", "Log-normal spread of complex-attack deaths")


class ViolenceParams(Strict):
    """Violence against civilians (sim.mechanics.violence)."""

    base_rate: float = param(
        0.002, 0.0, 1.0, "1/(100 personnel*day)",
        "Chance per 100 personnel-day of a violent event against civilians at restraint 0")
    contested_multiplier: float = param(
        3.0, 1.0, 20.0, "x", "Rate multiplier in contested cells (Kalyvas zones 2-4)")
    size_scale: float = param(
        2.0, 0.5, 100.0, "persons", "Scale (minimum) of event deaths, Pareto-distributed")
    size_tail: float = param(
        1.4, 1.01, 5.0, "-", "Pareto tail exponent of event deaths (smaller: heavier tail)")
    size_cap: float = param(
        800.0, 10.0, 5000.0, "persons", "Largest single event against civilians")
    indiscriminate_multiplier: float = param(
        2.0, 1.0, 20.0, "x", "Size multiplier where the perpetrator's control is weak (Kalyvas)")


class CivilianParams(Strict):
    """Grievance, recruitment and flight of civilian communities (sim.mechanics.civilians)."""

    grievance_per_death: float = param(
        20.0, 0.0, 1000.0, "1/(death per 1,000 people)",
        "Grievance added per civilian killed per 1,000 members of the community")
    grievance_half_life: float = param(
        540.0, 7.0, 3650.0, "days", "Half-life of grievance (revenge memory)")
    recruitment_rate: float = param(
        0.004, 0.0, 1.0, "recruits/(1,000 people*day)",
        "Recruits per 1,000 fully aggrieved people per day where a group is present")
    flight_per_death: float = param(
        60.0, 0.0, 2000.0, "persons/death",
        "People who flee per death in a cell (civilians or fighters)")
    contested_flight_rate: float = param(
        6e-5, 0.0, 0.05, "1/day", "Share of a contested cell's residents who flee each day")


class ControlParams(Strict):
    """Territorial control (sim.mechanics.control)."""

    presence_half: float = param(
        30.0, 1.0, 10000.0, "personnel", "Personnel in reach that give half of full influence")
    state_presence_weight: float = param(
        0.1, 0.0, 1.0, "x", "Weight of state personnel in influence relative to armed groups'")
    adjustment_days: float = param(
        45.0, 1.0, 730.0, "days", "Time constant of influence toward its target")
    contested_margin: float = param(
        0.25, 0.0, 0.8, "share", "Lead in influence needed to hold a cell rather than contest it")
    minimum_influence: float = param(
        0.15, 0.0, 1.0, "share", "Influence below which no one controls a cell")
    governance_days: float = param(
        180.0, 7.0, 3650.0, "days",
        "Time constant for an actor to entrench where it controls (or lose hold elsewhere)")
    town_state_floor: float = param(
        0.7, 0.0, 1.0, "share", "State influence kept in garrisoned towns")
    administration_sudanian: float = param(
        0.6, 0.0, 1.0, "share", "State administrative influence in Sudanian cells, unopposed")
    administration_sahelian: float = param(
        0.4, 0.0, 1.0, "share", "State administrative influence in Sahelian cells, unopposed")
    administration_saharan: float = param(
        0.15, 0.0, 1.0, "share", "State administrative influence in Saharan cells, unopposed")


class JuntaParams(Strict):
    """Junta credibility and coups (sim.agents.Junta)."""

    credibility_gain_per_kill: float = param(
        1e-4, 0.0, 0.05, "1/death", "Credibility gained per enemy fighter killed by state side")
    credibility_loss_per_death: float = param(
        2e-4, 0.0, 0.05, "1/death", "Credibility lost per state or Russian fighter killed")
    capital_attack_shock: float = param(
        0.08, 0.0, 1.0, "share", "Credibility lost when the capital is attacked")
    credibility_recovery: float = param(
        5e-3, 0.0, 0.1, "1/day", "Daily drift of credibility back toward its baseline")
    coup_rate: float = param(
        1.0, 0.0, 50.0, "1/year", "Coup attempts per year at zero credibility")
    coup_success: float = param(
        0.5, 0.0, 1.0, "probability", "Chance an attempt succeeds with no regime protection")
    protection_reference: float = param(
        300.0, 1.0, 10000.0, "personnel",
        "Regime-protection personnel that halve a coup's chance of success")
    replacement_days: float = param(
        120.0, 1.0, 3650.0, "days", "Time constant of replacing state forces' losses")
    offensive_share: float = param(
        0.5, 0.0, 1.0, "share", "Share of mobile state units on offensives at credibility 1")


class MovementParams(Strict):
    """Movement of force units (sim.mechanics.movement)."""

    state_speed: float = param(
        0.6, 0.0, 1.0, "cells/day", "Chance per day that a state unit moves one cell")
    insurgent_speed: float = param(
        0.8, 0.0, 1.0, "cells/day", "Chance per day that an armed-group unit moves one cell")
    state_reach: float = param(
        6.0, 0.0, 60.0, "cells", "How far state units operate from their base (supply)")
    raid_target_limit: float = param(
        400.0, 1.0, 100000.0, "personnel",
        "Largest enemy force in a cell that raiding armed groups are drawn to")
    wander: float = param(
        0.3, 0.0, 1.0, "share", "Random component of movement choices")


class Parameters(Strict):
    """All behavioural parameters, by process; `sources` gives each one's basis."""

    combat: CombatParams = Field(default_factory=CombatParams)
    violence: ViolenceParams = Field(default_factory=ViolenceParams)
    civilians: CivilianParams = Field(default_factory=CivilianParams)
    control: ControlParams = Field(default_factory=ControlParams)
    junta: JuntaParams = Field(default_factory=JuntaParams)
    movement: MovementParams = Field(default_factory=MovementParams)
    sources: dict[str, str] = Field(
        default_factory=dict, description="Dotted parameter name -> source of its value")

    @model_validator(mode="after")
    def _sources_name_parameters(self) -> Parameters:
        known = {f"{g}.{p}" for g, p in iter_parameter_names(type(self))}
        for key in self.sources:
            if key not in known:
                raise ValueError(
                    f"sources names unknown parameter '{key}'{did_you_mean(key, known)}")
        return self


def iter_parameter_names(params: type[Parameters] = Parameters) -> Iterator[tuple[str, str]]:
    """Yield (group, name) for every behavioural parameter."""
    for group, field in params.model_fields.items():
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            for name in sub.model_fields:
                yield group, name


# --------------------------------------------------------------------------------------------
# Actors
# --------------------------------------------------------------------------------------------


class Faction(Strict):
    """An armed faction: its kind, whom it serves, and how it treats civilians."""

    label: str
    kind: Literal["state", "militia", "russian", "jihadist", "separatist"]
    country: Country | None = Field(
        None, description="Country whose junta a state, militia or Russian faction serves")
    restraint: float = Field(
        0.5, ge=0.0, le=1.0, description="1 = never harms civilians; 0 = no restraint",
        json_schema_extra={"unit": "share"})
    firepower: float = Field(
        1.0, ge=0.0, le=10.0, description="Relative combat effectiveness per fighter",
        json_schema_extra={"unit": "x"})
    posture: Literal["defensive", "balanced", "offensive"] = "balanced"
    target_bias: dict[str, float] = Field(
        default_factory=dict,
        description="Relative weight of each community among its civilian victims")
    sanctuary_abroad: bool = Field(
        False, description="May operate from cells outside Mali, Burkina Faso and Niger")
    colour: str = Field("#888888", pattern=r"^#[0-9a-fA-F]{6}$")
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> Faction:
        if self.kind in STATE_SIDE_KINDS and self.country is None:
            raise ValueError(f"a {self.kind} faction needs 'country' (one of MLI, BFA, NER)")
        for group, weight in self.target_bias.items():
            if group not in COMMUNITIES:
                raise ValueError(
                    f"target_bias names unknown community '{group}'"
                    f"{did_you_mean(group, COMMUNITIES)}; allowed: {', '.join(COMMUNITIES)}")
            if not (0 <= weight < float("inf")):
                raise ValueError(f"target_bias.{group} must be a finite number >= 0, got {weight}")
        return self

    @property
    def state_side(self) -> bool:
        """True for the juntas' forces and their Russian allies."""
        return self.kind in STATE_SIDE_KINDS


class Unit(Strict):
    """A force unit (or a set of identical groups) with its strength, base and source."""

    id: Identifier
    faction: Identifier
    name: str
    strength: int = Field(ge=0, le=200_000, json_schema_extra={"unit": "personnel"})
    base: str | tuple[float, float] = Field(
        description="Town name (see `sahel-sim describe`) or [lat, lon]")
    groups: int = Field(1, ge=1, le=500, description="Mobile groups the unit is split into")
    spread: float = Field(
        0.0, ge=0.0, le=10.0, description="Radius in degrees over which groups start",
        json_schema_extra={"unit": "degrees"})
    role: Literal["mobile", "garrison", "regime_protection"] = "mobile"
    present: bool = Field(True, description="Present on the start date (else: a deploy event)")
    source: str


class HeldArea(Strict):
    """An area a non-state faction held (governed) on the start date."""

    faction: Identifier
    near: str | tuple[float, float] = Field(description="Town name or [lat, lon] of the centre")
    radius: float = Field(ge=0.0, le=10.0, json_schema_extra={"unit": "degrees"})
    governance: float = Field(
        0.6, ge=0.0, le=1.0, description="How firmly it was held (0-1)",
        json_schema_extra={"unit": "share"})
    source: str


class Junta(Strict):
    """A country's military government."""

    leader: str
    capital: str
    credibility: float = Field(0.6, ge=0.0, le=1.0, json_schema_extra={"unit": "share"})
    source: str = ""


EVENT_FIELDS: dict[str, set[str]] = {
    "deploy": {"unit", "strength"},
    "withdraw": {"unit"},
    "reinforce": {"unit", "strength"},
    "set_restraint": {"faction", "restraint"},
    "set_posture": {"faction", "posture"},
}


class Event(Strict):
    """A dated scenario event acting on a unit or a faction."""

    id: Identifier | None = None
    date: Date
    action: Literal["deploy", "withdraw", "reinforce", "set_restraint", "set_posture"]
    unit: Identifier | None = None
    faction: Identifier | None = None
    strength: int | None = Field(None, ge=0, le=200_000)
    restraint: float | None = Field(None, ge=0.0, le=1.0)
    posture: Literal["defensive", "balanced", "offensive"] | None = None
    note: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> Event:
        used = EVENT_FIELDS[self.action]
        for name in ("unit", "faction", "strength", "restraint", "posture"):
            if getattr(self, name) is not None and name not in used:
                raise ValueError(f"'{name}' is not used by a '{self.action}' event; it takes "
                                 f"{', '.join(sorted(used))}")
        if self.action in ("deploy", "withdraw", "reinforce") and self.unit is None:
            raise ValueError(f"a '{self.action}' event needs 'unit'")
        if self.action == "reinforce" and self.strength is None:
            raise ValueError("a 'reinforce' event needs 'strength' (personnel added)")
        if self.action == "set_restraint" and (self.restraint is None or self.faction is None):
            raise ValueError("a 'set_restraint' event needs 'faction' and 'restraint'")
        if self.action == "set_posture" and (self.posture is None or self.faction is None):
            raise ValueError("a 'set_posture' event needs 'faction' and 'posture'")
        return self


class Scenario(Strict):
    """A whole scenario: time, space, actors, relations, parameters and events."""

    name: str
    description: str
    start: Date
    end: Date
    seed: int = Field(0, ge=0, le=2**63 - 1)
    resolution: float = Field(
        0.25, gt=0.0, le=0.5, description="Cell size in degrees; must divide 0.5",
        json_schema_extra={"unit": "degrees"})
    factions: dict[Identifier, Faction]
    relations: dict[Identifier, dict[Identifier, Stance]] = Field(default_factory=dict)
    juntas: dict[Country, Junta]
    units: list[Unit]
    territory: list[HeldArea] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    parameters: Parameters = Field(default_factory=Parameters)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if self.end <= self.start:
            raise _FieldError(("end",), f"{self.end} must be after start ({self.start})")
        ratio = 0.5 / self.resolution
        if abs(ratio - round(ratio)) > 1e-9 or self.resolution < 0.05:
            raise _FieldError(("resolution",),
                              f"{self.resolution} must divide 0.5 and be >= 0.05 "
                              "(allowed: 0.5, 0.25, 0.125, 0.1, 0.0625, 0.05, ...)")
        _check_references(self)
        return self

    # Derived views ------------------------------------------------------------------------
    @property
    def days(self) -> int:
        """Number of simulated days, both ends included."""
        return (self.end - self.start).days + 1

    def stance(self, a: str, b: str) -> Stance:
        """Relation between two factions (symmetric; neutral when unspecified)."""
        if a == b:
            return "allied"
        return self.relations.get(a, {}).get(b) or self.relations.get(b, {}).get(a) or "neutral"

    def content_hash(self) -> str:
        """SHA-256 of the resolved scenario, so results can name what produced them."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


def _check_references(s: Scenario) -> None:
    """Cross-field checks: names that must exist, dates inside the run, symmetric relations."""
    factions = list(s.factions)
    for a, row in s.relations.items():
        if a not in s.factions:
            raise _FieldError(("relations", a), f"unknown faction '{a}'{did_you_mean(a, factions)}")
        for b, stance in row.items():
            if b == a:
                raise _FieldError(("relations", a, b), "a faction's relation to itself is not "
                                  "allowed (it is always allied with itself)")
            if b not in s.factions:
                raise _FieldError(
                    ("relations", a, b), f"unknown faction '{b}'{did_you_mean(b, factions)}")
            back = s.relations.get(b, {}).get(a)
            if back is not None and back != stance:
                raise _FieldError(
                    ("relations", a, b), f"'{stance}' contradicts relations.{b}.{a} = '{back}'")
    unit_ids: list[str] = []
    for i, unit in enumerate(s.units):
        if unit.faction not in s.factions:
            hint = did_you_mean(unit.faction, factions)
            raise _FieldError(("units", i, "faction"), f"unknown faction '{unit.faction}'{hint}")
        if unit.id in unit_ids:
            raise _FieldError(("units", i, "id"), f"duplicate unit id '{unit.id}'")
        unit_ids.append(unit.id)
    for i, area in enumerate(s.territory):
        if area.faction not in s.factions:
            raise _FieldError(("territory", i, "faction"), f"unknown faction '{area.faction}'"
                              f"{did_you_mean(area.faction, factions)}")
        if s.factions[area.faction].state_side:
            raise _FieldError(("territory", i, "faction"),
                              f"'{area.faction}' is a state-side faction; territory lists areas "
                              "held by armed groups")
    event_ids: set[str] = set()
    for i, event in enumerate(s.events):
        if event.id is not None:
            if event.id in event_ids:
                raise _FieldError(("events", i, "id"), f"duplicate event id '{event.id}'")
            event_ids.add(event.id)
        if not s.start <= event.date <= s.end:
            raise _FieldError(("events", i, "date"),
                              f"{event.date} is outside the run; allowed {s.start} to {s.end}")
        if event.unit is not None and event.unit not in unit_ids:
            raise _FieldError(("events", i, "unit"),
                              f"unknown unit '{event.unit}'{did_you_mean(event.unit, unit_ids)}")
        if event.faction is not None and event.faction not in s.factions:
            raise _FieldError(("events", i, "faction"), f"unknown faction '{event.faction}'"
                              f"{did_you_mean(event.faction, factions)}")
    _check_deployments(s)


def _check_deployments(s: Scenario) -> None:
    """A unit can only be deployed when it is not in the theatre on that date."""
    present = {u.id: u.present for u in s.units}
    order = sorted(range(len(s.events)), key=lambda i: s.events[i].date)
    for i in order:
        event = s.events[i]
        if event.action == "deploy":
            if present[event.unit]:
                raise _FieldError(("events", i, "unit"),
                                  f"'{event.unit}' is already present on {event.date}; deploy "
                                  "units that start with present = false or were withdrawn")
            present[event.unit] = True
        elif event.action == "withdraw":
            present[event.unit] = False


class _FieldError(ValueError):
    """A cross-field error with the dotted location it concerns."""

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def did_you_mean(word: str, choices: Any) -> str:
    """A ' (did you mean 'x'?)' suffix for a misspelt name, or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file or raise ScenarioError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        where = f"{path}:{line}" if line else str(path)
        reason = str(exc).split(" (at line")[0]
        raise ScenarioError(f"{where}: not valid TOML: {reason}") from None


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Overlay a child scenario on its parent.

    Tables merge key by key; `units` merge by `id` (a child entry overrides the fields it
    names, a new id is added); `events` are appended; `remove_units` and `remove_events` drop
    entries of the parent by id.
    """
    out = dict(base)
    for key, value in child.items():
        if key in ("units", "events") and not (
                isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            raise ScenarioError(f"{key}: expected a list of tables ([[{key}]]), got "
                                f"{type(value).__name__}")
        if key == "units":
            out["units"] = _merge_units(base.get("units", []), value)
        elif key == "events":
            out["events"] = list(base.get("events", [])) + list(value)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = merge(base[key], value)
        else:
            out[key] = value
    return out


def _merge_units(base: list[Any], child: list[Any]) -> list[Any]:
    merged = [dict(u) if isinstance(u, dict) else u for u in base]
    by_id = {u.get("id"): i for i, u in enumerate(merged) if isinstance(u, dict)}
    for unit in child:
        if isinstance(unit, dict) and unit.get("id") in by_id:
            merged[by_id[unit["id"]]].update(unit)
        else:
            merged.append(unit)
    return merged


def _resolve(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a file and everything it extends, child over parent."""
    if path.resolve() in (p.resolve() for p in chain):
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(f"{chain[-1]}: extends: circular chain {cycle}")
    if chain and path.is_dir():
        raise ScenarioError(f"{chain[-1]}:{_find_line(chain[-1], ('extends',))}: extends: "
                            f"'{path}' is a folder, not a scenario file")
    data = read_toml(path)
    parent_name = data.pop("extends", None)
    removals = {k: data.pop(k) for k in ("remove_units", "remove_events") if k in data}
    for key, ids in removals.items():
        if not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            raise ScenarioError(f"{path}:{_find_line(path, (key,))}: {key}: expected a list of "
                                f"ids (strings), got {ids!r}")
    if parent_name is None:
        if removals:
            raise ScenarioError(f"{path}: {next(iter(removals))}: only allowed with 'extends'")
        return data
    if not isinstance(parent_name, str):
        raise ScenarioError(f"{path}: extends: expected a file name (string), got "
                            f"{type(parent_name).__name__}")
    parent_path = (path.parent / parent_name)
    if not parent_path.exists():
        raise ScenarioError(f"{path}:{_find_line(path, ('extends',))}: extends: file "
                            f"'{parent_name}' not found next to it")
    parent = _resolve(parent_path, (*chain, path))
    for key, ids in removals.items():
        kind = key.removeprefix("remove_")
        entries = parent.get(kind, [])
        if not isinstance(entries, list):
            raise ScenarioError(f"{parent_path}: {kind}: expected a list of tables ([[{kind}]])")
        known = [e.get("id") for e in entries if isinstance(e, dict)]
        for rid in ids:
            if rid not in known:
                raise ScenarioError(
                    f"{path}:{_find_line(path, (key,))}: {key}: no {kind[:-1]} with id '{rid}' in "
                    f"'{parent_name}'{did_you_mean(rid, [k for k in known if k])}")
        parent[kind] = [e for e in entries if not (isinstance(e, dict) and e.get("id") in ids)]
    try:
        merged = merge(parent, data)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    merged.setdefault("__chain__", []).insert(0, str(path))
    return merged


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, resolve `extends`, apply dotted overrides and validate a scenario file.

    Raises:
        ScenarioError: with a one-line message naming the file, line, field and what is allowed.
    """
    path = Path(path)
    data = _resolve(path)
    chain = [Path(p) for p in data.pop("__chain__", [])]
    if overrides:
        data = apply_overrides(data, overrides, origin=str(path))
    return validate_data(data, path, chain)


def validate_data(data: dict[str, Any], path: Path, chain: list[Path] | None = None
                  ) -> Scenario:
    """Validate an already-merged scenario mapping, translating errors to one line.

    `chain` lists the files `path` extends (nearest first), to find where a key was written.
    """
    files = [path, *(chain or [])]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_validation(exc, data, files)) from None
    _check_places(scenario, files)
    return scenario


def _check_places(scenario: Scenario, files: list[Path]) -> None:
    """Check that bases and capitals are known places, state-side units in the three countries.

    Unit bases and junta capitals must be towns or points on the grid; state, militia and
    Russian units must be based in Mali, Burkina Faso or Niger.
    """
    from sim.geography import build_geography

    geo = build_geography(scenario.resolution)
    places: list[tuple[tuple[Any, ...], str | tuple[float, float]]] = [
        (("units", i, "base"), unit.base) for i, unit in enumerate(scenario.units)]
    places += [(("juntas", c, "capital"), j.capital) for c, j in scenario.juntas.items()]
    places += [(("territory", i, "near"), a.near) for i, a in enumerate(scenario.territory)]
    for loc, place in places:
        try:
            cell = geo.town(place).cell if isinstance(place, str) else geo.cell_of(*place)
        except KeyError:
            names = geo.town_names()
            msg = (f"unknown town '{place}'{did_you_mean(place, names)}; use a town of "
                   "`sahel-sim describe` or [lat, lon]")
            raise ScenarioError(_located(files, loc, scenario.model_dump(), msg)) from None
        except ValueError as exc:
            raise ScenarioError(_located(files, loc, scenario.model_dump(), str(exc))) from None
        if loc[0] == "units" and scenario.factions[scenario.units[loc[1]].faction].state_side:
            country = geo.country_codes[geo.country[cell]]
            if country not in COUNTRIES:
                msg = (f"{place!r} is in {country or 'no country'}; state, militia and Russian "
                       "units must be based in Mali, Burkina Faso or Niger")
                raise ScenarioError(_located(files, loc, scenario.model_dump(), msg))


def _located(files: list[Path], loc: tuple[Any, ...], data: dict[str, Any], msg: str) -> str:
    where = _where(files, loc)
    return f"{where}: {_dotted(loc, data)}: {msg}"


def _where(files: list[Path], loc: tuple[Any, ...]) -> str:
    """'file:line' of the nearest file in the chain that writes the key, else the first file."""
    for path in files:
        line = _find_line(path, loc, exact=True)
        if line:
            return f"{path}:{line}"
    line = _find_line(files[0], loc)
    return f"{files[0]}:{line}" if line else str(files[0])


def apply_overrides(
    data: dict[str, Any], overrides: Mapping[str, Any], origin: str = "overrides"
) -> dict[str, Any]:
    """Set dotted paths (`parameters.combat.engage_probability`, `factions.jnim.restraint`)."""
    out = copy.deepcopy(data)
    for dotted, value in overrides.items():
        check_parameter_path(dotted, out, origin)
        node = out
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return out


def tunable_parameters(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every numeric parameter a sweep or dashboard may set, with its bounds and unit."""
    out: dict[str, dict[str, Any]] = {}
    for group, name in iter_parameter_names():
        field = Parameters.model_fields[group].annotation.model_fields[name]  # type: ignore[union-attr]
        out[f"parameters.{group}.{name}"] = _bounds(field)
    for faction in data.get("factions", {}):
        for name in ("restraint", "firepower"):
            out[f"factions.{faction}.{name}"] = _bounds(Faction.model_fields[name])
    for country in data.get("juntas", {}):
        out[f"juntas.{country}.credibility"] = _bounds(Junta.model_fields["credibility"])
    return out


def _bounds(field: Any) -> dict[str, Any]:
    lo = hi = None
    for meta in field.metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    extra = field.json_schema_extra or {}
    return {"low": lo, "high": hi, "unit": extra.get("unit", ""),
            "description": field.description or "", "default": field.default}


def check_parameter_path(dotted: str, data: Mapping[str, Any], origin: str) -> None:
    """Raise ScenarioError unless `dotted` names a tunable parameter of this scenario."""
    known = tunable_parameters(data)
    if dotted not in known:
        raise ScenarioError(f"{origin}: {dotted}: not a tunable parameter"
                            f"{did_you_mean(dotted, known)}; see `sahel-sim parameters FILE`")


# --------------------------------------------------------------------------------------------
# Error messages
# --------------------------------------------------------------------------------------------


def _format_validation(exc: ValidationError, data: dict[str, Any], files: list[Path]) -> str:
    err = exc.errors(include_url=False)[0]
    loc = _data_loc(tuple(err["loc"]), data)
    ctx = err.get("ctx") or {}
    original = ctx.get("error")
    if isinstance(original, _FieldError):
        loc, msg = original.loc, original.msg
    else:
        msg = _describe(err, loc, data)
    return f"{_where(files, loc)}: {_dotted(loc, data) or '(top level)'}: {msg}"


def _data_loc(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Drop pydantic's tags for union members (`str`, `tuple[float, float]`) from a location.

    Keys and indices that exist in the data are kept.
    """
    out: list[Any] = []
    node = data
    for part in loc:
        exists = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node))
        if exists:
            node = node[part]
        elif isinstance(node, dict) or isinstance(part, int) or not out:
            node = None  # a missing or unknown key: keep it, stop walking
        else:
            continue  # a union tag
        out.append(part)
    return tuple(out)


def _describe(err: Mapping[str, Any], loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    value = err.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], data)
        return (f"unknown key '{loc[-1]}'{did_you_mean(loc[-1], allowed)}; allowed: "
                f"{', '.join(sorted(allowed))}")
    if kind == "missing":
        return "required field is missing"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        field = _field_at(loc)
        bounds = _bounds(field) if field is not None else {"low": None, "high": None}
        if bounds["low"] is not None and bounds["high"] is not None:
            return f"{value!r} is out of range; allowed {bounds['low']} to {bounds['high']}"
        return f"{value!r} is out of range; must be {err['msg'].split('be ', 1)[-1]}"
    if kind == "literal_error":
        return f"{value!r} is not allowed; allowed: {ctx.get('expected', '')}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} is not a valid name (lower-case letters, digits and _)"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    expected = err["msg"].replace("Input should be ", "expected ")
    return f"wrong type: got {type(value).__name__} {value!r}; {expected}"


def _field_at(loc: tuple[Any, ...]) -> Any:
    """The pydantic FieldInfo at a location, or None."""
    model: Any = Scenario
    field = None
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None:
            return None
        if part in fields:
            field = fields[part]
            model = _model_of(field.annotation)
        else:  # a dict key (faction id, country code)
            model = _dict_value_model(field.annotation) if field else None
    return field


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _dict_value_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    return _model_of(args[-1]) if args else None


def _allowed_keys(loc: tuple[Any, ...], data: dict[str, Any]) -> list[str]:
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        fields = model.model_fields if model is not None else {}
        model = _model_of(fields[part].annotation) if part in fields else model
    return list(model.model_fields) if model is not None else []


def _dotted(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """Dotted path, naming list entries by their id where they have one: units[bear_brigade]."""
    parts: list[str] = []
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            entry = node[part] if isinstance(node, list) and part < len(node) else None
            ident = entry.get("id") if isinstance(entry, dict) else None
            parts[-1] += f"[{ident}]" if ident else f"[{part}]"
            node = entry
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


def _find_line(path: Path, loc: tuple[Any, ...], exact: bool = False) -> int | None:
    """Best-effort line of the key a location names (TOML parsers keep no positions).

    With `exact`, only a line that writes the key itself counts (not its table's header).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    keys = [str(p) for p in loc if not isinstance(p, int)]
    if not keys:
        return None
    # Start after the header of the deepest table we can find, then look for the key.
    start = 0
    for depth in range(len(keys) - 1, 0, -1):
        header = re.compile(r"^\s*\[+\s*" + re.escape(".".join(keys[:depth])) + r"\s*\]+")
        hits = [i for i, text in enumerate(lines) if header.match(text)]
        if hits:
            index = [p for p in loc if isinstance(p, int)]
            start = hits[min(index[0], len(hits) - 1)] if index and len(hits) > 1 else hits[0]
            break
    key = re.compile(r"^\s*\"?" + re.escape(keys[-1]) + r"\"?\s*=")
    for i in range(start, len(lines)):
        if key.match(lines[i]):
            return i + 1
        if i > start and lines[i].lstrip().startswith("[") and start:
            break  # the next table: the key is not in this one
    if exact:
        return None
    return start + 1 if start else None
