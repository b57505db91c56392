"""ABC-SMC fitting of the synthetic problem (synthetic_problem.py): resuming a stored fit,
refusing a folder that holds something else, and failing simulators.

The posterior, stopping rules, files, settings and samplers: test_fitting_results.py.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.calibration.distances import FAILED
from sim.calibration.fitting import DB_NAME, FitError, Prior, Summary, _Particle, fit

from .synthetic_problem import PRIORS, quick_fit, simulate, targets

pytest.importorskip("pyabc")


# --------------------------------------------------------------------------------------------
# Resuming
# --------------------------------------------------------------------------------------------


def test_a_second_call_resumes_the_database_and_matches_an_uninterrupted_fit(tmp_path):
    first = quick_fit(tmp_path / "split", max_generations=2)
    assert first.total_generations == 2 and first.stop_reason == "max_generations"
    db = tmp_path / "split" / DB_NAME
    size = db.stat().st_size
    resumed = quick_fit(tmp_path / "split", max_generations=4)
    assert list(resumed.generations.generation) == [0, 1, 2, 3]
    assert resumed.metadata["resumed_from_generation"] == 2
    pd.testing.assert_frame_equal(resumed.generations.iloc[:2, :6], first.generations.iloc[:, :6])
    assert db.stat().st_size > size
    whole = quick_fit(tmp_path / "whole", max_generations=4)
    assert whole.metadata["resumed_from_generation"] is None
    pd.testing.assert_frame_equal(whole.posterior, resumed.posterior)
    # a finished fit called again runs nothing and reports the same posterior
    again = quick_fit(tmp_path / "split", max_generations=4)
    assert again.total_simulations == resumed.total_simulations
    pd.testing.assert_frame_equal(again.posterior, resumed.posterior)


def slow_simulate(p: dict[str, float], seed: int) -> dict[str, float]:
    time.sleep(0.01)
    return simulate(p, seed)


def finished_generations(db: Path) -> int:
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as con:
        try:
            return con.execute("select count(*) from populations where t >= 0").fetchone()[0]
        except sqlite3.OperationalError:  # tables not created yet
            return 0


@pytest.mark.slow
def test_a_killed_fit_resumes_where_it_stopped(tmp_path):
    script = ("import sys; sys.path.insert(0, sys.argv[2]);"
              "from tests.calibration.test_fitting_resume_and_failures import *;"
              "fit(slow_simulate, PRIORS, targets(), sys.argv[1], population=40,"
              " max_generations=6, workers=1, seed=5)")
    root = str(Path(__file__).resolve().parents[2])
    child = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "killed"), root])
    try:
        deadline = time.monotonic() + 120
        while finished_generations(tmp_path / "killed" / DB_NAME) < 2:
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()
    stored = finished_generations(tmp_path / "killed" / DB_NAME)
    assert 2 <= stored < 6
    resumed = quick_fit(tmp_path / "killed", max_generations=6)
    assert resumed.metadata["resumed_from_generation"] == stored
    assert list(resumed.generations.generation) == list(range(6))
    whole = quick_fit(tmp_path / "whole", max_generations=6)
    pd.testing.assert_frame_equal(whole.posterior, resumed.posterior)


def test_a_folder_holding_another_fit_is_refused_and_kept(tmp_path):
    quick_fit(tmp_path, max_generations=1)
    before = (tmp_path / DB_NAME).read_bytes()
    other = [*targets()[:-1], Summary("s9", 0.0, 9.0)]
    with pytest.raises(FitError, match=r"abc.db: holds a fit with other summaries \('s9'"):
        fit(simulate, PRIORS, other, tmp_path, population=40, workers=1)
    with pytest.raises(FitError, match="other priors"):
        fit(simulate, [*PRIORS[:-1], Prior("h", 0, 2, "linear", "wider")], targets(),
            tmp_path, population=40, workers=1)
    assert (tmp_path / DB_NAME).read_bytes() == before


def test_a_file_that_is_not_a_pyabc_database_is_refused_and_kept(tmp_path):
    (tmp_path / DB_NAME).write_text("not a database\n")
    with pytest.raises(FitError, match=r"abc\.db: not a readable pyabc database"):
        quick_fit(tmp_path)
    assert (tmp_path / DB_NAME).read_text() == "not a database\n"


def test_a_folder_in_use_is_refused(tmp_path):
    from sim.experiments.result_store import ResultStore

    holder = ResultStore(tmp_path)
    holder._take_lock()
    try:
        with pytest.raises(FitError, match="in use by another sahel-sim command"):
            quick_fit(tmp_path)
    finally:
        holder.close()


# --------------------------------------------------------------------------------------------
# Failing simulators
# --------------------------------------------------------------------------------------------


def fails_above_100(p: dict[str, float], seed: int) -> dict[str, float]:
    if p["a"] > 100:
        raise RuntimeError("unstable")
    return simulate(p, seed)


def test_a_failing_particle_is_rejected_and_logged(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="sim.calibration.fitting"):
        result = fit(fails_above_100, PRIORS, targets(), tmp_path, population=40,
                     max_generations=2, workers=1, seed=2)
    assert (result.posterior.a <= 100).all()
    assert any("simulate failed" in r.message and "RuntimeError: unstable" in r.message
               for r in caplog.records)
    # a prior draw above 100 (a third of the log range) fails: more simulations than particles
    assert result.generations.simulations.iloc[0] > 40


def test_a_failing_particle_logs_the_notes_of_its_error(caplog):
    def fails_with_a_note(p, seed):
        error = RuntimeError("unstable\nsecond line")
        error.add_note("in run 2 of 3 of this particle, seed 7")
        error.add_note("another note")
        raise error

    particle = _Particle(fails_with_a_note, PRIORS[:1], ["s1"])
    with caplog.at_level(logging.WARNING, logger="sim.calibration.fitting"):
        assert particle({PRIORS[0].key: 0.0}) == {FAILED: 1.0}  # a = 31.6
    [record] = caplog.records
    assert re.fullmatch(r"simulate failed \(seed \d+, \{'a': 31\.6\d*\}\): RuntimeError: "
                        r"unstable; in run 2 of 3 of this particle, seed 7; another note",
                        record.getMessage())


def test_a_simulator_that_always_fails_stops_before_the_fit(tmp_path):
    def broken(p, seed):
        raise ValueError("no such parameter: x\nsecond line")

    with pytest.raises(FitError, match=r"^simulate failed on all 5 trial parameter sets drawn "
                                       r"from the priors; the first error: ValueError: no such "
                                       r"parameter: x$"):
        fit(broken, PRIORS, targets(), tmp_path, population=20, workers=1)
    assert not (tmp_path / DB_NAME).exists()


def fails_above_30(p: dict[str, float], seed: int) -> dict[str, float]:
    if p["a"] > 30:
        raise RuntimeError("unstable")
    return simulate(p, seed)


def test_a_fit_whose_first_generation_cannot_finish_says_so(tmp_path):
    # half the prior fails: generation 0 accepts about 50 %, below the 60 % asked
    with pytest.raises(FitError, match=r"^no generation finished \(min acceptance rate "
                                       r"reached after \d+ simulations\)"):
        fit(fails_above_30, PRIORS, targets(), tmp_path, population=20, workers=1, seed=1,
            min_acceptance_rate=0.6)
    assert (tmp_path / DB_NAME).exists()  # kept: the same call resumes it


def test_a_missing_summary_is_named(tmp_path):
    def partial(p, seed):
        return {k: v for k, v in simulate(p, seed).items() if k != "s4"}

    with pytest.raises(FitError, match=r"simulate returned no value for summary 's4' \(it "
                                       r"returned: s1, s2, s3, s5"):
        fit(partial, PRIORS, targets(), tmp_path, population=20, workers=1)

