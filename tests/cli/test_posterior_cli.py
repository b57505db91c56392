"""`--posterior [FILE]` on `run`, `ensemble` and `compare`: output, records, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.calibration import posterior as posterior_module
from sim.calibration.posterior import read_posterior
from sim.cli import main

from ..conftest import write_short_scenario

ENGAGE, RESTRAINT = "parameters.combat.engage_probability", "factions.jnim.restraint"
POSTERIOR = f"draw,{ENGAGE},{RESTRAINT},weight\nlow,0.1,0.2,1\nhigh,0.35,0.6,3\n"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding a short scenario and posterior.csv; no project posterior."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(posterior_module, "SCENARIO_DIR", tmp_path / "no-project" / "scenarios")
    write_short_scenario(tmp_path, "2023-01-15")
    (tmp_path / "posterior.csv").write_text(POSTERIOR, encoding="utf-8")
    return tmp_path


def test_run_uses_draw_zero_and_says_which(folder: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["run", "short.toml", "--seed", "5", "--no-plots", "--quiet",
                 "--posterior", "posterior.csv"])
    assert code == 0
    draw = read_posterior(folder / "posterior.csv").draw(1, 5)[0]
    printed = capsys.readouterr().out
    assert printed.startswith(
        f"parameters from draw {draw.id} of the posterior posterior.csv (2 draws, ESS 1.6), "
        f"picked with seed 5: {ENGAGE}={draw.parameters[ENGAGE]:g}, "
        f"{RESTRAINT}={draw.parameters[RESTRAINT]:g}\n")
    out = folder / "runs" / "short-seed5-posterior"  # apart from the run without posterior
    summary = json.loads((out / "summary.json").read_text())
    assert summary["posterior"]["draw"] == draw.id
    assert summary["posterior"]["parameters"] == draw.parameters
    assert summary["posterior"]["sha256"] == read_posterior(folder / "posterior.csv").sha256
    assert summary["scenario_resolved"]["factions"]["jnim"]["restraint"] == \
        draw.parameters[RESTRAINT]


def test_the_default_posterior_is_calibration_posterior_csv(
        folder: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "short.toml", "--no-plots", "--quiet", "--posterior"]) == 2
    assert capsys.readouterr().err == (
        f"error: calibration/posterior.csv: no posterior in {folder} nor in "
        f"{folder / 'no-project'}; run the calibration first, or name the file: "
        "--posterior FILE\n")
    (folder / "calibration").mkdir()
    (folder / "calibration" / "posterior.csv").write_text(POSTERIOR, encoding="utf-8")
    assert main(["ensemble", "short.toml", "--runs", "2", "--workers", "1", "--no-plots",
                 "--out", "ens", "--posterior"]) == 0
    manifest = json.loads((folder / "ens" / "manifest.json").read_text())
    assert manifest["posterior"]["path"] == str(folder / "calibration" / "posterior.csv")
    assert manifest["command"].endswith("--posterior")  # the flag, as given


def test_an_explicit_file_is_not_taken_for_the_bare_flag(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    """`--posterior calibration/posterior.csv` reads that file; the bare flag looks further."""
    project = tmp_path / "project"
    (project / "calibration").mkdir(parents=True)
    (project / "calibration" / "posterior.csv").write_text(POSTERIOR, encoding="utf-8")
    monkeypatch.setattr(posterior_module, "SCENARIO_DIR", project / "scenarios")
    argv = ["run", "short.toml", "--seed", "5", "--no-plots", "--quiet", "--out", "r"]
    assert main([*argv, "--posterior", "calibration/posterior.csv"]) == 2
    assert capsys.readouterr().err.startswith("error: calibration/posterior.csv")
    assert main([*argv, "--posterior"]) == 0  # the project's posterior
    summary = json.loads((folder / "r" / "summary.json").read_text())
    assert summary["posterior"]["sha256"] == read_posterior(
        project / "calibration" / "posterior.csv").sha256


def test_ensemble_and_compare_report_the_posterior(folder: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    note = ("Parameters drawn from posterior.csv (2 draws, ESS 1.6), one draw per run by "
            "weight, so the bands carry parameter uncertainty as well as chance.")
    assert main(["ensemble", "short.toml", "--runs", "2", "--workers", "1", "--no-plots",
                 "--out", "ens", "--posterior=posterior.csv"]) == 0
    assert " ".join(capsys.readouterr().out.split()).startswith(note)
    outcomes = pd.read_csv(folder / "ens" / "outcomes.csv", dtype={"draw": str})
    assert set(outcomes["draw"]) <= {"low", "high"} and len(outcomes) == 2
    assert main(["compare", "short.toml", "short.toml", "--runs", "2", "--workers", "1",
                 "--no-plots", "--out", "cmp", "--posterior", "posterior.csv"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert note + " Run i of every scenario uses the same draw (and seed)." in printed
    assert "comparison.md" in {p.name for p in (folder / "cmp").iterdir()}


def test_bad_posterior_exits_2_with_one_line_before_anything_is_written(
        folder: Path, capsys: pytest.CaptureFixture) -> None:
    (folder / "bad.csv").write_text(f"{ENGAGE},weight\n0.2,-1\n", encoding="utf-8")
    for argv in (["run", "short.toml", "--out", "run"],
                 ["ensemble", "short.toml", "--runs", "2", "--out", "ens"],
                 ["compare", "short.toml", "short.toml", "--runs", "2", "--out", "cmp"]):
        assert main([*argv, "--posterior", "bad.csv"]) == 2, argv
        err = capsys.readouterr().err
        assert err == ("error: bad.csv:2: column 'weight': '-1' is negative; weights are "
                       "finite numbers >= 0 (normalised on reading)\n"), argv
        assert not (folder / argv[-1]).exists()
    assert main(["ensemble", "short.toml", "--runs", "1", "--posterior", "missing.csv"]) == 2
    assert capsys.readouterr().err == "error: missing.csv: no such posterior file\n"


def test_resuming_with_another_posterior_exits_2(folder: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    argv = ["ensemble", "short.toml", "--runs", "1", "--workers", "1", "--no-plots", "--out",
            "ens"]
    assert main([*argv, "--posterior", "posterior.csv"]) == 0
    (folder / "other.csv").write_text(POSTERIOR.replace("0.35", "0.3"), encoding="utf-8")
    capsys.readouterr()
    assert main([*argv, "--posterior", "other.csv"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ens: holds runs with parameters drawn from the posterior "
                          "posterior.csv (sha256 ")
    assert err.count("\n") == 1


def test_help_explains_the_flag() -> None:
    from sim.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in ("run", "ensemble", "compare"):
        text = " ".join(commands[name].format_help().split())
        assert "--posterior [FILE]" in text, name
        assert "calibration/posterior.csv" in text and "'weight' column" in text, name
    assert "--posterior" not in commands["sweep"].format_help()
    text = " ".join(commands["compare"].format_help().split())
    assert "run i of every scenario gets the same draw" in text
    assert "its lever): it keeps its value" in text
