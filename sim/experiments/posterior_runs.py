"""An experiment's plan, with each run's parameters optionally drawn from a calibrated posterior.

Run i of every scenario gets seed i and, with a posterior, draw i (pairing: the baseline and
each counterfactual of a comparison share both), so the bands carry parameter uncertainty as
well as chance. A draw's values replace the scenario's own, except values set on purpose (an
override, a counterfactual's lever), which are kept and recorded; the drawn scenario is
validated and hashed like any other, so a run's id changes with its draw. The draws come from
`sim.calibration.posterior.Posterior.draw` seeded with the experiment's root seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.calibration.posterior import Draw, Posterior, read_posterior
from sim.experiments.prepared import PreparedScenario
from sim.experiments.runs import PlannedRun, run_id_for
from sim.scenario import apply_overrides, validate_data
from sim.scenario.shares import strengths_of_share
from sim.scenario.tunable import parameter_value

PosteriorLike = str | Path | Posterior


@dataclass(frozen=True, slots=True)
class DrawnParameters:
    """A posterior checked against an experiment's scenarios, and the values they keep.

    `kept` maps a scenario's label to the parameters it keeps rather than draws, with their
    values: those an override sets, and, in a counterfactual, those it sets to another value
    than the baseline does (its levers).
    """

    posterior: Posterior
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """What manifests and results record: `Posterior.info()`, and `kept` if any."""
        kept = {label: values for label, values in self.kept.items() if values}
        return {**self.posterior.info(), **({"kept": kept} if kept else {})}


def check_posterior(source: PosteriorLike, prepared: Mapping[str, PreparedScenario],
                    overrides: Mapping[str, Any] | None = None) -> DrawnParameters:
    """Read (or take) a posterior, check it against every scenario, find the values kept.

    The first scenario is the baseline. A value set on purpose is kept and not drawn: a
    parameter in `overrides`, and a parameter a counterfactual sets to another value than the
    baseline (drawing it would erase the difference being compared). A unit's share counts as
    set where a strength of its faction's units at the start is (drawing it would move them).

    Raises:
        CalibrationError: a column that is not a tunable parameter of a scenario, or a value
            outside its bounds (one line naming the file, line and column).
    """
    (base_label, base), *_ = prepared.items()
    if isinstance(source, Posterior):
        posterior = source.checked(base.payload, base_label)
    else:
        posterior = read_posterior(source, base.payload, base_label)
    kept: dict[str, dict[str, Any]] = {}
    for label, scenario in prepared.items():
        posterior.checked(scenario.payload, label)

        def set_on_purpose(name: str, data: dict[str, Any] = scenario.payload) -> bool:
            # a share sets its faction's strengths: kept where one of them is set on purpose
            return any(n in (overrides or {})
                       or parameter_value(data, n) != parameter_value(base.payload, n)
                       for n in {name} | strengths_of_share(data, name))

        kept[label] = {name: parameter_value(scenario.payload, name)
                       for name in posterior.names if set_on_purpose(name)}
    return DrawnParameters(posterior, kept)


def with_draw(prepared: PreparedScenario, draw: Draw, posterior: Posterior,
              kept: Mapping[str, Any] | None = None) -> PreparedScenario:
    """The scenario with a draw's values in place of its own (but `kept`), validated, hashed."""
    values = {name: v for name, v in draw.parameters.items() if name not in (kept or {})}
    origin = f"{posterior.path} (draw {draw.id})"
    data = apply_overrides(prepared.payload, values, origin=origin)
    scenario = validate_data(data, Path(origin))
    return PreparedScenario(prepared.label, prepared.path, scenario,
                            scenario.model_dump(mode="json"), scenario.content_hash(),
                            prepared.overrides, values)


def plan_runs(prepared: Mapping[str, PreparedScenario], seeds: Sequence[int],
              drawn: DrawnParameters | None = None, root_seed: int = 0,
              ) -> tuple[list[PlannedRun], dict[str, PreparedScenario], dict[str, list[str]]]:
    """Run i of every scenario: seed i and, with a posterior, draw i (drawn with `root_seed`).

    Returns:
        The plan (scenario by scenario, replicate by replicate), the scenario of every run's
        hash (what `execute_plan` sends to workers) and each label's run ids by replicate.
    """
    draws = drawn.posterior.draw(len(seeds), root_seed) if drawn is not None else None
    plan: list[PlannedRun] = []
    payloads: dict[str, PreparedScenario] = {}
    ids: dict[str, list[str]] = {}
    for label, base in prepared.items():
        ids[label] = []
        by_row: dict[int, PreparedScenario] = {}  # a posterior row may be drawn again
        for i, seed in enumerate(seeds):
            scenario, draw_id = base, None
            if draws is not None and drawn is not None:
                draw = draws[i]
                if draw.row not in by_row:
                    by_row[draw.row] = with_draw(base, draw, drawn.posterior,
                                                 drawn.kept.get(label))
                scenario, draw_id = by_row[draw.row], draw.id
            payloads.setdefault(scenario.hash, scenario)
            run_id = run_id_for(scenario.hash, seed)
            plan.append(PlannedRun(run_id, label, scenario.hash, 0, i, seed, draw_id))
            ids[label].append(run_id)
    return plan, payloads, ids
