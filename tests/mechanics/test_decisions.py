"""Decisions: armed groups' pull toward a country after its junta's coup (ODD 7.3)."""

import datetime as dt

import numpy as np
import pytest

from sim.geography import COUNTRIES
from sim.mechanics import decisions
from sim.model import SahelModel
from sim.scenario.tunable import apply_overrides

NIGER = list(COUNTRIES).index("NER")
COUP = dt.date(2023, 7, 26)


def _with_pull(scenario, pull: float):
    data = apply_overrides(scenario.model_dump(mode="json"),
                           {"parameters.decisions.post_coup_pull": pull})
    return type(scenario).model_validate(data)


@pytest.mark.parametrize("pull", [0.0, 0.5, 3.0])
def test_the_pull_scales_jihadist_fields_in_the_country_from_the_coup_day(
        baseline_at_setup, pull):
    world = SahelModel(baseline_at_setup, rng=1).world
    pulled = np.zeros(len(world.field_groups), dtype=bool)
    pulled[world.field_group[world.jihadists]] = True
    separatists = world.field_group[[world.faction_index["csp_dpa"]]]
    assert pulled.any() and not pulled[separatists].any()  # CSP-DPA's field is its own
    assert (world.field_groups[~pulled, -1] > 0).any()  # so a guerrilla field stays as it is
    niger = world.country_bucket == NIGER
    world.coup_day[NIGER] = 10
    for day, expected in [(9, 1.0), (10, 1.0 + pull), (400, 1.0 + pull)]:
        world.fields = np.full_like(world.fields, 0.5)
        decisions.pull_after_coup(world, day, pull)
        assert np.allclose(world.fields[pulled][:, niger], 0.5 * expected)
        assert (world.fields[pulled][:, ~niger] == 0.5).all()  # other countries, abroad
        assert (world.fields[~pulled] == 0.5).all()  # separatists' and the state side's


def test_no_pull_where_no_coup_happened_in_the_run(baseline_at_setup):
    world = SahelModel(baseline_at_setup, rng=1).world
    assert np.isnan(world.coup_day).all()  # Mali's and Burkina Faso's juntas predate the run
    world.fields = np.full_like(world.fields, 0.5)
    decisions.pull_after_coup(world, 10_000, 5.0)
    assert (world.fields == 0.5).all()


def _armed_groups_in_niger(model: SahelModel) -> float:
    world = model.world
    armed = ~world.state_side & ~world.foreign
    return float(world.presence[armed][:, world.country_bucket == NIGER].sum())


def test_armed_groups_move_into_niger_after_its_coup_and_not_before(baseline):
    models = {pull: SahelModel(_with_pull(baseline, pull), rng=4) for pull in (0.0, 5.0)}
    daily = {pull: [] for pull in models}
    for pull, model in models.items():
        while model.date < COUP:
            model.step()
            daily[pull].append(_armed_groups_in_niger(model))
        assert np.isnan(model.world.coup_day[NIGER])
    assert daily[0.0] == daily[5.0]  # identical runs until the coup
    for pull, model in models.items():
        model.step()  # 26 Jul 2023: the coup
        assert model.world.coup_day[NIGER] == (COUP - baseline.start).days
        daily[pull] = []
        while model.date < dt.date(2024, 1, 1):
            model.step()
            daily[pull].append(_armed_groups_in_niger(model))
    # Seed 4: 969 armed-group personnel a day in Niger on average without the pull, 1,252 with
    # (771 and 1,141 at the fit before the kept one's values: the margin depends on them).
    assert np.mean(daily[5.0]) > 1.2 * np.mean(daily[0.0])
