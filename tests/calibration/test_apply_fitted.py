"""scripts/apply_fitted.py: a new fit replaces its values and keeps the earlier block's others."""

import importlib.util
import re
import tomllib

import pytest

from ..conftest import ROOT

spec = importlib.util.spec_from_file_location("apply_fitted", ROOT / "scripts" / "apply_fitted.py")
apply_fitted = importlib.util.module_from_spec(spec)
spec.loader.exec_module(apply_fitted)


def test_a_new_fit_replaces_its_values_and_keeps_the_earlier_fits_others(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n\n# a comment that stays\n', encoding="utf-8")
    first = tmp_path / "first.toml"
    first.write_text("[parameters.combat]\nengage_probability = 0.3\nevasion = 0.7\n",
                     encoding="utf-8")
    second = tmp_path / "second.toml"
    second.write_text("[parameters.combat]\nengage_probability = 0.2\n"
                      "[parameters.junta]\ncoup_rate = 5.0\n", encoding="utf-8")
    assert apply_fitted.main([str(first), str(scenario)]) == 0
    assert apply_fitted.main([str(second), str(scenario)]) == 0
    text = scenario.read_text(encoding="utf-8")
    assert text.count(apply_fitted.BEGIN) == 1 and "# a comment that stays" in text
    data = tomllib.loads(text)
    assert data["parameters"] == {"combat": {"engage_probability": 0.2, "evasion": 0.7},
                                  "junta": {"coup_rate": 5.0}}
    assert "evasion = 0.7  # an earlier fit's" in text


def test_a_factions_fitted_field_is_written_in_its_own_table(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n\n[factions.vdp]\nlabel = "VDP"\nrestraint = 0.65  # old\n'
                        '\n[factions.jnim]\nlabel = "JNIM"\n', encoding="utf-8")
    fitted = tmp_path / "fitted.toml"
    fitted.write_text("factions.vdp.restraint = 0.7\nfactions.jnim.restraint = 0.5\n"
                      "parameters.combat.evasion = 0.6\n", encoding="utf-8")
    assert apply_fitted.main([str(fitted), str(scenario)]) == 0
    assert apply_fitted.main([str(fitted), str(scenario)]) == 0  # again: the same file
    text = scenario.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert data["factions"] == {"vdp": {"label": "VDP", "restraint": 0.7},
                                "jnim": {"label": "JNIM", "restraint": 0.5}}
    assert data["parameters"] == {"combat": {"evasion": 0.6}}
    assert text.count("restraint = ") == 2 and "# old" not in text


def test_a_faction_field_a_later_fit_does_not_fit_is_marked_as_the_earlier_fits(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n\n[factions.vdp]\nrestraint = 0.65\n'
                        '\n[factions.army]\nrestraint = 0.7\n', encoding="utf-8")
    first, second = tmp_path / "first.toml", tmp_path / "second.toml"
    first.write_text("factions.vdp.restraint = 0.6\nfactions.army.restraint = 0.8\n",
                     encoding="utf-8")
    second.write_text("factions.army.restraint = 0.75\n", encoding="utf-8")
    assert apply_fitted.main([str(first), str(scenario)]) == 0
    assert apply_fitted.main([str(second), str(scenario)]) == 0
    text = scenario.read_text(encoding="utf-8")
    assert tomllib.loads(text)["factions"] == {"vdp": {"restraint": 0.6},
                                               "army": {"restraint": 0.75}}
    assert f"restraint = 0.6  {apply_fitted.EARLIER_NOTE}" in text
    assert f"restraint = 0.75  {apply_fitted.FITTED_NOTE}" in text


def test_table_headers_with_spaces_or_comments_are_found(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n\n  [factions.vdp]  # the militia\nrestraint = 0.65\n'
                        '[[ units ]]\nid = "u"\nrestraint = 0.1\n', encoding="utf-8")
    fitted = tmp_path / "fitted.toml"
    fitted.write_text("factions.vdp.restraint = 0.7\n", encoding="utf-8")
    assert apply_fitted.main([str(fitted), str(scenario)]) == 0
    data = tomllib.loads(scenario.read_text(encoding="utf-8"))
    assert data["factions"] == {"vdp": {"restraint": 0.7}}
    assert data["units"] == [{"id": "u", "restraint": 0.1}]  # the next table is left alone


def test_a_faction_the_scenario_lacks_is_one_line_and_nothing_is_written(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n', encoding="utf-8")
    fitted = tmp_path / "fitted.toml"
    fitted.write_text("factions.ghost.restraint = 0.7\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"factions.ghost: no table \[factions.ghost\]"):
        apply_fitted.main([str(fitted), str(scenario)])
    assert scenario.read_text(encoding="utf-8") == 'name = "s"\n'


def test_a_units_fitted_strength_is_written_whole_in_its_table(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n\n[[units]]\nid = "a"\nstrength = 100\n'
                        "\n[[ units ]]  # b\nid = 'b'  # single quotes\nstrength = 200\n",
                        encoding="utf-8")
    first, second = tmp_path / "first.toml", tmp_path / "second.toml"
    first.write_text("units.a.strength = 150\nunits.b.strength = 260.4\n", encoding="utf-8")
    second.write_text("units.b.strength = 250\n", encoding="utf-8")
    assert apply_fitted.main([str(first), str(scenario)]) == 0
    text = scenario.read_text(encoding="utf-8")
    assert [u["strength"] for u in tomllib.loads(text)["units"]] == [150, 260]
    assert apply_fitted.main([str(second), str(scenario)]) == 0
    text = scenario.read_text(encoding="utf-8")
    assert [u["strength"] for u in tomllib.loads(text)["units"]] == [150, 250]
    assert f"strength = 150  {apply_fitted.EARLIER_NOTE}" in text
    assert f"strength = 250  {apply_fitted.FITTED_NOTE}" in text


def test_a_unit_the_scenario_lacks_stops_before_writing(tmp_path):
    scenario = tmp_path / "s.toml"
    before = 'name = "s"\n\n[[units]]\nid = "a"\nstrength = 100\n'
    scenario.write_text(before, encoding="utf-8")
    fitted = tmp_path / "fitted.toml"
    fitted.write_text("units.z.strength = 150\n", encoding="utf-8")
    where = re.escape(str(scenario))
    with pytest.raises(SystemExit, match=rf"apply_fitted: {where}: units\.z\.strength: no "
                       r"\[\[units\]\] table with this id and a strength in the scenario; "
                       r"allowed the ids of its \[\[units\]\] tables"):
        apply_fitted.main([str(fitted), str(scenario)])
    assert scenario.read_text(encoding="utf-8") == before


def test_a_fitted_share_is_written_as_the_strengths_it_gives_the_factions_units(tmp_path):
    scenario = tmp_path / "s.toml"
    units = "".join(f'\n[[units]]\nid = "{uid}"\nfaction = "{faction}"\nstrength = {n}\n'
                    for uid, faction, n in [("a", "f", 100), ("b", "f", 200), ("c", "f", 100),
                                            ("d", "g", 50)])
    scenario.write_text('name = "s"\n' + units, encoding="utf-8")
    fitted = tmp_path / "fitted.toml"
    fitted.write_text("units.a.share = 0.6\nunits.c.strength = 300\n", encoding="utf-8")
    assert apply_fitted.main([str(fitted), str(scenario)]) == 0
    text = scenario.read_text(encoding="utf-8")
    # the share is taken of the total with c's fitted strength (600): a gets 360, b and c
    # share the other 240 as 200 to 300
    assert [u["strength"] for u in tomllib.loads(text)["units"]] == [360, 96, 144, 50]
    assert text.count(apply_fitted.FITTED_NOTE) == 3
    where = re.escape(str(scenario))
    for wrong in ("z", "d"):  # no such unit; the only unit of its faction
        fitted.write_text(f"units.{wrong}.share = 0.6\n", encoding="utf-8")
        with pytest.raises(SystemExit, match=rf"{where}: units\.{wrong}\.share: no "
                           r"\[\[units\]\] table with this id with other units of its "
                           "faction present from the start"):
            apply_fitted.main([str(fitted), str(scenario)])
        assert scenario.read_text(encoding="utf-8") == text


def test_a_fitted_share_applied_twice_is_a_fixed_point(tmp_path):
    """Every unit the share sets is marked the fit's, so a repeat leaves the file as it was."""
    scenario = tmp_path / "s.toml"
    units = "".join(f'\n[[units]]\nid = "{uid}"\nfaction = "f"\nstrength = {n}\n'
                    for uid, n in [("a", 100), ("b", 200), ("c", 100)])
    scenario.write_text('name = "s"\n' + units, encoding="utf-8")
    fitted = tmp_path / "fitted.toml"
    fitted.write_text("units.a.share = 0.45\n", encoding="utf-8")
    assert apply_fitted.main([str(fitted), str(scenario)]) == 0
    once = scenario.read_text(encoding="utf-8")
    assert [u["strength"] for u in tomllib.loads(once)["units"]] == [180, 147, 73]
    assert once.count(apply_fitted.FITTED_NOTE) == 3
    assert apply_fitted.main([str(fitted), str(scenario)]) == 0
    assert scenario.read_text(encoding="utf-8") == once


def test_help_prints_the_usage_and_exits_0(capsys):
    with pytest.raises(SystemExit) as stop:
        apply_fitted.main(["--help"])
    assert stop.value.code == 0
    assert "usage: apply_fitted.py [-h] [fitted] [scenario]" in capsys.readouterr().out


def test_a_missing_fitted_file_is_one_line_naming_it(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n', encoding="utf-8")
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(SystemExit, match=rf"^apply_fitted: {re.escape(str(missing))}: cannot "
                                         r"read the fitted values \(No such file or directory\)$"):
        apply_fitted.main([str(missing), str(scenario)])
    assert scenario.read_text(encoding="utf-8") == 'name = "s"\n'


def test_a_scenario_that_is_not_toml_is_one_line_and_left_as_it_is(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text("name = \n", encoding="utf-8")
    fitted = tmp_path / "fitted.toml"
    fitted.write_text("parameters.combat.aimed_fire_rate = 0.01\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=rf"^apply_fitted: {re.escape(str(scenario))}: the "
                                         r"scenario is not valid TOML \(Invalid value \(at "
                                         r"line 1, column 8\)\)$"):
        apply_fitted.main([str(fitted), str(scenario)])
    assert scenario.read_text(encoding="utf-8") == "name = \n"
