"""Cross-field checks of a scenario: names that exist, dates inside the run, deployments."""

from __future__ import annotations

from typing import Any

from sim.scenario.errors import _FieldError, did_you_mean

# The kind of faction each faction-switching event applies to.
FACTION_KIND_OF_ACTION = {"end_support": "western", "end_mandate": "peacekeeping"}

# Words used in output column names (territory_state, killed_civilians, killed_by_<faction>, ...):
# a faction with one of these ids would overwrite another column.
RESERVED_FACTION_IDS = ("state", "contested", "civilians", "russians", "total", "armed_groups",
                        "outside_state")


def check_references(s: Any) -> None:
    """Cross-field checks of a `Scenario` (schema.py, which calls this: no import back).

    Names that must exist, dates inside the run, symmetric relations.
    """
    factions = list(s.factions)
    for fid in factions:
        if fid in RESERVED_FACTION_IDS or fid.startswith("by_"):
            raise _FieldError(("factions", fid), (
                f"faction id '{fid}' clashes with the name of an output column; choose another "
                f"id (not {', '.join(RESERVED_FACTION_IDS)}, nor one starting with 'by_')"))
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
        if not s.factions[area.faction].armed_group:
            raise _FieldError(("territory", i, "faction"),
                              f"'{area.faction}' is a {s.factions[area.faction].kind} faction; "
                              "territory lists areas held by armed groups (jihadist, separatist)")
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
        kind = FACTION_KIND_OF_ACTION.get(event.action)
        if kind is not None and s.factions[event.faction].kind != kind:
            raise _FieldError(("events", i, "faction"),
                              f"'{event.faction}' is a {s.factions[event.faction].kind} faction; "
                              f"'{event.action}' applies to {kind} factions")
        if event.fleet is not None and event.fleet not in s.drones:
            raise _FieldError(("events", i, "fleet"), f"unknown fleet '{event.fleet}'"
                              f"{did_you_mean(event.fleet, list(s.drones))}; fleets are the "
                              "[drones.<id>] tables")
    for fid, fleet in s.drones.items():
        if fleet.faction not in s.factions:
            raise _FieldError(("drones", fid, "faction"), f"unknown faction '{fleet.faction}'"
                              f"{did_you_mean(fleet.faction, factions)}")
        if s.factions[fleet.faction].state_side and fleet.base is None:
            raise _FieldError(("drones", fid, "faction"),
                              f"'{fleet.faction}' is state-side: its fleet needs 'base' (the air "
                              "base: a town or [lat, lon])")
    _check_deployments(s)


def _check_deployments(s: Any) -> None:
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
