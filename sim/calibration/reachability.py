"""Can the model reach its targets? Runs spread over the whole prior box, judged singly and jointly.

The fit says where the posterior lies; it does not say whether a target it misses could be hit
at all inside the priors, or only at the cost of another target. `sweep_priors` runs the
scenario at `runs` points of a Latin hypercube over every candidate parameter of the priors
file (uniform on each prior's scale, as the screen sweeps them), each run with its own seed, so
the runs are draws from the prior predictive distribution. `analyse` then asks:

1. Per target (`TARGET_COLUMNS`): the share of runs inside the sourced range, and where the runs
   lie (min, 5%, 50%, 95%, max). For a range no run of the sweep reaches, `side` says whether
   every run stays below it, above it, or on either side (a narrow range the runs step over).
2. Per run: how many targets it hits at once (`hits_per_run`), and the rows of the best runs.
   One run's hit is one seed's, not a median in range (the report's test).
3. Per pair of targets that runs reach (`PAIR_COLUMNS`): do they hit together as often as they
   would if independent? The joint count against n pa pb (n the runs that measured both),
   and the chance of a joint count as low given how often each is hit (`p_value`: Fisher's
   exact test, the hypergeometric distribution's lower tail). A pair is a conflict when the
   runs hit it together at most `MAX_LIFT` times as often as expected, at least
   `MIN_EXPECTED` joint hits were expected, and p is below `CONFLICT_P`, so that neither a
   weak tie over many runs nor a rare pair counts. The model then ties the two statistics in
   a way the sources do not, so the fit can only trade one for the other; such pairs point
   at the mechanism that is missing.

A run that failed (every statistic NaN) is left out of everything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.errors import CalibrationError
from sim.calibration.targets import Target, target_signature
from sim.files import atomic_save_figure, atomic_to_csv, atomic_write_text
from sim.scenario import Scenario

TARGET_COLUMNS = ("target", "low", "high", "runs", "reached", "reached_share", "sim_min",
                  "sim_q05", "sim_q50", "sim_q95", "sim_max", "side")
PAIR_COLUMNS = ("target_a", "target_b", "runs", "hits_a", "hits_b", "joint", "expected",
                "lift", "p_value", "conflict")
CONFLICT_P = 0.001  # chance of so few joint hits (Fisher's exact test) below which: conflict
MIN_EXPECTED = 5.0  # joint hits expected under independence below which no pair is judged
MAX_LIFT = 0.5  # joint hits / expected above which a pair is no conflict, however significant
RUNS_FILE, CONFIG_FILE = "runs.csv", "reachability.json"
REACH_FILE, PAIRS_FILE = "reachability.csv", "pairs.csv"


@dataclass(frozen=True, slots=True)
class Reachability:
    """What `analyse` found in a sweep over the priors."""

    targets: pd.DataFrame  # TARGET_COLUMNS, one row per target the runs measured
    pairs: pd.DataFrame  # PAIR_COLUMNS, one row per pair of reached targets
    hits: pd.DataFrame  # runs x targets: 1 inside the range, 0 outside, NaN not measured
    runs: int
    files: list[Path] = field(default_factory=list)

    @property
    def hits_per_run(self) -> pd.Series:
        """How many targets each run hits."""
        return self.hits.sum(axis=1).astype(int)

    @property
    def unreached(self) -> list[str]:
        """Targets that no run reaches."""
        return self.targets.loc[~self.targets["reached"].astype(bool), "target"].tolist()

    @property
    def conflicts(self) -> pd.DataFrame:
        """The pairs the runs hit together far less often than chance, strongest first."""
        return conflicting_pairs(self.pairs)


def conflicting_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """The pairs marked as conflicts, strongest first (read back from pairs.csv or not)."""
    flag = pairs["conflict"]
    if flag.dtype != bool:
        flag = flag.astype(str).str.strip().str.lower().eq("true")
    return pairs[flag].sort_values("p_value")


def sweep_identity(scenario: Scenario, targets: Sequence[Target]) -> dict[str, Any]:
    """What a sweep's conflicts are about: the scenario, the targets and the model's code.

    The scenario by its behaviour hash (notes left out), the targets by their ranges and
    comparisons, the model by `sim.code_digest`.
    """
    from sim.code_digest import code_digest

    return {"behaviour_hash": scenario.behaviour_hash(), "model_code": code_digest(),
            "targets": target_signature(targets)}


def sweep_config(scenario: Scenario, priors: Sequence[Any], targets: Sequence[Target],
                 runs: int, seed: int) -> dict[str, Any]:
    """What a sweep's runs depend on: a folder holding the same config may be reused.

    The model's code is in it (`sim.code_digest`): a changed model runs the sweep again.
    """
    from sim import __version__

    identity = sweep_identity(scenario, targets)
    return {"scenario": scenario.name, "behaviour_hash": identity["behaviour_hash"],
            "runs": runs, "seed": seed, "version": __version__,
            "model_code": identity["model_code"], "targets": identity["targets"],
            "priors": [[p.name, p.low, p.high, p.scale] for p in priors]}


def sweep_priors(scenario: Scenario, priors: Sequence[Any], targets: Sequence[Target],
                 runs: int, seed: int = 0, workers: int = 1, progress: bool = True
                 ) -> pd.DataFrame:
    """Run the scenario at `runs` Latin-hypercube points of the priors, one seed each.

    Returns:
        one row per run: `seed`, every prior's parameter and every target's statistic (NaN
        where a run failed; the failures in `attrs["errors"]`).
    """
    from sim.calibration.screening import prior_overrides
    from sim.calibration.simulate import simulate_statistics
    from sim.experiments.designs import design_points
    from sim.experiments.experiment import spawn_seeds

    points = design_points({p.name: p.sampled_bounds for p in priors}, "lhs", runs, seed)
    overrides = prior_overrides(priors, points)
    seeds = spawn_seeds(seed, runs)
    stats = simulate_statistics(scenario, targets, seeds, overrides, workers=workers,
                                progress=progress)
    frame = pd.concat([pd.DataFrame({"seed": seeds}), pd.DataFrame(overrides),
                       stats[[t.name for t in targets]].reset_index(drop=True)], axis=1)
    frame.attrs["errors"] = stats.attrs.get("errors", {})
    return frame


def completed_runs(targets: Sequence[Target], frame: pd.DataFrame) -> pd.DataFrame:
    """The runs that did not fail: those with at least one target's statistic."""
    values = frame[[t.name for t in targets]].apply(pd.to_numeric, errors="coerce")
    return frame[values.notna().any(axis=1)]


def hit_matrix(targets: Sequence[Target], frame: pd.DataFrame,
               keep_unmeasured: bool = False) -> pd.DataFrame:
    """Runs x targets: 1 where the run's statistic lies in the range, 0 outside, NaN unmeasured.

    Targets that no run measured (their window outside the simulated period) are left out,
    unless `keep_unmeasured` (then their column is all NaN).
    """
    columns = {}
    for t in targets:
        values = pd.to_numeric(frame[t.name], errors="coerce").to_numpy(np.float64)
        measured = np.isfinite(values)
        if keep_unmeasured or measured.any():
            columns[t.name] = np.where(measured, t.contains(values).astype(np.float64), np.nan)
    return pd.DataFrame(columns, index=frame.index)


def target_reach(targets: Sequence[Target], frame: pd.DataFrame, hits: pd.DataFrame
                 ) -> pd.DataFrame:
    """One row per measured target: its range, the runs' spread and how often they hit it."""
    from sim.calibration.report import evaluate

    measured = [t for t in targets if t.name in hits.columns]
    table = evaluate(measured, frame)
    rows = []
    for t, row in zip(measured, table.itertuples(), strict=True):
        values = pd.to_numeric(frame[t.name], errors="coerce").dropna()
        reached = int(hits[t.name].sum())
        side = ""
        if not reached:
            side = ("below" if t.low is not None and values.max() < t.low else
                    "above" if t.high is not None and values.min() > t.high else "either side")
        rows.append({"target": t.name, "low": t.low, "high": t.high, "runs": row.runs,
                     "reached": reached, "reached_share": reached / row.runs,
                     "sim_min": values.min(), "sim_q05": row.sim_q05, "sim_q50": row.sim_q50,
                     "sim_q95": row.sim_q95, "sim_max": values.max(), "side": side})
    return pd.DataFrame(rows, columns=list(TARGET_COLUMNS)).astype({"low": float, "high": float})


def pair_conflicts(hits: pd.DataFrame, conflict_p: float = CONFLICT_P,
                   min_expected: float = MIN_EXPECTED, max_lift: float = MAX_LIFT
                   ) -> pd.DataFrame:
    """Every pair of reached targets: joint hits against independence (see the module).

    Each pair is judged on the runs that measured both targets.
    """
    from scipy.stats import hypergeom

    reached = [c for c in hits.columns if (hits[c] == 1).any()]
    measured = hits[reached].notna().to_numpy(np.int64)
    inside = hits[reached].fillna(0).to_numpy(np.int64)
    both = measured.T @ measured  # runs measuring a and b
    hits_given = inside.T @ measured  # [a, b]: runs hitting a among those measuring b
    joint = inside.T @ inside
    rows = []
    for i in range(len(reached)):
        for j in range(i + 1, len(reached)):
            n, hits_a, hits_b = int(both[i, j]), int(hits_given[i, j]), int(hits_given[j, i])
            expected = hits_a * hits_b / n if n else 0.0
            observed = int(joint[i, j])
            p_value = float(hypergeom.cdf(observed, n, hits_a, hits_b)) if n else 1.0
            rows.append({"target_a": reached[i], "target_b": reached[j], "runs": n,
                         "hits_a": hits_a, "hits_b": hits_b, "joint": observed,
                         "expected": expected,
                         "lift": observed / expected if expected else np.nan,
                         "p_value": p_value,
                         "conflict": bool(expected >= min_expected and p_value < conflict_p
                                          and observed <= max_lift * expected)})
    return pd.DataFrame(rows, columns=list(PAIR_COLUMNS))


def analyse(targets: Sequence[Target], frame: pd.DataFrame) -> Reachability:
    """Per target, per run and per pair: what the sweep's runs reach (see the module)."""
    frame = completed_runs(targets, frame)
    hits = hit_matrix(targets, frame)
    return Reachability(target_reach(targets, frame, hits), pair_conflicts(hits), hits,
                        runs=len(frame))


def load_or_sweep(out: Path, config: dict[str, Any], sweep: Callable[[], pd.DataFrame],
                  rerun: bool = False) -> tuple[pd.DataFrame, bool]:
    """The runs of `out` if it holds a sweep of the same config, else `sweep()` saved there.

    The runs are analysed as read back from `runs.csv` either way, so a reused sweep gives
    the same tables as a fresh one.

    Returns:
        (runs, swept_now).

    Raises:
        CalibrationError: `runs.csv` of this config is unreadable or not the config's runs.
    """
    runs_file, config_file = out / RUNS_FILE, out / CONFIG_FILE
    swept = rerun or not runs_file.exists() or recorded_config(config_file) != _plain(config)
    if swept:
        frame = sweep()
        out.mkdir(parents=True, exist_ok=True)
        config_file.unlink(missing_ok=True)  # runs.csv and its config: both new or neither
        atomic_to_csv(frame, runs_file, index=False, float_format="%.10g")
        atomic_write_text(config_file, json.dumps(config, indent=1) + "\n")
    try:
        frame = pd.read_csv(runs_file)
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"{runs_file}: unreadable ({exc}); run again with --rerun") \
            from None
    _check_runs(runs_file, frame, config)
    return frame, swept


def recorded_config(config_file: Path) -> Any:
    """The config a sweep folder records (`CONFIG_FILE`), or None if none can be read."""
    try:
        return json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # none, or half-written: the runs are not known to be this config's


def _plain(config: dict[str, Any]) -> Any:
    return json.loads(json.dumps(config))  # as read back (lists, not tuples; str dates)


def _check_runs(runs_file: Path, frame: pd.DataFrame, config: dict[str, Any]) -> None:
    from sim.experiments.experiment import spawn_seeds

    needed = ["seed", *(p[0] for p in config["priors"]), *(t[0] for t in config["targets"])]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise CalibrationError(f"{runs_file}: no column {missing[0]!r}; run again with --rerun")
    seeds = spawn_seeds(config["seed"], config["runs"])
    if len(frame) != config["runs"] or frame["seed"].tolist() != seeds:
        raise CalibrationError(f"{runs_file}: expected the {config['runs']} runs of seed "
                               f"{config['seed']}, found {len(frame)} others; run again "
                               "with --rerun")


def write_reachability(targets: Sequence[Target], frame: pd.DataFrame, out: Path,
                       title: str) -> Reachability:
    """Analyse the runs; write reachability.csv, pairs.csv, reachability.md and two PNGs."""
    from sim.calibration import report_plots

    found = analyse(targets, frame)
    out.mkdir(parents=True, exist_ok=True)
    files = [atomic_to_csv(found.targets, out / REACH_FILE, index=False),
             atomic_to_csv(found.pairs, out / PAIRS_FILE, index=False)]
    measured = [t for t in targets if t.name in found.hits.columns]
    table = found.targets.assign(hit=found.targets["reached"] > 0)
    files.append(atomic_save_figure(report_plots.targets_figure(
        measured, table, title, dot="filled = some run inside the range"),
        out / "reachability_targets.png"))
    files.append(atomic_save_figure(report_plots.pairs_lift_figure(found.pairs),
                                    out / "reachability_pairs.png"))
    files.append(atomic_write_text(out / "reachability.md", markdown(found, measured, title)))
    return replace(found, files=files)


def markdown(found: Reachability, targets: Sequence[Target], title: str) -> str:
    """The sweep's findings as Markdown: targets, hits per run, the best runs, conflicts."""
    per_run = found.hits_per_run
    most = int(per_run.max())
    lines = [f"# {title}", "",
             f"{found.runs} runs; targets judged: {found.hits.shape[1]}. Targets one run hits: "
             f"median {per_run.median():g}, 95% {per_run.quantile(0.95):g}, most {most} "
             f"({int((per_run == most).sum())} runs).", "",
             "## Targets", "",
             "| target | range | runs in range | 5% | median | 95% | min | max |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    ranges = {t.name: t.range_text() for t in targets}
    for r in found.targets.itertuples():
        share = f"{r.reached_share:.1%}" if r.reached else f"none ({r.side})"
        lines.append(f"| {r.target} | {ranges[r.target]} | {share} | {_g(r.sim_q05)} | "
                     f"{_g(r.sim_q50)} | {_g(r.sim_q95)} | {_g(r.sim_min)} | {_g(r.sim_max)} |")
    lines += ["", "## The runs that hit most targets", "",
              "Their parameters are the rows of `runs.csv` (counted from 0).", ""]
    for i in per_run.sort_values(ascending=False, kind="stable").index[:5]:
        missed = [c for c in found.hits.columns if found.hits.at[i, c] == 0]
        lines.append(f"- row {i}: {per_run[i]} hits; misses {', '.join(missed) or 'none'}")
    conflicts = found.conflicts
    lines += ["", "## Conflicts: pairs hit together far less often than chance", "",
              f"{len(conflicts)} of {len(found.pairs)} pairs (joint hits at most {MAX_LIFT:g} "
              f"of those expected were the two independent, at least {MIN_EXPECTED:g} "
              f"expected, Fisher's exact p below {CONFLICT_P:g}).", ""]
    if len(conflicts):
        lines += ["| target | target | hits | hits | joint | expected | p |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {r.target_a} | {r.target_b} | {r.hits_a} | {r.hits_b} | {r.joint} | "
                  f"{r.expected:.1f} | {r.p_value:.1e} |" for r in conflicts.itertuples()]
    return "\n".join(lines) + "\n"


def _g(x: Any) -> str:
    return f"{float(x):.3g}"
