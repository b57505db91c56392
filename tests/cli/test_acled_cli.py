"""`sahel-sim score` and `targets-from-acled`: tables, files, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim.acled import country_months, parse_months, read_events
from sim.cli import main

from ..acled.files import ACLED_HEADER, acled_rows, write_csv, write_ensemble

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An export and a fake ensemble (4 runs, 2023) whose runs are the observations + 0..3."""
    base = tmp_path_factory.mktemp("cli")
    acled = write_csv(base / "acled.csv", acled_rows())
    months = parse_months("2023-01:2023-12")
    observed = country_months(read_events(acled).events, months)
    draws = observed[:, :, None] + np.arange(4.0)
    write_ensemble(base / "ens", months, draws, {})
    return acled, base / "ens"


def test_score_prints_the_table_and_writes_the_files(folder: tuple[Path, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    acled, ensemble = folder
    out = tmp_path / "scores"
    assert main(["score", str(ensemble), str(acled), "--level", "country", "--out", str(out),
                 "--no-plots"]) == 0
    text = capsys.readouterr().out
    assert ("acled.csv: ACLED export, 9 events in Mali, Burkina Faso and Niger (1 elsewhere "
            "left out), 2023-01-05 to 2024-02-29") in text
    assert "actor mapping: 8.0% of 88 fatalities have an unmapped actor1" in text
    assert "note: no climatology reference: acled.csv starts in 2023-01" in text
    assert "country-months: 3 countries x 12 months (2023-01 to 2023-12)" in text
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("forecast"))
    assert lines[header].split() == ["forecast", "CRPS", "skill", "vs", "clim.", "skill", "vs",
                                     "zero", "MIS", "90%", "cover", "50%", "cover", "90%",
                                     "ignorance"]
    model = lines[header + 1].split()
    # draws y, y+1, y+2, y+3: CRPS = mean|X - y| - mean|X - X'| / 2 = 1.5 - 0.625 = 0.875
    assert model[:4] == ["model", "(4", "runs)", "0.875"]
    assert lines[header + 2].split()[0] == "zero"
    assert f"results in {out}/ (2 files)" in text
    assert sorted(p.name for p in out.iterdir()) == ["country_month_scores.csv", "scores.csv"]


def test_score_bad_input_is_one_line_and_exit_2(folder: tuple[Path, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    acled, ensemble = folder
    missing = write_csv(tmp_path / "nofat.csv", acled_rows(),
                        [c for c in ACLED_HEADER if c != "fatalities"])
    rows = acled_rows()
    rows[3]["event_date"] = "yesterday"
    bad_date = write_csv(tmp_path / "date.csv", rows)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    cases = [
        ([str(ensemble), str(missing)], f"{missing}: missing column fatalities"),
        ([str(ensemble), str(bad_date)], f"{bad_date}, line 6: event_date 'yesterday' is not "
                                         "a date"),
        ([str(ensemble), str(other)], f"{other}: not an ACLED export"),
        ([str(ensemble), str(acled), "--months", "2023-13:2024-01"],
         "--months: '2023-13:2024-01'"),
        ([str(tmp_path / "none"), str(acled)], f"{tmp_path / 'none'}: no such folder"),
        ([str(ensemble), str(acled), "--actors", str(tmp_path / "x.toml")],
         f"{tmp_path / 'x.toml'}: actor mapping file not found"),
    ]
    for argv, message in cases:
        assert main(["score", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"error: {message}"), err
        assert err.count("\n") == 1


def test_score_in_a_subprocess_has_no_traceback(folder: tuple[Path, Path], tmp_path: Path
                                                ) -> None:
    _, ensemble = folder
    result = subprocess.run([sys.executable, "-m", "sim.cli", "score", str(ensemble),
                             str(tmp_path / "missing.csv")], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr == f"error: {tmp_path / 'missing.csv'}: file not found\n"


def test_targets_from_acled(folder: tuple[Path, Path], tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    acled, _ = folder
    out = tmp_path / "targets.toml"
    argv = ["targets-from-acled", str(acled), "--period", "2023-01-01:2023-12-31", "--out",
            str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert f"to {out} and the event-size distribution to {tmp_path / 'targets_event_sizes.csv'}" \
        in text
    targets = tomllib.loads(out.read_text(encoding="utf-8"))["targets"]
    by_name = {t["name"]: t for t in targets}
    assert by_name["acled_deaths_bfa_2023"]["value"] == 34
    assert len(targets) == int(text.split("wrote ")[1].split()[0])
    before = out.read_bytes()
    assert main(argv) == 2
    assert capsys.readouterr().err == f"error: --out: {out} exists; use --force to replace it\n"
    assert out.read_bytes() == before
    assert main([*argv, "--force", "--band", "0.3"]) == 0
    again = tomllib.loads(out.read_text(encoding="utf-8"))["targets"]
    assert {t["name"]: t["low"] for t in again}["acled_deaths_bfa_2023"] == 23  # 34 x 0.7
    assert main(["targets-from-acled", str(acled), "--period", "2023-01-01"]) == 2
    assert "--period: '2023-01-01': expected FIRST:LAST" in capsys.readouterr().err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("score", "targets-from-acled"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0
        assert "usage: sahel-sim" in capsys.readouterr().out
