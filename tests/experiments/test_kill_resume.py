"""An ensemble killed with SIGKILL at random moments and resumed ends with exactly the runs of
an uninterrupted one, byte for byte, and leaves no process behind."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import write_short_scenario
from .procs import children, survivors

RUNS = 12


def command(scenario: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "sim.cli", "ensemble", str(scenario), "--runs", str(RUNS),
            "--workers", "2", "--seed", "5", "--out", str(out), "--no-plots"]


def run_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "runs").glob("*.parquet"))}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_at_five_random_moments_then_resume(tmp_path: Path) -> None:
    scenario = write_short_scenario(tmp_path / "scen", "2023-04-30")
    reference = tmp_path / "reference"
    started = time.monotonic()
    subprocess.run(command(scenario, reference), check=True, capture_output=True, timeout=600)
    seconds = time.monotonic() - started
    expected = run_files(reference)
    assert len(expected) == RUNS

    out = tmp_path / "killed"
    rng = random.Random(7)
    kills = 0
    left_unfinished = []  # runs missing right after each kill
    for _ in range(5):
        # a random moment while runs remain: from start-up to 80% of the remaining work
        remaining = 1 - len(run_files(out)) / RUNS if out.exists() else 1
        process = subprocess.Popen(command(scenario, out), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        moment = time.monotonic() + rng.uniform(0.2, 0.8) * seconds * max(remaining, 0.3)
        seen: set[int] = set()
        while time.monotonic() < moment and process.poll() is None:
            seen |= children(process.pid)
            time.sleep(0.05)
        if process.poll() is None:
            seen |= children(process.pid)
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
        left_unfinished.append(RUNS - len(run_files(out)))
        assert survivors(seen, within=10.0) == set(), "a worker outlived its killed parent"
        # whatever is in runs/ is complete: a partly written file only ever has a temporary name
        for name, data in run_files(out).items():
            assert data == expected[name], name

    assert kills == 5
    # The kills cut real work short (the first comes before 80% of an
    # uninterrupted run's time); under a changing load the later ones may all fall after the
    # last run file, so the final resume may only have the manifest left to write.
    assert left_unfinished[0] > 0
    final = subprocess.run(command(scenario, out), capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    assert run_files(out) == expected
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == {"state": "complete", "planned": RUNS, "finished": RUNS,
                                  "failed": 0}
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".")]
