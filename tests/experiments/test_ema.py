"""The EMA Workbench adapter: a tiny experiment through EMA's own sequential evaluator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.outputs import HEADLINE_OUTCOMES, headline_outcomes

from ..conftest import write_short_scenario

ema_workbench = pytest.importorskip("ema_workbench",
                                    reason="the 'discovery' extra (ema-workbench) is needed")
import sim.ema  # noqa: E402 - after the skip: it needs ema_workbench

EVENT = """
[[events]]
id = "jnim_restraint_order"
date = 2023-01-20
action = "set_restraint"
faction = "jnim"
restraint = 0.5
"""


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_short_scenario(tmp_path_factory.mktemp("ema"), "2023-02-14", extra=EVENT)


def test_the_default_model_has_the_schema_s_uncertainties_levers_and_outcomes() -> None:
    model = sim.ema.model("baseline", replications=3)
    data = sim.load_scenario(sim.scenario.resolve_scenario_path("baseline")).model_dump(
        mode="json")
    known = sim.scenario.tunable_parameters(data)
    names = {p.variable_name[0]: p for p in model.uncertainties}
    assert set(names) == {n for n in known if not n.startswith("units.")}  # strengths if named
    rate = names["parameters.violence.base_rate"]
    assert (rate.lower_bound, rate.upper_bound) == (known["parameters.violence.base_rate"]["low"],
                                                    known["parameters.violence.base_rate"]["high"])
    assert isinstance(names["parameters.control.reach_cells"], ema_workbench.IntegerParameter)
    levers = {p.variable_name[0]: p for p in model.levers}
    withdraw = levers["events.bear_brigade_withdraws.date"]
    assert withdraw.name == "events__bear_brigade_withdraws__date"
    assert (withdraw.lower_bound, withdraw.upper_bound) == (548, 730)  # 2 Jul to 31 Dec 2024
    assert [o.name for o in model.outcomes] == HEADLINE_OUTCOMES
    seeds = [r["seed"] for r in model.replications]
    assert seeds == sim.experiments.spawn_seeds(20240917, 3)
    assert all(p.name.isidentifier() for p in [*model.uncertainties, *model.levers])


def test_a_tiny_experiment_through_ema_s_sequential_evaluator(short: Path) -> None:
    model = sim.ema.model(
        short, uncertainties={"parameters.combat.engage_probability": (0.1, 0.4)},
        levers={"events.jnim_restraint_order.date": ("2023-01-05", "2023-02-10"),
                "events.jnim_restraint_order.restraint": (0.0, 1.0)},
        outcomes=["civilian_fatalities_BFA", "territory_outside_state_BFA", "credibility_BFA"],
        replications=2)
    with ema_workbench.SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(
            scenarios=2, policies=2, uncertainty_sampling_kwargs={"rng": 1},
            lever_sampling_kwargs={"rng": 2})
    assert len(experiments) == 4
    assert set(outcomes) == {"civilian_fatalities_BFA", "territory_outside_state_BFA",
                             "credibility_BFA"}
    assert all(v.shape == (4,) for v in outcomes.values())
    days = experiments["events__jnim_restraint_order__date"]
    assert days.between(4, 40).all()
    # the first experiment again, by hand: the outcome is the mean over the two seeds
    row = experiments.iloc[0]
    settings = {sim.ema.dotted_name(name): row[name] for name in (
        "parameters__combat__engage_probability", "events__jnim_restraint_order__date",
        "events__jnim_restraint_order__restraint")}
    runner = model.function
    scenario = runner.scenario(settings)
    order = next(e for e in scenario.events if e.id == "jnim_restraint_order")
    assert (order.date - scenario.start).days == int(days.iloc[0])
    deaths = [headline_outcomes(sim.SahelModel(scenario, rng=r["seed"]).run().timeseries())[
        "civilian_fatalities_BFA"] for r in model.replications]
    assert outcomes["civilian_fatalities_BFA"][0] == pytest.approx(np.mean(deaths))


def test_per_replication_outcomes_and_bad_names(short: Path) -> None:
    model = sim.ema.model(short, uncertainties=["parameters.combat.evasion"], levers=(),
                          outcomes=["coups_BFA"], replications=[1, 2, 3], aggregate=None)
    assert isinstance(model.outcomes["coups_BFA_replications"], ema_workbench.ArrayOutcome)
    with ema_workbench.SequentialEvaluator(model) as evaluator:
        _, outcomes = evaluator.perform_experiments(scenarios=1)
    assert outcomes["coups_BFA_replications"].shape == (1, 3)
    assert [r["seed"] for r in model.replications] == [1, 2, 3]
    with pytest.raises(sim.ScenarioError, match="not a tunable parameter"):
        sim.ema.model(short, uncertainties=["parameters.combat.evasio"])
    with pytest.raises(sim.ScenarioError, match="no event with id"):
        sim.ema.model(short, levers=["events.nope.date"])
    with pytest.raises(sim.ScenarioError, match="outside the scenario's period"):
        sim.ema.model(short, levers={"events.jnim_restraint_order.date":
                                     ("2022-01-01", "2023-02-01")})
    with pytest.raises(sim.ScenarioError, match="unknown outcome"):
        sim.ema.model(short, outcomes=["deaths"])
