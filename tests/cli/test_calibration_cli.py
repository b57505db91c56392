"""`sahel-sim targets | calibrate | calibration-report`: tables, reports, bad input (exit 2)."""

import json
import re
import subprocess
import sys

from sim.calibration.targets import DEFAULT_TARGETS, load_targets
from sim.cli import main

from ..conftest import territory_target


def test_targets_prints_every_bundled_target(capsys):
    assert main(["targets"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["target", "range", "unit", "conf.", "source"]
    targets = load_targets(DEFAULT_TARGETS)
    for t in targets:
        row = next(line for line in lines if line.startswith(t.name + " "))
        assert f" {t.range_text()} " in row and f" {t.confidence} " in row
    assert "bamako_complex_attack_deaths" in out and "77 to 100" in out
    assert f"{len(targets)} targets in {DEFAULT_TARGETS} (confidence H " in out
    cut = [line for line in lines if line.endswith("...")]
    assert cut  # long sources are cut ...
    assert main(["targets", "--full"]) == 0
    assert not [line for line in capsys.readouterr().out.splitlines()
                if line.endswith("...")]  # ... unless --full


def test_a_bad_targets_file_is_one_line_and_exit_code_two(tmp_path):
    bad = tmp_path / "targets.toml"
    bad.write_text(DEFAULT_TARGETS.read_text(encoding="utf-8").replace(
        'confidence = "H"', 'confidence = "high"', 1), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "sim.cli", "targets", "--targets", str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith(f"error: {bad}:")
    assert line.endswith("targets[0] (barsalogho_largest_jihadist_event_bfa): confidence: "
                         "'high' is not a confidence level; allowed: H, M or L (as in FACTS.md)")


def test_a_missing_targets_file(tmp_path, capsys):
    assert main(["targets", "--targets", str(tmp_path / "none.toml")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'none.toml'}: file not found\n"


def test_calibrate_with_a_bad_priors_file_is_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "priors.toml"
    bad.write_text('[[priors]]\nname = "parameters.combat.evasion"\nlow = 0.9\nhigh = 0.5\n'
                   'justification = "x"\n', encoding="utf-8")
    out = tmp_path / "fit"
    result = subprocess.run([sys.executable, "-m", "sim.cli", "calibrate", "--priors", str(bad),
                             "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith(f"error: {bad}: priors[0]")
    assert "low (0.9) must be below high (0.5)" in line
    assert not out.exists()


def test_calibration_report_compares_runs_drawn_from_a_posterior(tmp_path, capsys):
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("parameters.combat.engage_probability,weight\n0.2,1\n0.3,0\n",
                         encoding="utf-8")
    out = tmp_path / "report"
    assert main(["calibration-report", "--posterior", str(posterior), "--runs", "2",
                 "--workers", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    found = re.search(r"median inside the sourced range: (\d+) of (\d+) targets \(\d+%; "
                      r"(\d+) to (\d+) over resamples of the runs\)", text)
    hits, compared, low, high = map(int, found.groups())
    assert 0 <= low <= high <= compared and hits <= compared
    import pandas as pd

    table = pd.read_csv(out / "report.csv")
    assert list(table.columns)[:7] == ["target", "low", "high", "sim_q05", "sim_q50",
                                       "sim_q95", "hit"]
    assert (out / "targets.png").stat().st_size > 0
    assert (out / "posterior_marginals.png").exists()
    assert "posterior draws" in (out / "report.md").read_text(encoding="utf-8")


def test_calibrate_checks_its_settings_before_the_screen(tmp_path):
    out = tmp_path / "fit"
    for args, message in ((["--trajectories", "1"], "--trajectories: the screen needs at least 2"),
                          (["--population", "5"], "population: expected a whole number >= 10"),
                          (["--transition-scaling", "0"],
                           "transition_scaling: expected a finite number > 0"),
                          (["--max-minutes", "-5"],
                           "max_minutes: expected a number of minutes > 0 (or none), got -5.0"),
                          (["--seeds-per-particle", "0"],
                           "--seeds-per-particle: expected a whole number >= 1, got 0"),
                          (["--seeds-per-particle", "two"],
                           "--seeds-per-particle: expected a whole number >= 1, got 'two'")):
        result = subprocess.run([sys.executable, "-m", "sim.cli", "calibrate", "--out", str(out),
                                 *args], capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
        assert not out.exists()


def test_the_report_reads_which_levers_the_fit_drew_from_the_fit_record(tmp_path):
    import json

    from sim.cli.calibration import _drawn_in_fit

    record = tmp_path / "fit.json"
    record.write_text(json.dumps({"priors": [{"name": "a"}], "drawn": [{"name": "x"}]}))
    assert _drawn_in_fit(record) == ["x"]
    record.write_text(json.dumps({"priors": [{"name": "a"}]}))  # a fit from before
    assert _drawn_in_fit(record) == []
    record.write_text("not json")
    assert _drawn_in_fit(record) == []
    assert _drawn_in_fit(tmp_path / "missing.json") == []


ONE_TARGET = territory_target("bfa_territory_far", 0.98, 1.0,
                              "a range the short run cannot reach")
ONE_MECHANISM = """[[mechanisms]]
name = "a_whole_country"
title = "A whole country lost"
targets = ["bfa_territory_far"]
lacks = "Control is of whole cells."
status = "Not built."
"""


def test_the_report_says_what_the_model_lacks_with_a_current_sweep(tmp_path, short_path,
                                                                  capsys):
    targets, mechanisms = tmp_path / "targets.toml", tmp_path / "missing.toml"
    targets.write_text(ONE_TARGET, encoding="utf-8")
    mechanisms.write_text(ONE_MECHANISM, encoding="utf-8")
    priors = tmp_path / "priors.toml"
    priors.write_text('[[priors]]\nname = "parameters.combat.engage_probability"\nlow = 0.1\n'
                      'high = 0.5\njustification = "test"\n', encoding="utf-8")
    sweep, out = tmp_path / "reach", tmp_path / "report"
    common = [str(short_path), "--targets", str(targets), "--workers", "1"]
    assert main(["reachability", *common, "--priors", str(priors), "--runs", "2",
                 "--out", str(sweep)]) == 0
    report = ["calibration-report", *common, "--own-parameters", "--runs", "2",
              "--mechanisms", str(mechanisms), "--reachability", str(sweep), "--out", str(out)]
    assert main(report) == 0
    assert "warning" not in capsys.readouterr().err
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "## What the model lacks" in text and "### A whole country lost" in text
    assert "- bfa_territory_far: median" in text and "Conflicts not shown" not in text
    assert "- bfa_territory_far: no run of the sweep reaches its range (every run below it)" \
        in text

    config = json.loads((sweep / "reachability.json").read_text(encoding="utf-8"))
    (sweep / "reachability.json").write_text(json.dumps({**config, "model_code": "old"}))
    assert main(report) == 0
    err = capsys.readouterr().err
    assert f"warning: the sweep in {sweep} was made with other model code" in err
    assert f"--targets {targets} --out {sweep}`)" in err
    assert "Conflicts not shown: the sweep in" in (out / "report.md").read_text(encoding="utf-8")

    without = [a for a in report if a not in ("--mechanisms", str(mechanisms))]
    assert main(without) == 0  # other targets, no --mechanisms: no section, and a note
    assert f"note: no --mechanisms for {targets}" in capsys.readouterr().err
    assert "What the model lacks" not in (out / "report.md").read_text(encoding="utf-8")


def test_a_bad_mechanisms_file_is_one_line_before_any_run(tmp_path):
    bad = tmp_path / "missing.toml"
    bad.write_text(ONE_MECHANISM.replace("bfa_territory_far", "no_such_target"),
                   encoding="utf-8")
    out = tmp_path / "report"
    result = subprocess.run([sys.executable, "-m", "sim.cli", "calibration-report",
                             "--own-parameters", "--mechanisms", str(bad), "--out", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert "\n" not in line
    assert line == (f"error: {bad}:4: mechanisms[0] (a_whole_country): targets: "
                    "'no_such_target' is not a target; allowed: names of the targets in "
                    f"{DEFAULT_TARGETS}")
    assert not out.exists()
    result = subprocess.run([sys.executable, "-m", "sim.cli", "calibration-report",
                             "--own-parameters", "--reachability", str(tmp_path / "none"),
                             "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: --reachability {tmp_path / 'none'}: no such folder")
    assert not out.exists()
