"""Bad scenarios give one line naming the file, the line, the field and what is allowed."""

import pytest

import sim

from .conftest import BASE, child, error_of, write


def test_unknown_key_with_did_you_mean(tmp_path):
    message = error_of(child(tmp_path, "[factions.jnim]\nrestrant = 0.3\n"))
    assert ":3: factions.jnim.restrant: unknown key 'restrant' (did you mean 'restraint'?)" \
        in message
    assert "allowed:" in message


def test_unknown_top_level_key(tmp_path):
    message = error_of(child(tmp_path, "resolutoin = 0.25\n"))
    assert "resolutoin" in message and "did you mean 'resolution'" in message


def test_wrong_type(tmp_path):
    message = error_of(child(tmp_path, '[factions.jnim]\nrestraint = "high"\n'))
    assert ":3: factions.jnim.restraint: wrong type: got str 'high'" in message


def test_value_out_of_range(tmp_path):
    message = error_of(child(tmp_path, "[parameters.combat]\nengage_probability = 2\n"))
    assert "parameters.combat.engage_probability: 2 is out of range; allowed 0.0 to 1.0" in message


def load_scenario_events() -> list:
    """The bundled baseline's events (a child's own events are appended after them)."""
    import tomllib

    from ..conftest import SCENARIOS

    return tomllib.loads((SCENARIOS / "baseline.toml").read_text(encoding="utf-8"))["events"]


def test_negative_troop_count(tmp_path):
    message = error_of(child(tmp_path, '[[units]]\nid = "fama_bamako"\nstrength = -5\n'))
    assert "units[fama_bamako].strength: -5 is out of range; allowed 0 to 200000" in message


def test_event_outside_the_run(tmp_path):
    body = '[[events]]\ndate = 2026-01-01\naction = "withdraw"\nunit = "bear_brigade"\n'
    message = error_of(child(tmp_path, body))
    index = len(load_scenario_events())  # the child's event comes after the baseline's
    assert (f"events[{index}].date: 2026-01-01 is outside the run; allowed 2023-01-01 to "
            "2024-12-31") in message


def test_event_naming_unknown_unit(tmp_path):
    body = '[[events]]\ndate = 2024-01-01\naction = "withdraw"\nunit = "bear_brigad"\n'
    message = error_of(child(tmp_path, body))
    index = len(load_scenario_events())
    assert (f"events[{index}].unit: unknown unit 'bear_brigad' (did you mean 'bear_brigade'?)"
            in message)


def test_unknown_town(tmp_path):
    message = error_of(child(tmp_path, '[[units]]\nid = "fama_bamako"\nbase = "Bamko"\n'))
    assert "units[fama_bamako].base: unknown town 'Bamko' (did you mean 'Bamako'?)" in message


def test_missing_extends(tmp_path):
    message = error_of(write(tmp_path, 'extends = "nothere.toml"\n'))
    assert ":1: extends: file 'nothere.toml' not found" in message


def test_circular_extends(tmp_path):
    write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    b = write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    with pytest.raises(sim.ScenarioError, match=r"circular chain b\.toml -> a\.toml -> b\.toml"):
        sim.load_scenario(b)


def test_not_toml(tmp_path):
    message = error_of(write(tmp_path, 'name = "x\n'))
    assert ":1: not valid TOML" in message


def test_missing_file(tmp_path):
    assert "file not found" in error_of(tmp_path / "absent.toml")


def test_remove_unknown_event(tmp_path):
    message = error_of(child(tmp_path, 'remove_events = ["bear_brigade_withdraw"]\n'))
    assert "did you mean 'bear_brigade_withdraws'" in message


def test_contradictory_relation(tmp_path):
    message = error_of(child(tmp_path, '[relations.csp_dpa]\njnim = "hostile"\n'))
    assert "relations.jnim.csp_dpa: 'allied' contradicts relations.csp_dpa.jnim" in message


def test_resolution_must_divide_half_degree(tmp_path):
    message = error_of(child(tmp_path, "resolution = 0.3\n"))
    assert "must divide 0.5" in message


@pytest.mark.parametrize("body, message", [
    ("units = 5\n", "units: expected a list of tables ([[units]]), got int"),
    ("events = 5\n", "events: expected a list of tables ([[events]]), got int"),
    ('remove_units = "bear_brigade"\n', "remove_units: expected a list of ids (strings)"),
    ('[relations.is_sahel]\nis_sahel = "hostile"\n', "relation to itself is not allowed"),
    ("start = 0\n", "expected a date such as 2024-08-30, got the number 0"),
    ("[factions.jnim.target_bias]\nfulani = nan\n", "must be a finite number >= 0"),
    ("[factions.jnim]\nreported_as_combat = 0.5\n",
     "reported_as_combat is for state, militia and russian factions, not a jihadist faction"),
    ("[factions.vdp]\nreported_as_combat = 1.5\n", "1.5 is out of range; allowed 0.0 to 1.0"),
    ('[[events]]\ndate = 2023-02-01\naction = "deploy"\nunit = "fama_centre"\n',
     "'fama_centre' is already present on 2023-02-01"),
    ('[[events]]\ndate = 2023-02-01\naction = "withdraw"\nunit = "fama_centre"\nstrength = 5\n',
     "'strength' is not used by a 'withdraw' event; it takes unit"),
    ('[[events]]\nid = "bear_brigade_arrives"\ndate = 2023-02-01\naction = "withdraw"\n'
     'unit = "fama_centre"\n', "duplicate event id 'bear_brigade_arrives'"),
    ('[[units]]\nid = "fama_bamako"\nbase = 42\n', "units[fama_bamako].base: wrong type"),
    ('[[units]]\nid = "fama_centre"\nbase = [21.0, 2.0]\n',
     "state, militia, Russian, peacekeeping and western units must be based in Mali, Burkina "
     "Faso or Niger"),
    ("end = 2022-12-31\n", "end: 2022-12-31 must be after start (2023-01-01)"),
])
def test_more_bad_inputs_give_one_line(tmp_path, body, message):
    assert message in error_of(child(tmp_path, body))


def test_extends_a_folder(tmp_path):
    (tmp_path / "adir").mkdir()
    message = error_of(write(tmp_path, 'extends = "adir"\n'))
    assert ":1: extends:" in message and "is a folder" in message


def test_error_in_parent_names_the_parent_and_its_line(tmp_path):
    parent = write(tmp_path, f'extends = "{BASE}"\n\n[factions.jnim]\nrestrant = 0.2\n',
                   "parent.toml")
    kid = write(tmp_path, 'extends = "parent.toml"\nname = "kid"\n', "kid.toml")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(kid)
    assert str(info.value).startswith(
        f"{kid} -> {parent.name}:4: factions.jnim.restrant: unknown key")


N_EVENTS = len(load_scenario_events())
FLEET = 'faction = "{}"\nsize = 2\nsorties = 0.1\nrange_km = 100\nsource = "test"\n'


@pytest.mark.parametrize(("body", "expected"), [
    ("[drones.x]\n" + FLEET.format("mali_army"),
     ":3: drones.x.faction: 'mali_army' is state-side: its fleet needs 'base'"),
    ("[drones.y]\n" + FLEET.format("jnm"),
     ":3: drones.y.faction: unknown faction 'jnm' (did you mean 'jnim'?)"),
    ("[drones.mali_senou]\nsortie = 0.2\n",
     ":3: drones.mali_senou.sortie: unknown key 'sortie' (did you mean 'sorties'?)"),
    ("[drones.mali_senou]\nbase = [10.0, -10.0]\n",
     ":3: drones.mali_senou.base: (10.0, -10.0) is in GIN; state, militia, Russian, "
     "peacekeeping and western drones must be based in Mali, Burkina Faso or Niger"),
    ("[drones.mali_senou]\nsize = 500\n",
     "drones.mali_senou.size: 500 is out of range; allowed 0 to 100"),
    ('[[events]]\ndate = 2024-02-01\naction = "set_fleet_size"\nfleet = "mali_senu"\nsize = 2\n',
     f":5: events[{N_EVENTS}].fleet: unknown fleet 'mali_senu' (did you mean 'mali_senou'?)"),
    ('[[events]]\ndate = 2024-02-01\naction = "set_fleet_size"\nfleet = "mali_senou"\n',
     f"events[{N_EVENTS}]: a 'set_fleet_size' event needs 'size'"),
    ('[[events]]\ndate = 2024-02-01\naction = "remove_fleet"\nfleet = "mali_senou"\nsize = 3\n',
     f"events[{N_EVENTS}]: 'size' is not used by a 'remove_fleet' event; it takes fleet"),
])
def test_drone_fleets_and_their_events_are_checked(tmp_path, body, expected):
    assert expected in error_of(child(tmp_path, body))


@pytest.mark.parametrize(("body", "expected"), [
    ('[[events]]\ndate = 2023-07-01\naction = "end_mandate"\nfaction = "france"\n',
     f":5: events[{N_EVENTS}].faction: 'france' is a western faction; 'end_mandate' applies "
     "to peacekeeping factions"),
    ('[[events]]\ndate = 2023-07-01\naction = "end_mandate"\n',
     f"events[{N_EVENTS}]: an 'end_mandate' event needs 'faction' (a peacekeeping faction)"),
    ('[[events]]\ndate = 2023-07-01\naction = "end_mandate"\nfaction = "minusma"\nunit = "x"\n',
     f"events[{N_EVENTS}]: 'unit' is not used by a 'end_mandate' event; it takes faction"),
])
def test_a_mandate_ends_only_for_a_peacekeeping_faction(tmp_path, body, expected):
    assert expected in error_of(child(tmp_path, body))


def test_a_counterfactual_changes_a_fleet_by_its_id(tmp_path):
    scenario = sim.load_scenario(child(tmp_path, "[drones.mali_senou]\nsize = 0\n"))
    assert scenario.drones["mali_senou"].size == 0
    assert scenario.drones["mali_senou"].base == "Bamako"  # the rest is the parent's
    assert list(scenario.drones)[:2] == ["mali_sevare", "mali_senou"]  # same order, same rows
