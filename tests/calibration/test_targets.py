"""Calibration targets: the bundled file loads, and every kind of bad target is one line."""

import datetime as dt

import pytest

from sim.calibration.errors import CalibrationError
from sim.calibration.targets import (
    CONFIDENCE_WEIGHT,
    DEFAULT_TARGETS,
    load_targets,
    targets_within,
)

GOOD = """\
# a comment
[[targets]]
name = "first"
value = 400
low = 200
high = 600
unit = "deaths"
period = "2024"
place = "Burkina Faso"
definition = "what is counted"
source = "a source"
source_date = 2024-09-30
confidence = "H"
[targets.compare]
statistic = "max_event_deaths"
country = "BFA"
start = 2024-01-01
end = 2024-12-31
perpetrators = ["jihadist"]

[[targets]]
name = "second"
high = 0.5
unit = "share"
period = "2024"
place = "Mali"
definition = "what is counted"
source = "a party's claim"
source_date = 2024-09-30
confidence = "L"
[targets.compare]
statistic = "civilian_death_share"
country = "MLI"
start = 2024-01-01
end = 2024-12-31
perpetrators = ["state_side"]
"""


def write(tmp_path, text):
    path = tmp_path / "targets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(CalibrationError) as info:
        load_targets(path)
    message = str(info.value)
    assert "\n" not in message
    return message.replace(str(path), "FILE")


def test_the_bundled_targets_load_and_are_sourced():
    targets = load_targets(DEFAULT_TARGETS)
    assert len(targets) >= 20
    assert len({t.name for t in targets}) == len(targets)
    assert all(t.source and t.definition and t.confidence in "HML" for t in targets)
    statistics = {t.compare.statistic for t in targets}
    assert statistics == {"deaths", "deaths_ratio", "max_event_deaths", "civilian_death_share",
                          "territory_share", "event_count", "fighters"}
    baseline = targets_within(targets, dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    assert [t.name for t in targets if t not in baseline] == ["moura_massacre_deaths"]
    assert len(baseline) >= 20


def test_a_good_file_and_its_parsed_values(tmp_path):
    first, second = load_targets(write(tmp_path, GOOD))
    assert (first.low, first.value, first.high, first.weight) == (200, 400, 600, 1.0)
    assert first.compare.perpetrators == ("jihadist",)
    assert first.compare.victims == ("all",)
    assert first.compare.window() == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert second.low is None and second.weight == 0.25
    assert second.compare.perpetrators == ("state", "militia", "russian")  # state_side
    assert first.range_text() == "200 to 600" and second.range_text() == "<= 0.5"
    assert first.contains(200) and first.contains(600) and not first.contains(601)
    assert second.contains(0.0) and not second.contains(0.51)
    assert CONFIDENCE_WEIGHT == {"H": 1.0, "M": 0.5, "L": 0.25}


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('source = "a source"\n', "",
     "FILE:2: targets[0] (first): source: missing; allowed: non-empty text"),
    ('source = "a source"', 'source = "  "',
     "FILE:11: targets[0] (first): source: expected non-empty text, got '  '; allowed: "
     "non-empty text"),
    ("high = 600", "high = 100",
     "FILE:6: targets[0] (first): high: 100 is below low (200); allowed: a number >= low"),
    ("value = 400", "value = 700",
     "FILE:4: targets[0] (first): value: 700 is outside the range low..high (200 to 600); "
     "allowed: low <= value <= high"),
    ("value = 400\nlow = 200\nhigh = 600\n", "",
     "FILE:2: targets[0] (first): low: missing: a target needs low, high or both; allowed: "
     "a number (a party's claim gives only low or only high)"),
    ('confidence = "H"', 'confidence = "high"',
     "FILE:13: targets[0] (first): confidence: 'high' is not a confidence level; allowed: "
     "H, M or L (as in FACTS.md)"),
    ('confidence = "H"', 'confidence = "L"',
     "FILE:13: targets[0] (first): confidence: 'L' marks a party's claim, which is never a "
     "point or a range; allowed: only low or only high, and no value, for an L target"),
    ("source_date = 2024-09-30\nconfidence = \"H\"", 'source_date = "Sep 2024"\nconfidence = "H"',
     "FILE:12: targets[0] (first): source_date: 'Sep 2024' is not a date; allowed: a TOML "
     "date such as 2024-09-24 (no quotes, no time)"),
    ('name = "first"', 'name = "First one"',
     "FILE:3: targets[0] (First one): name: 'First one' is not a lower_snake_case "
     "identifier; allowed: letters a-z, digits and _, starting with a letter"),
    ('name = "second"', 'name = "first"',
     "FILE:22: targets[1] (first): name: duplicate name (also targets[0]); allowed: a name "
     "used once"),
    ('unit = "deaths"', 'unit = "deaths"\nsorce = "typo"',
     "FILE:8: targets[0] (first): sorce: unknown key (did you mean 'source'?); allowed: name, "
     "value, low, high, unit, period, place, definition, source, source_date, confidence, "
     "note, compare"),
    ('high = 0.5', 'high = 1.5',
     "FILE:23: targets[1] (second): high: 1.5 is above 1 for a civilian_death_share; allowed: "
     "a share from 0 to 1"),
    ("low = 200", "low = -1",
     "FILE:5: targets[0] (first): low: -1 is negative; allowed: a number >= 0 (every "
     "statistic is)"),
    ("low = 200", "low = true",
     "FILE:5: targets[0] (first): low: True is not a finite number; allowed: a number such "
     "as 400 or 0.45"),
])
def test_a_bad_target_is_one_line_with_file_line_field_and_fix(tmp_path, old, new, expected):
    assert old in GOOD
    assert error_of(tmp_path, GOOD.replace(old, new, 1)) == expected


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('statistic = "max_event_deaths"', 'statistic = "max_deaths"',
     "FILE:15: targets[0] (first): compare.statistic: 'max_deaths' is not a statistic (did "
     "you mean 'max_event_deaths'?); allowed: deaths, deaths_ratio, max_event_deaths, "
     "civilian_death_share, territory_share, event_count, fighters"),
    ('country = "BFA"', 'country = "Burkina"',
     "FILE:16: targets[0] (first): compare.country: 'Burkina' is not a country; allowed: MLI, "
     "BFA, NER, all, or countries joined by '+' (MLI+NER)"),
    ('country = "BFA"', 'country = "MLI+MLI"',
     "FILE:16: targets[0] (first): compare.country: 'MLI+MLI' is not a country; allowed: MLI, "
     "BFA, NER, all, or countries joined by '+' (MLI+NER)"),
    ('country = "BFA"', 'country = "MLI+all"',
     "FILE:16: targets[0] (first): compare.country: 'MLI+all' is not a country; allowed: MLI, "
     "BFA, NER, all, or countries joined by '+' (MLI+NER)"),
    ('country = "BFA"', 'country = "mli"',
     "FILE:16: targets[0] (first): compare.country: 'mli' is not a country; allowed: MLI, "
     "BFA, NER, all, or countries joined by '+' (MLI+NER)"),
    ('country = "BFA"', 'country = ["MLI", "NER"]',
     "FILE:16: targets[0] (first): compare.country: ['MLI', 'NER'] is not a country; allowed: "
     "MLI, BFA, NER, all, or countries joined by '+' (MLI+NER)"),
    ("end = 2024-12-31\nperpetrators = [\"jihadist\"]",
     "end = 2023-12-31\nperpetrators = [\"jihadist\"]",
     "FILE:18: targets[0] (first): compare.end: 2023-12-31 is before start (2024-01-01); "
     "allowed: a date on or after start"),
    ('perpetrators = ["jihadist"]', 'perpetrators = ["jihadists"]',
     "FILE:19: targets[0] (first): compare.perpetrators: 'jihadists' is not a faction kind "
     "(did you mean 'jihadist'?); allowed: state, militia, russian, jihadist, separatist, "
     "peacekeeping, western, state_side"),
    ('perpetrators = ["jihadist"]', 'perpetrators = "jihadist"',
     "FILE:19: targets[0] (first): compare.perpetrators: expected a list, got 'jihadist'; "
     "allowed: a list of faction kinds such as [\"jihadist\"]"),
    ('perpetrators = ["jihadist"]', 'perpetrators = ["jihadist"]\ncategory = "state"',
     "FILE:20: targets[0] (first): compare.category: not used by the statistic "
     "'max_event_deaths'; allowed: country, start, end, perpetrators, victims, mechanism"),
    ('perpetrators = ["jihadist"]', 'perpetrators = ["jihadist"]\nmechanism = "massacre"',
     "FILE:20: targets[0] (first): compare.mechanism: 'massacre' is not allowed; allowed: "
     "clash, ambush, complex_attack, violence_against_civilians, coup_attempt, deployment, "
     "withdrawal, blockade, advance, coup, drone_strike, recall, return"),
    ("start = 2024-01-01\nend = 2024-12-31\nperpetrators = [\"jihadist\"]",
     "end = 2024-12-31\nperpetrators = [\"jihadist\"]",
     "FILE:14: targets[0] (first): compare.start: missing (the statistic 'max_event_deaths' "
     "needs it); allowed: country, start, end"),
    ("start = 2024-01-01\nend = 2024-12-31\nperpetrators = [\"jihadist\"]",
     "start = 2024-01-01T00:00:00\nend = 2024-12-31\nperpetrators = [\"jihadist\"]",
     "FILE:17: targets[0] (first): compare.start: datetime.datetime(2024, 1, 1, 0, 0) is not "
     "a date; allowed: a TOML date such as 2024-01-01 (no quotes, no time)"),
])
def test_a_bad_comparison_is_one_line(tmp_path, old, new, expected):
    assert old in GOOD
    assert error_of(tmp_path, GOOD.replace(old, new, 1)) == expected


def test_victims_take_a_kind_or_a_list_and_all_stands_alone(tmp_path):
    text = GOOD.replace('perpetrators = ["jihadist"]', 'victims = ["civilians", "state_side"]', 1)
    first = load_targets(write(tmp_path, text))[0]
    assert first.compare.victims == ("civilians", "state", "militia", "russian")
    bad = GOOD.replace('perpetrators = ["jihadist"]', 'victims = ["all", "state"]', 1)
    assert error_of(tmp_path, bad).endswith(
        "compare.victims: 'all' cannot be combined with other kinds; allowed: 'all' alone, or "
        "a list of kinds")


def test_acled_civilian_fatalities_are_a_way_of_counting_victims(tmp_path):
    second = 'perpetrators = ["state_side"]\n'
    text = GOOD.replace(second, second + 'victims = "civilian_targeting"\n')
    assert load_targets(write(tmp_path, text))[1].compare.victims == ("civilian_targeting",)
    assert load_targets(write(tmp_path, GOOD))[1].compare.victims == ("civilians",)
    mixed = GOOD.replace('perpetrators = ["jihadist"]',
                         'victims = ["civilian_targeting", "state"]', 1)
    assert error_of(tmp_path, mixed).endswith(
        "compare.victims: 'civilian_targeting' cannot be combined with other kinds; allowed: "
        "'civilian_targeting' alone, or a list of kinds")
    clash = GOOD.replace('perpetrators = ["jihadist"]',
                         'victims = "civilian_targeting"\nmechanism = "clash"', 1)
    assert error_of(tmp_path, clash) == (
        "FILE:20: targets[0] (first): compare.mechanism: 'clash' is not a mechanism of events "
        'that target civilians (victims = "civilian_targeting"); allowed: '
        "violence_against_civilians, blockade")
    soldiers = GOOD.replace(second, second + 'victims = ["state"]\n')
    assert error_of(tmp_path, soldiers) == (
        "FILE:37: targets[1] (second): compare.victims: ['state'] is not a way of counting "
        'civilian deaths; allowed: "civilians" or "civilian_targeting"')


def test_file_level_errors(tmp_path):
    with pytest.raises(CalibrationError, match=r"^/nonexistent/targets\.toml: file not found$"):
        load_targets("/nonexistent/targets.toml")
    assert error_of(tmp_path, "[[targets]]\nname = \n") .startswith("FILE:2: not valid TOML: ")
    assert error_of(tmp_path, "title = 'x'\n") == (
        "FILE: title: unknown top-level key; allowed: [[targets]] tables only")
    assert error_of(tmp_path, "# nothing\n") == (
        "FILE: targets: no [[targets]] tables found; allowed: a list of [[targets]] tables "
        "(see calibration/README.md)")
    no_compare = GOOD.split("[targets.compare]")[0]
    assert error_of(tmp_path, no_compare) == (
        "FILE:2: targets[0] (first): compare: missing; allowed: a [targets.compare] table with "
        "a statistic")


def test_an_inline_compare_table_is_located_by_its_line(tmp_path):
    inline = GOOD.split("[targets.compare]")[0] + (
        'compare = { statistic = "deaths", country = "BFA", start = 2024-01-01, '
        'end = 2024-12-31, victims = "everyone" }\n')
    assert error_of(tmp_path, inline).startswith(
        "FILE:14: targets[0] (first): compare.victims: 'everyone' is not a faction kind; ")
