"""The local process pool (`run_in_pool`): results by position, retries after a worker dies,
and a prompt stop (then exit) when cancelled, whatever state the workers are in."""

from __future__ import annotations

import multiprocessing
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

from sim.experiments.process_pool import MAX_ATTEMPTS, run_in_pool

ROOT = Path(__file__).resolve().parents[2]


def _double_dying_once(marker: str, value: int) -> int:
    """Twice `value`; the first call to see no marker file kills its worker process."""
    try:
        Path(marker).touch(exist_ok=False)
    except FileExistsError:
        return 2 * value
    os._exit(1)


def _die(value: int) -> int:
    os._exit(1)


def test_calls_whose_worker_died_are_retried_in_a_new_pool(tmp_path: Path) -> None:
    marker = str(tmp_path / "died")
    arguments = [(marker, value) for value in range(5)]
    results = dict(run_in_pool(_double_dying_once, arguments, 2, died=lambda *a: None))
    assert results == {i: 2 * i for i in range(5)}
    assert Path(marker).exists()


def test_a_call_whose_worker_always_dies_gives_what_died_says(tmp_path: Path) -> None:
    died_for = []

    def died(value: int) -> str:
        died_for.append(value)
        return f"died {value}"

    results = dict(run_in_pool(_die, [(7,), (8,)], 2, died=died))
    assert results == {0: "died 7", 1: "died 8"}
    assert sorted(died_for) == [7, 8] and MAX_ATTEMPTS >= 2


def _stuck(folder: str) -> None:
    """Never return, having sent half a result and ignoring SIGTERM.

    Half a result is what a worker terminated while it sends one leaves in the pipe.
    """
    results = multiprocessing.current_process()._args[1]  # type: ignore[attr-defined]
    os.write(results._writer.fileno(), struct.pack("!i", 1 << 20) + bytes(100))
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    Path(folder, "ready").touch()
    time.sleep(600)


# Cancels a pool whose worker is stuck as `_stuck` leaves it, then lets Python exit (which
# joins the pool's manager thread and, through multiprocessing, the worker).
STOP_SCRIPT = """
import sys, threading, time
from pathlib import Path
from sim.experiments import process_pool
from sim.experiments.errors import ExperimentCancelled
from tests.experiments.test_process_pool import _stuck

process_pool.KILL_AFTER_SECONDS = 1.0
ready, cancel = Path(sys.argv[1], "ready"), threading.Event()

def cancel_when_ready():
    while not ready.exists():
        time.sleep(0.05)
    cancel.set()

threading.Thread(target=cancel_when_ready, daemon=True).start()
try:
    list(process_pool.run_in_pool(_stuck, [(sys.argv[1],)], 1, died=print, cancel=cancel))
except ExperimentCancelled:
    print("cancelled", flush=True)
"""


def test_a_cancelled_pool_stops_a_stuck_worker_and_the_process_exits(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        done = subprocess.run([sys.executable, "-c", STOP_SCRIPT, str(tmp_path)], env=env,
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:  # the bug this guards against: a hang at exit
        raise AssertionError("the process did not exit within 60 s") from None
    assert (done.returncode, done.stdout, done.stderr) == (0, "cancelled\n", "")
    assert (tmp_path / "ready").exists()
