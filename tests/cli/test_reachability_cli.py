"""`sahel-sim reachability`: its tables, reused runs, and a bad priors file (one line, exit 2)."""

import subprocess
import sys

import pandas as pd

from sim.cli import main


def test_reachability_writes_its_tables_and_reuses_its_runs(tmp_path, short_path, capsys):
    priors = tmp_path / "priors.toml"
    priors.write_text('[[priors]]\nname = "parameters.combat.engage_probability"\nlow = 0.1\n'
                      'high = 0.5\njustification = "test"\n', encoding="utf-8")
    out = tmp_path / "reach"
    args = ["reachability", str(short_path), "--priors", str(priors), "--runs", "3",
            "--workers", "1", "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr()
    assert "reachability: 3 runs of 'short' over the box of 1 priors" in text.err
    assert "targets hit by one run: median" in text.out
    assert "pairs of targets hit together far less often than chance: " in text.out
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 3 and runs["parameters.combat.engage_probability"].between(0.1, 0.5).all()
    table = pd.read_csv(out / "reachability.csv")
    assert list(table.columns)[:6] == ["target", "low", "high", "runs", "reached",
                                       "reached_share"]
    assert (table["runs"] == 3).all() and table["reached"].between(0, 3).all()
    assert "bfa_militant_linked_deaths_2024" not in set(table["target"])  # past the end
    for name in ("pairs.csv", "reachability.md", "reachability_targets.png",
                 "reachability_pairs.png"):
        assert (out / name).stat().st_size > 0
    first = {name: (out / name).read_text(encoding="utf-8")
             for name in ("reachability.csv", "pairs.csv", "reachability.md")}
    stamp = (out / "runs.csv").stat().st_mtime_ns
    assert main(args) == 0  # same scenario, priors, targets, runs and seed: the runs are kept
    assert "the 3 runs of" in capsys.readouterr().err
    assert (out / "runs.csv").stat().st_mtime_ns == stamp
    assert first == {name: (out / name).read_text(encoding="utf-8") for name in first}

    assert main([*args, "--seed", "1"]) == 0  # another seed: other runs
    assert "reachability: 3 runs of 'short'" in capsys.readouterr().err
    assert pd.read_csv(out / "runs.csv")["seed"].tolist() != runs["seed"].tolist()

    (out / "runs.csv").write_text("seed,x\n1,2\n", encoding="utf-8")  # not the config's runs
    assert main([*args, "--seed", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {out / 'runs.csv'}: no column ")
    assert err.rstrip().endswith("run again with --rerun")
    assert main([*args, "--seed", "1", "--rerun"]) == 0
    assert len(pd.read_csv(out / "runs.csv")) == 3


def test_reachability_with_a_bad_priors_file_is_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "priors.toml"
    bad.write_text('[[priors]]\nname = "parameters.combat.no_such"\nlow = 0.1\nhigh = 0.5\n'
                   'justification = "x"\n', encoding="utf-8")
    out = tmp_path / "reach"
    result = subprocess.run([sys.executable, "-m", "sim.cli", "reachability", "--priors",
                             str(bad), "--out", str(out)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith(f"error: {bad}: priors[0]")
    assert "'parameters.combat.no_such' is not a tunable parameter" in line
    assert not out.exists()
