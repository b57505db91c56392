"""Loading scenarios: the bundled files, `extends`, merging, hashes, overrides, the catalog."""

import copy
import hashlib
import json
from pathlib import Path

import pytest

import sim
from sim.scenario import (
    apply_overrides,
    bundled_scenarios,
    resolve_scenario_path,
    tunable_parameters,
)

from ..conftest import SCENARIOS
from .conftest import BASE, child


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_scenarios_are_valid(path):
    scenario = sim.load_scenario(path)
    assert scenario.description
    assert all(u.source for u in scenario.units)


def test_baseline_facts(baseline):
    assert (baseline.start.isoformat(), baseline.end.isoformat()) == ("2023-01-01", "2024-12-31")
    events = {e.id: e for e in baseline.events}
    assert events["bear_brigade_arrives"].date.isoformat() == "2024-05-25"
    assert events["bear_brigade_withdraws"].date.isoformat() == "2024-08-30"
    assert baseline.stance("jnim", "csp_dpa") == "allied"
    assert baseline.stance("jnim", "is_sahel") == "hostile"
    assert baseline.stance("csp_dpa", "jnim") == "allied"  # symmetric
    jnim = sum(u.strength for u in baseline.units if u.faction == "jnim")
    assert 6000 <= jnim <= 7000  # FACTS C


def test_extends_overrides_only_what_differs():
    stays = sim.load_scenario(SCENARIOS / "bear_brigade_stays.toml")
    base = sim.load_scenario(BASE)
    assert stays.name == "bear_brigade_stays"
    assert {e.id for e in base.events} - {e.id for e in stays.events} == {
        "bear_brigade_withdraws"}
    assert stays.units == base.units
    restraint = sim.load_scenario(SCENARIOS / "russian_restraint.toml")
    assert restraint.factions["africa_corps"].restraint == 0.95
    assert restraint.factions["africa_corps"].label == base.factions["africa_corps"].label
    exit_ = sim.load_scenario(SCENARIOS / "africa_corps_exit.toml")
    assert exit_.end.isoformat() == "2026-12-31"
    assert len(exit_.events) == len(base.events) + 6


def test_child_unit_entry_merges_by_id(tmp_path):
    path = child(tmp_path, '[[units]]\nid = "bear_brigade"\nstrength = 250\n')
    unit = next(u for u in sim.load_scenario(path).units if u.id == "bear_brigade")
    assert unit.strength == 250 and unit.base == "Ouagadougou"


def test_content_hash_changes_with_content(tmp_path):
    a = sim.load_scenario(BASE).content_hash()
    b = sim.load_scenario(child(tmp_path, "[factions.jnim]\nrestraint = 0.1\n")).content_hash()
    assert a != b and len(a) == 64
    assert a == sim.load_scenario(BASE).content_hash()


def test_behaviour_hash_leaves_out_the_notes_and_nothing_else():
    base = sim.load_scenario(BASE)
    plain = base.model_dump(mode="json")

    def edited(path: str, value: object) -> sim.Scenario:
        data = copy.deepcopy(plain)
        *parents, last = path.split("/")
        inner = data
        for key in parents:
            inner = inner[int(key)] if isinstance(inner, list) else inner[key]
        inner[last] = value
        return sim.Scenario.model_validate(data)

    for path in ("description", "factions/jnim/source", "events/0/note", "units/0/source",
                 "parameters/sources/violence.base_rate"):
        renoted = edited(path, "another note")
        assert renoted.content_hash() != base.content_hash(), path
        assert renoted.behaviour_hash() == base.behaviour_hash(), path
    for path, value in (("factions/jnim/restraint", 0.1), ("events/0/date", "2023-08-16"),
                        ("parameters/violence/reprisal_half_life", 60.0),
                        ("factions/jnim/label", "another label")):
        assert edited(path, value).behaviour_hash() != base.behaviour_hash(), path


def test_behaviour_hash_is_the_content_hash_of_everything_but_the_documentation():
    from sim.scenario.schema import DOCUMENTATION_FIELDS

    def stripped(value):
        if isinstance(value, dict):
            return {k: stripped(v) for k, v in value.items() if k not in DOCUMENTATION_FIELDS}
        return [stripped(v) for v in value] if isinstance(value, list) else value

    base = sim.load_scenario(BASE)  # units, territory, drones, events, points, dates, None
    blob = json.dumps(stripped(base.model_dump(mode="json")), sort_keys=True).encode()
    assert base.behaviour_hash() == hashlib.sha256(blob).hexdigest()


def test_only_text_fields_are_documentation():
    from pydantic import BaseModel

    from sim.scenario import force_parameters, parameters, schema

    seen = set()
    for module in (schema, parameters, force_parameters):
        for cls in vars(module).values():
            if isinstance(cls, type) and issubclass(cls, BaseModel):
                for name, field in cls.model_fields.items():
                    if name in schema.DOCUMENTATION_FIELDS:
                        assert field.annotation in (str, dict[str, str]), (cls, name)
                        seen.add(name)
    assert seen == schema.DOCUMENTATION_FIELDS


def test_overrides_and_tunable_parameters():
    data = sim.load_scenario(BASE).model_dump(mode="json")
    names = tunable_parameters(data)
    assert names["parameters.combat.engage_probability"]["high"] == 1.0
    assert names["factions.jnim.restraint"]["unit"] == "share"
    changed = apply_overrides(data, {"factions.jnim.restraint": 0.1})
    assert changed["factions"]["jnim"]["restraint"] == 0.1
    scenario = sim.load_scenario(BASE, overrides={"parameters.combat.engage_probability": 0.5})
    assert scenario.parameters.combat.engage_probability == 0.5
    with pytest.raises(sim.ScenarioError, match=r"did you mean 'factions\.jnim\.restraint'"):
        sim.load_scenario(BASE, overrides={"factions.jnim.restrain": 0.1})
    with pytest.raises(sim.ScenarioError, match="out of range"):
        sim.load_scenario(BASE, overrides={"factions.jnim.restraint": 3})


def test_a_units_strength_is_tunable_by_its_id():
    from sim.scenario.tunable import whole_integers

    data = sim.load_scenario(BASE).model_dump(mode="json")
    names = tunable_parameters(data)
    first = data["units"][0]
    info = names[f"units.{first['id']}.strength"]
    assert info["integer"] and info["unit"] == "personnel"
    assert info["default"] == first["strength"] and info["source"] == first["source"]
    deployed = {e["unit"] for e in data["events"]
                if e["action"] == "deploy" and e["strength"] is not None}
    assert "bear_brigade" in deployed  # its deploy event sets its strength: not tunable here
    assert {name for name in names if name.startswith("units.") and name.endswith("strength")} == {
        f"units.{u['id']}.strength" for u in data["units"] if u["id"] not in deployed}
    scenario = sim.load_scenario(BASE, overrides={f"units.{first['id']}.strength": 5})
    assert scenario.units[0].strength == 5
    assert [u.strength for u in scenario.units[1:]] == [u["strength"] for u in data["units"][1:]]
    with pytest.raises(sim.ScenarioError, match=rf"units\[{first['id']}\]\.strength: wrong "
                                                "type: got float 5.5; expected a valid integer"):
        sim.load_scenario(BASE, overrides={f"units.{first['id']}.strength": 5.5})
    with pytest.raises(sim.ScenarioError, match=r"units\.nope\.strength: not a tunable parameter"):
        sim.load_scenario(BASE, overrides={"units.nope.strength": 5})
    rounded = whole_integers({f"units.{first['id']}.strength": 5.5,
                              "factions.jnim.restraint": 0.25}, names)
    assert rounded == {f"units.{first['id']}.strength": 6, "factions.jnim.restraint": 0.25}


def test_catalog_lists_and_resolves_bundled_scenarios(tmp_path):
    assert bundled_scenarios() == sorted(SCENARIOS.glob("*.toml"))
    assert resolve_scenario_path("baseline") == SCENARIOS / "baseline.toml"
    assert resolve_scenario_path("nothere") == Path("nothere")
    assert resolve_scenario_path(str(tmp_path / "x.toml")) == tmp_path / "x.toml"
