"""Loading scenario files: TOML, `extends` chains, merging, dotted overrides and validation."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.geography import COUNTRIES
from sim.scenario.errors import (
    ScenarioError,
    _find_line,
    _line_from_message,
    _located,
    did_you_mean,
)
from sim.scenario.messages import _format_validation
from sim.scenario.schema import Scenario, check_parameter_path


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
    places += [(("drones", k, "base"), f.base) for k, f in scenario.drones.items()
               if f.base is not None]
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
        owner = (scenario.units[loc[1]].faction if loc[0] == "units"
                 else scenario.drones[loc[1]].faction if loc[0] == "drones" else None)
        if owner is not None and scenario.factions[owner].state_side:
            country = geo.country_codes[geo.country[cell]]
            if country not in COUNTRIES:
                msg = (f"{place!r} is in {country or 'no country'}; state, militia and Russian "
                       f"{loc[0]} must be based in Mali, Burkina Faso or Niger")
                raise ScenarioError(_located(files, loc, scenario.model_dump(), msg))


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
