"""The command line: exit codes, one-line errors, and what `run` writes."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from sim import load_scenario
from sim.cli import main

from ..conftest import SCENARIOS, write_short_scenario


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_help_on_every_command():
    for command in ("validate", "scenarios", "describe", "parameters", "run"):
        result = run_cli(command, "--help")
        assert result.returncode == 0, command
        assert "usage: sahel-sim" in result.stdout


def test_validate_ok_and_bad(tmp_path, capsys):
    files = sorted(SCENARIOS.glob("*.toml"))
    assert main(["validate", *map(str, files)]) == 0
    assert capsys.readouterr().out.count("ok: ") == len(files) >= 6
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\n[factions.jnim]\nrestraint = 2\n')
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(f"error: {bad}:3: factions.jnim.restraint: 2 is out of range")


def test_bad_input_exit_code_two_and_no_traceback(tmp_path):
    result = run_cli("describe", str(tmp_path / "missing.toml"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"error: {tmp_path / 'missing.toml'}: file not found"


def test_scenarios_lists_bundled(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name in ("baseline", "bear_brigade_stays", "no_bear_brigade", "russian_restraint",
                 "africa_corps_exit"):
        assert name in out


def test_describe(capsys):
    assert main(["describe", "baseline"]) == 0
    out = capsys.readouterr().out
    assert "114 x 64 cells" in out
    assert "Burkina Faso" in out and "23,251,485" in out
    assert "2024-08-30  withdraw      bear_brigade" in out


def test_parameters_lists_dotted_names(capsys):
    assert main(["parameters", "baseline"]) == 0
    out = capsys.readouterr().out
    assert "parameters.combat.engage_probability" in out
    assert "factions.africa_corps.restraint" in out
    share = next(line for line in out.splitlines() if line.startswith("units.jnim_burkina.share"))
    jnim = {u.id: u.strength for u in load_scenario(SCENARIOS / "baseline.toml").units
            if u.faction == "jnim"}
    assert share.split()[1] == f"{jnim['jnim_burkina'] / sum(jnim.values()):.6g}"


def test_run_writes_outputs(tmp_path, capsys):
    scenario = write_short_scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--seed", "3", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "deaths, civilians" in printed and "Burkina Faso" in printed
    for name in ("timeseries.parquet", "events.parquet", "cell_months.parquet",
                 "cell_control.parquet", "fatalities.parquet", "summary.json", "control.png",
                 "fatalities.png", "map.png"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and len(summary["scenario_hash"]) == 64
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert summary["headline"]["BFA"]["total_fatalities"] == ts[ts.country == "BFA"][
        "killed_total"].sum()


def test_bad_run_leaves_earlier_results_untouched(tmp_path):
    scenario = write_short_scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--quiet", "--no-plots"]) == 0
    before = (out / "summary.json").read_bytes()
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{scenario}"\n[[units]]\nid = "fama_bamako"\nstrength = -1\n')
    result = run_cli("run", str(bad), "--out", str(out), "--quiet")
    assert result.returncode == 2
    assert "units[fama_bamako].strength: -1 is out of range" in result.stderr
    assert (out / "summary.json").read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (["run", "baseline", "--seed", "-4"], "--seed: -4 is negative"),
    (["run", "nosuchscenario.toml"], "file not found"),
])
def test_run_argument_errors(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_failed_run_exits_one_and_keeps_earlier_results(tmp_path, capsys, monkeypatch):
    scenario = write_short_scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--quiet", "--no-plots"]) == 0
    before = sorted(p.name for p in out.iterdir())
    summary = (out / "summary.json").read_bytes()

    def broken(self, progress=None):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr("sim.model.SahelModel.run", broken)
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "failed: RuntimeError: simulated failure" in err
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "summary.json").read_bytes() == summary
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_rerun_replaces_the_whole_folder(tmp_path):
    scenario = write_short_scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    assert (out / "map.png").exists()
    assert main(["run", str(scenario), "--out", str(out), "--quiet", "--no-plots"]) == 0
    assert not (out / "map.png").exists()  # no stale plots beside new tables
