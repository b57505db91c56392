"""`sahel-sim targets`: the table of the bundled targets, exit code 2 on a bad file."""

import subprocess
import sys

from sim.calibration.targets import DEFAULT_TARGETS, load_targets
from sim.cli import main


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
