"""The posterior file: reading, one-line errors, drawing by weight, the default file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.calibration import posterior as posterior_module
from sim.calibration.errors import CalibrationError
from sim.calibration.posterior import Posterior, default_posterior_path, read_posterior

from ..conftest import SCENARIOS

ENGAGE, RESTRAINT = "parameters.combat.engage_probability", "factions.jnim.restraint"
INTERVAL = "parameters.decisions.interval_days"  # an integer parameter, 1 to 30


@pytest.fixture(scope="module")
def data() -> dict:
    return sim.load_scenario(SCENARIOS / "baseline.toml").model_dump(mode="json")


def write(folder: Path, text: str, name: str = "posterior.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_names_ids_and_normalised_weights(tmp_path: Path, data: dict) -> None:
    path = write(tmp_path, f"draw,{ENGAGE},{RESTRAINT},weight\n"
                           "a,0.1,0.2,1\n\nb,0.4,0.6,3\nc,0.3,0.5,0\n")
    posterior = read_posterior(path, data)
    assert posterior.names == (ENGAGE, RESTRAINT)
    assert posterior.ids == ("a", "b", "c")
    assert posterior.lines == (2, 4, 5)  # a blank line is skipped, not counted as a draw
    np.testing.assert_allclose(posterior.weights, [0.25, 0.75, 0.0])
    assert posterior.ess == pytest.approx(1 / (0.25**2 + 0.75**2))  # 1.6
    assert posterior.describe() == f"{path} (3 draws, ESS 1.6)"
    assert posterior.info() == {"path": str(path), "sha256": posterior.sha256, "draws": 3,
                                "ess": 1.6, "parameters": [ENGAGE, RESTRAINT]}
    assert len(posterior.sha256) == 64
    assert posterior.row(1).parameters == {ENGAGE: 0.4, RESTRAINT: 0.6}


def test_without_a_draw_column_the_row_index_is_the_id(tmp_path: Path) -> None:
    posterior = read_posterior(write(tmp_path, f"{ENGAGE},weight\n0.1,1\n0.2,1\n"))
    assert posterior.ids == ("0", "1")
    assert posterior.integer == frozenset()  # no scenario given: nothing known of the names


def test_integer_parameters_are_rounded(tmp_path: Path, data: dict) -> None:
    posterior = read_posterior(write(tmp_path, f"{INTERVAL},{ENGAGE},weight\n"
                                               "6.6,0.25,1\n7.2,0.5,1\n"), data)
    assert posterior.integer == frozenset({INTERVAL})
    assert posterior.row(0).parameters == {INTERVAL: 7, ENGAGE: 0.25}
    assert isinstance(posterior.row(1).parameters[INTERVAL], int)


def test_draws_follow_the_weights_and_never_a_zero_weight(tmp_path: Path) -> None:
    posterior = read_posterior(write(tmp_path, f"draw,{ENGAGE},weight\n"
                                               "a,0.1,1\nzero,0.2,0\nb,0.3,3\n"))
    draws = posterior.draw(20_000, seed=5)
    ids = [d.id for d in draws]
    assert "zero" not in ids
    share = ids.count("b") / len(ids)
    assert share == pytest.approx(0.75, abs=0.015)  # 4.9 standard errors
    assert {d.row for d in draws} == {0, 2}
    assert all(d.parameters[ENGAGE] == {0: 0.1, 2: 0.3}[d.row] for d in draws[:50])


def test_draws_are_deterministic_for_a_seed_and_prefix_stable(tmp_path: Path) -> None:
    text = f"{ENGAGE},weight\n" + "".join(f"{i / 100},{i % 7}\n" for i in range(60))
    posterior = read_posterior(write(tmp_path, text))
    first = [d.id for d in posterior.draw(40, seed=11)]
    assert first == [d.id for d in posterior.draw(40, seed=11)]
    assert first[:10] == [d.id for d in posterior.draw(10, seed=11)]  # n does not matter
    assert first != [d.id for d in posterior.draw(40, seed=12)]
    assert posterior.draw(0, seed=1) == []
    with pytest.raises(ValueError, match="must be >= 0"):
        posterior.draw(-1, seed=1)


def test_a_single_positive_weight_is_always_drawn(tmp_path: Path) -> None:
    posterior = read_posterior(write(tmp_path, f"{ENGAGE},weight\n0.1,0\n0.2,0\n0.3,2\n0.4,0\n"))
    assert {d.id for d in posterior.draw(500, seed=3)} == {"2"}
    assert posterior.ess == 1.0


@pytest.mark.parametrize("text, message", [
    (f"{ENGAGE},weights\n0.1,1\n", ":1: no 'weight' column (rename 'weights' to 'weight'?); "
                                   "the posterior needs one column per parameter"),
    (f"{ENGAGE}\n0.1\n", ":1: no 'weight' column; the posterior needs"),
    ("weight,draw\n1,a\n", ":1: no parameter columns; expected one column per dotted"),
    (f"{ENGAGE},weight\n0.1,-0.5\n", ":2: column 'weight': '-0.5' is negative; weights are "
                                     "finite numbers >= 0 (normalised on reading)"),
    (f"{ENGAGE},weight\n0.1,1\n0.2,nan\n", ":3: column 'weight': 'nan' is NaN; weights are"),
    (f"{ENGAGE},weight\n0.1,inf\n", ":2: column 'weight': 'inf' is infinite"),
    (f"{ENGAGE},weight\n0.1,0\n0.2,0\n", ": column 'weight': every weight is 0; at least one "
                                         "must be positive"),
    (f"{ENGAGE},weight\n0.1,1\nabc,1\n", f":3: column '{ENGAGE}': 'abc' is not a number; "
                                         "expected a number"),
    (f"{ENGAGE},weight\n,1\n", f":2: column '{ENGAGE}': empty; expected a number"),
    (f"{ENGAGE},weight\nnan,1\n", f":2: column '{ENGAGE}': 'nan' is not a finite number"),
    (f"{ENGAGE},weight\n0.1,1,7\n", ":2: 3 fields, the header has 2"),
    (f"{ENGAGE},{ENGAGE},weight\n0.1,0.1,1\n", f":1: column '{ENGAGE}' appears twice"),
    (f"{ENGAGE},,weight\n0.1,0.1,1\n", ":1: a column without a name"),
    (f"draw,{ENGAGE},weight\na,0.1,1\na,0.2,1\n", ":3: column 'draw': 'a' again (first on "
                                                  "line 2); draw ids must be unique"),
    (f"draw,{ENGAGE},weight\n ,0.1,1\n", ":2: column 'draw': empty; each row needs its own"),
    (f"{ENGAGE},weight\n", ": no draws, only a header; expected one row per draw"),
    ("", ": empty; expected a CSV header with one column per parameter and a 'weight' column"),
])
def test_bad_files_give_one_line_naming_file_line_and_column(tmp_path: Path, text: str,
                                                            message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CalibrationError) as info:
        read_posterior(path)
    assert str(info.value).startswith(f"{path}{message}"), str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text, message", [
    ("factions.jnim.restrain,weight\n0.1,1\n", ":1: column 'factions.jnim.restrain': not a "
     "tunable parameter of scenario 'baseline' (did you mean 'factions.jnim.restraint'?); "
     "allowed: the names of `sahel-sim parameters`, 'weight' and 'draw'"),
    (f"{ENGAGE},weight\n0.5,1\n1.5,1\n", f":3: column '{ENGAGE}': 1.5 is outside the "
     "parameter's bounds [0.0, 1.0]"),
    (f"{INTERVAL},weight\n0,1\n", f":2: column '{INTERVAL}': 0 is outside the parameter's "
     "bounds [1, 30]"),
])
def test_names_and_bounds_are_checked_against_the_scenario(tmp_path: Path, data: dict,
                                                           text: str, message: str) -> None:
    path = write(tmp_path, text)
    read_posterior(path)  # without a scenario nothing is known of the names
    with pytest.raises(CalibrationError) as info:
        read_posterior(path, data, "baseline")
    assert str(info.value) == f"{path}{message}"


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match=r"missing\.csv: no such posterior file$"):
        read_posterior(tmp_path / "missing.csv")
    with pytest.raises(CalibrationError, match="is a folder, not a posterior file"):
        read_posterior(tmp_path)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"weight,x\n\xff\xfe,1\n")
    with pytest.raises(CalibrationError, match=r"not a UTF-8 text file \(byte 9\)"):
        read_posterior(binary)


def test_a_byte_order_mark_and_spaces_around_names_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(f"\ufeff {ENGAGE} , weight \n0.2,1\n".encode())
    assert read_posterior(path).names == (ENGAGE,)


def test_default_file_is_looked_for_in_the_working_folder_then_the_project(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    monkeypatch.setattr(posterior_module, "SCENARIO_DIR", project / "scenarios")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CalibrationError) as info:
        default_posterior_path()
    assert str(info.value) == (f"calibration/posterior.csv: no posterior in {tmp_path} nor in "
                               f"{project}; run the calibration first, or name the file: "
                               "--posterior FILE")
    (project / "calibration").mkdir(parents=True)
    write(project / "calibration", f"{ENGAGE},weight\n0.1,1\n")
    assert default_posterior_path() == project / "calibration" / "posterior.csv"
    (tmp_path / "calibration").mkdir()
    write(tmp_path / "calibration", f"{ENGAGE},weight\n0.1,1\n")
    assert default_posterior_path() == tmp_path / "calibration" / "posterior.csv"


def test_checked_keeps_the_weights_and_rounds_a_copy(tmp_path: Path, data: dict) -> None:
    raw = read_posterior(write(tmp_path, f"{INTERVAL},weight\n6.6,1\n"))
    checked = raw.checked(data, "baseline")
    assert isinstance(checked, Posterior) and checked is not raw
    assert raw.values[0, 0] == 6.6 and checked.values[0, 0] == 7.0
    np.testing.assert_array_equal(raw.weights, checked.weights)
