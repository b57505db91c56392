"""A finished sweep read back for analysis: its design points, runs and outcomes.

`load_sweep` checks that a folder holds a finished sweep and reads it; `cases` gives the inputs
and one outcome per point (or per run) for scenario discovery (`sim.experiments.discovery`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.errors import ExperimentError
from sim.experiments.result_store import MANIFEST, ResultStore
from sim.geography import COUNTRIES
from sim.outputs import HEADLINE_OUTCOMES, OUTCOME_COLUMNS, OUTCOMES, outcome_table
from sim.scenario import did_you_mean

CASES = ("points", "runs")  # a case of discovery: a design point's mean, or each run


@dataclass(slots=True)
class SweepData:
    """A finished sweep read back from its folder: inputs, outcomes and what they mean."""

    folder: Path
    manifest: dict[str, Any]
    points: pd.DataFrame  # point, then one column per input (design values)
    point_outcomes: pd.DataFrame  # point, inputs, headline outcomes (mean over replicates)
    runs: pd.DataFrame  # one row per finished run: scenario, point, replicate, seed, run_id, ...
    ranges: dict[str, tuple[float, float]]
    levers: dict[str, dict[str, Any]]

    @property
    def inputs(self) -> list[str]:
        """The swept uncertainties and levers, in design order."""
        return list(self.ranges)

    def format(self, name: str, value: float) -> str:
        """An input's value for people: an ISO date for a date lever, else 4 digits."""
        info = self.levers.get(name, {})
        if info.get("kind") == "date" and math.isfinite(value):
            origin = pd.Timestamp(info["origin"])
            return (origin + pd.Timedelta(days=round(value))).date().isoformat()
        return f"{value:.4g}"


def load_sweep(folder: Path) -> SweepData:
    """Read a finished sweep's folder (`sahel-sim sweep ... --out FOLDER`).

    Raises:
        ExperimentError: not a folder, not a sweep, not finished, or files missing (one line).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ExperimentError(f"{folder}: no such folder; give the --out folder of a finished "
                              "`sahel-sim sweep`")
    path = folder / MANIFEST
    if not path.exists():
        raise ExperimentError(f"{folder}: not an experiment's folder (no {MANIFEST}); give the "
                              "--out folder of a finished `sahel-sim sweep`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ExperimentError(f"{path}: unreadable manifest ({exc})") from None
    kind = manifest.get("kind")
    if kind != "sweep":
        raise ExperimentError(f"{folder}: holds a '{kind}' experiment, not a sweep; scenario "
                              "discovery needs the inputs of a `sahel-sim sweep`")
    state = (manifest.get("status") or {}).get("state")
    if state not in ("complete", "failed"):
        command = manifest.get("command") or "the sweep's command"
        raise ExperimentError(f"{folder}: the sweep is not finished (state: {state}); run "
                              f"{command} again to finish it")
    missing = [n for n in ("points.csv", "point_outcomes.csv", "outcomes.csv")
               if not (folder / n).exists()]
    if missing:
        raise ExperimentError(f"{folder}: the sweep's {', '.join(missing)} missing; run its "
                              "command again to write them")
    design = manifest.get("design") or {}
    ranges = {k: (float(v[0]), float(v[1])) for k, v in (design.get("parameters") or {}).items()}
    points = pd.read_csv(folder / "points.csv")
    point_outcomes = pd.read_csv(folder / "point_outcomes.csv")
    runs = pd.read_csv(folder / "outcomes.csv")
    if not ranges or any(name not in points.columns for name in ranges):
        raise ExperimentError(f"{folder}: points.csv does not match the manifest's design")
    return SweepData(folder, manifest, points, point_outcomes, runs, ranges,
                     dict(design.get("levers") or {}))


def outcome_names() -> list[str]:
    """Every outcome discovery can use: the headline ones, then the other declared ones."""
    extra = [f"{o.name}_{iso}" for o in OUTCOMES if not o.headline and not o.regional
             for iso in COUNTRIES]
    return [*HEADLINE_OUTCOMES, *extra]


def _check_outcome(name: str) -> None:
    names = outcome_names()
    if name not in names:
        per_country = sorted({o.name for o in OUTCOMES if not o.regional})
        regional = [o.name for o in OUTCOMES if o.regional]
        raise ExperimentError(
            f"--outcome {name}: unknown outcome{did_you_mean(name, names)}; allowed: "
            f"<name>_{'|'.join(COUNTRIES)} for {', '.join(per_country)}; and "
            f"{', '.join(regional)}")


def _run_outcome(sweep: SweepData, name: str) -> pd.Series:
    """A declared outcome of every finished run, computed from the run files (by run_id)."""
    store = ResultStore(sweep.folder)
    base, iso = name.rsplit("_", 1)
    values = {}
    for run_id in sweep.runs["run_id"]:
        table = outcome_table(store.read(run_id, list(OUTCOME_COLUMNS)))
        values[run_id] = float(table.at[iso, base])
    return pd.Series(values)


def cases(sweep: SweepData, outcome: str, kind: str = "points") -> tuple[pd.DataFrame, np.ndarray]:
    """The inputs (one row per case) and the outcome's values, for points or single runs.

    With `kind="points"` a case is a design point and its outcome the mean over the point's
    replicates (as in `point_outcomes.csv`); with `"runs"` every replicate is a case of its own.
    Cases without a value (failed runs) are left out.

    Raises:
        ExperimentError: an unknown outcome or kind of case.
    """
    _check_outcome(outcome)
    if kind not in CASES:
        raise ExperimentError(f"--cases {kind}: allowed: {', '.join(CASES)}")
    runs = sweep.runs
    if outcome in runs.columns:
        per_run = runs.set_index("run_id")[outcome]
    else:
        per_run = _run_outcome(sweep, outcome)
    frame = runs[["point", "run_id"]].assign(y=per_run.reindex(runs["run_id"]).to_numpy())
    if kind == "points":
        frame = frame.groupby("point", as_index=False)["y"].mean()
    frame = frame.merge(sweep.points, on="point", how="inner").dropna(subset=["y"])
    x = frame[sweep.inputs].astype(float).reset_index(drop=True)
    return x, frame["y"].to_numpy(dtype=float)


# --------------------------------------------------------------------------------------------
# PRIM
# --------------------------------------------------------------------------------------------
