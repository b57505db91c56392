"""Why misses miss: the mechanisms file's checks, the report's sections, the sweep's match."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from sim.calibration.comparisons import Comparison
from sim.calibration.errors import CalibrationError
from sim.calibration.missing import (
    DEFAULT_MECHANISMS,
    Sweep,
    load_mechanisms,
    read_sweep,
    why_missed,
)
from sim.calibration.targets import DEFAULT_TARGETS, Target, load_targets


def target(name, low, high):
    return Target(name=name, low=low, high=high, value=None, unit="deaths", period="2024",
                  place="Mali", definition="d", source="s", source_date=dt.date(2024, 9, 30),
                  confidence="M", compare=Comparison(statistic="deaths", country="MLI",
                                                     start=dt.date(2024, 1, 1),
                                                     end=dt.date(2024, 12, 31)))


TARGETS = [target("deaths_mali", 100, 200), target("civilians_mali", 10, 20),
           target("deaths_niger", 50, 60), target("events_mali", 1, 2),
           target("coups_niger", 1, 2)]
GOOD = """[[mechanisms]]
name = "a_missing_thing"
title = "A missing thing"
targets = ["deaths_mali", "civilians_mali"]
lacks = "It kills civilians with the fighting."
candidates = ["Local accords (a source, 2022)."]
status = "Not built: no size."

[[mechanisms]]
name = "another"
title = "Another"
targets = ["events_mali"]
lacks = "Events too small."
status = "Not built."

[[mechanisms]]
name = "coups_left"
title = "Coups drawn, not fitted"
targets = ["coups_niger"]
kind = "fit"
lacks = "The coup rate is drawn from its prior."
candidates = ["At a rate of 40 both coup targets hit."]
status = "Left: a lever keeps its prior."
"""


def write(tmp_path, text):
    path = tmp_path / "missing.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_is_read_with_its_targets_and_candidates(tmp_path):
    first, second, third = load_mechanisms(write(tmp_path, GOOD), TARGETS)
    assert first.name == "a_missing_thing" and first.targets == ("deaths_mali", "civilians_mali")
    assert first.candidates == ("Local accords (a source, 2022).",)
    assert second.candidates == () and second.status == "Not built."
    assert first.kind == second.kind == "mechanism" and third.kind == "fit"


@pytest.mark.parametrize(("edit", "message"), [
    (('"civilians_mali"]', '"civilian_mali"]'),
     ":4: mechanisms[0] (a_missing_thing): targets: 'civilian_mali' is not a target (did you "
     "mean 'civilians_mali'?); allowed: names of the targets in the targets file"),
    (('"civilians_mali"]', '"civilians_mali", "deaths_mali"]'),
     ":4: mechanisms[0] (a_missing_thing): targets: 'deaths_mali' is listed twice; allowed: "
     "each target once"),
    (('lacks = "Events too small."\n', ''),
     ":9: mechanisms[1] (another): lacks: missing; allowed: non-empty text"),
    (('status = "Not built."', 'statuss = "Not built."'),
     ":14: mechanisms[1] (another): statuss: unknown key (did you mean 'status'?); allowed: "
     "name, title, targets, kind, lacks, candidates, status"),
    (('kind = "fit"', 'kind = "fitted"'),
     ":20: mechanisms[2] (coups_left): kind: 'fitted' is not a kind; allowed: mechanism or "
     "fit"),
    (('name = "another"', 'name = "a_missing_thing"'),
     ":10: mechanisms[1] (a_missing_thing): name: duplicate name (also mechanisms[0]); "
     "allowed: a name used once"),
    (('targets = ["events_mali"]', 'targets = []'),
     ":12: mechanisms[1] (another): targets: expected a non-empty list of texts, got []; "
     "allowed: [\"...\", \"...\"]"),
    (('name = "another"', 'name = "Another one"'),
     ":10: mechanisms[1] (Another one): name: 'Another one' is not a lower_snake_case "
     "identifier; allowed: letters a-z, digits and _, starting with a letter"),
])
def test_a_bad_entry_is_one_line_naming_the_file_line_entry_and_field(tmp_path, edit, message):
    path = write(tmp_path, GOOD.replace(*edit, 1))
    with pytest.raises(CalibrationError) as caught:
        load_mechanisms(path, TARGETS)
    assert str(caught.value) == f"{path}{message}"


def test_a_file_without_mechanisms_or_with_other_tables_is_refused(tmp_path):
    for text, message in (
            ("", "mechanisms: no [[mechanisms]] tables found; allowed: a list of [[mechanisms]] "
                 "tables (see calibration/README.md)"),
            ("[[targets]]\nname = 'x'\n", "targets: unknown top-level key; allowed: "
                                          "[[mechanisms]] tables only"),
            ("mechanisms = [1]\n", "mechanisms[0]: expected a table, got int; allowed: "
                                   "[[mechanisms]] tables"),
            ("[[mechanisms]\n", None)):
        path = write(tmp_path, text)
        with pytest.raises(CalibrationError) as caught:
            load_mechanisms(path, TARGETS)
        if message is None:  # a TOML error keeps its line
            assert str(caught.value).startswith(f"{path}:1: not valid TOML: ")
        else:
            assert str(caught.value) == f"{path}: {message}"
    with pytest.raises(CalibrationError, match="file not found"):
        load_mechanisms(tmp_path / "none.toml", TARGETS)
    path = write(tmp_path, GOOD.replace('"events_mali"]', '"elsewhere"]'))
    with pytest.raises(CalibrationError, match=r"allowed: names of the targets in my\.toml$"):
        load_mechanisms(path, TARGETS, "my.toml")


def test_the_bundled_file_names_only_bundled_targets():
    targets = load_targets(DEFAULT_TARGETS)
    mechanisms = load_mechanisms(DEFAULT_MECHANISMS, targets)
    assert len(mechanisms) >= 4
    assert all(m.status.startswith("Not built") for m in mechanisms if m.kind == "mechanism")
    covered = {name for m in mechanisms for name in m.targets}
    # the conflict groups of docs/CALIBRATION.md each have their entry
    assert {"bfa_civilian_deaths_2024_jan_sep", "mli_ner_militant_linked_deaths_2024",
            "aes_civilian_deaths_change", "aes_territory_outside_state_control"} <= covered


def table(rows):
    return pd.DataFrame([{"target": name, "sim_q50": median, "hit": hit, "in_range": 0.25}
                         for name, median, hit in rows])


def sweep_tables(tmp_path):
    """The sweep's tables as read back from CSV (bools as the file has them)."""
    pairs = pd.DataFrame([
        # within the first mechanism's targets
        {"target_a": "deaths_mali", "target_b": "civilians_mali", "runs": 2000, "hits_a": 50,
         "hits_b": 60, "joint": 1, "expected": 28.0, "lift": 0.04, "p_value": 1e-9,
         "conflict": True},
        # not a conflict: never shown
        {"target_a": "deaths_mali", "target_b": "deaths_niger", "runs": 2000, "hits_a": 50,
         "hits_b": 70, "joint": 30, "expected": 31.0, "lift": 1.0, "p_value": 0.5,
         "conflict": False},
        # touches a miss no mechanism covers, and the first mechanism's from outside it
        {"target_a": "deaths_niger", "target_b": "deaths_mali", "runs": 2000, "hits_a": 70,
         "hits_b": 50, "joint": 2, "expected": 19.5, "lift": 0.1, "p_value": 3e-6,
         "conflict": True},
    ])
    reach = pd.DataFrame({"target": ["deaths_mali", "civilians_mali", "deaths_niger",
                                     "events_mali"], "reached": [50, 60, 0, 3],
                          "side": ["", "", "below", ""]})
    pairs.to_csv(tmp_path / "pairs.csv", index=False)
    reach.to_csv(tmp_path / "reach.csv", index=False)
    return Sweep(pd.read_csv(tmp_path / "pairs.csv"), pd.read_csv(tmp_path / "reach.csv"))


def test_the_section_names_each_misses_mechanism_its_conflicts_and_the_uncovered_misses(
        tmp_path):
    mechanisms = load_mechanisms(write(tmp_path, GOOD), TARGETS)
    evaluated = table([("deaths_mali", 250.0, False), ("civilians_mali", 15.0, True),
                       ("deaths_niger", 40.0, False), ("events_mali", 1.0, True),
                       ("coups_niger", 0.0, False), ("not_measured", float("nan"), None)])
    text = "\n".join(why_missed(evaluated, TARGETS, mechanisms, sweep_tables(tmp_path)))
    assert "## What the model lacks" in text and "not_measured" not in text
    assert "### A missing thing" in text and "### Another" not in text  # events_mali is hit
    lacks, rest = text.split("## What the fit leaves out")
    fit, uncovered = rest.split("## Misses no entry explains")
    first = lacks.split("### A missing thing")[1]
    assert ("- deaths_mali: median 250 is above the range (100 to 200 deaths; 25% of runs in "
            "it)") in first
    assert ("- deaths_mali with civilians_mali: 1 runs hit both against 28.0 expected "
            "(of 2,000 runs; p 1e-09)") in first
    assert ("- deaths_niger with deaths_mali (a target outside this entry): 2 runs hit both "
            "against 19.5 expected") in first
    assert "30 runs hit both" not in text  # not a conflict
    assert "What the model does instead: It kills civilians with the fighting." in first
    assert "- Local accords (a source, 2022)." in first and "Status: Not built: no size." in first
    assert "### Coups drawn, not fitted" in fit and "deaths_mali" not in fit
    assert "- coups_niger: median 0 is below the range (1 to 2 deaths; 25% of runs in it)" in fit
    assert "Where the fit leaves it: The coup rate is drawn from its prior." in fit
    assert "- At a rate of 40 both coup targets hit." in fit
    assert "Status: Left: a lever keeps its prior." in fit
    assert "- deaths_niger: median 40 is below the range (50 to 60 deaths; 25% of runs in it)" \
        in uncovered
    assert "- deaths_niger: no run of the sweep reaches its range (every run below it)" in \
        uncovered
    assert "- deaths_niger with deaths_mali: 2 runs hit both" in uncovered  # no mark here


def test_no_misses_no_section_and_without_a_sweep_no_conflicts(tmp_path):
    mechanisms = load_mechanisms(write(tmp_path, GOOD), TARGETS)
    all_hit = table([(t.name, 1.0, True) for t in TARGETS])
    assert why_missed(all_hit, TARGETS, mechanisms, sweep_tables(tmp_path)) == []
    missed = table([("deaths_mali", 250.0, False)])
    text = "\n".join(why_missed(missed, TARGETS, mechanisms, None, "the sweep is old"))
    assert text.count("Conflicts not shown: the sweep is old.") == 1
    assert "## What the fit leaves out" not in text  # no miss of a fit entry
    assert "runs hit both" not in text and "Conflicts in the reachability sweep" not in text


def test_a_sweep_applies_only_to_its_scenario_targets_and_model_code(tmp_path):
    identity = {"behaviour_hash": "abc", "model_code": "123", "targets": [["x", 1.0, None, "d"]]}
    assert read_sweep(tmp_path, identity) == (
        None, f"{tmp_path} holds no readable sweep (reachability.json)")
    config = tmp_path / "reachability.json"
    config.write_text("[1, 2]")
    assert "holds no readable sweep" in read_sweep(tmp_path, identity)[1]
    config.write_text(json.dumps({"behaviour_hash": "abc", "targets": identity["targets"]}))
    assert read_sweep(tmp_path, identity)[1] == f"the sweep in {tmp_path} records no model code"
    config.write_text(json.dumps({**identity, "runs": 5}))
    assert "its tables are unreadable" in read_sweep(tmp_path, identity)[1]
    swept = sweep_tables(tmp_path)
    swept.reach.to_csv(tmp_path / "reachability.csv", index=False)
    swept.pairs.drop(columns="p_value").to_csv(tmp_path / "pairs.csv", index=False)
    assert read_sweep(tmp_path, identity)[1] == f"{tmp_path}: no column 'p_value' in its tables"
    swept.pairs.to_csv(tmp_path / "pairs.csv", index=False)
    found, note = read_sweep(tmp_path, identity)
    assert note == "" and len(found.pairs) == 3 and list(found.reach["reached"]) == [50, 60, 0, 3]
    for key, value, what in (("behaviour_hash", "abd", "another scenario"),
                             ("model_code", "124", "other model code"),
                             ("targets", [["x", 2.0, None, "d"]], "other targets")):
        assert read_sweep(tmp_path, {**identity, key: value}) == (
            None, f"the sweep in {tmp_path} was made with {what}")


def test_the_sweep_note_and_the_conflicts_key_come_once_before_the_first_entry(tmp_path):
    mechanisms = load_mechanisms(write(tmp_path, GOOD), TARGETS)
    every_kind = table([("deaths_mali", 250.0, False), ("coups_niger", 0.0, False),
                        ("deaths_niger", 40.0, False)])
    text = "\n".join(why_missed(every_kind, TARGETS, mechanisms, None, "the sweep is old"))
    headings = ["## What the model lacks", "## What the fit leaves out",
                "## Misses no entry explains"]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)
    for line in ("Conflicts not shown: the sweep is old.", "Conflicts: pairs of targets"):
        assert text.count(line) == 1 and positions[0] < text.index(line) < positions[1]
    only_uncovered = table([("deaths_niger", 40.0, False)])
    text = "\n".join(why_missed(only_uncovered, TARGETS, mechanisms, None, "the sweep is old"))
    assert text.index("## Misses no entry explains") < text.index("Conflicts not shown")
    assert text.count("Conflicts: pairs of targets") == 1
    assert "## What the model lacks" not in text and "## What the fit leaves out" not in text
