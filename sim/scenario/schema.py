"""The scenario schema: factions, units, held areas, juntas, events and the whole scenario.

A scenario is the single place where every parameter of a run is named, typed, bounded,
documented and given its unit; the CLI, sweeps and the dashboard read it from here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, model_validator
from pydantic_core import to_jsonable_python

from sim.geography import COMMUNITIES
from sim.scenario.errors import _FieldError, did_you_mean
from sim.scenario.parameters import Parameters, Strict
from sim.scenario.references import FACTION_KIND_OF_ACTION, check_references

FACTION_KINDS = ("state", "militia", "russian", "jihadist", "separatist", "peacekeeping",
                 "western")
STATE_SIDE_KINDS = ("state", "militia", "russian")  # the juntas' side: one control actor
ARMED_GROUP_KINDS = ("jihadist", "separatist")  # each a control actor of its own
FOREIGN_KINDS = ("peacekeeping", "western")  # UN and Western forces: no control, no junta

Country = Literal["MLI", "BFA", "NER"]
Stance = Literal["allied", "hostile", "neutral"]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
# Numbers are strict: "0.5" (a string) and true (a boolean) are not numbers; an integer is
# still a valid float.
Number = Annotated[float, Field(strict=True)]
Point = tuple[Number, Number]

# Fields that document a scenario and never change what a run does: left out of its behaviour
# hash, so editing a note keeps the sweeps and calibrations made with the scenario valid.
DOCUMENTATION_FIELDS = frozenset({"description", "note", "source", "sources"})

# The period a scenario may cover (the grid's population and borders are of the 2020s).
EARLIEST, LATEST, MAX_YEARS = dt.date(1990, 1, 1), dt.date(2050, 12, 31), 20


def _not_a_number(value: Any) -> Any:
    """Dates are TOML dates (or ISO strings); numbers would be read as Unix timestamps."""
    if isinstance(value, int | float):
        raise ValueError(f"expected a date such as 2024-08-30, got the number {value}")
    return value


Date = Annotated[dt.date, BeforeValidator(_not_a_number)]


# --------------------------------------------------------------------------------------------
# Actors
# --------------------------------------------------------------------------------------------


class Faction(Strict):
    """An armed faction: its kind, whom it serves, and how it treats civilians."""

    label: str
    kind: Literal["state", "militia", "russian", "jihadist", "separatist", "peacekeeping",
                  "western"]
    country: Country | None = Field(
        None, description=("Country whose junta a state, militia or Russian faction serves, or "
                           "where a peacekeeping or Western force operates"))
    restraint: float = Field(
        0.5, strict=True, ge=0.0, le=1.0, description="1 = never harms civilians; 0 = no restraint",
        json_schema_extra={"unit": "share"})
    reported_as_combat: float = Field(
        0.0, strict=True, ge=0.0, le=1.0,
        description=("Share of a state-side faction's attacks on civilians it reports as armed-"
                     "group fighters killed in combat, so that the conflict data record a clash"),
        json_schema_extra={"unit": "share of events"})
    firepower: float = Field(
        1.0, strict=True, ge=0.0, le=10.0, description="Relative combat effectiveness per fighter",
        json_schema_extra={"unit": "x"})
    posture: Literal["defensive", "balanced", "offensive"] = "balanced"
    target_bias: dict[str, Number] = Field(
        default_factory=dict,
        description="Relative weight of each community among its civilian victims")
    sanctuary_abroad: bool = Field(
        False, strict=True,
        description="May operate from cells outside Mali, Burkina Faso and Niger")
    colour: str = Field("#888888", pattern=r"^#[0-9a-fA-F]{6}$")
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> Faction:
        if self.kind not in ARMED_GROUP_KINDS and self.country is None:
            raise ValueError(f"a {self.kind} faction needs 'country' (one of MLI, BFA, NER)")
        if self.reported_as_combat > 0 and self.kind not in STATE_SIDE_KINDS:
            raise ValueError(f"reported_as_combat is for state, militia and russian factions, "
                             f"not a {self.kind} faction: set it to 0 or remove it")
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

    @property
    def armed_group(self) -> bool:
        """True for jihadist and separatist factions (control actors of their own)."""
        return self.kind in ARMED_GROUP_KINDS


class Unit(Strict):
    """A force unit (or a set of identical groups) with its strength, base and source."""

    id: Identifier
    faction: Identifier
    name: str
    strength: int = Field(ge=0, le=200_000, strict=True, json_schema_extra={"unit": "personnel"})
    base: str | Point = Field(
        description="Town name (see `sahel-sim describe`) or [lat, lon]")
    groups: int = Field(1, ge=1, le=500, strict=True,
                        description="Mobile groups the unit is split into")
    spread: float = Field(
        0.0, ge=0.0, le=10.0, strict=True, description="Radius in degrees over which groups start",
        json_schema_extra={"unit": "degrees"})
    role: Literal["mobile", "garrison", "regime_protection"] = "mobile"
    present: bool = Field(True, strict=True,
                          description="Present from the spin-up (else: a deploy event)")
    source: str


class HeldArea(Strict):
    """An area a non-state faction held (governed) when the run (its spin-up) begins."""

    faction: Identifier
    near: str | Point = Field(description="Town name or [lat, lon] of the centre")
    radius: float = Field(ge=0.0, le=10.0, strict=True, json_schema_extra={"unit": "degrees"})
    governance: float = Field(
        0.6, ge=0.0, le=1.0, strict=True, description="How firmly it was held (0-1)",
        json_schema_extra={"unit": "share"})
    source: str


class Junta(Strict):
    """A country's military government (from `since`, its coup, if inside the run)."""

    leader: str
    capital: str
    credibility: float = Field(0.6, ge=0.0, le=1.0, strict=True,
                               json_schema_extra={"unit": "share"})
    since: Date | None = Field(
        None, description=("Date of the coup that brought the junta to power: before it an "
                           "elected government rules (no coup risk modelled); a date before "
                           "the run's start means in power from the start, after its end never"))
    source: str = ""


class DroneFleet(Strict):
    """An armed-drone fleet: a state's from an air base, or an armed group's drones."""

    faction: Identifier
    name: str = ""
    base: str | tuple[float, float] | None = Field(
        None, description="Air base: town name or [lat, lon]; required for a state-side "
        "fleet, optional for an armed group's drones (launched where its units are)")
    size: int = Field(ge=0, le=100, description="Armed airframes (or drone teams) in service",
                      json_schema_extra={"unit": "airframes"})
    sorties: float = Field(
        ge=0.0, le=2.0, description="Strike sorties per airframe per day",
        json_schema_extra={"unit": "1/(airframe*day)"})
    range_km: float = Field(
        ge=1.0, le=2000.0, description="Reach from the launch point",
        json_schema_extra={"unit": "km"})
    start: Date | None = Field(None, description="First day with armed drones (default: "
                               "from the spin-up's first day)")
    restraint: float | None = Field(
        None, ge=0.0, le=1.0, description="Restraint of its strikes toward civilians "
        "(default: the operating faction's, as it changes)", json_schema_extra={"unit": "share"})
    source: str


EVENT_FIELDS: dict[str, set[str]] = {
    "deploy": {"unit", "strength"},
    "withdraw": {"unit"},
    "reinforce": {"unit", "strength"},
    "advance": {"unit", "town"},
    "set_restraint": {"faction", "restraint"},
    "set_posture": {"faction", "posture"},
    "end_support": {"faction"},
    "end_mandate": {"faction"},
    "set_fleet_size": {"fleet", "size"},
    "set_fleet_restraint": {"fleet", "restraint"},
    "remove_fleet": {"fleet"},
}
EVENT_ACTIONS = tuple(EVENT_FIELDS)
FLEET_ACTIONS = ("set_fleet_size", "set_fleet_restraint", "remove_fleet")


class Event(Strict):
    """A dated scenario event acting on a unit or a faction.

    `advance` moves a unit's base to a town (an offensive toward an objective); `end_support`
    switches off a Western faction's support of its partner forces (e.g. after a coup), before
    its units leave; `end_mandate` ends a UN mission's mandate (its monitoring), before its
    units leave.
    """

    id: Identifier | None = None
    date: Date
    action: Literal["deploy", "withdraw", "reinforce", "advance", "set_restraint",
                    "set_posture", "end_support", "end_mandate", "set_fleet_size",
                    "set_fleet_restraint", "remove_fleet"]
    unit: Identifier | None = None
    faction: Identifier | None = None
    town: str | None = None
    strength: int | None = Field(None, ge=0, le=200_000, strict=True)
    restraint: float | None = Field(None, ge=0.0, le=1.0, strict=True)
    posture: Literal["defensive", "balanced", "offensive"] | None = None
    fleet: Identifier | None = None
    size: int | None = Field(None, ge=0, le=100)
    note: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> Event:
        used = EVENT_FIELDS[self.action]
        for name in ("unit", "faction", "strength", "restraint", "posture", "town", "fleet",
                     "size"):
            if getattr(self, name) is not None and name not in used:
                raise ValueError(f"'{name}' is not used by a '{self.action}' event; it takes "
                                 f"{', '.join(sorted(used))}")
        if self.action in ("deploy", "withdraw", "reinforce", "advance") and self.unit is None:
            raise ValueError(f"a '{self.action}' event needs 'unit'")
        if self.action == "advance" and self.town is None:
            raise ValueError("an 'advance' event needs 'town' (the unit's new base)")
        if self.action in FACTION_KIND_OF_ACTION and self.faction is None:
            raise ValueError(f"an '{self.action}' event needs 'faction' (a "
                             f"{FACTION_KIND_OF_ACTION[self.action]} faction)")
        if self.action == "reinforce" and self.strength is None:
            raise ValueError("a 'reinforce' event needs 'strength' (personnel added)")
        if self.action == "set_restraint" and (self.restraint is None or self.faction is None):
            raise ValueError("a 'set_restraint' event needs 'faction' and 'restraint'")
        if self.action == "set_posture" and (self.posture is None or self.faction is None):
            raise ValueError("a 'set_posture' event needs 'faction' and 'posture'")
        if self.action in FLEET_ACTIONS:
            missing = sorted(name for name in EVENT_FIELDS[self.action]
                             if getattr(self, name) is None)
            if missing:
                raise ValueError(f"a '{self.action}' event needs "
                                 f"{' and '.join(repr(m) for m in missing)}")
        return self


class Scenario(Strict):
    """A whole scenario: time, space, actors, relations, parameters and events."""

    name: str
    description: str
    start: Date
    end: Date
    seed: int = Field(0, ge=0, le=2**63 - 1, strict=True)
    resolution: float = Field(
        0.25, gt=0.0, le=0.5, strict=True, description="Cell size in degrees; must divide 0.5",
        json_schema_extra={"unit": "degrees"})
    spin_up_days: int = Field(
        0, ge=0, le=365, strict=True, json_schema_extra={"unit": "days"},
        description="Days simulated before start, outputs dropped, so the set-up's transient "
                    "has passed by the start (ODD 5)")
    factions: dict[Identifier, Faction]
    relations: dict[Identifier, dict[Identifier, Stance]] = Field(default_factory=dict)
    juntas: dict[Country, Junta]
    units: list[Unit]
    territory: list[HeldArea] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    parameters: Parameters = Field(default_factory=Parameters)
    drones: dict[Identifier, DroneFleet] = Field(
        default_factory=dict, description="Armed-drone fleets by id (sim.mechanics.drones)")

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        for name in ("start", "end"):
            day = getattr(self, name)
            if not EARLIEST <= day <= LATEST:
                raise _FieldError((name,), f"{day} is outside the supported period; allowed "
                                  f"{EARLIEST} to {LATEST}")
        if self.end <= self.start:
            raise _FieldError(("end",), f"{self.end} must be after start ({self.start})")
        limit = _years_after(self.start, MAX_YEARS)
        if self.end > limit:
            raise _FieldError(("end",), f"{self.end} is {(self.end - self.start).days / 365.25:.1f}"
                              f" years after start ({self.start}); a run covers at most "
                              f"{MAX_YEARS} years (end by {limit})")
        ratio = 0.5 / self.resolution
        if abs(ratio - round(ratio)) > 1e-9 or self.resolution < 0.05:
            raise _FieldError(("resolution",),
                              f"{self.resolution} must divide 0.5 and be >= 0.05 "
                              "(allowed: 0.5, 0.25, 0.125, 0.1, 0.0625, 0.05, ...)")
        check_references(self)
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

    def behaviour_hash(self) -> str:
        """SHA-256 of what the scenario makes a run do: its content without `DOCUMENTATION_FIELDS`.

        Sweeps and calibrations are identified by it, so a note edited after them keeps them.
        """
        blob = json.dumps(_without_documentation(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


def _without_documentation(value: Any) -> Any:
    """`value` as JSON data, each schema model's documentation fields left out."""
    if isinstance(value, BaseModel):
        return {name: _without_documentation(getattr(value, name))
                for name in type(value).model_fields if name not in DOCUMENTATION_FIELDS}
    if isinstance(value, dict):
        return {str(key): _without_documentation(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_documentation(item) for item in value]
    return to_jsonable_python(value)


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
