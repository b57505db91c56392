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
import json
import math
import operator
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.errors import ExperimentError
from sim.experiments.result_store import MANIFEST, ResultStore
from sim.geography import COUNTRIES
from sim.outputs import HEADLINE_OUTCOMES, OUTCOME_COLUMNS, OUTCOMES, outcome_table
from sim.scenario import did_you_mean

__all__ = ["Condition", "DiscoveryResult", "SweepData", "discover", "load_sweep"]

CASES = ("points", "runs")
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
        frame.to_csv(out / name, index=False, float_format="%.6g")
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


def discovery_figures(result: DiscoveryResult, folder: Path) -> list[Path]:
    """The trade-off curve (`tradeoff.png`) and each chosen box's limits (`box_<n>.png`)."""
    from matplotlib.figure import Figure

    paths = []
    fig = Figure(figsize=(6.4, 5.2))
    ax = fig.add_subplot()
    t = result.trajectory
    markers = "os^Dv<>"
    for b, rows in t.groupby("box"):
        sc = ax.scatter(rows["coverage"], rows["density"], c=rows["res_dim"], cmap="viridis",
                        vmin=0, vmax=max(1, int(t["res_dim"].max())), s=28,
                        marker=markers[(int(b) - 1) % len(markers)], label=f"box {b}")
        picked = rows[rows["chosen"]]
        ax.scatter(picked["coverage"], picked["density"], s=140, facecolors="none",
                   edgecolors="#c0392b", linewidths=1.6)
        for rec in picked.itertuples():
            ax.annotate(f"box {b}, step {rec.step}", (rec.coverage, rec.density),
                        textcoords="offset points", xytext=(6, -12), fontsize=8)
    top = max(1, int(t["res_dim"].max()))
    fig.colorbar(sc, ax=ax, label="restricted inputs", ticks=range(top + 1))
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("coverage (share of the cases of interest inside the box)")
    ax.set_ylabel("density (share of the box's cases of interest)")
    ax.set_title(f"PRIM peeling trajectory: {result.outcome} {result.condition.text}",
                 fontsize=10)
    ax.grid(alpha=0.3)
    if t["box"].nunique() > 1:
        ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    paths.append(_save(fig, folder / "tradeoff.png"))
    for n, (b, step) in enumerate(result.chosen, start=1):
        paths.append(_save(_box_figure(result, b, step), folder / f"box_{n}.png"))
    return paths


def _box_figure(result: DiscoveryResult, box: int, step: int) -> Any:
    from matplotlib.figure import Figure

    lims = result.box_limits(box, step)
    stats = result.step_stats(box, step)
    n = max(1, len(lims))
    fig = Figure(figsize=(8.0, 1.6 + 0.6 * n))
    ax = fig.add_subplot()
    for i, rec in enumerate(lims.itertuples()):
        width = rec.range_high - rec.range_low
        lo = (rec.low - rec.range_low) / width
        hi = (rec.high - rec.range_low) / width
        ax.plot([0, 1], [i, i], color="#cccccc", linewidth=6, solid_capstyle="butt")
        ax.plot([lo, hi], [i, i], color="#3b6ea8", linewidth=6, solid_capstyle="butt")
        # below the bar (the y axis is inverted): the low limit from its left end, the high
        # limit up to its right end
        ax.text(lo, i + 0.14, f"{rec.low_text}{_qp(rec.qp_low)}", ha="left", va="top",
                fontsize=8)
        ax.text(hi, i + 0.14, f"{rec.high_text}{_qp(rec.qp_high)}", ha="right", va="top",
                fontsize=8)
    ax.set_yticks(range(len(lims)), list(lims["parameter"]), fontsize=8)
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0, 1], ["low end of the swept range", "high end"], fontsize=8)
    ax.invert_yaxis()
    ax.set_title(f"{result.outcome} {result.condition.text}: box {box}, step {step}\n"
                 f"coverage {stats['coverage']:.2f}, density {stats['density']:.2f}; limits "
                 "with their quasi-p-values in brackets", fontsize=9)
    fig.tight_layout()
    return fig


def _qp(value: float) -> str:
    return "" if not np.isfinite(value) else f" ({value:.1g})"


def _save(fig: Any, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    return path
