"""`run --out`: a run replaces only a folder it wrote; partial folders never stay behind;
signals and closed pipes end a command as Unix tools do."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from sim.cli import main

from ..conftest import SCENARIOS, write_short_scenario


@pytest.fixture(scope="module")
def short(tmp_path_factory):
    return write_short_scenario(tmp_path_factory.mktemp("short"), "2023-02-14")


def run(short, out, *extra):
    return main(["run", str(short), "--out", str(out), "--quiet", "--no-plots", *extra])


def one_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_a_users_folder_is_never_replaced(short, tmp_path, capsys):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "thesis.txt").write_text("precious")
    assert run(short, folder) == 2
    assert "holds files not written by sahel-sim run (thesis.txt)" in one_error(capsys)
    assert (folder / "thesis.txt").read_text() == "precious"
    assert sorted(p.name for p in folder.iterdir()) == ["thesis.txt"]


def test_a_file_added_to_a_run_folder_is_kept(short, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(short, out) == 0
    capsys.readouterr()
    (out / "notes.txt").write_text("mine")
    assert run(short, out) == 2
    assert "also holds files a run did not write (notes.txt)" in one_error(capsys)
    assert (out / "notes.txt").read_text() == "mine"


def test_a_foreign_summary_json_does_not_make_a_folder_ours(short, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"title": "my paper"}))
    assert run(short, out) == 2
    assert "not written by sahel-sim run" in one_error(capsys)
    assert (out / "summary.json").exists()


def test_an_empty_folder_and_a_run_folder_are_replaced(short, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    assert run(short, out) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert "summary.json" in summary["files"] and "timeseries.parquet" in summary["files"]
    assert run(short, out, "--seed", "5") == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 5


@pytest.mark.parametrize("out, message", [
    (".", "is the current folder or one above it"),
    ("..", "is the current folder or one above it"),
    ("/etc/hostname/sub", "--out: /etc/hostname is not a folder"),
    ("/etc/hostname", "--out: /etc/hostname exists and is not a folder"),
])
def test_bad_out_is_one_line_before_the_run(short, capsys, monkeypatch, out, message):
    def never(*args, **kwargs):
        raise AssertionError("the run started")

    monkeypatch.setattr("sim.cli.model._run_into", never)
    assert main(["run", str(short), "--out", out, "--quiet"]) == 2
    assert message in one_error(capsys)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_partial_folders_of_dead_processes_are_removed(short, tmp_path):
    stale = tmp_path / f".out.partial-{dead_pid()}"
    stale.mkdir()
    (stale / "timeseries.parquet").write_bytes(b"half")
    old = tmp_path / f".other.old-{dead_pid()}"
    old.mkdir()
    alive = tmp_path / f".out.partial-{os.getppid()}"  # a live process: left alone
    alive.mkdir()
    assert run(short, tmp_path / "out") == 0
    assert not stale.exists() and not old.exists() and alive.exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_remove_the_partial_folder(tmp_path, sig):
    # A run long enough to be stepping when signalled: twelve years at 0.1 degree (the
    # three-year forecast can finish within the wait below).
    scenario = tmp_path / "long.toml"
    scenario.write_text(f'extends = "{SCENARIOS / "forecast_2025.toml"}"\n'
                        'end = 2034-12-31\nresolution = 0.1\n', encoding="utf-8")
    runs = tmp_path / "runs"
    runs.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "run", str(scenario), "--out", str(runs / "out"),
         "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # As from a terminal: a shell running the tests in the background (`... &`, nohup)
        # hands its children SIGINT ignored, and Python then installs no Ctrl-C handler.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not list(runs.glob(".out.partial-*")):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    # The folder is made before the model is built and numba loads its cached kernels; a
    # SIGINT that lands in that loading can be lost (exit 0) or abort the process (SIGABRT),
    # seen in CI and not fixed yet. Signal once the run is stepping.
    time.sleep(1.0)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == (130 if sig == signal.SIGINT else 143)
    assert "Traceback" not in err
    assert list(runs.iterdir()) == []


def test_a_closed_pipe_ends_quietly():
    process = subprocess.Popen([sys.executable, "-m", "sim.cli", "parameters", "baseline"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # as `| head` does once it has read enough
    with process.stderr:
        err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert err == ""


def test_an_interrupt_inside_a_kernel_is_told_from_a_failure():
    from sim.cli.model import interrupted

    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise SystemError("CPUDispatcher(engage) returned a result with an exception set")  # noqa: B904 - as numba leaves it: the context, no cause
    except SystemError as exc:
        assert interrupted(exc)
    assert not interrupted(ValueError("a real failure"))


def test_an_interrupt_counts_the_runs_saved_after_the_last_progress_report(tmp_path, capsys):
    from sim.cli import experiments

    def interrupted(progress):
        progress(1, 0, 30)  # one run reported; a second saved, then Ctrl-C before its report
        (tmp_path / "runs").mkdir()
        for name in ("a-1.parquet", "a-2.parquet"):
            (tmp_path / "runs" / name).write_bytes(b"")
        raise KeyboardInterrupt

    assert experiments._run("ensemble", None, tmp_path, interrupted) == 130
    assert f"interrupted: 2 of 30 runs are kept in {tmp_path};" in capsys.readouterr().err
