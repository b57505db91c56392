"""Can the model reach its targets? Runs spread over the whole prior box, judged singly and jointly.

The fit says where the posterior lies; it does not say whether a target it misses could be hit
at all inside the priors, or only at the cost of another target. `sweep_priors` runs the
scenario at `runs` points of a Latin hypercube over every candidate parameter of the priors
file (uniform on each prior's scale, as the screen sweeps them), each run with its own seed, so
the runs are draws from the prior predictive distribution. `analyse` then asks:

1. Per target (`TARGET_COLUMNS`): the share of runs inside the sourced range, and where the runs
   lie (min, 5%, 50%, 95%, max). A range no run reaches is beyond the model inside its priors:
   `side` says whether every run stays below it, above it, or on either side (a narrow range
   the runs step over).
2. Per run: how many targets it hits at once (`hits_per_run`); the best runs and their
   parameters. One run's hit is one seed's; a median in range (the report's test) asks more.
3. Per pair of targets that runs reach (`PAIR_COLUMNS`): do they hit together as often as they
   would if independent? The joint count against n pa pb, and the Poisson chance of a joint
   count as low (`p_value`). A pair hit together far less often than chance (at most
   `MAX_LIFT` of the joint hits expected, at least `MIN_EXPECTED` of them expected, and p
   below `CONFLICT_P`, so that neither a weak tie in many runs nor a rare pair counts) is a
   conflict: the model ties
   the two statistics in a way the sources do not, so the fit trades one for the other; such
   pairs point at the mechanism that is missing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.targets import Target
from sim.files import atomic_save_figure, atomic_to_csv, atomic_write_text
from sim.scenario import Scenario

TARGET_COLUMNS = ("target", "low", "high", "runs", "reached", "reached_share", "sim_min",
                  "sim_q05", "sim_q50", "sim_q95", "sim_max", "side")
PAIR_COLUMNS = ("target_a", "target_b", "hits_a", "hits_b", "joint", "expected", "lift",
                "p_value", "conflict")
CONFLICT_P = 0.001  # Poisson chance of so few joint hits below which a pair is a conflict
MIN_EXPECTED = 5.0  # joint hits expected under independence below which no pair is judged
MAX_LIFT = 0.5  # joint hits / expected above which a pair is no conflict, however significant
RUNS_FILE, CONFIG_FILE = "runs.csv", "reachability.json"


@dataclass(frozen=True, slots=True)
class Reachability:
    """What `analyse` found in a sweep over the priors."""

    targets: pd.DataFrame  # TARGET_COLUMNS, one row per target the runs measured
    pairs: pd.DataFrame  # PAIR_COLUMNS, one row per pair of reached targets
    hits: pd.DataFrame  # runs x targets, True where the run is inside the range
    runs: int
    files: list[Path] = field(default_factory=list)

    @property
    def hits_per_run(self) -> pd.Series:
        """How many targets each run hits."""
        return self.hits.sum(axis=1)

    @property
    def unreached(self) -> list[str]:
        """Targets that no run reaches."""
        return self.targets.loc[~self.targets["reached"].astype(bool), "target"].tolist()

    @property
    def conflicts(self) -> pd.DataFrame:
        """The pairs the runs hit together far less often than chance, strongest first."""
        return self.pairs[self.pairs["conflict"].astype(bool)].sort_values("p_value")


def sweep_config(scenario: Scenario, priors: Sequence[Any], targets: Sequence[Target],
                 runs: int, seed: int) -> dict[str, Any]:
    """What a sweep's runs depend on: a folder holding the same config may be reused."""
    return {"scenario": scenario.name, "runs": runs, "seed": seed,
            "targets": [t.name for t in targets],
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
    from sim.calibration.statistics import simulate_statistics
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


def hit_matrix(targets: Sequence[Target], frame: pd.DataFrame) -> pd.DataFrame:
    """Runs x targets: True where the run's statistic lies in the range (NaN is no hit).

    Targets that no run measured (their window outside the simulated period) are left out.
    """
    columns = {}
    for t in targets:
        values = pd.to_numeric(frame[t.name], errors="coerce").to_numpy(np.float64)
        if np.isfinite(values).any():
            inside = np.ones(values.shape, dtype=bool) & np.isfinite(values)
            if t.low is not None:
                inside &= values >= t.low
            if t.high is not None:
                inside &= values <= t.high
            columns[t.name] = inside
    return pd.DataFrame(columns, index=frame.index)


def target_reach(targets: Sequence[Target], frame: pd.DataFrame, hits: pd.DataFrame
                 ) -> pd.DataFrame:
    """One row per measured target: its range, the runs' spread and how often they hit it."""
    rows = []
    for t in targets:
        if t.name not in hits.columns:
            continue
        values = pd.to_numeric(frame[t.name], errors="coerce").to_numpy(np.float64)
        values = values[np.isfinite(values)]
        q05, q50, q95 = np.quantile(values, (0.05, 0.5, 0.95))
        reached = int(hits[t.name].sum())
        side = ""
        if not reached:
            side = ("below" if t.low is not None and values.max() < t.low else
                    "above" if t.high is not None and values.min() > t.high else "either side")
        rows.append({"target": t.name, "low": t.low, "high": t.high, "runs": values.size,
                     "reached": reached, "reached_share": reached / values.size,
                     "sim_min": values.min(), "sim_q05": q05, "sim_q50": q50, "sim_q95": q95,
                     "sim_max": values.max(), "side": side})
    return pd.DataFrame(rows, columns=list(TARGET_COLUMNS)).astype({"low": float, "high": float})


def pair_conflicts(hits: pd.DataFrame, conflict_p: float = CONFLICT_P,
                   min_expected: float = MIN_EXPECTED, max_lift: float = MAX_LIFT
                   ) -> pd.DataFrame:
    """Every pair of reached targets: joint hits against independence (see the module)."""
    from scipy.stats import poisson

    n = len(hits)
    reached = [c for c in hits.columns if hits[c].any()]
    matrix = hits[reached].to_numpy(dtype=np.int64)
    counts = matrix.sum(axis=0)
    joint = matrix.T @ matrix
    rows = []
    for i in range(len(reached)):
        for j in range(i + 1, len(reached)):
            expected = counts[i] * counts[j] / n
            observed = int(joint[i, j])
            p_value = float(poisson.cdf(observed, expected))
            rows.append({"target_a": reached[i], "target_b": reached[j],
                         "hits_a": int(counts[i]), "hits_b": int(counts[j]), "joint": observed,
                         "expected": expected, "lift": observed / expected, "p_value": p_value,
                         "conflict": bool(expected >= min_expected and p_value < conflict_p
                                          and observed <= max_lift * expected)})
    return pd.DataFrame(rows, columns=list(PAIR_COLUMNS))


def analyse(targets: Sequence[Target], frame: pd.DataFrame) -> Reachability:
    """Per target, per run and per pair: what the sweep's runs reach (see the module)."""
    hits = hit_matrix(targets, frame)
    return Reachability(target_reach(targets, frame, hits), pair_conflicts(hits), hits,
                        runs=len(frame))


def load_or_sweep(out: Path, config: dict[str, Any], sweep: Any, rerun: bool = False
                  ) -> tuple[pd.DataFrame, bool]:
    """The runs of `out` if it holds a sweep of the same config, else `sweep()` saved there.

    Returns:
        (runs, swept_now).
    """
    runs_file, config_file = out / RUNS_FILE, out / CONFIG_FILE
    if not rerun and runs_file.exists() and config_file.exists():
        try:
            same = json.loads(config_file.read_text(encoding="utf-8")) == config
        except ValueError:
            same = False
        if same:
            return pd.read_csv(runs_file), False
    frame = sweep()
    out.mkdir(parents=True, exist_ok=True)
    atomic_to_csv(frame, runs_file, index=False, float_format="%.8g")
    atomic_write_text(config_file, json.dumps(config, indent=1) + "\n")
    return frame, True


def write_reachability(targets: Sequence[Target], frame: pd.DataFrame, out: Path,
                       parameters: Sequence[str], title: str) -> Reachability:
    """Analyse the runs; write reachability.csv, pairs.csv, reachability.md and two PNGs."""
    from sim.calibration import report_plots
    from sim.calibration.report import evaluate

    found = analyse(targets, frame)
    out.mkdir(parents=True, exist_ok=True)
    files = [atomic_to_csv(found.targets, out / "reachability.csv", index=False),
             atomic_to_csv(found.pairs, out / "pairs.csv", index=False)]
    measured = [t for t in targets if t.name in found.hits.columns]
    files.append(atomic_save_figure(report_plots.targets_figure(
        measured, evaluate(measured, frame), title), out / "reachability_targets.png"))
    files.append(atomic_save_figure(report_plots.pairs_lift_figure(found.pairs),
                                    out / "reachability_pairs.png"))
    files.append(atomic_write_text(out / "reachability.md",
                                   markdown(found, frame, parameters, title)))
    return Reachability(found.targets, found.pairs, found.hits, found.runs, files)


def markdown(found: Reachability, frame: pd.DataFrame, parameters: Sequence[str],
             title: str) -> str:
    """The sweep's findings as Markdown: targets, hits per run, the best runs, conflicts."""
    per_run = found.hits_per_run
    lines = [f"# {title}", "",
             f"{found.runs} runs; targets judged: {found.hits.shape[1]}. Hits per run: median "
             f"{per_run.median():g}, 95% {per_run.quantile(0.95):g}, most {per_run.max()}.", "",
             "## Targets", "",
             "| target | range | runs in range | 5% | median | 95% | min | max |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in found.targets.itertuples():
        bounds = f"{_g(r.low)}-{_g(r.high)}".replace("nan", "")
        share = f"{r.reached_share:.1%}" if r.reached else f"none ({r.side})"
        lines.append(f"| {r.target} | {bounds} | {share} | {_g(r.sim_q05)} | {_g(r.sim_q50)} "
                     f"| {_g(r.sim_q95)} | {_g(r.sim_min)} | {_g(r.sim_max)} |")
    lines += ["", "## The runs that hit most targets", ""]
    best = per_run.sort_values(ascending=False, kind="stable").index[:5]
    for i in best:
        missed = [c for c in found.hits.columns if not found.hits.at[i, c]]
        values = ", ".join(f"{p} = {frame.at[i, p]:.4g}" for p in parameters)
        lines.append(f"- run {i} (seed {frame.at[i, 'seed']}): {per_run[i]} hits; misses "
                     f"{', '.join(missed) or 'none'}. Parameters: {values}")
    conflicts = found.conflicts
    lines += ["", "## Conflicts: pairs hit together far less often than chance", "",
              f"{len(conflicts)} of {len(found.pairs)} pairs (at most {MAX_LIFT:g} of the joint "
              f"hits expected were they independent, at least {MIN_EXPECTED:g} expected, "
              f"Poisson chance of so few below {CONFLICT_P:g}).", ""]
    if len(conflicts):
        lines += ["| target | target | hits | hits | joint | expected | p |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {r.target_a} | {r.target_b} | {r.hits_a} | {r.hits_b} | {r.joint} | "
                  f"{r.expected:.1f} | {r.p_value:.1e} |" for r in conflicts.itertuples()]
    return "\n".join(lines) + "\n"


def _g(x: Any) -> str:
    try:
        return f"{float(x):.3g}"
    except (TypeError, ValueError):
        return ""
