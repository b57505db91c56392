"""Prepared scenarios: loaded (or given), overrides applied, validated, hashed and serialised.

An experiment prepares each scenario once; its content hash names the scenario's runs and its
JSON payload is what is sent to the workers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.scenario import Scenario, apply_overrides, load_scenario, validate_data

ScenarioLike = str | Path | Scenario


@dataclass(frozen=True, slots=True)
class PreparedScenario:
    """A scenario ready to run: its label, origin, validated model and JSON payload.

    `overrides` are the caller's; `drawn` the values a posterior draw set (see
    `sim.experiments.posterior_runs`).
    """

    label: str
    path: str | None
    scenario: Scenario
    payload: dict[str, Any]
    hash: str
    overrides: dict[str, Any] = field(default_factory=dict)
    drawn: dict[str, Any] = field(default_factory=dict)


def prepare_scenario(source: ScenarioLike, overrides: Mapping[str, Any] | None = None,
                     label: str | None = None) -> PreparedScenario:
    """Load (a file) or take (a `Scenario`) a scenario, apply overrides and validate it.

    The label defaults to the file's stem or the scenario's name.
    """
    if isinstance(source, Scenario):
        scenario = source
        if overrides:
            data = apply_overrides(source.model_dump(mode="json"), overrides, origin=source.name)
            scenario = validate_data(data, Path(source.name))
        path = None
        name = label or source.name
    else:
        scenario = load_scenario(Path(source), overrides)
        path = str(source)
        name = label or Path(source).stem
    payload = scenario.model_dump(mode="json")
    return PreparedScenario(name, path, scenario, payload, scenario.content_hash(),
                     dict(overrides or {}))
