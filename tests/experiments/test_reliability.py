"""Experiments under stress: workers die with their parent, damaged run files are re-run,
one writer per folder, unreachable schedulers fail fast, options named right."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import sim.cli as cli
from sim import experiments as ex
from sim.experiments.result_store import LOCK

from ..conftest import write_short_scenario
from .procs import alive, survivors, wait_for_children


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_short_scenario(tmp_path_factory.mktemp("short"), "2023-02-14")


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(("error", "Traceback"))]
    assert len(lines) == 1 and "Traceback" not in err and "Exception ignored" not in err, err
    return lines[0]


# --- 6. workers die with their parent -------------------------------------------------------

def test_workers_die_within_ten_seconds_of_a_killed_parent(tmp_path: Path) -> None:
    long = write_short_scenario(tmp_path / "scen", "2023-12-31")
    parent = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "ensemble", str(long), "--runs", "8", "--workers", "2",
         "--out", str(tmp_path / "out"), "--no-plots"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        kids = wait_for_children(parent.pid, 3)  # two workers and the resource tracker
        time.sleep(1.0)
        assert alive(parent.pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert survivors(kids, within=10.0) == set()
    finally:
        for pid in (parent.pid, *locals().get("kids", ())):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_worker_ends_itself_when_its_parent_is_gone() -> None:
    code = ("import os, time\n"
            "from sim.experiments.process_pool import _worker_init\n"
            "_worker_init(os.getppid() + 10**7)\n"
            "time.sleep(30)\n")
    result = subprocess.run([sys.executable, "-c", code], timeout=30, capture_output=True)
    assert (result.returncode, result.stderr) == (1, b"")


# --- 7. damaged run files ---------------------------------------------------------------------

def run_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "runs").glob("*.parquet"))}


def test_resume_sets_damaged_run_files_aside_and_reruns_them(short: Path, tmp_path: Path,
                                                             capsys) -> None:
    out = tmp_path / "out"
    assert cli.main(["ensemble", str(short), "--runs", "3", "--workers", "1", "--out", str(out),
                     "--no-plots"]) == 0
    good = run_files(out)
    names = sorted(good)
    (out / "runs" / names[0]).write_bytes(good[names[0]][:200])  # truncated
    (out / "runs" / names[1]).write_bytes(b"")  # empty
    import pandas as pd

    frame = pd.read_parquet(out / "runs" / names[2])
    frame.iloc[:10].to_parquet(out / "runs" / names[2], index=False)  # readable, incomplete
    capsys.readouterr()
    assert cli.main(["ensemble", str(short), "--runs", "3", "--workers", "1", "--out", str(out),
                     "--no-plots"]) == 0
    assert "3 damaged run file(s) were moved to" in capsys.readouterr().err
    assert run_files(out) == good
    assert sorted(p.name for p in (out / "runs" / "bad").iterdir()) == names
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    problems = sorted(a["problem"].split(":")[0] for a in manifest["set_aside"])
    assert problems == ["incomplete", "unreadable", "unreadable"]


# --- 8. one writer per folder -----------------------------------------------------------------

def test_a_second_writer_is_refused_naming_the_first(short: Path, tmp_path: Path,
                                                     capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time\n"
         f"fd = os.open({str(out / LOCK)!r}, os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "os.write(fd, str(os.getpid()).encode())\n"
         "print('locked', flush=True)\n"
         "time.sleep(60)\n"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert cli.main(["ensemble", str(short), "--runs", "2", "--workers", "1", "--out",
                         str(out)]) == 2
        line = one_line(capsys)
        assert f"in use by another sahel-sim command (process {holder.pid})" in line
        assert not (out / "manifest.json").exists() and not (out / "runs").exists()
    finally:
        holder.kill()
        holder.communicate()
    assert cli.main(["ensemble", str(short), "--runs", "2", "--workers", "1", "--out",
                     str(out), "--no-plots"]) == 0


def test_the_lock_is_held_while_running_and_released_after(short: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    seen: list[bool] = []

    def progress(done: int, failed: int, total: int) -> None:
        fd = os.open(out / LOCK, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            seen.append(False)
        except BlockingIOError:
            seen.append(True)
        finally:
            os.close(fd)

    ex.ensemble(short, runs=2, root_seed=1, out=out, progress=progress, plots=False)
    assert seen and all(seen)
    fd = os.open(out / LOCK, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released: no error
    os.close(fd)


def test_a_lock_held_in_this_process_refuses_a_second_store(tmp_path: Path) -> None:
    from sim.experiments.result_store import ResultStore

    out = tmp_path / "out"
    out.mkdir()
    first = ResultStore(out)
    first._take_lock()
    second = ResultStore(out)
    with pytest.raises(ex.ExperimentError, match=f"process {os.getpid()}"):
        second._take_lock()
    first.close()
    second._take_lock()
    second.close()


# --- 9. unreachable schedulers ------------------------------------------------------------------

@pytest.fixture
def not_dask() -> str:
    """A port where something that is not Dask answers with garbage."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4)
            time.sleep(0.2)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()
    thread.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, message", [
    ("tcp://127.0.0.1:notaport", "port 'notaport' is not a number"),
    ("tcp://127.0.0.1:99999", "port '99999' is not a number"),
    ("tcp://:8786", "expected an address like tcp://HOST:PORT"),
    ("http://127.0.0.1:8786", "expected an address like tcp://HOST:PORT"),
    ("refused", "Connection refused"),
    ("not_dask", "not a Dask scheduler"),
])
def test_an_unreachable_scheduler_fails_fast_and_leaves_nothing(
        short: Path, tmp_path: Path, capsys, request, address: str, message: str) -> None:
    if address == "refused":
        address = f"tcp://127.0.0.1:{free_port()}"
    elif address == "not_dask":
        address = request.getfixturevalue("not_dask")
    out = tmp_path / "out"
    started = time.monotonic()
    assert cli.main(["ensemble", str(short), "--runs", "2", "--scheduler", address, "--out",
                     str(out)]) == 2
    assert time.monotonic() - started < 5
    assert message in one_line(capsys)
    assert not out.exists()


# --- 10. options named right ----------------------------------------------------------------

def test_runs_per_point_zero_names_its_option(short: Path, tmp_path: Path, capsys) -> None:
    assert cli.main(["sweep", str(short), "--param", "parameters.combat.evasion=0.1:0.9",
                     "--runs-per-point", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--runs-per-point must be at least 1, got 0" in one_line(capsys)


def test_ensemble_overrides_that_are_not_a_dict(short: Path) -> None:
    with pytest.raises(sim_error(), match="overrides: expected a mapping"):
        ex.ensemble(short, runs=1, overrides=["parameters.combat.evasion=0.2"])


def sim_error() -> type[Exception]:
    import sim

    return sim.ScenarioError
