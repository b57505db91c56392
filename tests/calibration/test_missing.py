"""What the model lacks: the mechanisms file's checks, the report's section, the sweep's match."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from sim.calibration.comparisons import Comparison
from sim.calibration.errors import CalibrationError
from sim.calibration.missing import (
    DEFAULT_MECHANISMS,
    load_mechanisms,
    sweep_is_current,
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
           target("deaths_niger", 50, 60), target("events_mali", 1, 2)]
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
"""


def write(tmp_path, text):
    path = tmp_path / "missing.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_is_read_with_its_targets_and_candidates(tmp_path):
    first, second = load_mechanisms(write(tmp_path, GOOD), TARGETS)
    assert first.name == "a_missing_thing" and first.targets == ("deaths_mali", "civilians_mali")
    assert first.candidates == ("Local accords (a source, 2022).",)
    assert second.candidates == () and second.status == "Not built."


@pytest.mark.parametrize(("edit", "message"), [
    (('"civilians_mali"]', '"civilian_mali"]'),
     ":4: mechanisms[0] (a_missing_thing): targets: 'civilian_mali' is not a target (did you "
     "mean 'civilians_mali'?); allowed: names of calibration/targets.toml"),
    (('lacks = "Events too small."\n', ''),
     ":9: mechanisms[1] (another): lacks: missing; allowed: non-empty text"),
    (('status = "Not built."', 'statuss = "Not built."'),
     ":14: mechanisms[1] (another): statuss: unknown key (did you mean 'status'?); allowed: "
     "name, title, targets, lacks, candidates, status"),
    (('name = "another"', 'name = "a_missing_thing"'),
     ":10: mechanisms[1] (a_missing_thing): name: duplicate name; allowed: a name used once"),
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
    for text in ("", "[[targets]]\nname = 'x'\n", "x = 1\n" + GOOD):
        path = write(tmp_path, text)
        with pytest.raises(CalibrationError, match=r"expected only \[\[mechanisms\]\] tables"):
            load_mechanisms(path, TARGETS)
    with pytest.raises(CalibrationError, match="file not found"):
        load_mechanisms(tmp_path / "none.toml", TARGETS)


def test_the_bundled_file_names_only_bundled_targets():
    targets = load_targets(DEFAULT_TARGETS)
    mechanisms = load_mechanisms(DEFAULT_MECHANISMS, targets)
    assert len(mechanisms) >= 4
    assert all(m.status.startswith("Not built") for m in mechanisms)


def table(rows):
    return pd.DataFrame([{"target": name, "sim_q50": median, "hit": hit}
                         for name, median, hit in rows])


PAIRS = pd.DataFrame([
    # within the first mechanism's targets: shown there
    {"target_a": "deaths_mali", "target_b": "civilians_mali", "runs": 2000, "joint": 1,
     "expected": 28.0, "p_value": 1e-9, "conflict": True},
    # not a conflict: never shown
    {"target_a": "deaths_mali", "target_b": "deaths_niger", "runs": 2000, "joint": 30,
     "expected": 31.0, "p_value": 0.5, "conflict": False},
    # touches the miss no mechanism covers: shown under it
    {"target_a": "events_mali", "target_b": "deaths_niger", "runs": 2000, "joint": 2,
     "expected": 19.5, "p_value": 3e-6, "conflict": True},
])


def test_the_section_names_each_misses_mechanism_its_conflicts_and_the_uncovered_misses(
        tmp_path):
    mechanisms = load_mechanisms(write(tmp_path, GOOD), TARGETS)
    evaluated = table([("deaths_mali", 250.0, False), ("civilians_mali", 15.0, True),
                       ("deaths_niger", 80.0, False), ("events_mali", 1.0, True)])
    text = "\n".join(why_missed(evaluated, TARGETS, mechanisms, PAIRS))
    assert "## What the model lacks" in text
    assert "### A missing thing" in text and "### Another" not in text  # events_mali is hit
    assert "Missed: deaths_mali (median 250, range 100 to 200)." in text
    assert ("- deaths_mali with civilians_mali: 1 runs hit both against 28.0 expected "
            "(of 2000; p 1e-09)") in text
    assert "What the model does instead: It kills civilians with the fighting." in text
    assert "- Local accords (a source, 2022)." in text and "Status: Not built: no size." in text
    uncovered = text.split("### Misses no mechanism is named for")[1]
    assert uncovered.strip().startswith("deaths_niger: the project has not found")
    assert "- events_mali with deaths_niger: 2 runs hit both against 19.5 expected" in uncovered
    assert "deaths_niger: 30 runs" not in text  # not a conflict


def test_no_misses_no_section_and_a_stale_sweep_is_said(tmp_path):
    mechanisms = load_mechanisms(write(tmp_path, GOOD), TARGETS)
    all_hit = table([(t.name, 1.0, True) for t in TARGETS])
    assert why_missed(all_hit, TARGETS, mechanisms, PAIRS) == []
    missed = table([("deaths_mali", 250.0, False)])
    text = "\n".join(why_missed(missed, TARGETS, mechanisms, None, "the sweep is old"))
    assert "Conflicts not shown: the sweep is old; run `sahel-sim reachability` again." in text
    assert "runs hit both" not in text


def test_a_sweep_applies_only_to_its_scenario_targets_and_model_code(tmp_path):
    identity = {"scenario_hash": "abc", "model_code": "123", "targets": [["x", 1.0, None, "d"]]}
    assert "holds no readable sweep" in sweep_is_current(tmp_path, identity)
    (tmp_path / "reachability.json").write_text(json.dumps({**identity, "runs": 5}))
    (tmp_path / "pairs.csv").write_text("target_a,target_b\n")
    assert sweep_is_current(tmp_path, identity) == ""
    for key, value, what in (("scenario_hash", "abd", "another scenario"),
                             ("model_code", "124", "other model code"),
                             ("targets", [["x", 2.0, None, "d"]], "other targets")):
        note = sweep_is_current(tmp_path, {**identity, key: value})
        assert note == f"the sweep in {tmp_path} was made with {what}"
