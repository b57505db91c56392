"""Where a faction's fighters stand: each unit's share of its faction's fighters at the start.

Sources give an armed group's strength as a whole (JNIM 6,000-7,000) and rarely how it divides
between its units. `units.<id>.share` is tunable where a faction has several units present
from the start: setting it gives that unit the share of the faction's total at the start and
the faction's other units at the start the rest, in their own proportions (equally if they
all have none), as whole numbers that keep the total exact. A unit keeps its number of
groups, so a larger share makes larger groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.scenario.errors import ScenarioError, short_repr

SHARE_SOURCE = "assumption: how the faction's sourced total is split among its units"


def units_at_start(data: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each faction's units present from the start (no deploy event), in file order."""
    units = data.get("units") if isinstance(data, Mapping) else None
    out: dict[str, list[dict[str, Any]]] = {}
    for unit in units if isinstance(units, list) else []:
        if (isinstance(unit, dict) and isinstance(unit.get("id"), str)
                and isinstance(unit.get("faction"), str) and unit.get("present", True) is True):
            out.setdefault(unit["faction"], []).append(unit)
    return out


def share_members(data: Mapping[str, Any], unit_id: str) -> list[dict[str, Any]]:
    """The units at the start of `unit_id`'s faction, if it is one of several; else []."""
    for members in units_at_start(data).values():
        if len(members) > 1 and any(u["id"] == unit_id for u in members):
            return members
    return []


def _whole(strength: Any) -> bool:
    return isinstance(strength, int) and not isinstance(strength, bool) and strength >= 0


def share_of(data: Mapping[str, Any], unit_id: str) -> float | None:
    """The unit's share of its faction's fighters at the start (None: no share, or no total)."""
    return _share_in(share_members(data, unit_id), unit_id)


def _share_in(members: list[dict[str, Any]], unit_id: str) -> float | None:
    """`unit_id`'s share of the strengths of `members` (None: none, or not all whole)."""
    if not members or not all(_whole(u.get("strength")) for u in members):
        return None
    total = sum(u["strength"] for u in members)
    return next(u["strength"] for u in members if u["id"] == unit_id) / total if total else None


def share_parameters(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The tunable `units.<id>.share` entries: bounds, unit, default, source, description."""
    out: dict[str, dict[str, Any]] = {}
    for faction, members in units_at_start(data).items():
        for unit in members if len(members) > 1 else []:
            out[f"units.{unit['id']}.share"] = {
                "low": 0.0, "high": 1.0, "unit": "share", "integer": False,
                "default": _share_in(members, unit["id"]), "source": SHARE_SOURCE,
                "description": (f"Share of {faction}'s fighters at the start in "
                                f"{unit.get('name', unit['id'])}; its other units at the start "
                                "take the rest in proportion, the total held")}
    return out


def strengths_of_share(data: Mapping[str, Any], dotted: str) -> set[str]:
    """The strength parameters a share sets (`units.<id>.strength` of its faction's units)."""
    unit_id = dotted.split(".")[1] if dotted.startswith("units.") else ""
    return {f"units.{u['id']}.strength" for u in share_members(data, unit_id)} \
        if dotted.endswith(".share") else set()


def set_share(data: dict[str, Any], unit_id: str, share: float, origin: str) -> None:
    """Give `unit_id` `share` of its faction's fighters at the start, the total unchanged.

    Raises:
        ScenarioError: the unit is not one of several of its faction at the start, or one of
            them has no whole, non-negative strength to move fighters from.
    """
    members = share_members(data, unit_id)
    if not members:
        raise ScenarioError(f"{origin}: units.{unit_id}.share: not one of several units of its "
                            "faction present from the start; allowed such a unit's share")
    bad = next((u for u in members if not _whole(u.get("strength"))), None)
    if bad is not None:
        raise ScenarioError(f"{origin}: units[{bad['id']}].strength: "
                            f"{short_repr(bad.get('strength'))} is not a whole number of "
                            f"personnel to share (units.{unit_id}.share); allowed 0 to 200000")
    total = sum(u["strength"] for u in members)
    unit = next(u for u in members if u["id"] == unit_id)
    others = [u for u in members if u is not unit]
    unit["strength"] = round(share * total)
    rest, weight = total - unit["strength"], sum(u["strength"] for u in others)
    exact = [rest * (u["strength"] / weight if weight else 1 / len(others)) for u in others]
    whole = [int(x) for x in exact]
    by_remainder = sorted(range(len(others)), key=lambda i: whole[i] - exact[i])
    for i in by_remainder[:rest - sum(whole)]:
        whole[i] += 1
    for other, strength in zip(others, whole, strict=True):
        other["strength"] = strength


def check_share(dotted: str, value: Any, faction: str,
                shares: Mapping[str, tuple[str, Any]], origin: str) -> None:
    """Raise ScenarioError for a share that is not a number in [0, 1] or a faction's second."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ScenarioError(f"{origin}: {dotted}: {short_repr(value)} is not a share; "
                            "allowed a number from 0 to 1")
    if faction in shares:
        raise ScenarioError(f"{origin}: {dotted}: {shares[faction][0]} already sets a share of "
                            f"{faction}'s fighters; allowed one share per faction")
