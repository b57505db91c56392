"""The results store: an experiment's finished runs and its manifest, on disk or in memory.

With an output folder, every finished run is one Parquet file
`runs/<scenario hash>-<seed>.parquet` (its daily time series, written to a temporary name and
renamed), with its fatalities per PRIO-GRID cell-month in `runs/cells/` under the same name
(written first, so a run file always has its cell-months), and `manifest.json` records the
scenario hashes, overrides, seeds, posterior draws, package version, command and failures.
Re-running the same command in the same folder runs only what is missing; a folder holding
another experiment (changed scenario, design, root seed, posterior or version) is refused. Run
files found on resuming are checked (readable Parquet with the expected rows, and a cell-month
file); damaged ones are moved to `runs/bad/` and run again. While an experiment writes into a
folder it holds an advisory lock on `out/.lock` (`fcntl.flock`), and a second writer is
refused with the first one's process id. Without a folder everything stays in memory (the
dashboard uses this).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.experiments.errors import ExperimentError
from sim.files import STALE_PATTERN, atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    from sim.experiments.prepared import PreparedScenario

MANIFEST = "manifest.json"
RUNS_DIR = "runs"
BAD_DIR = "bad"  # under runs/: damaged run files found on resuming
CELLS_DIR = "cells"  # under runs/: each run's fatalities per PRIO-GRID cell-month
LOCK = ".lock"
MANIFEST_FORMAT = 1
_IDENTITY = ("format", "kind", "package_version", "model_code", "root_seed", "scenarios",
             "design")
_CHECKED_FIRST = ("package_version", "model_code", "kind", "scenarios")  # with their own messages


def saved_runs(out: Path) -> list[Path]:
    """The finished runs' files in the experiment folder `out` (none without a runs folder)."""
    runs = Path(out) / RUNS_DIR
    return sorted(runs.glob("*.parquet")) if runs.is_dir() else []


class ResultStore:
    """Finished runs as Parquet files under `out/runs/` plus `out/manifest.json`, or memory.

    Args:
        out: the experiment's folder, or None to keep everything in memory.
    """

    def __init__(self, out: Path | None) -> None:
        self.out = out
        self._memory: dict[str, bytes] = {}
        self._memory_cells: dict[str, bytes] = {}
        self.manifest: dict[str, Any] = {}
        self._lock: int | None = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the folder's lock (taken by `open`)."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock)  # closing the descriptor releases the flock
            self._lock = None

    def _take_lock(self) -> None:
        """Lock the folder against a second writer (advisory, released when the process ends).

        Raises:
            ExperimentError: another process holds the lock; the message names its id.
        """
        import fcntl

        assert self.out is not None
        path = self.out / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise ExperimentError(f"{self.out}: cannot write in this folder: "
                                  f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                holder = os.read(fd, 32).decode("ascii", "replace").strip()
            except OSError:
                holder = ""
            os.close(fd)
            who = f"process {holder}" if holder.isdigit() else "another process"
            raise ExperimentError(f"{self.out}: in use by another sahel-sim command ({who}); "
                                  "wait for it to finish or use another --out folder") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock = fd

    @property
    def runs_dir(self) -> Path:
        """Folder of the run files."""
        assert self.out is not None
        return self.out / RUNS_DIR

    def path(self, run_id: str) -> Path:
        """File of a finished run."""
        return self.runs_dir / f"{run_id}.parquet"

    def cells_path(self, run_id: str) -> Path:
        """File of a finished run's fatalities per PRIO-GRID cell-month."""
        return self.runs_dir / CELLS_DIR / f"{run_id}.parquet"

    def open(self, manifest: dict[str, Any]) -> None:
        """Start (or resume) an experiment; refuse a folder holding a different one.

        Raises:
            ExperimentError: if the folder's manifest names other scenarios, design, seed,
                package version or model code (`sim.code_digest`), or it holds results without
                a manifest.
        """
        self.manifest = manifest
        if self.out is None:
            return
        if self.out.exists() and not self.out.is_dir():
            raise ExperimentError(f"{self.out}: exists and is not a folder")
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExperimentError(f"{self.out}: cannot create the folder: "
                                  f"{exc.strerror or exc}") from None
        if self._lock is None:
            self._take_lock()
        try:
            self._open(manifest)
        except BaseException:
            self.close()
            raise

    def _open(self, manifest: dict[str, Any]) -> None:
        assert self.out is not None
        old_path = self.out / MANIFEST
        if old_path.exists():
            try:
                old = json.loads(old_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ExperimentError(f"{old_path}: unreadable manifest ({exc}); use another "
                                      "--out folder") from None
            _check_same_experiment(self.out, old, manifest)
            manifest["created"] = old.get("created", manifest["created"])
        elif saved_runs(self.out):
            raise ExperimentError(f"{self.out}: holds run files but no {MANIFEST}; use another "
                                  "--out folder")
        (self.runs_dir / CELLS_DIR).mkdir(parents=True, exist_ok=True)
        for folder in (self.runs_dir, self.runs_dir / CELLS_DIR):
            for stale in folder.glob(STALE_PATTERN):
                stale.unlink(missing_ok=True)
        self.write_manifest()

    def has(self, run_id: str) -> bool:
        """True if the run has finished (in this or an earlier session)."""
        if self.out is None:
            return run_id in self._memory
        return self.path(run_id).exists()

    def check(self, run_id: str, rows: int) -> str | None:
        """Why a finished run's file is damaged (unreadable, not `rows` rows), or None."""
        if self.out is None:
            return None
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(self.path(run_id))
        except Exception as exc:  # pyarrow raises several kinds for damaged files
            reason = str(exc).splitlines()[0] if str(exc) else ""
            return f"unreadable: {type(exc).__name__}: {reason}"
        if table.num_rows != rows:
            return f"incomplete: {table.num_rows} rows, expected {rows}"
        try:
            pq.read_metadata(self.cells_path(run_id))
        except FileNotFoundError:
            return f"incomplete: no cell-month file {RUNS_DIR}/{CELLS_DIR}/{run_id}.parquet"
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else ""
            return f"cell-month file unreadable: {type(exc).__name__}: {reason}"
        return None

    def set_aside(self, run_id: str) -> Path:
        """Move a damaged run file to `runs/bad/` (never overwriting an earlier one).

        Its cell-month file stays: running the run again replaces it.
        """
        bad = self.runs_dir / BAD_DIR
        bad.mkdir(exist_ok=True)
        target = bad / self.path(run_id).name
        n = 1
        while target.exists():
            target = bad / f"{self.path(run_id).stem}.{n}.parquet"
            n += 1
        os.replace(self.path(run_id), target)
        return target

    def save(self, run_id: str, data: bytes, cells: bytes | None = None) -> None:
        """Keep a finished run: each file written to a temporary name, then renamed (atomic).

        The cell-month file is written first: the run file is what marks a run as finished.
        """
        if self.out is None:
            self._memory[run_id] = data
            if cells is not None:
                self._memory_cells[run_id] = cells
            return
        for final, content in ((self.cells_path(run_id), cells), (self.path(run_id), data)):
            if content is not None:
                atomic_write_bytes(final, content)

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

    def read_cells(self, run_id: str) -> pd.DataFrame:
        """A finished run's fatalities per PRIO-GRID cell-month (`SahelModel.cell_months`).

        Raises:
            FileNotFoundError: the run has no cell-month file.
        """
        import pyarrow.parquet as pq

        if self.out is None:
            if run_id not in self._memory_cells:
                raise FileNotFoundError(f"no cell-months kept for run {run_id}")
            return pq.read_table(io.BytesIO(self._memory_cells[run_id])).to_pandas()
        return pq.read_table(self.cells_path(run_id)).to_pandas()

    def columns(self, run_id: str) -> list[str]:
        """Column names of a finished run's time series."""
        import pyarrow.parquet as pq

        return list(pq.read_schema(self.source(run_id)).names)

    def write_manifest(self) -> None:
        """Write the manifest atomically (no-op in memory)."""
        if self.out is None:
            return
        self.manifest["updated"] = _now()
        atomic_write_text(self.out / MANIFEST,
                          json.dumps(self.manifest, indent=1, default=str) + "\n")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _check_same_experiment(out: Path, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    hint = "use another --out folder or delete this one"
    if old.get("package_version") != new["package_version"]:
        raise ExperimentError(
            f"{out}: made with sahel-sim {old.get('package_version')}, this is "
            f"{new['package_version']}; {hint}")
    if old.get("model_code") != new["model_code"]:
        made = str(old.get("model_code") or "not recorded")[:12]
        raise ExperimentError(f"{out}: made by other model code (sim package digest {made}, now "
                              f"{new['model_code'][:12]}); {hint}")
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
    before, now = old.get("posterior"), new.get("posterior")
    if (before or {}).get("sha256") != (now or {}).get("sha256"):
        raise ExperimentError(f"{out}: holds runs {_drawn_from(before)}, now "
                              f"{_drawn_from(now)}; {hint}")
    for key in _IDENTITY:
        if key not in _CHECKED_FIRST and old.get(key) != new[key]:
            raise ExperimentError(f"{out}: holds an experiment with another {key.replace('_', ' ')}"
                                  f" ({_short(old.get(key))}, now {_short(new[key])}); {hint}")


def _drawn_from(posterior: Mapping[str, Any] | None) -> str:
    if not posterior:
        return "with the scenarios' own parameters"
    return (f"with parameters drawn from the posterior {posterior.get('path')} "
            f"(sha256 {str(posterior.get('sha256'))[:12]})")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def base_manifest(kind: str, scenarios: Mapping[str, PreparedScenario], root_seed: int,
                  design: dict[str, Any] | None, command: str | None,
                  posterior: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new experiment's manifest: what identifies it (see `ResultStore.open`) and its origin.

    Args:
        kind: "ensemble", "compare" or "sweep".
        scenarios: label -> prepared scenario (its hash, file, name and overrides are kept).
        root_seed: the root of the spawned seeds.
        design: the sweep's design, or None.
        command: the command line, or None.
        posterior: the posterior the runs draw from (`Posterior.info()`), or None; recorded
            only when given, and a folder's runs are never resumed with another one.
    """
    from sim import __version__
    from sim.code_digest import code_digest

    manifest = {
        "format": MANIFEST_FORMAT,
        "kind": kind,
        "package_version": __version__,
        "model_code": code_digest(),
        "command": command,
        "created": _now(),
        "root_seed": root_seed,
        "scenarios": {label: {"hash": p.hash, "path": p.path, "name": p.scenario.name,
                              "overrides": p.overrides}
                      for label, p in scenarios.items()},
        "design": design,
    }
    if posterior is not None:
        manifest["posterior"] = posterior
    return manifest
