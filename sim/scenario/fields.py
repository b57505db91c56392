"""The building blocks of the scenario schema: strict tables and bounded parameters."""

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


# --------------------------------------------------------------------------------------------
# Behavioural parameters, grouped by process (each group is one module in sim/mechanics).
# --------------------------------------------------------------------------------------------
