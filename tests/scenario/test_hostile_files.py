"""Hostile and unusual scenario files: sizes, special files, deep nesting, long chains,
errors inside parent files, the period's bounds, strict numbers, overrides, shortening."""

import os
import shutil

import pytest

import sim
from sim.cli import main

from ..conftest import SCENARIOS
from .conftest import BASE, child, error_of, write


def cli_error(capsys, path) -> str:
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    return err.strip()


# --- 3. sizes, special files, nesting, chains -----------------------------------------------

def test_file_larger_than_one_mib_is_refused(tmp_path, capsys):
    big = write(tmp_path, "# " + "x" * (1 << 20) + "\n")
    assert "limited to 1 MiB" in cli_error(capsys, big)


def test_extends_dev_zero_is_refused_without_reading_it(tmp_path, capsys):
    path = write(tmp_path, 'extends = "/dev/zero"\n')
    err = cli_error(capsys, path)
    assert f"{path} -> /dev/zero: not a regular file" in err


def test_extends_a_fifo_does_not_hang(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.toml")
    path = write(tmp_path, 'extends = "pipe.toml"\n')
    assert "pipe.toml: not a regular file" in cli_error(capsys, path)
    assert "not a regular file" in cli_error(capsys, tmp_path / "pipe.toml")


def test_a_folder_is_not_a_scenario(tmp_path, capsys):
    assert "is a folder" in cli_error(capsys, tmp_path)


@pytest.mark.parametrize("text", [
    "a = " + "[" * 1000 + "]" * 1000 + "\n",
    "a = " + "{b = " * 600 + "1" + "}" * 600 + "\n",
    "a = " + "[" * 40 + "]" * 40 + "\n",
])
def test_deep_nesting_is_one_line(tmp_path, capsys, text):
    path = write(tmp_path, text)
    err = cli_error(capsys, path)
    assert str(path) in err and "nested too deep" in err


def test_a_long_extends_chain_is_refused(tmp_path, capsys):
    for i in range(1200):
        write(tmp_path, f'extends = "c{i + 1}.toml"\n', f"c{i}.toml")
    shutil.copy(BASE, tmp_path / "c1200.toml")
    err = cli_error(capsys, tmp_path / "c0.toml")
    assert "chain of more than 16 files" in err and ":1: extends:" in err


def test_a_chain_of_sixteen_files_is_fine(tmp_path):
    shutil.copy(BASE, tmp_path / "c15.toml")
    for i in range(15):
        write(tmp_path, f'extends = "c{i + 1}.toml"\n', f"c{i}.toml")
    assert sim.load_scenario(tmp_path / "c0.toml").name == "baseline"


def test_not_utf8(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_bytes(b'name = "x"\ndescription = "\xff"\n')
    assert f"{path}:2: not UTF-8" in cli_error(capsys, path)


# --- 4. errors inside a parent file ---------------------------------------------------------

def test_error_in_the_root_parent_names_its_file_line_and_the_chain(tmp_path, capsys):
    for path in SCENARIOS.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    base = tmp_path / "baseline.toml"
    lines = base.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("restraint")) + 1
    lines[number - 1] = lines[number - 1].replace("restraint", "restrant")
    base.write_text("\n".join(lines) + "\n")
    err = cli_error(capsys, tmp_path / "bear_brigade_stays.toml")
    assert err.startswith(f"error: {tmp_path / 'bear_brigade_stays.toml'} -> baseline.toml:"
                          f"{number}: factions.mali_army.restrant: unknown key")


def test_error_in_a_parent_unit_and_event_is_located_in_the_parent(tmp_path):
    text = BASE.read_text()
    text = text.replace('strength = 2500', 'strength = -250', 1)
    parent = write(tmp_path, text, "parent.toml")
    kid = write(tmp_path, 'extends = "parent.toml"\nname = "kid"\n'
                '[[units]]\nid = "fama_bamako"\nstrength = 10\n', "kid.toml")
    message = error_of(kid)
    line = text[:text.index("strength = -250")].count("\n") + 1
    assert f"{kid} -> parent.toml:{line}: units[" in message
    # the child's own override of a unit is reported at the child
    kid.write_text('extends = "parent.toml"\n[[units]]\nid = "fama_bamako"\nstrength = -1\n')
    parent.write_text(BASE.read_text())
    assert f"{kid}:4: units[fama_bamako].strength" in error_of(kid)


def test_error_in_a_middle_file_and_in_toml_syntax_of_a_parent(tmp_path):
    write(tmp_path, 'extends = "top.toml"\nname = \n', "mid.toml")
    kid = write(tmp_path, 'extends = "mid.toml"\n', "kid.toml")
    write(tmp_path, BASE.read_text(), "top.toml")
    message = error_of(kid)
    assert message.startswith(f"{kid} -> mid.toml:2: not valid TOML")


def test_messages_never_show_none_for_a_line(tmp_path):
    kid = child(tmp_path, "")
    (tmp_path / "p.toml").write_text("name = 'p'\n")
    kid.write_text('extends = "p.toml"\nremove_units = ["x"]\n')
    assert ":None" not in error_of(kid)


# --- 5. the period --------------------------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ("start = 0001-01-01\nend = 9999-12-31\n",
     ":3: start: 0001-01-01 is outside the supported period; allowed 1990-01-01 to 2050-12-31"),
    ("end = 2051-06-01\n", "end: 2051-06-01 is outside the supported period"),
    ("start = 1990-01-01\nend = 2015-01-01\n", "a run covers at most 20 years (end by 2010-01-01)"),
])
def test_the_period_is_bounded(tmp_path, body, expected):
    message = error_of(child(tmp_path, 'remove_events = ["bear_brigade_withdraws"]\n' + body))
    assert expected in message


# --- 10. strict numbers, overrides, shortening ------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ('[factions.jnim]\nrestraint = "0.5"\n', "factions.jnim.restraint: wrong type: got str '0.5'"),
    ("[factions.jnim]\nrestraint = true\n", "factions.jnim.restraint: wrong type: got bool True"),
    ('[parameters.combat]\nevasion = "0.5"\n', "parameters.combat.evasion: wrong type: got str"),
    ('[[units]]\nid = "fama_bamako"\nstrength = 10.0\n', "strength: wrong type: got float 10.0"),
    ('[[units]]\nid = "fama_bamako"\npresent = 1\n', "present: wrong type: got int 1"),
    ('[[units]]\nid = "fama_bamako"\nbase = ["12.6", "-8.0"]\n', "base: wrong type"),
    ("seed = true\n", "seed: wrong type: got bool True"),
])
def test_numbers_are_strict(tmp_path, body, expected):
    assert expected in error_of(child(tmp_path, body))


def test_integers_are_still_valid_floats(tmp_path):
    scenario = sim.load_scenario(child(tmp_path, "[factions.jnim]\nrestraint = 1\n"))
    assert scenario.factions["jnim"].restraint == 1.0


@pytest.mark.parametrize("overrides", [["factions.jnim.restraint=0.1"], "x", 3,
                                       {3: 0.1}])
def test_overrides_that_are_not_a_dict_give_one_line(overrides):
    with pytest.raises(sim.ScenarioError, match="overrides") as info:
        sim.load_scenario(BASE, overrides=overrides)
    assert "\n" not in str(info.value)


def test_whole_float_override_of_an_integer_parameter():
    scenario = sim.load_scenario(BASE, overrides={"parameters.control.reach_cells": 3.0})
    assert scenario.parameters.control.reach_cells == 3


def test_shortening_with_end_alone_names_the_events_and_remove_events(tmp_path):
    path = child(tmp_path, 'name = "short"\nend = 2024-07-31\n')
    message = error_of(path)
    assert f"{path}:3: end: 2024-07-31 leaves 2 inherited event(s) after the end" in message
    assert ('remove_events = ["bear_brigade_withdraws", "us_leaves_agadez"] in s.toml'
            in message)
    fixed = child(tmp_path, 'name = "short"\nend = 2024-07-31\n'
                  'remove_events = ["bear_brigade_withdraws", "us_leaves_agadez"]\n')
    assert sim.load_scenario(fixed).end.isoformat() == "2024-07-31"
