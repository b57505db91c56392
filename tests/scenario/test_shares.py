"""Shares of a faction's fighters (`units.<id>.share`, sim.scenario.shares): total held."""

import pytest

import sim
from sim.scenario import tunable_parameters
from sim.scenario.tunable import parameter_value

from .conftest import BASE


def test_a_units_share_moves_fighters_between_its_factions_units_holding_the_total():
    data = sim.load_scenario(BASE).model_dump(mode="json")
    jnim = {u["id"]: u["strength"] for u in data["units"] if u["faction"] == "jnim"}
    total = sum(jnim.values())
    info = tunable_parameters(data)["units.jnim_burkina.share"]
    assert (info["low"], info["high"], info["unit"], info["integer"]) == (0.0, 1.0, "share", False)
    assert info["default"] == pytest.approx(jnim["jnim_burkina"] / total)
    assert parameter_value(data, "units.jnim_burkina.share") == pytest.approx(info["default"])
    # no share for a unit that arrives by a deploy event (Africa Corps has three at the start)
    # or is its faction's only unit at the start
    assert "units.ac_niger.share" not in tunable_parameters(data)
    assert "units.ac_mali_north.share" in tunable_parameters(data)
    assert "units.csp_dpa.share" not in tunable_parameters(data)
    with pytest.raises(sim.ScenarioError, match=r"units\.csp_dpa\.share: not a tunable"):
        sim.load_scenario(BASE, overrides={"units.csp_dpa.share": 0.5})

    moved = sim.load_scenario(BASE, overrides={"units.jnim_burkina.share": 0.5})
    after = {u.id: u.strength for u in moved.units if u.faction == "jnim"}
    assert sum(after.values()) == total and after["jnim_burkina"] == round(0.5 * total)
    others = [u for u in jnim if u != "jnim_burkina"]
    weight = sum(jnim[u] for u in others)
    for unit in others:  # the rest keep their proportions, to within one fighter
        assert abs(after[unit] - jnim[unit] * (total - after["jnim_burkina"]) / weight) < 1
    untouched = {u.id: u.strength for u in moved.units if u.faction != "jnim"}
    assert untouched == {u["id"]: u["strength"] for u in data["units"] if u["faction"] != "jnim"}

    # a share is applied on the strengths the other overrides leave, whatever their order
    both = sim.load_scenario(BASE, overrides={"units.jnim_burkina.share": 1.0,
                                              "units.katiba_macina.strength": 100})
    assert {u.id: u.strength for u in both.units if u.faction == "jnim"} == dict(
        dict.fromkeys(others, 0), jnim_burkina=total - jnim["katiba_macina"] + 100)
    with pytest.raises(sim.ScenarioError, match=r"units\.jnim_est\.share: "
                       r"units\.jnim_burkina\.share already sets a share of jnim's fighters; "
                       "allowed one share per faction"):
        sim.load_scenario(BASE, overrides={"units.jnim_burkina.share": 0.5,
                                           "units.jnim_est.share": 0.1})
    nothing = sim.load_scenario(BASE, overrides={"units.jnim_burkina.share": 0.0})
    assert [u.strength for u in nothing.units if u.id == "jnim_burkina"] == [0]
    assert sum(u.strength for u in nothing.units if u.faction == "jnim") == total
    alone = {f"units.{u}.strength": 0 for u in others}  # the others have none: equal parts
    split = sim.load_scenario(BASE, overrides={**alone, "units.jnim_burkina.share": 0.5})
    parts = sorted(u.strength for u in split.units if u.faction == "jnim" and u.id in others)
    left = jnim["jnim_burkina"]  # the faction's total once the others are set to none
    assert sum(parts) == left - round(0.5 * left) and parts[-1] - parts[0] <= 1


def test_a_share_that_cannot_be_set_is_refused_in_one_line():
    with pytest.raises(sim.ScenarioError, match=r"units\[katiba_macina\]\.strength: 2200\.5 is "
                       r"not a whole number of personnel to share \(units\.jnim_burkina\.share\); "
                       "allowed 0 to 200000"):
        sim.load_scenario(BASE, overrides={"units.katiba_macina.strength": 2200.5,
                                           "units.jnim_burkina.share": 0.5})
    with pytest.raises(sim.ScenarioError, match=r"units\.jnim_burkina\.share: 1\.5 is not a "
                       "share; allowed a number from 0 to 1"):
        sim.load_scenario(BASE, overrides={"units.jnim_burkina.share": 1.5})
