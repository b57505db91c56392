"""Recovery: armed groups' wounded rejoin their group, state-side wounded never do."""

import numpy as np
import pytest

from sim.ledger import N_GROUPS
from sim.mechanics import recovery


def _model(baseline, share, days=10.0):
    """`scenario` with the recovery parameters set (tests pass the one without a spin-up)."""
    from sim.model import SahelModel
    from sim.scenario.tunable import apply_overrides

    data = apply_overrides(baseline.model_dump(mode="json"),
                           {"parameters.combat.wounded_return_share": share,
                            "parameters.combat.wounded_return_days": days})
    return SahelModel(type(baseline).model_validate(data), rng=1)


def _wound(model, faction_id, wounded, day=0):
    world, ledger = model.world, model.ledger
    ledger.open_day(day)
    f = world.faction_ids.index(faction_id)
    cell = int(world.forces.cell[world.forces.faction == f][0])
    event = ledger.add_events("clash", np.array([cell]), 0, f)
    ledger.book(event, N_GROUPS + f, 0, 0, wounded)
    return f


def _act(model, day=0):
    recovery.act(model.world, model.ledger, model.spec.parameters.combat,
                 model.streams.get("recovery", day))


def _strength(world, f):
    units = world.forces
    return units.strength[(units.faction == f) & units.present].sum()


def test_a_share_of_the_wounded_rejoins_at_one_over_days_a_day(baseline_at_setup):
    model = _model(baseline_at_setup, 0.5, days=10.0)
    world = model.world
    jnim = _wound(model, "jnim", 200)
    before = _strength(world, jnim)
    _act(model)
    # 100 enter the pool, a tenth of it rejoins today
    assert _strength(world, jnim) - before == pytest.approx(10.0)
    assert world.convalescent[jnim] == pytest.approx(90.0)
    model.ledger.open_day(1)  # no new wounded: the pool drains geometrically
    _act(model, 1)
    assert world.convalescent[jnim] == pytest.approx(81.0)
    assert _strength(world, jnim) + world.convalescent[jnim] == pytest.approx(before + 100.0)


@pytest.mark.parametrize(("share", "faction_id"), [(0.0, "jnim"), (1.0, "burkina_army")],
                         ids=["share-zero", "state-side-left-to-replacement"])
def test_no_one_rejoins(baseline_at_setup, share, faction_id):
    model = _model(baseline_at_setup, share)
    f = _wound(model, faction_id, 300)
    before = _strength(model.world, f)
    _act(model)
    assert _strength(model.world, f) == before
    assert not model.world.convalescent.any()


def test_a_group_with_no_present_unit_keeps_its_pool(baseline_at_setup):
    model = _model(baseline_at_setup, 1.0)
    world = model.world
    jnim = _wound(model, "jnim", 50)
    rows = world.forces.faction == jnim
    present = world.forces.present.copy()
    world.forces.present[rows] = False
    _act(model)
    assert world.convalescent[jnim] == pytest.approx(50.0)
    world.forces.present[:] = present
    model.ledger.open_day(1)
    _act(model, 1)
    assert world.convalescent[jnim] == pytest.approx(45.0)
