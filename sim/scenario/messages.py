"""One-line messages for pydantic validation errors: file, line, dotted field, what is allowed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.scenario.errors import Provenance, _dotted, _FieldError, did_you_mean
from sim.scenario.fields import field_bounds
from sim.scenario.schema import Scenario


def _format_validation(exc: ValidationError, data: dict[str, Any],
                       where: Provenance | list[Path]) -> str:
    prov = where if isinstance(where, Provenance) else Provenance.of_files(where)
    err = exc.errors(include_url=False)[0]
    loc = _data_loc(tuple(err["loc"]), data)
    ctx = err.get("ctx") or {}
    original = ctx.get("error")
    if isinstance(original, _FieldError):
        loc, msg = original.loc, original.msg
    else:
        msg = _describe(err, loc, data)
    return f"{prov.where(loc)}: {_dotted(loc, data) or '(top level)'}: {msg}"


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
        bounds = field_bounds(field) if field is not None else {"low": None, "high": None}
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
