"""Executors: byte-identical results in process, in a pool and on Dask; surviving kills.

The Dask tests start a real `dask scheduler` and two `dask worker` processes on 127.0.0.1
(loopback only), with bounded timeouts, and always stop them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from sim import experiments as ex

from ..conftest import write_short_scenario

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow  # real Dask clusters and killed processes: CI's second step

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.toml"
DASK = Path(sys.executable).parent / "dask"
START_TIMEOUT = 60.0
PARAMS = {"factions.jnim.restraint": (0.1, 0.6), "parameters.combat.engage_probability":
          (0.1, 0.4)}
CLI = "import sys, sim.cli as c; sys.exit(c.main(sys.argv[1:]))"


def write_scenarios(folder: Path, end: str = "2023-02-14") -> dict[str, Path]:
    """A short scenario extending the bundled baseline (as in test_experiment.py)."""
    return {"short": write_short_scenario(folder, end)}


def live_processes_in_group(pgid: int) -> list[int]:
    """Processes of a process group that are not zombies (waiting for init to reap them)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(stat.parent.name))
    return live


def run_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "runs").glob("*.parquet"))}


@pytest.fixture(scope="module")
def scen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_scenarios(tmp_path_factory.mktemp("scenarios"))


@dataclass
class Cluster:
    address: str
    workers: list[subprocess.Popen[bytes]]


def _stop(procs: list[subprocess.Popen[bytes]], grace: float = 5.0) -> None:
    """SIGTERM each process group (workers before the scheduler), SIGKILL after `grace` s."""
    for proc in reversed(procs):
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@contextlib.contextmanager
def dask_cluster(folder: Path, n_workers: int = 2) -> Iterator[Cluster]:
    """A scheduler and `n_workers` single-threaded workers on 127.0.0.1, always stopped."""
    from distributed import Client

    folder.mkdir(parents=True, exist_ok=True)
    info = folder / "scheduler.json"
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], log: str) -> subprocess.Popen[bytes]:
        with (folder / log).open("wb") as out:
            proc = subprocess.Popen([str(DASK), *args], stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, cwd=folder)
        procs.append(proc)
        return proc

    try:
        start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
               "--scheduler-file", str(info)], "scheduler.log")
        deadline = time.monotonic() + START_TIMEOUT
        while not (info.exists() and info.stat().st_size > 0):
            assert time.monotonic() < deadline, "the Dask scheduler did not start"
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        workers = [start(["worker", address, "--nthreads", "1", "--nworkers", "1", "--no-nanny",
                          "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}",
                          "--memory-limit", "0"], f"worker{i}.log") for i in range(n_workers)]
        with Client(address, timeout="20s", set_as_default=False) as client:
            client.wait_for_workers(n_workers, timeout=START_TIMEOUT)
        yield Cluster(address, workers)
    finally:
        _stop(procs)


def test_same_bytes_with_one_worker_two_workers_and_dask(scen: dict[str, Path],
                                                        tmp_path: Path) -> None:
    outs = {name: tmp_path / name for name in ("one", "two", "dask")}
    ex.ensemble(scen["short"], runs=4, root_seed=21, workers=1, out=outs["one"], plots=False)
    ex.ensemble(scen["short"], runs=4, root_seed=21, workers=2, out=outs["two"], plots=False)
    with dask_cluster(tmp_path / "cluster") as cluster:
        result = ex.ensemble(scen["short"], runs=4, root_seed=21, scheduler=cluster.address,
                             out=outs["dask"], plots=False)
    assert result.n_failed == 0
    reference = run_files(outs["one"])
    assert len(reference) == 4
    for name in ("two", "dask"):
        assert run_files(outs[name]) == reference, name
        for table in ("outcomes.csv", "outcome_quantiles.csv", "bands.parquet"):
            assert (outs[name] / table).read_bytes() == (outs["one"] / table).read_bytes()


def test_posterior_draws_give_the_same_bytes_with_one_two_workers_and_dask(
        scen: dict[str, Path], tmp_path: Path) -> None:
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("draw,parameters.combat.engage_probability,factions.jnim.restraint,"
                         "weight\nlow,0.1,0.2,1\nhigh,0.35,0.6,2\nmid,0.25,0.4,1\n")
    brutal = scen["short"].with_name("brutal_posterior.toml")
    brutal.write_text(f'extends = "{scen["short"].name}"\nname = "brutal"\n'
                      "[factions.mali_army]\nrestraint = 0.0\n")
    outs = {name: tmp_path / name for name in ("one", "two", "dask")}
    args = {"runs": 3, "root_seed": 17, "plots": False, "posterior": posterior}
    ex.compare(scen["short"], [brutal], workers=1, out=outs["one"], **args)
    ex.compare(scen["short"], [brutal], workers=2, out=outs["two"], **args)
    with dask_cluster(tmp_path / "cluster") as cluster:
        result = ex.compare(scen["short"], [brutal], scheduler=cluster.address,
                            out=outs["dask"], **args)
    assert result.n_failed == 0, [f["error"] for f in result.failures.values()]
    reference = run_files(outs["one"])
    assert len(reference) == 6
    for name in ("two", "dask"):
        assert run_files(outs[name]) == reference, name
        for table in ("outcomes.csv", "comparison.csv", "bands.parquet"):
            assert (outs[name] / table).read_bytes() == (outs["one"] / table).read_bytes()
    drawn = pd.read_csv(outs["one"] / "outcomes.csv", dtype={"draw": str})
    assert drawn["draw"].notna().all()


def test_a_dask_worker_killed_mid_sweep_and_the_sweep_completes(
        scen: dict[str, Path], tmp_path: Path) -> None:
    reference = ex.sweep(scen["short"], PARAMS, design="lhs", samples=5, runs_per_point=2,
                         root_seed=4, out=tmp_path / "ref", plots=False)
    killed: list[int] = []
    with dask_cluster(tmp_path / "cluster") as cluster:
        victim = cluster.workers[0]

        def progress(done: int, failed: int, total: int) -> None:
            if done >= 2 and not killed:
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait(timeout=15)
                killed.append(done)

        result = ex.sweep(scen["short"], PARAMS, design="lhs", samples=5, runs_per_point=2,
                          root_seed=4, scheduler=cluster.address, out=tmp_path / "dask",
                          progress=progress, plots=False)
        assert cluster.workers[1].poll() is None  # the other worker carried on
    assert killed and killed[0] < 10
    assert result.n_failed == 0 and len(result.report.finished) == 10
    assert run_files(tmp_path / "dask") == run_files(tmp_path / "ref")
    pd.testing.assert_frame_equal(result.point_outcomes, reference.point_outcomes)


def test_a_sweep_killed_with_sigkill_resumes_to_the_same_results(
        scen: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    argv = [sys.executable, "-c", CLI, "sweep", str(scen["short"]), "--design", "lhs",
            "--samples", "8", "--runs-per-point", "2", "--seed", "9", "--workers", "2",
            "--out", str(out), "--no-plots",
            *[w for name, (lo, hi) in PARAMS.items() for w in ("--param", f"{name}={lo}:{hi}")]]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(list((out / "runs").glob("*.parquet"))) < 3:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its pool workers
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
    kept = run_files(out)
    assert 3 <= len(kept) < 16
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"]["state"] == "running"  # it never got to say otherwise
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    resumed = run_files(out)
    assert len(resumed) == 16
    assert all(resumed[name] == data for name, data in kept.items())
    assert not [p for p in (out / "runs").rglob("*") if p.is_file() and p.suffix != ".parquet"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == {"state": "complete", "planned": 16, "finished": 16,
                                  "failed": 0}
    assert len({r["id"] for r in manifest["runs"]}) == len(manifest["runs"]) == 16
    reference = ex.sweep(scen["short"], PARAMS, design="lhs", samples=8, runs_per_point=2,
                         root_seed=9, out=tmp_path / "ref", plots=False)
    assert resumed == run_files(tmp_path / "ref")
    assert (out / "point_outcomes.csv").read_bytes() == (
        tmp_path / "ref" / "point_outcomes.csv").read_bytes()
    assert len(reference.outcomes) == 16


def test_ctrl_c_stops_cleanly_and_keeps_what_finished(scen: dict[str, Path],
                                                      tmp_path: Path) -> None:
    out = tmp_path / "ensemble"
    argv = [sys.executable, "-c", CLI, "ensemble", str(scen["short"]), "--runs", "30",
            "--workers", "2", "--out", str(out), "--no-plots"]
    # As from a terminal: a shell running the tests in the background hands its children
    # SIGINT ignored, and Python then installs no Ctrl-C handler.
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while len(list((out / "runs").glob("*.parquet"))) < 2:
            assert proc.poll() is None, "the ensemble ended before it could be interrupted"
            assert time.monotonic() < deadline, "the ensemble made no progress"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
    assert proc.returncode == 130
    kept = run_files(out)
    assert 2 <= len(kept) < 30
    assert f"interrupted: {len(kept)} of 30 runs are kept in {out}" in err
    assert "Traceback" not in err
    deadline = time.monotonic() + 10  # workers and the resource tracker exit with it
    while live_processes_in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_processes_in_group(proc.pid) == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"]["state"] == "interrupted"
    assert manifest["status"]["finished"] == len(kept)
    assert not [p for p in (out / "runs").rglob("*") if p.is_file() and p.suffix != ".parquet"]
