"""Scenario discovery: under which uncertainties and levers does an outcome of concern happen?

`discover` reads a finished sweep's folder (its design points and outcomes), marks the cases
of interest (an outcome meeting a condition such as `> 0.5`) and runs PRIM, the patient rule
induction method of Friedman and Fisher (1999) as used for scenario discovery by Bryant and
Lempert (2010), from the EMA Workbench (`ema_workbench.analysis.prim`, the optional extra
`discovery`). PRIM peels the box of all inputs, a little at a time, towards the cases of
interest; each step of its peeling trajectory trades coverage (the share of all cases of
interest inside the box) for density (the share of the box's cases that are of interest). The
chosen box is the densest one whose coverage stays at or above a threshold (0.8 by default);
its limits come with EMA's quasi-p-values (a one-sided binomial test of each restriction: the
chance that the density gained by it is luck). Feature scores (extra trees) rank the inputs.

Files written (default folder `<sweep>/discovery-<outcome>-<condition>/`): `trajectory.csv`
(every step: coverage, density, mass, restricted dimensions), `box_limits.csv` (the limits of
every step's restricted inputs with their quasi-p-values), `feature_scores.csv`,
`tradeoff.png` (coverage against density along the trajectory) and `box_<n>.png` (the chosen
box's limits within the inputs' ranges).
"""

from __future__ import annotations

import contextlib
import operator
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.discovery_plots import discovery_figures
from sim.experiments.errors import ExperimentError
from sim.experiments.sweep_data import SweepData, cases, load_sweep, outcome_names
from sim.files import atomic_to_csv

__all__ = ["Condition", "DiscoveryResult", "SweepData", "cases", "discover",
           "discovery_figures", "load_sweep", "outcome_names"]

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne}
_NAMES = {">=": "ge", "<=": "le", ">": "gt", "<": "lt", "==": "eq", "!=": "ne"}
_CONDITION = re.compile(r"\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                        r"\s*(%?)\s*")


def import_ema() -> Any:
    """The `ema_workbench` package, imported without its optional-dependency warnings.

    Raises:
        ExperimentError: if it is not installed (the `discovery` extra).
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "ipyparallel not installed", UserWarning)
            warnings.filterwarnings("ignore", category=ImportWarning)
            import ema_workbench
            import ema_workbench.analysis.feature_scoring
            import ema_workbench.analysis.prim
    except ImportError:
        raise ExperimentError("scenario discovery needs the EMA Workbench: pip install "
                              "'sahel-sim[discovery]' (or bash scripts/setup.sh discovery)"
                              ) from None
    return ema_workbench


@contextlib.contextmanager
def quiet_ema() -> Iterator[None]:
    """Silence the deprecation and numeric warnings EMA's analysis code raises internally.

    EMA 3.0 uses pandas' `inplace=` (deprecated in pandas 3.1) and divides by zero on empty
    peels; neither is the user's concern.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# --------------------------------------------------------------------------------------------
# The condition and the sweep's data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    """A comparison of an outcome with a threshold: `> 0.5`, `<= 1000`, `>= 40%`."""

    op: str
    threshold: float
    text: str

    @classmethod
    def parse(cls, text: str) -> Condition:
        """Parse `OP NUMBER` (OP one of >, >=, <, <=, ==, !=; a trailing % divides by 100).

        Raises:
            ExperimentError: anything else (one line).
        """
        match = _CONDITION.fullmatch(text or "")
        if not match:
            raise ExperimentError(f"--where {text!r}: expected a comparison such as '> 0.5' or "
                                  "'<= 1000' (operators >, >=, <, <=, ==, !=)")
        op, number, percent = match.groups()
        value = float(number) / (100.0 if percent else 1.0)
        return cls(op, value, f"{op} {number}{percent}")

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """True where values meet the condition."""
        return np.asarray(_OPERATORS[self.op](values, self.threshold), dtype=bool)

    @property
    def slug(self) -> str:
        """The condition in a file name (`gt0.5`)."""
        return f"{_NAMES[self.op]}{self.threshold:g}"


@dataclass(slots=True)
class DiscoveryResult:
    """What scenario discovery found.

    `trajectory`: one row per (box, step) of PRIM's peeling trajectories with coverage,
    density, mass, res_dim (restricted inputs), n (cases in the box), k (cases of interest in
    it) and chosen. `limits`: one row per (box, step, restricted input) with low, high (on the
    design's scale: days from the start for date levers), low_text, high_text (dates as ISO),
    qp_low and qp_high (EMA's quasi-p-values of the lower and upper restriction, NaN for a side
    left free), range_low and range_high (the input's swept range). `feature_scores`: input,
    score (extra trees, summing to 1), sorted. `chosen`: (box, step) pairs, one per box.
    """

    outcome: str
    condition: Condition
    case_kind: str
    n_cases: int
    n_interest: int
    inputs: list[str]
    trajectory: pd.DataFrame
    limits: pd.DataFrame
    feature_scores: pd.DataFrame
    chosen: list[tuple[int, int]]
    sweep: SweepData
    out: Path | None = None
    files: list[Path] = field(default_factory=list)

    def box_limits(self, box: int, step: int) -> pd.DataFrame:
        """The restricted inputs of one step of one box's trajectory."""
        rows = self.limits[(self.limits["box"] == box) & (self.limits["step"] == step)]
        return rows.reset_index(drop=True)

    def step_stats(self, box: int, step: int) -> pd.Series:
        """Coverage, density, mass, res_dim, n and k of one step."""
        t = self.trajectory
        return t[(t["box"] == box) & (t["step"] == step)].iloc[0]


def _choose(trajectory: pd.DataFrame, coverage: float) -> int:
    """The densest step covering at least `coverage` of the cases of interest it started with.

    For the first box those are all cases of interest; a later box starts from those the
    earlier boxes left.
    """
    share = trajectory["k"] / max(1, trajectory["k"].iloc[0])
    ok = trajectory[share >= coverage - 1e-12]
    if ok.empty:
        return 0
    return int(ok.sort_values(["density", "coverage"], ascending=False)["step"].iloc[0])


def discover(folder: Path, outcome: str, where: str, case_kind: str = "points", boxes: int = 1,
             coverage: float = 0.8, steps: Sequence[int] | None = None,
             peel_alpha: float = 0.05, mass_min: float = 0.05, out: Path | None = None,
             plots: bool = True, seed: int = 0) -> DiscoveryResult:
    """PRIM on a finished sweep: which inputs' ranges hold the cases where `outcome where`.

    Args:
        folder: the sweep's folder.
        outcome: a declared outcome (`territory_outside_state_BFA`, see `outcome_names`).
        where: the condition marking cases of interest, e.g. "> 0.5".
        case_kind: "points" (a point's mean over its replicates) or "runs" (each replicate).
        boxes: how many boxes to find one after the other (PRIM's covering: each chosen box's
            cases are set aside before the next is sought).
        coverage: the chosen step is the densest with at least this coverage (for a later
            box: of the cases of interest the earlier boxes left).
        steps: choose these steps of the first box's trajectory instead (one box each).
        peel_alpha: share of cases peeled at each step (PRIM's alpha).
        mass_min: smallest share of all cases a box may keep.
        out: folder of the CSV files and plots (default:
            `<sweep>/discovery-<outcome>-<condition>/`).
        plots: write the PNG plots.
        seed: random state of the feature scoring (extra trees).

    Raises:
        ExperimentError: a folder that is not a finished sweep, an unknown outcome, a bad
            condition or option, no case of interest (or only cases of interest); one line.
    """
    condition = Condition.parse(where)
    if boxes < 1:
        raise ExperimentError(f"--boxes must be at least 1, got {boxes}")
    if not 0.0 < coverage <= 1.0:
        raise ExperimentError(f"--coverage must be in (0, 1], got {coverage}")
    if not 0.0 < peel_alpha < 1.0 or not 0.0 < mass_min < 1.0:
        raise ExperimentError("--peel-alpha and --mass-min must be between 0 and 1")
    sweep = load_sweep(folder)
    x, values = cases(sweep, outcome, case_kind)
    y = condition(values)
    what = f"{outcome} {condition.text}"
    span = (f"its range over the sweep's {len(values)} {case_kind}: "
            f"{np.min(values):.4g} to {np.max(values):.4g}") if len(values) else "no values"
    if not y.any():
        raise ExperimentError(f"no case of interest: no {case_kind[:-1]} has {what} ({span})")
    if y.all():
        raise ExperimentError(f"every {case_kind[:-1]} has {what} ({span}); nothing to "
                              "discover: choose a stricter condition")
    ema = import_ema()
    prim_module = ema.analysis.prim
    free = [c for c in x.columns if x[c].nunique() > 1]
    with quiet_ema():
        alg = prim_module.Prim(x[free], y, peel_alpha=peel_alpha, mass_min=mass_min)
    trajectories, limit_rows, chosen = [], [], []
    for b in range(1, boxes + 1):
        with quiet_ema():
            box = alg.find_box()
        if box is None:
            break
        traj = box.peeling_trajectory.reset_index(drop=True)
        traj = pd.DataFrame({"box": b, "step": np.arange(len(traj)),
                             **{c: traj[c].to_numpy() for c in
                                ("coverage", "density", "mass", "res_dim", "n", "k")}})
        # coverage against all cases of interest, not only those left for this box
        traj["coverage"] = traj["k"] / y.sum()
        picks = list(steps) if (steps and b == 1) else [_choose(traj, coverage)]
        for step in picks:
            if not 0 <= step < len(traj):
                raise ExperimentError(f"--step {step}: the peeling trajectory has steps 0 to "
                                      f"{len(traj) - 1}")
            chosen.append((b, int(step)))
        traj["chosen"] = traj["step"].isin([s for bb, s in chosen if bb == b])
        with quiet_ema():
            box.select(chosen[-1][1])  # the next box is sought among the cases outside it
        trajectories.append(traj)
        init = box.box_lims[0]
        for step, (lims, qps) in enumerate(zip(box.box_lims, box.p_values, strict=True)):
            for name in free:
                low, high = float(lims[name].iloc[0]), float(lims[name].iloc[1])
                if low <= float(init[name].iloc[0]) and high >= float(init[name].iloc[1]):
                    continue
                qp = qps.get(name, [-1.0, -1.0])
                r_low, r_high = sweep.ranges[name]
                limit_rows.append({
                    "box": b, "step": step, "parameter": name, "low": low, "high": high,
                    "low_text": sweep.format(name, low), "high_text": sweep.format(name, high),
                    "qp_low": np.nan if qp[0] < 0 else float(qp[0]),
                    "qp_high": np.nan if qp[1] < 0 else float(qp[1]),
                    "range_low": r_low, "range_high": r_high})
        if steps:
            break
    trajectory = pd.concat(trajectories, ignore_index=True)
    limits = pd.DataFrame(limit_rows, columns=[
        "box", "step", "parameter", "low", "high", "low_text", "high_text", "qp_low", "qp_high",
        "range_low", "range_high"])
    scores = _feature_scores(ema, x[free], y, seed)
    result = DiscoveryResult(outcome, condition, case_kind, len(y), int(y.sum()), list(x.columns),
                             trajectory, limits, scores, chosen, sweep)
    if out is None:
        out = sweep.folder / f"discovery-{outcome}-{condition.slug}"
    result.out = out
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("trajectory.csv", trajectory), ("box_limits.csv", limits),
                        ("feature_scores.csv", scores)):
        atomic_to_csv(frame, out / name, index=False, float_format="%.6g")
        result.files.append(out / name)
    if plots:
        result.files += discovery_figures(result, out)
    return result


def _feature_scores(ema: Any, x: pd.DataFrame, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Extra-trees feature scores of the inputs for the cases of interest (EMA)."""
    fs = ema.analysis.feature_scoring
    with quiet_ema():
        scores, _ = fs.get_ex_feature_scores(x, y.astype(int),
                                             mode=fs.RuleInductionType.CLASSIFICATION,
                                             random_state=seed)
    frame = scores.reset_index()
    frame.columns = ["parameter", "score"]
    return frame.sort_values("score", ascending=False, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Plots (matplotlib's Figure, no pyplot: safe from threads)
# --------------------------------------------------------------------------------------------
