"""An experiment's plan, with each run's parameters optionally drawn from a calibrated posterior.

Run i of every scenario gets seed i and, with a posterior, draw i (pairing: the baseline and
each counterfactual of a comparison share both), so the bands carry parameter uncertainty as
well as chance. A draw's values replace the scenario's own; the drawn scenario is validated and
hashed like any other, so a run's id changes with its draw. The draws come from
`sim.calibration.posterior.Posterior.draw` seeded with the experiment's root seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.calibration.posterior import Draw, Posterior, read_posterior
from sim.experiments.errors import ExperimentError
from sim.experiments.prepared import PreparedScenario
from sim.experiments.runs import PlannedRun, run_id_for
from sim.scenario import apply_overrides, validate_data

PosteriorLike = str | Path | Posterior


def check_posterior(source: PosteriorLike, prepared: Mapping[str, PreparedScenario],
                    overrides: Mapping[str, Any] | None = None) -> Posterior:
    """Read (or take) a posterior and check it against every scenario of an experiment.

    The first scenario is the baseline. Refused, with one line: a column that is not a
    tunable parameter of a scenario or a value outside its bounds (`CalibrationError`); a
    parameter also set by `overrides`; a parameter a counterfactual sets to another value than
    the baseline (drawing it would erase the difference being compared) (`ExperimentError`).
    """
    (base_label, base), *others = prepared.items()
    if isinstance(source, Posterior):
        posterior = source.checked(base.payload, base_label)
    else:
        posterior = read_posterior(source, base.payload, base_label)
    clash = sorted(set(overrides or {}) & set(posterior.names))
    if clash:
        raise ExperimentError(f"{clash[0]}: set both by an override (--param) and by the posterior "
                              f"{posterior.path}; a drawn parameter cannot also be fixed: drop "
                              "the override, or the column from a copy of the posterior")
    for label, other in others:
        posterior.checked(other.payload, label)
        for name in posterior.names:
            mine, theirs = _value(base.payload, name), _value(other.payload, name)
            if mine != theirs:
                raise ExperimentError(
                    f"{posterior.path}: column '{name}': counterfactual '{label}' sets it to "
                    f"{theirs} (the baseline '{base_label}' to {mine}); drawing it from the "
                    "posterior would erase the difference being compared; compare without "
                    "--posterior, or drop the column from a copy of the posterior")
    return posterior


def _value(data: Mapping[str, Any], dotted: str) -> Any:
    node: Any = data
    for key in dotted.split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def with_draw(prepared: PreparedScenario, draw: Draw, posterior: Posterior) -> PreparedScenario:
    """The scenario with a draw's parameter values in place of its own, validated and hashed."""
    origin = f"{posterior.path} (draw {draw.id})"
    data = apply_overrides(prepared.payload, draw.parameters, origin=origin)
    scenario = validate_data(data, Path(origin))
    return PreparedScenario(prepared.label, prepared.path, scenario,
                            scenario.model_dump(mode="json"), scenario.content_hash(),
                            prepared.overrides, dict(draw.parameters))


def plan_runs(prepared: Mapping[str, PreparedScenario], seeds: Sequence[int],
              posterior: Posterior | None = None, root_seed: int = 0,
              ) -> tuple[list[PlannedRun], dict[str, PreparedScenario], dict[str, list[str]]]:
    """Run i of every scenario: seed i and, with a posterior, draw i (drawn with `root_seed`).

    Returns:
        The plan (scenario by scenario, replicate by replicate), the scenario of every run's
        hash (what `execute_plan` sends to workers) and each label's run ids by replicate.
    """
    draws = posterior.draw(len(seeds), root_seed) if posterior is not None else None
    plan: list[PlannedRun] = []
    payloads: dict[str, PreparedScenario] = {}
    ids: dict[str, list[str]] = {}
    for label, base in prepared.items():
        ids[label] = []
        drawn: dict[int, PreparedScenario] = {}  # by posterior row: a row may be drawn again
        for i, seed in enumerate(seeds):
            scenario, draw_id = base, None
            if draws is not None and posterior is not None:
                draw = draws[i]
                if draw.row not in drawn:
                    drawn[draw.row] = with_draw(base, draw, posterior)
                scenario, draw_id = drawn[draw.row], draw.id
            payloads.setdefault(scenario.hash, scenario)
            run_id = run_id_for(scenario.hash, seed)
            plan.append(PlannedRun(run_id, label, scenario.hash, 0, i, seed, draw_id))
            ids[label].append(run_id)
    return plan, payloads, ids
