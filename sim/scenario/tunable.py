"""Tunable parameters: the dotted names that sweeps, overrides and the dashboard may set.

`tunable_parameters` lists every behavioural parameter of the schema, each faction's and
junta's tunable numbers (a state-side faction's `reported_as_combat` too), each unit's
strength (`units.<id>.strength`: the order of battle is an uncertainty too) and, where a
faction has several units at the start, each one's share of the faction's fighters
(`units.<id>.share`, `sim.scenario.shares`), with bounds, unit, source and whether it is an
integer; `apply_overrides` sets some of them in a copy of a scenario's data.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sim.scenario.errors import ScenarioError, did_you_mean, short_repr
from sim.scenario.fields import field_bounds
from sim.scenario.parameters import Parameters, iter_parameter_names
from sim.scenario.schema import STATE_SIDE_KINDS, DroneFleet, Faction, Junta, Unit
from sim.scenario.shares import check_share, set_share, share_of, share_parameters


def tunable_parameters(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every numeric parameter a sweep or dashboard may set, with its bounds and unit."""
    out: dict[str, dict[str, Any]] = {}
    for group, name in iter_parameter_names():
        field = Parameters.model_fields[group].annotation.model_fields[name]  # type: ignore[union-attr]
        out[f"parameters.{group}.{name}"] = field_bounds(field)
    factions = data.get("factions") if isinstance(data, Mapping) else None
    juntas = data.get("juntas") if isinstance(data, Mapping) else None
    for faction in factions if isinstance(factions, Mapping) else {}:
        for name in ("restraint", "firepower"):
            out[f"factions.{faction}.{name}"] = field_bounds(Faction.model_fields[name])
        spec = factions[faction]
        if isinstance(spec, Mapping) and spec.get("kind") in STATE_SIDE_KINDS:
            out[f"factions.{faction}.reported_as_combat"] = field_bounds(
                Faction.model_fields["reported_as_combat"])
    for country in juntas if isinstance(juntas, Mapping) else {}:
        out[f"juntas.{country}.credibility"] = field_bounds(Junta.model_fields["credibility"])
    for fleet in data.get("drones", {}):
        for name in ("size", "sorties", "range_km"):
            out[f"drones.{fleet}.{name}"] = field_bounds(DroneFleet.model_fields[name])
    units = data.get("units") if isinstance(data, Mapping) else None
    events = data.get("events") if isinstance(data, Mapping) else None
    deployed = {e.get("unit") for e in events if isinstance(e, Mapping)
                and e.get("action") == "deploy" and e.get("strength") is not None} \
        if isinstance(events, list) else set()
    for unit in units if isinstance(units, list) else []:
        # a unit whose deploy event sets its strength takes that: the event's lever instead
        if (isinstance(unit, Mapping) and isinstance(unit.get("id"), str)
                and unit["id"] not in deployed):
            out[f"units.{unit['id']}.strength"] = dict(
                field_bounds(Unit.model_fields["strength"]), source=str(unit.get("source", "")),
                default=unit.get("strength"),
                description=f"Strength of {unit.get('name', unit['id'])} when it arrives")
    out.update(share_parameters(data))
    return out


def unit_entry(data: Mapping[str, Any], dotted: str) -> dict[str, Any] | None:
    """The unit table a `units.<id>.<field>` path names in a scenario mapping, else None."""
    parts = dotted.split(".")
    if len(parts) != 3 or parts[0] != "units" or not isinstance(data.get("units"), list):
        return None
    return next((u for u in data["units"] if isinstance(u, dict) and u.get("id") == parts[1]),
                None)


def parameter_value(data: Mapping[str, Any], dotted: str) -> Any:
    """The value at a tunable parameter's dotted path (None where the scenario lacks it)."""
    unit = unit_entry(data, dotted)
    if unit is not None and dotted.endswith(".share"):
        return share_of(data, unit["id"])
    if unit is not None:
        return unit.get(dotted.split(".")[2])
    node: Any = data
    for key in dotted.split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def whole_integers(overrides: Mapping[str, Any],
                   known: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """`overrides` with real values of integer parameters rounded (a fit's proposals).

    The fit and the screen propose real numbers; an integer parameter fitted over a wide
    range (a unit's strength) takes the nearest whole value. `known` is the scenario's
    `tunable_parameters`, computed once by the caller.
    """
    return {name: round(value) if known.get(name, {}).get("integer")
            and isinstance(value, float) else value for name, value in overrides.items()}


def check_parameter_path(dotted: str, data: Mapping[str, Any], origin: str,
                         known: Mapping[str, Any] | None = None) -> None:
    """Raise ScenarioError unless `dotted` names a tunable parameter of this scenario.

    `known` is `tunable_parameters(data)` when the caller has it already.
    """
    known = tunable_parameters(data) if known is None else known
    if dotted not in known:
        raise ScenarioError(f"{origin}: {dotted}: not a tunable parameter"
                            f"{did_you_mean(dotted, known)}; see `sahel-sim parameters FILE`")


def apply_overrides(
    data: dict[str, Any], overrides: Mapping[str, Any], origin: str = "overrides"
) -> dict[str, Any]:
    """Set dotted paths (`parameters.combat.engage_probability`, `factions.jnim.restraint`).

    A whole number given as a float (5.0) for an integer parameter is set as an integer.
    Shares (`units.<id>.share`) are set last, on the strengths the other overrides leave, and
    at most one per faction (two would each move the other).

    Raises:
        ScenarioError: overrides that are not a mapping of dotted names, or unknown names.
    """
    if not isinstance(overrides, Mapping):
        raise ScenarioError(f"{origin}: overrides: expected a mapping of dotted parameter names "
                            "to values, such as {'parameters.combat.engage_probability': 0.3}, "
                            f"got {type(overrides).__name__}")
    if not isinstance(data, dict):
        raise ScenarioError(f"{origin}: expected a scenario (a table), got {type(data).__name__}")
    out = copy.deepcopy(data)
    known = tunable_parameters(out)  # setting numbers does not change which names exist
    shares: dict[str, tuple[str, Any]] = {}
    for dotted, value in overrides.items():
        if not isinstance(dotted, str):
            raise ScenarioError(f"{origin}: overrides: names must be dotted strings such as "
                                f"'factions.jnim.restraint', got {short_repr(dotted)}")
        check_parameter_path(dotted, out, origin, known)
        if isinstance(value, float) and value.is_integer() and known[dotted]["integer"]:
            value = int(value)
        unit = unit_entry(out, dotted)
        if unit is not None and dotted.endswith(".share"):
            check_share(dotted, value, unit["faction"], shares, origin)
            shares[unit["faction"]] = (dotted, value)
            continue
        if unit is not None:
            unit[dotted.split(".")[2]] = value
            continue
        node = out
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ScenarioError(f"{origin}: {dotted}: '{key}' is not a table in this "
                                    "scenario")
        node[leaf] = value
    for dotted, value in shares.values():
        set_share(out, dotted.split(".")[1], float(value), origin)
    return out

