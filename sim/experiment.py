"""Experiments: ensembles, paired counterfactual comparisons and parameter sweeps.

The vocabulary is the EMA Workbench's: a *run* is one (scenario, parameter overrides, seed);
replications of a scenario use seeds spawned from one root seed with
`numpy.random.SeedSequence`; a comparison runs the baseline and every counterfactual (the
levers) with the *same* seeds (common random numbers), so their differences are paired; a sweep
varies uncertain parameters over a design (grid, Latin hypercube, Sobol or Morris).

Results store. With an output folder, every finished run is one Parquet file
`runs/<scenario hash>-<seed>.parquet` (its daily time series, written to a temporary name and
renamed), and `manifest.json` records the scenario hashes, overrides, seeds, package version,
command and failures. Re-running the same command in the same folder runs only what is
missing; a folder holding another experiment (changed scenario, design, root seed or version)
is refused. Without a folder everything stays in memory (the dashboard uses this).

Executors. Runs go to the calling process (one worker), a local process pool (several workers)
or a Dask cluster (a scheduler address). Every run is a pure function of its scenario and seed
and its result is serialised in the worker, so the files are byte-identical whichever executor
produced them.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import multiprocessing
import os
import re
import signal
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from sim.scenario import (
    COUNTRIES,
    Scenario,
    ScenarioError,
    apply_overrides,
    check_parameter_path,
    load_scenario,
    tunable_parameters,
    validate_data,
)

QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
INTERVAL = 0.90  # confidence level of the paired-difference interval
DESIGNS = ("grid", "lhs", "sobol", "morris")
MORRIS_LEVELS = 4
SENSITIVITY_CONFIDENCE = 0.95
MANIFEST = "manifest.json"
RUNS_DIR = "runs"
MANIFEST_FORMAT = 1
DASK_CONNECT_TIMEOUT = "20s"
POLL_SECONDS = 0.2
MAX_ATTEMPTS = 3  # a run whose worker process dies this many times is recorded as failed
MAX_POINTS = 1_000_000  # largest grid design
BAND_MEMORY_BYTES = 256 * 2**20  # budget of one block of stacked runs when computing bands

ProgressCallback = Callable[[int, int, int], None]
ScenarioLike = str | Path | Scenario
Design = Literal["grid", "lhs", "sobol", "morris"]

# --------------------------------------------------------------------------------------------
# Headline outcomes
# --------------------------------------------------------------------------------------------

_PER_COUNTRY = ("civilian_fatalities", "total_fatalities")
_END_OF_RUN = ("territory_outside_state", "population_outside_state", "coups", "displaced")
HEADLINE_OUTCOMES: list[str] = [
    *[f"{kind}_{iso}" for kind in _PER_COUNTRY for iso in COUNTRIES],
    "russian_fatalities",
    *[f"{kind}_{iso}" for kind in _END_OF_RUN for iso in COUNTRIES],
]
"""Outcomes every experiment reports: fatalities summed over the run (civilians and total per
country; Russians in the three countries), and end-of-run values per country: the share of
territory and of population outside state control, the cumulative number of coups and the
number of displaced people."""


def headline_outcomes(scenario: Scenario, timeseries: pd.DataFrame) -> dict[str, float]:
    """The headline outcomes of one run, in the order of `HEADLINE_OUTCOMES`.

    Args:
        scenario: the scenario the run used (it says which factions are Russian).
        timeseries: `SahelModel.timeseries()` of the run (or those of its columns the outcomes
            need: date, country, killed_civilians, killed_total, killed_<Russian faction>,
            territory_state, population_state, coups, displaced).

    Returns:
        Outcome name -> value.
    """
    russian = [f"killed_{fid}" for fid, f in scenario.factions.items() if f.kind == "russian"]
    by_country = timeseries.groupby("country", sort=False)
    sums = by_country[["killed_civilians", "killed_total", *russian]].sum()
    last = timeseries[timeseries["date"] == timeseries["date"].max()].set_index("country")
    out: dict[str, float] = {}
    for iso in COUNTRIES:
        out[f"civilian_fatalities_{iso}"] = float(sums.at[iso, "killed_civilians"])
    for iso in COUNTRIES:
        out[f"total_fatalities_{iso}"] = float(sums.at[iso, "killed_total"])
    out["russian_fatalities"] = float(sums[russian].to_numpy().sum()) if russian else 0.0
    for iso in COUNTRIES:
        out[f"territory_outside_state_{iso}"] = 1.0 - float(last.at[iso, "territory_state"])
    for iso in COUNTRIES:
        out[f"population_outside_state_{iso}"] = 1.0 - float(last.at[iso, "population_state"])
    for iso in COUNTRIES:
        out[f"coups_{iso}"] = float(last.at[iso, "coups"])
    for iso in COUNTRIES:
        out[f"displaced_{iso}"] = float(last.at[iso, "displaced"])
    return out


def _outcome_columns(scenario: Scenario) -> list[str]:
    russian = [f"killed_{fid}" for fid, f in scenario.factions.items() if f.kind == "russian"]
    return ["date", "country", "killed_civilians", "killed_total", *russian, "territory_state",
            "population_state", "coups", "displaced"]


# --------------------------------------------------------------------------------------------
# Seeds and the run plan
# --------------------------------------------------------------------------------------------


def spawn_seeds(root_seed: int, n: int) -> list[int]:
    """`n` independent run seeds spawned from one root seed (`numpy.random.SeedSequence`).

    The first k seeds do not depend on n, so a larger ensemble extends a smaller one.
    """
    if root_seed < 0:
        raise ExperimentError(f"the root seed must be >= 0, got {root_seed}")
    children = np.random.SeedSequence(root_seed).spawn(n)
    return [int(c.generate_state(1, np.uint64)[0]) & (2**63 - 1) for c in children]


class ExperimentError(ValueError):
    """An experiment that cannot run as asked; the message is one line."""


class ExperimentCancelled(Exception):  # noqa: N818 - the name reads as what happened
    """Raised when the caller's `cancel` event stops an experiment; finished runs are kept."""


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """One run of an experiment: which scenario (and sweep point), which replicate and seed."""

    run_id: str
    scenario: str  # label of the scenario (or of the sweep's base scenario)
    scenario_hash: str
    point: int  # sweep point (0 outside sweeps)
    replicate: int
    seed: int


@dataclass(frozen=True, slots=True)
class RunTask:
    """What a worker needs: the resolved scenario (JSON-able mapping) and the seed."""

    run_id: str
    scenario: dict[str, Any]
    scenario_hash: str
    seed: int


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """A finished run: the Parquet bytes of its time series, or the error it raised."""

    run_id: str
    data: bytes | None = None
    error: str | None = None
    traceback: str | None = None
    compute_seconds: float = 0.0  # building and running the model, building the series
    encode_seconds: float = 0.0  # serialising the series to Parquet


def run_id_for(scenario_hash: str, seed: int) -> str:
    """The id (and file stem) of a run: the scenario's content hash and the seed."""
    return f"{scenario_hash[:16]}-{seed}"


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A scenario ready to run: its label, origin, validated model and JSON payload."""

    label: str
    path: str | None
    scenario: Scenario
    payload: dict[str, Any]
    hash: str
    overrides: dict[str, Any] = field(default_factory=dict)


def _prepare(source: ScenarioLike, overrides: Mapping[str, Any] | None = None,
             label: str | None = None) -> _Prepared:
    if isinstance(source, Scenario):
        scenario = source
        if overrides:
            data = apply_overrides(source.model_dump(mode="json"), overrides, origin=source.name)
            scenario = validate_data(data, Path(source.name))
        path = None
        name = label or source.name
    else:
        scenario = load_scenario(Path(source), overrides)
        path = str(source)
        name = label or Path(source).stem
    payload = scenario.model_dump(mode="json")
    return _Prepared(name, path, scenario, payload, scenario.content_hash(),
                     dict(overrides or {}))


def _unique_labels(labels: Sequence[str]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for label in labels:
        seen[label] += 1
        out.append(label if seen[label] == 1 else f"{label}#{seen[label]}")
    return out


# --------------------------------------------------------------------------------------------
# One run (executed in a worker)
# --------------------------------------------------------------------------------------------


class _Stopped(Exception):  # noqa: N818
    """Raised inside an in-process run when the experiment is cancelled."""


def _simulate(scenario: Scenario, seed: int,
              stop: Callable[[], bool] | None = None) -> pd.DataFrame:
    """Run the model to the end and return its daily time series."""
    from sim.model import SahelModel

    model = SahelModel(scenario, rng=seed)

    def check(_done: int, _total: int) -> None:
        if stop is not None and stop():
            raise _Stopped

    model.run(progress=check if stop is not None else None)
    return model.timeseries()


def encode_frame(frame: pd.DataFrame) -> bytes:
    """Serialise a time series to Parquet bytes (zstd), deterministically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer,
                   compression="zstd")
    return buffer.getvalue()


def execute_run(task: RunTask, stop: Callable[[], bool] | None = None) -> RunOutcome:
    """Run one task and serialise its result; an exception becomes a failed outcome.

    This is what executors call in their workers; it depends only on the task, so the same
    task gives the same bytes in any process.
    """
    start = time.perf_counter()
    try:
        scenario = Scenario.model_validate(task.scenario)
        if scenario.content_hash() != task.scenario_hash:
            raise RuntimeError("the scenario changed in transit to the worker (hash mismatch)")
        frame = _simulate(scenario, task.seed, stop)
        computed = time.perf_counter()
        data = encode_frame(frame)
    except _Stopped:
        raise
    except Exception as exc:
        return RunOutcome(task.run_id, error=f"{type(exc).__name__}: {exc}".splitlines()[0],
                          traceback=traceback.format_exc())
    return RunOutcome(task.run_id, data=data, compute_seconds=computed - start,
                      encode_seconds=time.perf_counter() - computed)


# --------------------------------------------------------------------------------------------
# Executors: in process, local process pool, Dask
# --------------------------------------------------------------------------------------------


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _execute(tasks: list[RunTask], workers: int, scheduler: str | None,
             cancel: threading.Event | None) -> Iterator[RunOutcome]:
    if scheduler:
        return _execute_dask(tasks, scheduler, cancel)
    if workers <= 1 or len(tasks) <= 1:
        return _execute_inline(tasks, cancel)
    return _execute_pool(tasks, min(workers, len(tasks)), cancel)


def _execute_inline(tasks: list[RunTask], cancel: threading.Event | None
                    ) -> Iterator[RunOutcome]:
    stop = cancel.is_set if cancel is not None else None
    for task in tasks:
        if cancel is not None and cancel.is_set():
            raise ExperimentCancelled
        try:
            yield execute_run(task, stop)
        except _Stopped:
            raise ExperimentCancelled from None


def _ignore_sigint() -> None:
    """Pool workers leave Ctrl-C to the parent, which stops them cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _execute_pool(tasks: list[RunTask], workers: int, cancel: threading.Event | None
                  ) -> Iterator[RunOutcome]:
    """A `spawn` process pool; workers that die are replaced and their runs retried."""
    context = multiprocessing.get_context("spawn")
    attempts: Counter[str] = Counter()
    queue = list(tasks)
    while queue:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(queue)), mp_context=context,
                                   initializer=_ignore_sigint)
        futures: dict[Future[RunOutcome], RunTask] = {
            pool.submit(execute_run, task): task for task in queue}
        queue = []
        clean = False
        try:
            while futures:
                done, _ = wait(futures, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                if cancel is not None and cancel.is_set():
                    raise ExperimentCancelled
                broken = False
                for future in done:
                    task = futures.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        broken = True
                        queue.append(task)
                if broken:
                    queue.extend(futures.values())
                    futures.clear()
            clean = True
        finally:
            _shutdown_pool(pool, clean)
        retry = []
        for task in queue:
            attempts[task.run_id] += 1
            if attempts[task.run_id] >= MAX_ATTEMPTS:
                yield RunOutcome(task.run_id, error="a worker process died while running it "
                                 f"({MAX_ATTEMPTS} attempts)", traceback="")
            else:
                retry.append(task)
        queue = retry


def _shutdown_pool(pool: ProcessPoolExecutor, clean: bool) -> None:
    if clean:
        pool.shutdown(wait=True)
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)


def _execute_dask(tasks: list[RunTask], scheduler: str, cancel: threading.Event | None
                  ) -> Iterator[RunOutcome]:
    """Submit every run to a Dask cluster; runs on a lost worker are rescheduled by Dask."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ExperimentError("a Dask scheduler needs dask[distributed]: "
                              "pip install 'sahel-sim[experiments]'") from None
    try:
        client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExperimentError(f"cannot reach the Dask scheduler at {scheduler}: {reason}"
                              ) from None
    futures: list[Any] = []
    try:
        prefix = uuid.uuid4().hex[:8]
        futures = client.map(execute_run, tasks,
                             key=[f"sahel-run-{prefix}-{t.run_id}" for t in tasks])
        by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        pending = as_completed(futures, loop=client.loop)
        while not pending.is_empty():
            if cancel is not None and cancel.is_set():
                raise ExperimentCancelled
            batch = pending.next_batch(block=False)
            if not batch:
                time.sleep(POLL_SECONDS)
                continue
            for future in batch:
                task = by_key[future.key]
                try:  # waits if the result was lost with a worker and is being recomputed
                    outcome = future.result()
                except (Exception, asyncio.CancelledError) as exc:
                    outcome = RunOutcome(task.run_id, error=f"{type(exc).__name__}: {exc}",
                                         traceback="".join(traceback.format_exception(exc)))
                future.release()
                yield outcome
    finally:
        with contextlib.suppress(Exception):
            client.cancel([f for f in futures if not f.done()])
        with contextlib.suppress(Exception):
            client.close(timeout=10)


# --------------------------------------------------------------------------------------------
# The results store
# --------------------------------------------------------------------------------------------


_IDENTITY = ("format", "kind", "package_version", "root_seed", "scenarios", "design")


class ResultStore:
    """Finished runs as Parquet files under `out/runs/` plus `out/manifest.json`, or memory.

    Args:
        out: the experiment's folder, or None to keep everything in memory.
    """

    def __init__(self, out: Path | None) -> None:
        self.out = out
        self._memory: dict[str, bytes] = {}
        self.manifest: dict[str, Any] = {}

    @property
    def runs_dir(self) -> Path:
        """Folder of the run files."""
        assert self.out is not None
        return self.out / RUNS_DIR

    def path(self, run_id: str) -> Path:
        """File of a finished run."""
        return self.runs_dir / f"{run_id}.parquet"

    def open(self, manifest: dict[str, Any]) -> None:
        """Start (or resume) an experiment; refuse a folder holding a different one.

        Raises:
            ExperimentError: if the folder's manifest names other scenarios, design, seed or
                package version, or it holds results without a manifest.
        """
        self.manifest = manifest
        if self.out is None:
            return
        if self.out.exists() and not self.out.is_dir():
            raise ExperimentError(f"{self.out}: exists and is not a folder")
        old_path = self.out / MANIFEST
        if old_path.exists():
            try:
                old = json.loads(old_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ExperimentError(f"{old_path}: unreadable manifest ({exc}); use another "
                                      "--out folder") from None
            _check_same_experiment(self.out, old, manifest)
            manifest["created"] = old.get("created", manifest["created"])
        elif self.runs_dir.is_dir() and any(self.runs_dir.glob("*.parquet")):
            raise ExperimentError(f"{self.out}: holds run files but no {MANIFEST}; use another "
                                  "--out folder")
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.runs_dir.glob(".*.tmp*"):
            stale.unlink(missing_ok=True)
        self.write_manifest()

    def has(self, run_id: str) -> bool:
        """True if the run has finished (in this or an earlier session)."""
        if self.out is None:
            return run_id in self._memory
        return self.path(run_id).exists()

    def save(self, run_id: str, data: bytes) -> None:
        """Keep a finished run: write to a temporary name, then rename (atomic)."""
        if self.out is None:
            self._memory[run_id] = data
            return
        final = self.path(run_id)
        temp = final.with_name(f".{final.name}.tmp{os.getpid()}")
        temp.write_bytes(data)
        os.replace(temp, final)

    def source(self, run_id: str) -> Any:
        """Something pyarrow can read the run from (a path or a buffer)."""
        if self.out is None:
            return io.BytesIO(self._memory[run_id])
        return self.path(run_id)

    def read(self, run_id: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """A finished run's time series (optionally only some columns)."""
        import pyarrow.parquet as pq

        return pq.read_table(self.source(run_id), columns=list(columns) if columns else None
                             ).to_pandas()

    def columns(self, run_id: str) -> list[str]:
        """Column names of a finished run's time series."""
        import pyarrow.parquet as pq

        return list(pq.read_schema(self.source(run_id)).names)

    def write_manifest(self) -> None:
        """Write the manifest atomically (no-op in memory)."""
        if self.out is None:
            return
        self.manifest["updated"] = _now()
        final = self.out / MANIFEST
        temp = final.with_name(f".{MANIFEST}.tmp{os.getpid()}")
        temp.write_text(json.dumps(self.manifest, indent=1, default=str) + "\n",
                        encoding="utf-8")
        os.replace(temp, final)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _check_same_experiment(out: Path, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    hint = "use another --out folder or delete this one"
    if old.get("package_version") != new["package_version"]:
        raise ExperimentError(
            f"{out}: made with sahel-sim {old.get('package_version')}, this is "
            f"{new['package_version']}; {hint}")
    if old.get("kind") != new["kind"]:
        raise ExperimentError(f"{out}: holds a '{old.get('kind')}' experiment, not a "
                              f"'{new['kind']}'; {hint}")
    old_scen, new_scen = old.get("scenarios", {}), new["scenarios"]
    if list(old_scen) != list(new_scen):
        raise ExperimentError(f"{out}: holds scenarios {', '.join(old_scen)}, not "
                              f"{', '.join(new_scen)}; {hint}")
    for label, info in new_scen.items():
        before = old_scen[label].get("hash", "")
        if before != info["hash"]:
            raise ExperimentError(f"{out}: scenario '{label}' has changed since these results "
                                  f"were made (hash {before[:12]}, now {info['hash'][:12]}); "
                                  f"{hint}")
    for key in _IDENTITY:
        if key not in ("package_version", "kind", "scenarios") and old.get(key) != new[key]:
            raise ExperimentError(f"{out}: holds an experiment with another {key.replace('_', ' ')}"
                                  f" ({_short(old.get(key))}, now {_short(new[key])}); {hint}")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _base_manifest(kind: str, scenarios: Mapping[str, _Prepared], root_seed: int,
                   design: dict[str, Any] | None, command: str | None) -> dict[str, Any]:
    from sim import __version__

    return {
        "format": MANIFEST_FORMAT,
        "kind": kind,
        "package_version": __version__,
        "command": command,
        "created": _now(),
        "root_seed": root_seed,
        "scenarios": {label: {"hash": p.hash, "path": p.path, "name": p.scenario.name,
                              "overrides": p.overrides}
                      for label, p in scenarios.items()},
        "design": design,
    }


# --------------------------------------------------------------------------------------------
# Driving an experiment
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class RunReport:
    """What happened to an experiment's runs."""

    planned: list[PlannedRun]
    finished: set[str]
    failures: dict[str, dict[str, Any]]
    reused: int  # runs found finished from an earlier session
    execute_seconds: float
    compute_seconds: list[float]
    encode_seconds: list[float]
    workers: int  # local processes used (0 on Dask)

    @property
    def n_failed(self) -> int:
        """Number of distinct runs that failed."""
        return len(self.failures)


def _run_plan(store: ResultStore, plan: list[PlannedRun], payloads: Mapping[str, _Prepared],
              workers: int, scheduler: str | None, progress: ProgressCallback | None,
              cancel: threading.Event | None) -> RunReport:
    """Execute every planned run not finished yet; record results and failures."""
    unique: dict[str, PlannedRun] = {}
    for run in plan:
        unique.setdefault(run.run_id, run)
    finished = {rid for rid in unique if store.has(rid)}
    reused = len(finished)
    todo = [RunTask(rid, payloads[run.scenario_hash].payload, run.scenario_hash, run.seed)
            for rid, run in unique.items() if rid not in finished]
    failures: dict[str, dict[str, Any]] = {}
    labels: dict[str, list[str]] = {}
    for run in plan:
        labels.setdefault(run.run_id, []).append(run.scenario)
    store.manifest["runs"] = [
        {"id": r.run_id, "scenario": r.scenario, "point": r.point, "replicate": r.replicate,
         "seed": r.seed, **({"overrides": payloads[r.scenario_hash].overrides}
                            if payloads[r.scenario_hash].overrides else {})} for r in plan]
    store.manifest["failures"] = {}
    store.manifest["status"] = {"state": "running", "planned": len(unique),
                                "finished": reused, "failed": 0}
    store.write_manifest()
    total = len(unique)
    if progress is not None:
        progress(reused, 0, total)
    compute, encode = [], []
    started = time.perf_counter()
    state = "interrupted"
    try:
        with contextlib.closing(_execute(todo, workers, scheduler, cancel)) as outcomes:
            for outcome in outcomes:
                run = unique[outcome.run_id]
                if outcome.data is not None:
                    store.save(outcome.run_id, outcome.data)
                    finished.add(outcome.run_id)
                    compute.append(outcome.compute_seconds)
                    encode.append(outcome.encode_seconds)
                else:
                    failures[outcome.run_id] = {
                        "scenario": labels[outcome.run_id], "seed": run.seed,
                        "point": run.point, "error": outcome.error,
                        "traceback": outcome.traceback}
                    store.manifest["failures"] = failures
                    store.manifest["status"].update(finished=len(finished), failed=len(failures))
                    store.write_manifest()
                if progress is not None:
                    progress(len(finished) + len(failures), len(failures), total)
        state = "failed" if failures else "complete"
    finally:
        store.manifest["failures"] = failures
        store.manifest["status"] = {"state": state, "planned": total, "finished": len(finished),
                                    "failed": len(failures)}
        store.write_manifest()
    used = 0 if scheduler else (1 if workers <= 1 or len(todo) <= 1 else min(workers, len(todo)))
    return RunReport(plan, finished, failures, reused, time.perf_counter() - started, compute,
                     encode, used)


# --------------------------------------------------------------------------------------------
# Analysis: per-run outcomes, quantile bands, paired statistics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Series:
    """A banded series: a level, a complement (1 - x) or a cumulative sum of raw columns."""

    name: str
    sources: tuple[str, ...]
    cumulative: bool = False
    complement: bool = False


_VICTIM_GROUPS = {"state": "state_forces", "militia": "state_forces", "russian": "russians",
                  "jihadist": "jihadists", "separatist": "separatists"}


def band_series(scenario: Scenario, columns: Sequence[str]) -> list[_Series]:
    """The series banded for a scenario's runs, derived from the raw time-series columns.

    Levels (control shares, displaced, residents, recruited, personnel, credibility, coups) are
    kept as they are; `territory_outside_state` and `population_outside_state` are 1 - the
    state's share; daily flows (`killed_*`, `wounded_*`) become cumulative sums from the start
    date, prefixed `cum_`; `cum_victims_<group>` sums fatalities by kind of victim
    (civilians, state_forces incl. militia, russians, jihadists, separatists).
    """
    out: list[_Series] = []
    for col in columns:
        if col in ("date", "country"):
            continue
        if col.startswith(("killed_", "wounded_")):
            out.append(_Series(f"cum_{col}", (col,), cumulative=True))
        else:
            out.append(_Series(col, (col,)))
        if col in ("territory_state", "population_state"):
            kind = col.removesuffix("_state")
            out.append(_Series(f"{kind}_outside_state", (col,), complement=True))
    out.append(_Series("cum_victims_civilians", ("killed_civilians",), cumulative=True))
    groups: dict[str, list[str]] = {}
    for fid, faction in scenario.factions.items():
        groups.setdefault(_VICTIM_GROUPS[faction.kind], []).append(f"killed_{fid}")
    for group in dict.fromkeys(_VICTIM_GROUPS.values()):
        sources = tuple(c for c in groups.get(group, []) if c in columns)
        if sources:
            out.append(_Series(f"cum_victims_{group}", sources, cumulative=True))
    return out


def _stack(store: ResultStore, run_ids: Sequence[str], series: Sequence[_Series],
           n_countries: int) -> np.ndarray:
    """Derived series of many runs as one array (runs, rows, series)."""
    import pyarrow.parquet as pq

    sources = list(dict.fromkeys(s for item in series for s in item.sources))
    where = {name: i for i, name in enumerate(sources)}
    raw: np.ndarray | None = None
    for r, run_id in enumerate(run_ids):
        table = pq.read_table(store.source(run_id), columns=sources)
        block = np.column_stack([table.column(c).to_numpy().astype(np.float64)
                                 for c in sources])
        if raw is None:
            raw = np.empty((len(run_ids), *block.shape))
        raw[r] = block
    assert raw is not None
    runs, rows, _ = raw.shape
    out = np.empty((runs, rows, len(series)))
    for k, item in enumerate(series):
        values = raw[:, :, [where[s] for s in item.sources]].sum(axis=2)
        if item.complement:
            values = 1.0 - values
        if item.cumulative:
            values = values.reshape(runs, rows // n_countries, n_countries).cumsum(axis=1)
            values = values.reshape(runs, rows)
        out[:, :, k] = values
    return out


def _index(store: ResultStore, run_id: str) -> pd.DataFrame:
    frame = store.read(run_id, ["date", "country"])
    countries = frame["country"].to_numpy()
    n = len(COUNTRIES)
    if len(frame) % n or not (countries.reshape(-1, n) == countries[:n]).all():
        raise ExperimentError(f"run {run_id}: rows are not ordered by date, then country")
    return frame


def _chunks(series: list[_Series], runs: int, rows: int) -> Iterator[list[_Series]]:
    per_series = max(runs * rows * 8 * 3, 1)  # raw sources, derived values, headroom
    size = max(1, BAND_MEMORY_BYTES // per_series)
    for start in range(0, len(series), size):
        yield series[start:start + size]


def _quantile_frame(index: pd.DataFrame, names: list[str], values: np.ndarray) -> pd.DataFrame:
    """Quantiles over runs (axis 0) as a long-by-quantile frame."""
    q = np.quantile(values, QUANTILES, axis=0)  # (Q, rows, series)
    n_q, rows = len(QUANTILES), values.shape[1]
    flat = q.transpose(1, 0, 2).reshape(rows * n_q, len(names))
    frame = pd.DataFrame(flat, columns=names)
    frame.insert(0, "quantile", np.tile(np.asarray(QUANTILES), rows))
    frame.insert(0, "country", np.repeat(index["country"].to_numpy(), n_q))
    frame.insert(0, "date", np.repeat(index["date"].to_numpy(), n_q))
    return frame


def _bands(store: ResultStore, scenario: Scenario, run_ids: Sequence[str],
           paired: Mapping[str, tuple[Scenario, list[str], list[str]]] | None = None,
           ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Quantile bands of one scenario's runs, and of paired differences (other - this).

    `paired` maps a label to (other scenario, this scenario's run ids, the other's run ids),
    the two id lists aligned seed by seed.
    """
    index = _index(store, run_ids[0])
    columns = store.columns(run_ids[0])
    position = {rid: i for i, rid in enumerate(run_ids)}
    series = band_series(scenario, columns)
    rows = len(index)
    parts: list[pd.DataFrame] = []
    diff_parts: dict[str, list[pd.DataFrame]] = {label: [] for label in paired or {}}
    for chunk in _chunks(series, len(run_ids), rows):
        values = _stack(store, run_ids, chunk, len(COUNTRIES))
        parts.append(_quantile_frame(index, [s.name for s in chunk], values))
        for label, (other, mine, theirs) in (paired or {}).items():
            if not mine:
                continue
            names = {s.name: s for s in band_series(other, store.columns(theirs[0]))}
            keep = [k for k, s in enumerate(chunk) if names.get(s.name) == s]
            if not keep:
                continue
            common = [chunk[k] for k in keep]
            a = values[[position[rid] for rid in mine]][:, :, keep]
            b = _stack(store, theirs, common, len(COUNTRIES))
            diff_parts[label].append(_quantile_frame(index, [s.name for s in common], b - a))
    bands = _join_parts(parts)
    return bands, {label: _join_parts(p) for label, p in diff_parts.items() if p}


def _join_parts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    keys = ["date", "country", "quantile"]
    out = parts[0]
    for part in parts[1:]:
        out = pd.concat([out, part.drop(columns=keys)], axis=1)
    return out


def _outcomes(store: ResultStore, scenario: Scenario, run_ids: Sequence[str]) -> np.ndarray:
    """Headline outcomes of runs, (runs, outcomes)."""
    columns = _outcome_columns(scenario)
    out = np.empty((len(run_ids), len(HEADLINE_OUTCOMES)))
    for r, run_id in enumerate(run_ids):
        values = headline_outcomes(scenario, store.read(run_id, columns))
        out[r] = [values[name] for name in HEADLINE_OUTCOMES]
    return out


def median_interval(differences: np.ndarray, level: float = INTERVAL
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Distribution-free confidence interval of the median, per column (order statistics).

    With n paired differences, [d_(j), d_(n+1-j)] covers the median with probability
    1 - 2 P(Binomial(n, 1/2) <= j - 1); j is the largest index giving at least `level`.
    Returns NaNs when n is too small for that level (n < 5 at 90%).
    """
    from scipy.stats import binom

    d = np.sort(np.atleast_2d(differences.T).T, axis=0)
    n = d.shape[0]
    alpha = (1.0 - level) / 2.0
    j = int(binom.ppf(alpha, n, 0.5)) if n else 0  # candidate; step back until it covers
    while j >= 1 and binom.cdf(j - 1, n, 0.5) > alpha:
        j -= 1
    if j < 1:
        nan = np.full(d.shape[1], np.nan)
        return nan, nan.copy()
    return d[j - 1], d[n - j]


def paired_table(label: str, base: np.ndarray, other: np.ndarray) -> pd.DataFrame:
    """Per headline outcome: medians, the median paired difference, its interval, sign share.

    Args:
        label: the counterfactual's label.
        base: outcomes (runs, outcomes) of the baseline.
        other: outcomes of the counterfactual, aligned with `base` seed by seed.
    """
    diff = other - base
    low, high = median_interval(diff)
    median = np.median(diff, axis=0)
    sign = np.sign(median)
    sign_share = (np.sign(diff) == sign).mean(axis=0)
    return pd.DataFrame({
        "counterfactual": label, "outcome": HEADLINE_OUTCOMES,
        "baseline_median": np.median(base, axis=0), "counterfactual_median": np.median(
            other, axis=0), "diff_median": median, "diff_low": low, "diff_high": high,
        "sign_share": sign_share, "runs": diff.shape[0]})


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class ExperimentResult:
    """What every experiment returns: per-run outcomes, failures and timings."""

    outcomes: pd.DataFrame  # one row per successful run: scenario, point, replicate, seed, ...
    failures: dict[str, dict[str, Any]]
    report: RunReport
    out: Path | None
    files: list[Path] = field(default_factory=list)

    @property
    def n_failed(self) -> int:
        """Number of runs that failed."""
        return len(self.failures)

    @property
    def timings(self) -> dict[str, float]:
        """Wall time of the execution phase, median run compute time, overhead per run."""
        r = self.report
        runs = len(r.compute_seconds)
        if not runs:
            return {"execute_seconds": r.execute_seconds, "runs_executed": 0}
        mean = float(np.mean(r.compute_seconds))
        out = {"execute_seconds": r.execute_seconds, "runs_executed": runs,
               "run_seconds_median": float(np.median(r.compute_seconds)),
               "run_seconds_mean": mean,
               "encode_seconds_median": float(np.median(r.encode_seconds))}
        if r.workers:  # local processes: their busy time is known (not so on Dask)
            out["overhead_per_run_share"] = (r.execute_seconds * r.workers / runs - mean) / mean
        return out


@dataclass(slots=True)
class EnsembleResult(ExperimentResult):
    """An ensemble: quantile bands of every series, and the spread of the headline outcomes.

    `bands` is long by quantile: columns `date`, `country`, `quantile` (0.05, 0.25, 0.5, 0.75,
    0.95), then one column per series (see `band_series`), rows sorted by date, country and
    quantile. `summary` has one row per headline outcome and one column per quantile.
    """

    bands: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(slots=True)
class ComparisonResult(ExperimentResult):
    """A paired comparison of a baseline with counterfactuals.

    `table`: one row per (counterfactual, headline outcome) with columns counterfactual,
    outcome, baseline_median, counterfactual_median, diff_median (median over seeds of
    counterfactual - baseline), diff_low and diff_high (90% distribution-free confidence
    interval of that median, NaN with fewer than 5 pairs), sign_share (share of seeds whose
    difference has the sign of diff_median; of zero differences when it is 0) and runs (pairs).

    `bands`: scenario label -> quantile bands as in `EnsembleResult.bands` (long by quantile:
    date, country, quantile, then one column per series). `difference_bands`: counterfactual
    label -> the same for paired differences (counterfactual - baseline, seed by seed).
    """

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    bands: dict[str, pd.DataFrame] = field(default_factory=dict)
    difference_bands: dict[str, pd.DataFrame] = field(default_factory=dict)
    baseline: str = ""
    counterfactuals: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SweepResult(ExperimentResult):
    """A sweep: the design's points, outcomes per point (mean over replicates), sensitivity.

    `points`: one row per point (`point` and one column per parameter). `point_outcomes`: the
    mean of each headline outcome over the point's successful replicates. `sensitivity` (Sobol
    and Morris designs): one row per (outcome, parameter) with S1, S1_conf, ST, ST_conf (Sobol)
    or mu, mu_star, mu_star_conf, sigma (Morris); `*_conf` are half-widths of 95% intervals.
    """

    design: str = ""
    parameters: dict[str, tuple[float, float]] = field(default_factory=dict)
    points: pd.DataFrame = field(default_factory=pd.DataFrame)
    point_outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame | None = None


def _outcome_frame(store: ResultStore, scenario_of: Mapping[str, Scenario],
                   runs: Sequence[PlannedRun], finished: set[str]) -> pd.DataFrame:
    ok = [r for r in runs if r.run_id in finished]
    values = np.empty((len(ok), len(HEADLINE_OUTCOMES)))
    by_hash: dict[str, list[int]] = {}
    for i, run in enumerate(ok):
        by_hash.setdefault(run.scenario_hash, []).append(i)
    for scenario_hash, rows in by_hash.items():
        values[rows] = _outcomes(store, scenario_of[scenario_hash], [ok[i].run_id for i in rows])
    frame = pd.DataFrame(values, columns=HEADLINE_OUTCOMES)
    meta = pd.DataFrame({"scenario": [r.scenario for r in ok], "point": [r.point for r in ok],
                         "replicate": [r.replicate for r in ok], "seed": [r.seed for r in ok],
                         "run_id": [r.run_id for r in ok]})
    return pd.concat([meta, frame], axis=1)


def _summary(outcomes: pd.DataFrame) -> pd.DataFrame:
    values = outcomes[HEADLINE_OUTCOMES].to_numpy()
    q = np.quantile(values, QUANTILES, axis=0) if len(values) else np.full(
        (len(QUANTILES), len(HEADLINE_OUTCOMES)), np.nan)
    frame = pd.DataFrame(q.T, columns=[f"q{round(x * 100):02d}" for x in QUANTILES])
    frame.insert(0, "outcome", HEADLINE_OUTCOMES)
    return frame


def _check_common(runs: int, workers: int, root_seed: int | None,
                  scheduler: str | None) -> None:
    if scheduler is not None and not re.fullmatch(r"(tcp|tls|ucx|ws|wss)://\S+", scheduler):
        raise ExperimentError(f"--scheduler: expected an address like tcp://HOST:PORT, got "
                              f"{scheduler!r}")
    if runs < 1:
        raise ExperimentError(f"--runs must be at least 1, got {runs}")
    if workers < 1:
        raise ExperimentError(f"--workers must be at least 1, got {workers}")
    if root_seed is not None and not 0 <= root_seed < 2**63:
        raise ExperimentError(f"--seed must be between 0 and 2**63 - 1, got {root_seed}")


# --------------------------------------------------------------------------------------------
# Public experiments
# --------------------------------------------------------------------------------------------


def ensemble(scenario: ScenarioLike, runs: int, root_seed: int | None = None, workers: int = 1,
             out: Path | None = None, scheduler: str | None = None,
             progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
             overrides: Mapping[str, Any] | None = None, command: str | None = None,
             plots: bool = True) -> EnsembleResult:
    """Run a scenario `runs` times with spawned seeds; quantile bands of every series.

    Args:
        scenario: a scenario file, or a validated `Scenario`.
        runs: number of replications.
        root_seed: root of the spawned seeds (default: the scenario's `seed`).
        workers: local worker processes (1 runs in this process).
        out: results folder (resumable), or None to work in memory.
        scheduler: a Dask scheduler address (`tcp://host:port`) instead of local workers.
        progress: called as `progress(done, failed, total)` as runs finish.
        cancel: set it to stop; finished runs are kept and `ExperimentCancelled` is raised.
        overrides: dotted parameter overrides applied to the scenario.
        command: the command line, recorded in the manifest.
        plots: write band plots into `out`.

    Raises:
        ScenarioError, ExperimentError: bad input, before any run starts.
    """
    _check_common(runs, workers, root_seed, scheduler)
    prepared = _prepare(scenario, overrides)
    root = prepared.scenario.seed if root_seed is None else root_seed
    seeds = spawn_seeds(root, runs)
    plan = [PlannedRun(run_id_for(prepared.hash, s), prepared.label, prepared.hash, 0, i, s)
            for i, s in enumerate(seeds)]
    store = ResultStore(out)
    store.open(_base_manifest("ensemble", {prepared.label: prepared}, root, None, command))
    report = _run_plan(store, plan, {prepared.hash: prepared}, workers, scheduler, progress,
                       cancel)
    ok = [r.run_id for r in plan if r.run_id in report.finished]
    outcomes = _outcome_frame(store, {prepared.hash: prepared.scenario}, plan, report.finished)
    result = EnsembleResult(outcomes, report.failures, report, out)
    if ok:
        result.bands, _ = _bands(store, prepared.scenario, ok)
        result.summary = _summary(outcomes)
    if out is not None and ok:
        result.files += _write_frames(out, {"outcomes.csv": outcomes,
                                            "outcome_quantiles.csv": result.summary})
        result.files.append(_write_parquet(out / "bands.parquet", result.bands))
        if plots:
            from sim.experiment_plots import ensemble_figures

            result.files += ensemble_figures(result.bands, prepared.scenario,
                                             out / "plots", title=prepared.label)
    return result


def compare(baseline: ScenarioLike, counterfactuals: Sequence[ScenarioLike], runs: int,
            root_seed: int | None = None, workers: int = 1, out: Path | None = None,
            scheduler: str | None = None, progress: ProgressCallback | None = None,
            cancel: threading.Event | None = None, command: str | None = None,
            plots: bool = True) -> ComparisonResult:
    """Paired comparison: the baseline and each counterfactual run with the same seeds.

    Args:
        baseline: the baseline scenario (file or `Scenario`).
        counterfactuals: one or more counterfactual scenarios.
        runs: seeds per scenario.
        root_seed: root of the spawned seeds (default: the baseline's `seed`).
        workers: local worker processes (1 runs in this process).
        out: results folder (resumable), or None to work in memory.
        scheduler: a Dask scheduler address (`tcp://host:port`) instead of local workers.
        progress: called as `progress(done, failed, total)` as runs finish.
        cancel: set it to stop; finished runs are kept and `ExperimentCancelled` is raised.
        command: the command line, recorded in the manifest.
        plots: write plots into `out`.

    Returns:
        A `ComparisonResult`; see its docstring for the table and band layouts.
    """
    _check_common(runs, workers, root_seed, scheduler)
    if isinstance(counterfactuals, str | Path | Scenario):
        counterfactuals = [counterfactuals]
    if not counterfactuals:
        raise ExperimentError("compare needs at least one counterfactual scenario")
    sources = [baseline, *counterfactuals]
    prepared_list = [_prepare(s) for s in sources]
    labels = _unique_labels([p.label for p in prepared_list])
    prepared = dict(zip(labels, prepared_list, strict=True))
    base_label, cf_labels = labels[0], labels[1:]
    base = prepared[base_label]
    for label in cf_labels:
        if prepared[label].scenario.start != base.scenario.start or \
                prepared[label].scenario.end != base.scenario.end:
            raise ExperimentError(f"counterfactual '{label}' runs {prepared[label].scenario.start}"
                                  f" to {prepared[label].scenario.end}, the baseline "
                                  f"{base.scenario.start} to {base.scenario.end}; they must match")
    root = base.scenario.seed if root_seed is None else root_seed
    seeds = spawn_seeds(root, runs)
    plan = [PlannedRun(run_id_for(p.hash, s), label, p.hash, 0, i, s)
            for label, p in prepared.items() for i, s in enumerate(seeds)]
    store = ResultStore(out)
    store.open(_base_manifest("compare", prepared, root, None, command))
    payloads = {p.hash: p for p in prepared.values()}
    report = _run_plan(store, plan, payloads, workers, scheduler, progress, cancel)
    scen_of = {p.hash: p.scenario for p in prepared.values()}
    outcomes = _outcome_frame(store, scen_of, plan, report.finished)
    result = ComparisonResult(outcomes, report.failures, report, out, baseline=base_label,
                              counterfactuals=list(cf_labels))
    ids = {label: [run_id_for(p.hash, s) for s in seeds] for label, p in prepared.items()}
    done = report.finished
    tables, paired = [], {}
    by_id = outcomes.drop_duplicates("run_id").set_index("run_id")[HEADLINE_OUTCOMES]
    for label in cf_labels:
        pairs = [i for i in range(runs) if ids[base_label][i] in done and ids[label][i] in done]
        a = by_id.loc[[ids[base_label][i] for i in pairs]].to_numpy()
        b = by_id.loc[[ids[label][i] for i in pairs]].to_numpy()
        if pairs:
            tables.append(paired_table(label, a, b))
        paired[label] = (prepared[label].scenario, [ids[base_label][i] for i in pairs],
                         [ids[label][i] for i in pairs])
    if tables:
        result.table = pd.concat(tables, ignore_index=True)
    base_ok = [rid for rid in ids[base_label] if rid in done]
    if base_ok:
        result.bands[base_label], result.difference_bands = _bands(
            store, base.scenario, base_ok, paired)
    for label in cf_labels:
        cf_ok = [rid for rid in ids[label] if rid in done]
        if cf_ok:
            result.bands[label], _ = _bands(store, prepared[label].scenario, cf_ok)
    if out is not None and result.bands:
        result.files += _write_frames(out, {"outcomes.csv": outcomes,
                                            "comparison.csv": result.table})
        (out / "comparison.md").write_text(comparison_markdown(result), encoding="utf-8")
        result.files.append(out / "comparison.md")
        result.files.append(_write_parquet(out / "bands.parquet", _labelled(result.bands)))
        if result.difference_bands:
            result.files.append(_write_parquet(out / "difference_bands.parquet",
                                               _labelled(result.difference_bands)))
        if plots:
            from sim.experiment_plots import comparison_figures

            result.files += comparison_figures(result, out / "plots")
    return result


def _labelled(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([f.assign(scenario=label).set_index("scenario").reset_index()
                      for label, f in frames.items()], ignore_index=True)


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------


def parse_parameter_ranges(specs: Sequence[str], data: Mapping[str, Any]
                           ) -> dict[str, tuple[float, float]]:
    """Parse `NAME=LOW:HIGH` specs and check them against the scenario's tunable parameters.

    Raises:
        ScenarioError: an unknown name, a malformed or empty range, or one outside the
            parameter's bounds (one line each).
    """
    known = tunable_parameters(data)
    ranges: dict[str, tuple[float, float]] = {}
    for spec in specs:
        name, sep, bounds = spec.partition("=")
        low_text, sep2, high_text = bounds.partition(":")
        name = name.strip()
        if not sep or not sep2 or not name:
            raise ScenarioError(f"--param {spec!r}: expected NAME=LOW:HIGH, e.g. "
                                "parameters.combat.engage_probability=0.1:0.4")
        check_parameter_path(name, data, origin="--param")
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            raise ScenarioError(f"--param {spec!r}: LOW and HIGH must be numbers") from None
        if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            raise ScenarioError(f"--param {spec!r}: LOW must be below HIGH")
        lo, hi = known[name]["low"], known[name]["high"]
        if (lo is not None and low < lo) or (hi is not None and high > hi):
            raise ScenarioError(f"--param {spec!r}: outside the parameter's bounds "
                                f"[{lo}, {hi}]")
        if name in ranges:
            raise ScenarioError(f"--param {name}: given twice")
        ranges[name] = (low, high)
    if not ranges:
        raise ScenarioError("a sweep needs at least one --param NAME=LOW:HIGH")
    return ranges


def _problem(ranges: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    return {"num_vars": len(ranges), "names": list(ranges),
            "bounds": [list(b) for b in ranges.values()]}


def design_points(ranges: Mapping[str, tuple[float, float]], design: Design, samples: int,
                  seed: int) -> np.ndarray:
    """The points (n, parameters) of a design.

    - grid: `samples` evenly spaced levels per parameter, every combination (samples^k);
    - lhs: `samples` points of a Latin hypercube (`scipy.stats.qmc.LatinHypercube`);
    - sobol: Saltelli's scheme for first and total-order indices (`SALib.sample.sobol`),
      samples * (k + 2) points; `samples` must be a power of 2;
    - morris: `samples` trajectories (`SALib.sample.morris`, 4 levels), samples * (k + 1).
    """
    if design not in DESIGNS:
        raise ExperimentError(f"unknown design '{design}'; allowed: {', '.join(DESIGNS)}")
    k = len(ranges)
    low = np.array([b[0] for b in ranges.values()])
    high = np.array([b[1] for b in ranges.values()])
    if design == "grid":
        if samples < 2:
            raise ExperimentError("a grid needs --samples >= 2 (levels per parameter)")
        if samples**k > MAX_POINTS:
            raise ExperimentError(f"a grid of {samples}^{k} = {samples**k:,} points is too large "
                                  f"(at most {MAX_POINTS:,}); use fewer levels or --design lhs")
        axes = [np.linspace(lo, hi, samples) for lo, hi in zip(low, high, strict=True)]
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, k)
    if design == "lhs":
        from scipy.stats import qmc

        if samples < 1:
            raise ExperimentError(f"--design lhs needs --samples >= 1, got {samples}")
        unit = qmc.LatinHypercube(d=k, rng=np.random.default_rng(seed)).random(samples)
        return qmc.scale(unit, low, high)
    problem = _problem(ranges)
    if design == "sobol":
        if samples < 2 or samples & (samples - 1):
            raise ExperimentError(f"--design sobol needs --samples a power of 2, got {samples}")
        from SALib.sample import sobol as sobol_sample

        return sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    if samples < 2:
        raise ExperimentError("--design morris needs --samples >= 2 (trajectories)")
    from SALib.sample import morris as morris_sample

    return morris_sample.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)


def sensitivity_indices(ranges: Mapping[str, tuple[float, float]], design: Design,
                        points: np.ndarray, outcomes: pd.DataFrame, seed: int
                        ) -> pd.DataFrame:
    """Sobol (S1, ST) or Morris (mu, mu*, sigma) indices of each headline outcome.

    Args:
        ranges: the swept parameters and their ranges.
        design: "sobol" or "morris".
        points: the design's points, in order.
        outcomes: one row per point (in order) with the headline outcomes.
        seed: seed of the bootstrap behind the confidence intervals.

    An outcome that does not vary (or misses values) gets NaN indices.
    """
    import warnings

    problem = _problem(ranges)
    rows = []
    for name in HEADLINE_OUTCOMES:
        y = outcomes[name].to_numpy(dtype=float)
        usable = bool(np.isfinite(y).all() and np.ptp(y) > 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if design == "sobol":
                from SALib.analyze import sobol as sobol_analyze

                keys = ("S1", "S1_conf", "ST", "ST_conf")
                res = sobol_analyze.analyze(
                    problem, y, calc_second_order=False, conf_level=SENSITIVITY_CONFIDENCE,
                    seed=seed) if usable else None
            else:
                from SALib.analyze import morris as morris_analyze

                keys = ("mu", "mu_star", "mu_star_conf", "sigma")
                res = morris_analyze.analyze(
                    problem, points, y, conf_level=SENSITIVITY_CONFIDENCE,
                    num_levels=MORRIS_LEVELS, seed=seed) if usable else None
        for i, param in enumerate(problem["names"]):
            row: dict[str, Any] = {"outcome": name, "parameter": param}
            for key in keys:
                row[key] = float(np.asarray(res[key])[i]) if res is not None else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def sweep(scenario: ScenarioLike, params: Mapping[str, tuple[float, float]] | Sequence[str],
          design: Design = "lhs", samples: int = 16, runs_per_point: int = 1,
          root_seed: int | None = None, workers: int = 1, out: Path | None = None,
          scheduler: str | None = None, progress: ProgressCallback | None = None,
          cancel: threading.Event | None = None, command: str | None = None,
          plots: bool = True) -> SweepResult:
    """Vary parameters over a design; outcomes per point and, for Sobol/Morris, sensitivity.

    Every point is run with the same `runs_per_point` seeds (common random numbers), and its
    outcome is the mean over them.

    Args:
        scenario: the scenario file (or `Scenario`) whose parameters are varied.
        params: name -> (low, high), or `NAME=LOW:HIGH` strings; names are dotted paths of
            `sim.scenario.tunable_parameters` and ranges must lie within their bounds.
        design: "grid", "lhs", "sobol" or "morris" (see `design_points` for `samples`).
        samples: design size (see `design_points`).
        runs_per_point: replications (seeds) per point.
        root_seed: root of the spawned seeds and of the design (default: the scenario's seed).
        workers: local worker processes (1 runs in this process).
        out: results folder (resumable), or None to work in memory.
        scheduler: a Dask scheduler address (`tcp://host:port`) instead of local workers.
        progress: called as `progress(done, failed, total)` as runs finish.
        cancel: set it to stop; finished runs are kept and `ExperimentCancelled` is raised.
        command: the command line, recorded in the manifest.
        plots: write plots into `out`.

    Raises:
        ScenarioError, ExperimentError: bad names, ranges or sizes, before any run starts.
    """
    _check_common(runs_per_point, workers, root_seed, scheduler)
    base = _prepare(scenario)
    if isinstance(params, Mapping):
        specs = [f"{k}={lo}:{hi}" for k, (lo, hi) in params.items()]
    else:
        specs = list(params)
    ranges = parse_parameter_ranges(specs, base.payload)
    root = base.scenario.seed if root_seed is None else root_seed
    points = design_points(ranges, design, samples, root)
    names = list(ranges)
    prepared: list[_Prepared] = []
    for row in points:
        overrides = {n: float(v) for n, v in zip(names, row, strict=True)}
        data = apply_overrides(base.payload, overrides, origin="--param")
        scen = validate_data(data, Path(base.path or base.label))
        prepared.append(_Prepared(base.label, base.path, scen, scen.model_dump(mode="json"),
                                  scen.content_hash(), overrides))
    seeds = spawn_seeds(root, runs_per_point)
    plan = [PlannedRun(run_id_for(p.hash, s), base.label, p.hash, i, j, s)
            for i, p in enumerate(prepared) for j, s in enumerate(seeds)]
    design_info = {"design": design, "samples": samples, "parameters": {
        n: list(r) for n, r in ranges.items()}, "points": points.tolist()}
    store = ResultStore(out)
    store.open(_base_manifest("sweep", {base.label: base}, root, design_info, command))
    payloads = {p.hash: p for p in prepared}
    report = _run_plan(store, plan, payloads, workers, scheduler, progress, cancel)
    outcomes = _outcome_frame(store, {p.hash: p.scenario for p in prepared}, plan,
                              report.finished)
    points_frame = pd.DataFrame(points, columns=names)
    points_frame.insert(0, "point", np.arange(len(points)))
    means = outcomes.groupby("point")[HEADLINE_OUTCOMES].mean().reindex(
        np.arange(len(points)))
    point_outcomes = pd.concat([points_frame, means.reset_index(drop=True)], axis=1)
    result = SweepResult(outcomes, report.failures, report, out, design=design,
                         parameters=ranges, points=points_frame, point_outcomes=point_outcomes)
    if design in ("sobol", "morris"):
        result.sensitivity = sensitivity_indices(ranges, design, points, point_outcomes, root)
    if out is not None:
        frames = {"points.csv": points_frame, "outcomes.csv": outcomes,
                  "point_outcomes.csv": point_outcomes}
        if result.sensitivity is not None:
            frames["sensitivity.csv"] = result.sensitivity
            (out / "sensitivity.md").write_text(markdown_table(result.sensitivity),
                                                encoding="utf-8")
            result.files.append(out / "sensitivity.md")
        result.files += _write_frames(out, frames)
        if plots:
            from sim.experiment_plots import sweep_figures

            result.files += sweep_figures(result, out / "plots")
    return result


# --------------------------------------------------------------------------------------------
# Writing tables
# --------------------------------------------------------------------------------------------


def _write_frames(out: Path, frames: Mapping[str, pd.DataFrame]) -> list[Path]:
    paths = []
    for name, frame in frames.items():
        path = out / name
        frame.to_csv(path, index=False, float_format="%.10g")
        paths.append(path)
    return paths


def _write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_parquet(path, index=False, compression="zstd")
    return path


def format_value(outcome: str, value: float, signed: bool = False) -> str:
    """A headline outcome's value for people: shares in %, counts with separators."""
    if value is None or not np.isfinite(value):
        return "n/a"
    sign = "+" if signed and value > 0 else ""
    if outcome.startswith(("territory_", "population_")):
        unit = " pp" if signed else "%"
        return f"{sign}{100 * value:.1f}{unit}"
    if abs(value) >= 100 or abs(value - round(value)) < 1e-9:
        return f"{sign}{value:,.0f}"
    return f"{sign}{value:,.1f}"


def comparison_rows(result: ComparisonResult) -> dict[str, list[list[str]]]:
    """The comparison table formatted for people, per counterfactual."""
    out: dict[str, list[list[str]]] = {}
    for label, table in result.table.groupby("counterfactual", sort=False):
        rows = []
        for rec in table.itertuples(index=False):
            name = str(rec.outcome)
            interval = (f"[{format_value(name, rec.diff_low, True)}, "
                        f"{format_value(name, rec.diff_high, True)}]")
            rows.append([name, format_value(name, rec.baseline_median),
                         format_value(name, rec.counterfactual_median),
                         format_value(name, rec.diff_median, True), interval,
                         f"{rec.sign_share:.2f}"])
        out[str(label)] = rows
    return out


COMPARISON_HEADER = ["outcome", "baseline", "counterfactual", "difference", "90% interval",
                     "sign holds"]


def comparison_markdown(result: ComparisonResult) -> str:
    """The comparison as Markdown: one table per counterfactual."""
    parts = []
    for label, rows in comparison_rows(result).items():
        n = int(result.table.loc[result.table["counterfactual"] == label, "runs"].iloc[0])
        parts.append(f"## {label} vs {result.baseline} ({n} paired runs)\n")
        parts.append(_markdown(COMPARISON_HEADER, rows))
    notes = ("Medians over seeds; difference = median of paired differences (counterfactual - "
             "baseline, same seed); 90% interval = distribution-free confidence interval of "
             "that median; sign holds = share of seeds whose difference has its sign.\n")
    return "\n".join(parts) + "\n" + notes


def markdown_table(frame: pd.DataFrame, digits: int = 4) -> str:
    """A DataFrame as a Markdown table (numbers with `digits` significant digits)."""
    rows = [[f"{v:.{digits}g}" if isinstance(v, float) else str(v) for v in rec]
            for rec in frame.itertuples(index=False)]
    return _markdown([str(c) for c in frame.columns], rows)


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def text_table(header: list[str], rows: list[list[str]], left: int = 1) -> str:
    """A plain-text table for the terminal: the first `left` columns left-aligned."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(f"{c:<{w}}" if i < left else f"{c:>{w}}"
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(header), *(line(r) for r in rows)])
