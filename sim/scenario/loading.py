"""Loading scenario files: TOML, `extends` chains, merging, dotted overrides and validation.

Files are read defensively: only regular files of at most `MAX_FILE_BYTES`, `extends` chains
of at most `MAX_EXTENDS_DEPTH` files, tables nested at most `MAX_NESTING` deep. Every problem
is one line naming the file (with the chain of `extends` that led to it) and the line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.geography import COUNTRIES
from sim.scenario.errors import (
    Provenance,
    ScenarioError,
    Source,
    _find_line,
    _line_from_message,
    _located,
    at,
    did_you_mean,
    short_repr,
)
from sim.scenario.messages import _format_validation
from sim.scenario.schema import (
    EARLIEST,
    LATEST,
    MAX_YEARS,
    Scenario,
    _years_after,
)
from sim.scenario.tunable import apply_overrides

MAX_FILE_BYTES = 1 << 20  # 1 MiB: the baseline is about 40 KiB
MAX_EXTENDS_DEPTH = 16  # files in one `extends` chain
MAX_NESTING = 32  # tables and arrays inside one another (a scenario needs 4)


def read_toml(path: Path, label: str | None = None) -> dict[str, Any]:
    """Parse a TOML file or raise ScenarioError naming the file and line.

    Only a regular file of at most `MAX_FILE_BYTES` is read (not a folder, FIFO or device).
    `label` is how messages name the file (default: its path).
    """
    return _read(path, label or str(path))[1]


def _read(path: Path, label: str) -> tuple[str, dict[str, Any]]:
    """The text and the parsed data of a scenario file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(f"{label}: file not found") from None
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"{label}: cannot read: {_reason(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError(f"{label}: is a folder, not a scenario file")
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(f"{label}: not a regular file (a FIFO, device or socket); scenario "
                            "files must be regular files")
    if info.st_size > MAX_FILE_BYTES:
        raise ScenarioError(f"{label}: {info.st_size:,} bytes; scenario files are limited to "
                            f"{MAX_FILE_BYTES // (1 << 20)} MiB")
    try:
        # O_NONBLOCK: should the file be replaced by a FIFO meanwhile, opening does not wait.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ScenarioError(f"{label}: not a regular file; scenario files must be "
                                    "regular files")
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{label}: cannot read: {_reason(exc)}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"{label}: scenario files are limited to "
                            f"{MAX_FILE_BYTES // (1 << 20)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ScenarioError(f"{label}:{line}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        reason = str(exc).split(" (at line")[0]
        raise ScenarioError(f"{at(label, line)}: not valid TOML: {reason}") from None
    except RecursionError:
        raise ScenarioError(f"{label}: not valid TOML: arrays or tables nested too deep "
                            f"(at most {MAX_NESTING} levels)") from None
    if _nesting(data) > MAX_NESTING:
        raise ScenarioError(f"{label}: arrays or tables nested too deep (at most "
                            f"{MAX_NESTING} levels)")
    return text, data


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _nesting(data: Any) -> int:
    """Depth of nested tables and arrays (iterative: no recursion on hostile input)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_NESTING:
            break
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return deepest


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


def _display(parent: Path, child: Path) -> str:
    """How a parent file is named in a chain: its name when beside its child, else its path."""
    return parent.name if parent.parent == child.parent and parent.name else str(parent)


def _resolve(path: Path, chain: tuple[Path, ...] = (), label: str | None = None
             ) -> tuple[dict[str, Any], Provenance]:
    """Read a file and everything it extends, child over parent; and who wrote what."""
    label = label or str(path)
    text, data = _read(path, label)
    source = Source(path, label, text, data)
    data = dict(data)
    parent_name = data.pop("extends", None)
    removals = {k: data.pop(k) for k in ("remove_units", "remove_events") if k in data}

    def line(*loc: Any) -> str:
        return at(label, _find_line(path, loc, text=text))

    for key, ids in removals.items():
        if not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            raise ScenarioError(f"{line(key)}: {key}: expected a list of ids (strings), got "
                                f"{short_repr(ids)}")
    if parent_name is None:
        if removals:
            raise ScenarioError(f"{line(next(iter(removals)))}: {next(iter(removals))}: only "
                                "allowed with 'extends'")
        prov = Provenance([source])
        prov.units = _writers(data.get("units"), 0)
        prov.events = _writers(data.get("events"), 0)
        return data, prov
    if not isinstance(parent_name, str) or not parent_name.strip() or "\0" in parent_name:
        raise ScenarioError(f"{line('extends')}: extends: expected a file name (string), got "
                            f"{short_repr(parent_name)}")
    if len(chain) + 1 >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(f"{line('extends')}: extends: chain of more than "
                            f"{MAX_EXTENDS_DEPTH} files; at most {MAX_EXTENDS_DEPTH} allowed")
    parent_path = path.parent / parent_name
    try:
        seen = [p.resolve() for p in (*chain, path)]
        looping = parent_path.resolve() in seen
    except (OSError, RuntimeError, ValueError):
        looping = False
    if looping:
        cycle = " -> ".join(p.name for p in (*chain, path, parent_path))
        raise ScenarioError(f"{line('extends')}: extends: circular chain {cycle}")
    try:
        exists, is_dir = parent_path.exists(), parent_path.is_dir()
    except (OSError, ValueError):
        exists = is_dir = False
    if not exists:
        raise ScenarioError(f"{line('extends')}: extends: file '{parent_name}' not found next "
                            "to it")
    if is_dir:
        raise ScenarioError(f"{line('extends')}: extends: '{parent_name}' is a folder, not a "
                            "scenario file")
    parent_label = f"{label} -> {_display(parent_path, path)}"
    parent, parent_prov = _resolve(parent_path, (*chain, path), parent_label)
    prov = Provenance([source, *parent_prov.sources])
    shift = [[(s + 1, i) for s, i in writers] for writers in parent_prov.units]
    prov.units = shift
    prov.events = [[(s + 1, i) for s, i in writers] for writers in parent_prov.events]
    for key, ids in removals.items():
        kind = key.removeprefix("remove_")
        entries = parent.get(kind, [])
        if not isinstance(entries, list):
            raise ScenarioError(f"{parent_label}: {kind}: expected a list of tables "
                                f"([[{kind}]])")
        known = [e.get("id") for e in entries if isinstance(e, dict)]
        for rid in ids:
            if rid not in known:
                raise ScenarioError(
                    f"{line(key)}: {key}: no {kind[:-1]} with id '{rid}' in '{parent_name}'"
                    f"{did_you_mean(rid, [k for k in known if isinstance(k, str)])}")
        keep = [not (isinstance(e, dict) and e.get("id") in ids) for e in entries]
        parent[kind] = [e for e, k in zip(entries, keep, strict=True) if k]
        writers = prov.units if kind == "units" else prov.events
        if len(writers) == len(keep):
            writers[:] = [w for w, k in zip(writers, keep, strict=True) if k]
    try:
        merged = merge(parent, data)
    except ScenarioError as exc:
        key = str(exc).split(":", 1)[0]
        raise ScenarioError(f"{line(key)}: {exc}") from None
    _merge_writers(prov, parent, data)
    return merged, prov


def _writers(entries: Any, source: int) -> list[list[tuple[int, int]]]:
    return [[(source, i)] for i in range(len(entries))] if isinstance(entries, list) else []


def _merge_writers(prov: Provenance, parent: dict[str, Any], child: dict[str, Any]) -> None:
    """Follow `merge` for the units and events lists: who wrote each merged entry."""
    if isinstance(child.get("units"), list):
        base = parent.get("units", [])
        if not isinstance(base, list) or len(prov.units) != len(base):
            prov.units = [[] for _ in base] if isinstance(base, list) else []
        by_id = {u.get("id"): i for i, u in enumerate(base) if isinstance(u, dict)}
        for k, unit in enumerate(child["units"]):
            uid = unit.get("id") if isinstance(unit, dict) else None
            if isinstance(unit, dict) and uid in by_id:
                prov.units[by_id[uid]].insert(0, (0, k))
            else:
                prov.units.append([(0, k)])
    if isinstance(child.get("events"), list):
        base = parent.get("events", [])
        if not isinstance(base, list) or len(prov.events) != len(base):
            prov.events = [[] for _ in base] if isinstance(base, list) else []
        prov.events += [[(0, k)] for k in range(len(child["events"]))]


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, resolve `extends`, apply dotted overrides and validate a scenario file.

    Raises:
        ScenarioError: with a one-line message naming the file, line, field and what is allowed.
    """
    path = Path(path)
    try:
        data, prov = _resolve(path)
        if overrides is not None:
            data = apply_overrides(data, overrides, origin=str(path))
        _check_inherited_events(data, prov)
        return validate_data(data, path, provenance=prov)
    except RecursionError:
        raise ScenarioError(f"{path}: nested too deep to be a scenario") from None


def _check_inherited_events(data: dict[str, Any], prov: Provenance) -> None:
    """Events of a parent file outside the child's period: name them and `remove_events`."""
    start, end, events = data.get("start"), data.get("end"), data.get("events")
    if not (isinstance(start, dt.date) and isinstance(end, dt.date) and start < end
            and start >= EARLIEST and end <= LATEST and end <= _years_after(start, MAX_YEARS)
            and isinstance(events, list) and len(events) == len(prov.events)):
        return  # validation reports a bad period first
    outside = [(i, e) for i, e in enumerate(events)
               if isinstance(e, dict) and isinstance(e.get("date"), dt.date)
               and not start <= e["date"] <= end
               and prov.events[i] and prov.events[i][-1][0] > 0]
    if not outside:
        return
    after = [(i, e) for i, e in outside if e["date"] > end]
    key = "end" if after else "start"
    ids = [e.get("id") for _, e in outside]
    named = ", ".join(f"{e.get('id') or e.get('action')} ({e['date']}, "
                      f"{prov.where(('events', i, 'date')).rsplit(' -> ', 1)[-1]})"
                      for i, e in outside[:6])
    more = f" and {len(outside) - 6} more" if len(outside) > 6 else ""
    side = "after the end" if after else "before the start"
    fix = (f"remove them with remove_events = {json.dumps(ids)}" if all(
        isinstance(i, str) for i in ids) else "give them ids and remove them with remove_events")
    other = "a later end" if after else "an earlier start"
    msg = (f"{data[key]} leaves {len(outside)} inherited event(s) {side}: {named}{more}; "
           f"{fix} in {prov.sources[0].path.name}, or set {other}")
    raise ScenarioError(f"{prov.where((key,))}: {key}: {msg}")


def validate_data(data: dict[str, Any], path: Path, chain: list[Path] | None = None,
                  provenance: Provenance | None = None) -> Scenario:
    """Validate an already-merged scenario mapping, translating errors to one line.

    `provenance` (from loading the file) says which file of the chain wrote each key; else
    `chain` lists the files `path` extends (nearest first), to find where a key was written.
    """
    where: Provenance | list[Path] = provenance or [path, *(chain or [])]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_validation(exc, data, where)) from None
    _check_places(scenario, where)
    return scenario


def _check_places(scenario: Scenario, files: Provenance | list[Path]) -> None:
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
    places += [(("events", i, "town"), e.town) for i, e in enumerate(scenario.events)
               if e.town is not None]
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
        if owner is not None and not scenario.factions[owner].armed_group:
            country = geo.country_codes[geo.country[cell]]
            if country not in COUNTRIES:
                msg = (f"{place!r} is in {country or 'no country'}; state, militia, Russian, "
                       f"peacekeeping and western {loc[0]} must be based in Mali, Burkina Faso "
                       "or Niger")
                raise ScenarioError(_located(files, loc, scenario.model_dump(), msg))
