"""Building blocks of the scenario schema: strict tables, bounded parameters, their bounds."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ASSUMPTION = "assumption"


def param(default: float, lo: float, hi: float, unit: str, doc: str,
          source: str = ASSUMPTION) -> Any:
    """A bounded behavioural parameter with its unit and the basis of its default."""
    return Field(default, ge=lo, le=hi, strict=True, description=doc,
                 json_schema_extra={"unit": unit, "source": source})


class Strict(BaseModel):
    """Base for every scenario table: unknown keys are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def limits(field: Any) -> tuple[Any, Any]:
    """A pydantic field's inclusive bounds (ge, le), None where it has none."""
    lo = hi = None
    for meta in field.metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    return lo, hi


def field_bounds(field: Any) -> dict[str, Any]:
    """A field's bounds, unit, description, default, whether it is an integer, and source."""
    lo, hi = limits(field)
    extra = field.json_schema_extra or {}
    return {"low": lo, "high": hi, "unit": extra.get("unit", ""),
            "description": field.description or "", "default": field.default,
            "integer": field.annotation is int, "source": extra.get("source", "")}
