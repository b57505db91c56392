"""The EMA Workbench adapter: a scenario as an EMA model, for EMA's own samplers and evaluators.

```python
from ema_workbench import SequentialEvaluator, perform_experiments
import sim.ema

model = sim.ema.model("baseline", replications=5)   # uncertainties, levers, outcomes, seeds
experiments, outcomes = perform_experiments(model, scenarios=100)
```

`model` builds an `ema_workbench.ReplicatorModel` (needs the optional extra `discovery`):

- *uncertainties*: the scenario's behavioural parameters (`sahel-sim parameters FILE`,
  `sim.scenario.tunable_parameters`) over the schema's ranges, or a chosen subset and ranges;
- *levers*: its dated events' fields (`sim.scenario.levers`): dates as whole days from the
  scenario's start (`IntegerParameter`), strengths, restraint orders;
- *outcomes*: the declared outcomes (`sim.outputs`, the headline ones by default), each the
  mean over the replications (or, with `aggregate=None`, one value per replication, named
  `<outcome>_replications`);
- *replications*: seeds spawned from the scenario's seed (`sim.experiments.spawn_seeds`), so a
  scenario's replications are common random numbers across EMA's experiments.

EMA names must be Python identifiers, so a dotted name becomes `ema_name(name)`
(`parameters.combat.engage_probability` -> `parameters__combat__engage_probability`); the
dotted name is the EMA variable name the model function receives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments.discovery import import_ema
from sim.experiments.errors import ExperimentError
from sim.experiments.experiment import spawn_seeds
from sim.outputs import HEADLINE_OUTCOMES, OUTCOME_COLUMNS, headline_outcomes, outcome_table
from sim.scenario import (
    Scenario,
    ScenarioError,
    apply_settings,
    check_parameter_path,
    did_you_mean,
    event_levers,
    is_lever,
    lever,
    load_scenario,
    resolve_scenario_path,
    tunable_parameters,
    validate_data,
)
from sim.scenario.levers import default_range

__all__ = ["SahelRunner", "dotted_name", "ema_name", "model"]

Ranges = Sequence[str] | Mapping[str, tuple[Any, Any]] | None
BY_REPLICATION = "_replications"
"""Suffix of per-replication outcomes (EMA allows one outcome class per name in a process)."""


def ema_name(dotted: str) -> str:
    """The EMA name (a Python identifier) of a parameter, lever or outcome."""
    return dotted.replace(".", "__")


def dotted_name(name: str) -> str:
    """The dotted name behind an EMA name (inverse of `ema_name`)."""
    return name.replace("__", ".")


def _ema() -> Any:
    try:
        return import_ema()
    except ExperimentError as exc:
        raise ImportError(str(exc)) from None


class SahelRunner:
    """The model function EMA calls: one run of a scenario with settings and a seed.

    Picklable (it holds the scenario as JSON), so EMA's multiprocessing evaluator can send it
    to its workers. Called with the dotted names of parameters and levers (lever dates as days
    from the start, as sampled) and `seed`; returns the outcomes by name.
    """

    def __init__(self, payload: dict[str, Any], label: str, outcomes: Sequence[str]) -> None:
        self.payload = payload
        self.label = label
        self.outcomes = list(outcomes)
        self._converters: dict[str, Callable[[float], Any]] = {
            name: lever(name, payload).to_setting for name in event_levers(payload)}

    def scenario(self, settings: Mapping[str, Any]) -> Scenario:
        """The scenario with these settings (levers on their numeric scale) applied."""
        values = {k: self._converters[k](v) if is_lever(k) else _plain(v)
                  for k, v in settings.items()}
        return validate_data(apply_settings(self.payload, values, origin=self.label),
                             Path(self.label))

    def __call__(self, seed: int = 0, **settings: Any) -> dict[str, float]:
        """Run once; return the outcomes."""
        from sim.model import SahelModel

        scenario = self.scenario(settings)
        series = SahelModel(scenario, rng=int(seed)).run().timeseries()
        values = headline_outcomes(series)
        if any(name not in values for name in self.outcomes):
            table = outcome_table(series[list(OUTCOME_COLUMNS)])
            for name in self.outcomes:
                if name not in values:
                    base, iso = name.rsplit("_", 1)
                    values[name] = float(table.at[iso, base])
        return {name: values[name] for name in self.outcomes}


def _plain(value: Any) -> Any:
    """A numpy scalar (from EMA's samplers) as a Python number, for the validation."""
    return value.item() if isinstance(value, np.generic) else value


def model(scenario: str | Path | Scenario = "baseline", uncertainties: Ranges = None,
          levers: Ranges = None, outcomes: Sequence[str] | None = None,
          replications: int | Sequence[int] = 1, root_seed: int | None = None,
          aggregate: Callable[[Sequence[float]], float] | None = np.mean,
          name: str | None = None) -> Any:
    """An EMA `ReplicatorModel` of a scenario.

    Args:
        scenario: a bundled scenario's name, a file, or a `Scenario`.
        uncertainties: None for every tunable parameter over its schema range; names (schema
            ranges); or name -> (low, high) within the schema's bounds.
        levers: None for every event lever with its default range (`sim.scenario.levers.
            default_range`: dates between the neighbouring events of the same unit or faction,
            strengths 0 to twice the scenario's, restraint 0 to 1); names (default ranges); or
            name -> (low, high), dates as ISO strings. `()` for none.
        outcomes: declared outcome names (default: `sim.outputs.HEADLINE_OUTCOMES`).
        replications: how many seeds (spawned from `root_seed`), or the seeds themselves.
        root_seed: root of the spawned seeds (default: the scenario's seed).
        aggregate: reduces an outcome's replications to one number (default: the mean); None
            keeps one value per replication (an `ArrayOutcome` named `<outcome>_replications`).
        name: the EMA model's name (an identifier; default from the scenario's name).

    Raises:
        ScenarioError: an unknown parameter, lever or outcome, or a range outside the bounds.
        ImportError: the EMA Workbench is not installed.
    """
    ema = _ema()
    if isinstance(scenario, Scenario):
        loaded, label = scenario, scenario.name
    else:
        path = resolve_scenario_path(str(scenario))
        loaded, label = load_scenario(path), Path(path).stem
    payload = loaded.model_dump(mode="json")
    outcome_list = list(HEADLINE_OUTCOMES if outcomes is None else outcomes)
    _check_outcomes(outcome_list)
    seeds = (spawn_seeds(loaded.seed if root_seed is None else root_seed, replications)
             if isinstance(replications, int) else [int(s) for s in replications])
    model_name = name or ema_name(label).replace("-", "_")
    if not model_name.isidentifier():
        model_name = "sahel"
    result = ema.ReplicatorModel(model_name, function=SahelRunner(payload, label, outcome_list))
    result.uncertainties = _uncertainties(ema, payload, uncertainties)
    result.levers = _levers(ema, payload, levers)
    if aggregate is None:
        result.outcomes = [ema.ArrayOutcome(f"{ema_name(o)}{BY_REPLICATION}", variable_name=o)
                           for o in outcome_list]
    else:
        result.outcomes = [ema.ScalarOutcome(ema_name(o), variable_name=o, function=aggregate)
                           for o in outcome_list]
    result.replications = [{"seed": s} for s in seeds]
    return result


def _parameter(ema: Any, dotted: str, low: float, high: float, integer: bool) -> Any:
    if integer:
        return ema.IntegerParameter(ema_name(dotted), round(low), round(high),
                                    variable_name=dotted)
    return ema.RealParameter(ema_name(dotted), float(low), float(high), variable_name=dotted)


def _uncertainties(ema: Any, payload: dict[str, Any], spec: Ranges) -> list[Any]:
    known = tunable_parameters(payload)
    # by default the behavioural parameters; strengths (an order of battle) only when named
    names = [n for n in known if not n.startswith("units.")] if spec is None else list(spec)
    out = []
    for dotted in names:
        if is_lever(dotted):
            raise ScenarioError(f"uncertainties: {dotted} is a lever; pass it in levers")
        check_parameter_path(dotted, payload, origin="uncertainties")
        info = known[dotted]
        low, high = info["low"], info["high"]
        if isinstance(spec, Mapping):
            low, high = (float(v) for v in spec[dotted])
            if low >= high or low < info["low"] or high > info["high"]:
                raise ScenarioError(f"uncertainties: {dotted}: range [{low}, {high}] is empty or "
                                    f"outside the bounds [{info['low']}, {info['high']}]")
        out.append(_parameter(ema, dotted, low, high, info["integer"]))
    return out


def _levers(ema: Any, payload: dict[str, Any], spec: Ranges) -> list[Any]:
    available = event_levers(payload)
    names = list(available) if spec is None else list(spec)
    out = []
    for dotted in names:
        item = lever(dotted, payload, origin="levers")
        if isinstance(spec, Mapping):
            low, high = (item.parse(str(v), "levers") if not isinstance(v, int | float)
                         else float(v) for v in spec[dotted])
            if low >= high:
                raise ScenarioError(f"levers: {dotted}: LOW must be below HIGH")
        else:
            bounds = default_range(item, payload)
            if bounds is None:
                if spec is None:
                    continue
                raise ScenarioError(f"levers: {dotted}: no default range (the event sets no "
                                    "value); give one as name -> (low, high)")
            low, high = bounds
        out.append(_parameter(ema, dotted, low, high, item.integer))
    return out


def _check_outcomes(names: Sequence[str]) -> None:
    from sim.experiments.discovery import outcome_names

    known = outcome_names()
    for name in names:
        if name not in known:
            raise ScenarioError(f"outcomes: unknown outcome '{name}'{did_you_mean(name, known)}"
                                "; see sim.outputs.OUTCOMES")
