"""The calibration report: each target's sourced range beside the simulated distribution.

`evaluate` puts each target's range beside the 5%, 50% and 95% quantiles of its statistic
over the runs (NaN runs left out): **hit** when the median lies inside the range, **overlap**
when the 5-95% band and the range share a point (a missing bound is open), and **in_range**,
the share of runs whose statistic lies inside the range (how near a miss is: a median just
outside with many runs inside is within the runs' spread), and **hit_chance**, the share of
bootstrap resamples of the runs whose median lies inside (`resampled_hits`: how firmly a hit
is a hit with this many runs; the count of hits gets its 5-95% interval the same way). A
target no run
could measure (its window outside the simulated period) is *not compared*: it has neither
hit nor overlap and is left out of the counts. `write_report` writes `report.md`,
`report.csv`, `targets.png` and, given a posterior, `posterior_marginals.png` and
`posterior_pairs.png` (`sim.calibration.report_plots`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.targets import Target
from sim.files import atomic_save_figure, atomic_to_csv, atomic_write_text

REPORT_COLUMNS = ("target", "low", "high", "sim_q05", "sim_q50", "sim_q95", "hit", "overlap",
                  "in_range", "hit_chance")
QUANTILES = (0.05, 0.5, 0.95)
RESAMPLES = 1000  # bootstrap resamples of the runs for hit_chance and the count's interval


@dataclass(frozen=True, slots=True)
class Report:
    """What `write_report` measured and wrote."""

    table: pd.DataFrame  # REPORT_COLUMNS, one row per target
    compared: int
    hits: int
    overlaps: int
    runs: int
    files: list[Path] = field(default_factory=list)
    distance: float = math.nan  # the fit's distance of the medians (`median_distance`)
    distance_targets: int = 0  # over how many targets
    hits_band: tuple[float, float] = (math.nan, math.nan)  # 5-95% of the count, resampled

    @property
    def hit_share(self) -> float:
        """Share of the compared targets whose median lies in the sourced range."""
        return self.hits / self.compared if self.compared else math.nan

    @property
    def overlap_share(self) -> float:
        """Share of the compared targets whose 5-95% band overlaps the sourced range."""
        return self.overlaps / self.compared if self.compared else math.nan


def evaluate(targets: Sequence[Target], simulated: pd.DataFrame) -> pd.DataFrame:
    """One row per target: range, simulated 5/50/95% quantiles, hit, overlap and in_range.

    (`write_report` adds `hit_chance`, from `resampled_hits`.)

    `hit` and `overlap` are True/False, or None when no run measured the target;
    `in_range` is the share of the measured runs inside the range (NaN without any).

    Raises:
        ValueError: a target has no column in `simulated`.
    """
    missing = [t.name for t in targets if t.name not in simulated.columns]
    if missing:
        raise ValueError(f"the simulated statistics have no column for target(s) "
                         f"{', '.join(missing)}")
    rows = []
    for t in targets:
        values = pd.to_numeric(simulated[t.name], errors="coerce").to_numpy(np.float64)
        values = values[np.isfinite(values)]
        if values.size:
            q05, q50, q95 = np.quantile(values, QUANTILES)
            hit = bool(t.contains(q50))
            overlap = bool((t.high is None or q05 <= t.high) and (t.low is None or q95 >= t.low))
            in_range = float(np.mean(t.contains(values)))
        else:
            q05 = q50 = q95 = in_range = math.nan
            hit = overlap = None
        rows.append({"target": t.name, "low": t.low, "high": t.high, "sim_q05": q05,
                     "sim_q50": q50, "sim_q95": q95, "hit": hit, "overlap": overlap,
                     "in_range": in_range, "runs": int(values.size)})
    table = pd.DataFrame(rows, columns=[*REPORT_COLUMNS[:-1], "runs"])  # hit_chance: later
    return table.astype({"low": float, "high": float})


def median_distance(targets: Sequence[Target], table: pd.DataFrame) -> tuple[float, int]:
    """The fit's distance of the simulated medians from the ranges, and over how many targets.

    `sim.calibration.distances.RangeDistance` over the measured targets the fit can compare
    (`comparable_summaries`): each one's gap outside
    its range in widths (deaths on the log scale), weighted by confidence; NaN without any.
    """
    from sim.calibration.calibrate import comparable_summaries
    from sim.calibration.distances import RangeDistance

    medians = dict(zip(table["target"], table["sim_q50"], strict=False))
    measured = [t for t in targets if math.isfinite(float(medians.get(t.name, math.nan)))]
    summaries = list(comparable_summaries(measured).values())
    if not summaries:
        return math.nan, 0
    return RangeDistance(summaries)(medians), len(summaries)


def write_report(targets: Sequence[Target], simulated: pd.DataFrame, out_dir: str | Path,
                 posterior: pd.DataFrame | None = None, title: str = "Calibration report",
                 prior_bounds: Mapping[str, tuple[float, float]] | None = None,
                 log_scale: Collection[str] = (), drawn: Collection[str] = (),
                 lacks: Callable[[pd.DataFrame], list[str]] | None = None,
                 staged: Collection[str] = ()) -> Report:
    """Write the report's Markdown, CSV and figures into `out_dir`; return what it found.

    Args:
        targets: the targets, in the order of the report.
        simulated: one row per run, one column per target (`simulate_statistics`).
        out_dir: the folder (created if needed); each file is written under a temporary
            name and renamed, so an interrupted report leaves no half-written file.
        posterior: weighted parameter draws (a `weight` column and one column per dotted
            parameter name), for the posterior figures.
        title: the report's title.
        prior_bounds: each fitted parameter's prior (low, high): the posterior figures'
            axes span them; without, the axes span the draws and the schema's bounds are
            marked where they fall inside.
        log_scale: parameters whose prior is on the log scale: their histograms are binned
            and drawn on a log axis.
        drawn: parameters the fit drew from their priors (not moved by its kernel): marked
            so in the figures and the table.
        staged: parameters a second stage fitted (`sahel-sim calibrate-stage`): marked so.
        lacks: given the evaluated table, the Markdown lines of the sections on why the misses
            miss (`sim.calibration.missing.why_missed`), put after the misses.
    """
    from sim.calibration import report_plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = evaluate(targets, simulated)
    table["hit_chance"], counts = resampled_hits(targets, simulated)
    compared = table[table["hit"].notna()]
    distance, distance_targets = median_distance(targets, table)
    report = Report(table[list(REPORT_COLUMNS)], compared=len(compared),
                    hits=int(compared["hit"].astype(bool).sum()),
                    overlaps=int(compared["overlap"].astype(bool).sum()), runs=len(simulated),
                    distance=distance, distance_targets=distance_targets,
                    hits_band=tuple(float(q) for q in  # counts that occurred
                                    np.quantile(counts, (0.05, 0.95), method="inverted_cdf")))
    files = []
    csv = table[list(REPORT_COLUMNS)].copy()
    for column in ("hit", "overlap"):
        csv[column] = csv[column].map({True: "true", False: "false", None: ""})
    csv[["in_range", "hit_chance"]] = csv[["in_range", "hit_chance"]].round(4)
    files.append(atomic_to_csv(csv, out / "report.csv", index=False))
    files.append(atomic_save_figure(report_plots.targets_figure(targets, table, title),
                                    out / "targets.png"))
    if posterior is not None:
        priors = prior_bounds is not None
        bounds = dict(prior_bounds) if priors else report_plots.schema_bounds(
            report_plots.parameters_of(posterior))
        files.append(atomic_save_figure(
            report_plots.marginals_figure(posterior, bounds, priors, log_scale, drawn,
                                          staged),
            out / "posterior_marginals.png"))
        files.append(atomic_save_figure(report_plots.pairs_figure(posterior, bounds, priors),
                                        out / "posterior_pairs.png"))
    markdown = report_markdown(targets, table, report, title, posterior, [f.name for f in files],
                               drawn, lacks(table) if lacks is not None else (), staged)
    files.insert(0, atomic_write_text(out / "report.md", markdown))
    return replace(report, files=files)


def resampled_hits(targets: Sequence[Target], simulated: pd.DataFrame,
                   resamples: int = RESAMPLES, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each target's chance that its median is in range, and the hit count per resample.

    The runs are resampled with replacement `resamples` times (a fixed `seed`, so a report is
    reproducible); in each resample every target's median over its measured runs is compared
    with its range. Returns the chances (one per target, NaN for a target no run measured)
    and the number of medians in range in each resample. A resample that happens to hold
    none of a target's measured runs counts as a miss (it matters only for a target few runs
    measure). The chances describe these runs: a fresh set of runs' median differs from
    theirs with about twice the variance, since their median is itself one draw.
    """
    picks = np.random.default_rng(seed).integers(0, len(simulated),
                                                  size=(resamples, len(simulated)))
    chances, counts = [], np.zeros(resamples, dtype=np.int64)
    for t in targets:
        values = pd.to_numeric(simulated[t.name], errors="coerce").to_numpy(np.float64)
        values = np.where(np.isfinite(values), values, np.nan)  # as `evaluate`: measured runs
        if np.isnan(values).all():
            chances.append(math.nan)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a resample without a finite run
            medians = np.nanmedian(values[picks], axis=1)
        inside = t.contains(medians)  # NaN (no measured run) is never inside
        chances.append(float(inside.mean()))
        counts += inside
    return np.array(chances, dtype=np.float64), counts


def missed_rows(table: pd.DataFrame) -> list[Any]:
    """The rows of the evaluated table whose median lies outside the range (not compared: no)."""
    return [row for row in table.itertuples(index=False) if row.hit is False]


def miss_text(target: Target, row: Any) -> str:
    """'median 5,787 is above the range (3,409 to 4,613 deaths; 12% of runs in it)'."""
    side = "above" if target.high is not None and row.sim_q50 > target.high else "below"
    return (f"median {format_number(row.sim_q50)} is {side} the range ({target.range_text()} "
            f"{target.unit}; {format_share(row.in_range)} of runs in it)")


def format_share(share: float) -> str:
    """A share of runs as a percentage: '12%'; '0%' and '100%' only for none and all.

    A share that would round to 0% or 100% without being so reads '<1%' or '>99%'; NaN '-'.
    """
    if math.isnan(share):
        return "-"
    percent = round(share * 100)
    if share > 0 and percent == 0:
        return "<1%"
    if share < 1 and percent == 100:
        return ">99%"
    return f"{share:.0%}"


def format_number(x: float | None) -> str:
    """A figure as the report prints it: thousands separated, three digits below 100."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _mark(flag: object) -> str:
    return "n/a" if flag is None or flag is pd.NA else ("yes" if flag else "no")


def report_markdown(targets: Sequence[Target], table: pd.DataFrame, report: Report, title: str,
                    posterior: pd.DataFrame | None, files: Sequence[str],
                    drawn: Collection[str] = (), lacks: Sequence[str] = (),
                    staged: Collection[str] = ()) -> str:
    """The report as Markdown: summary, one row per target, misses, figures, posterior.

    `lacks`: the lines on why the misses miss, put after them.
    """
    lines = [f"# {title}", ""]
    if report.compared:
        lines.append(
            f"{report.runs} runs. Of {report.compared} targets compared, the simulated median "
            f"lies inside the sourced range for **{report.hits} ({report.hit_share:.0%})** and "
            f"the 5-95% band overlaps the range for **{report.overlaps} "
            f"({report.overlap_share:.0%})**. With this many runs the count is "
            f"{report.hits_band[0]:.0f} to {report.hits_band[1]:.0f} (5-95% over {RESAMPLES:,} "
            f"bootstrap resamples of the runs).")
        if report.distance_targets:
            lines.append(
                f"The fit's distance of these medians from the ranges (each target's gap "
                f"outside its range in widths of the range, deaths on the log scale, weighted "
                f"by confidence; 0 when all are inside) is **{report.distance:.3f}**, over "
                f"{report.distance_targets} targets.")
    else:
        lines.append(f"{report.runs} runs. No target could be compared.")
    outside = table.loc[table["hit"].isna(), "target"].tolist()
    if outside:
        lines.append(f"Not compared (no run measured them: their window lies outside the "
                     f"simulated period): {', '.join(outside)}.")
    lines += ["", "Hit: the median lies inside the range. Overlap: the 5-95% band and the "
              "range share a point. In range: the share of runs inside the range. Hit chance: "
              f"the share of {RESAMPLES:,} bootstrap resamples of the runs whose median is inside "
              "the range. Confidence as "
              "in FACTS.md (weights in the fit: H 1, M 0.5, L 0.25).", "",
              "| target | sourced range | unit | simulated 5% | 50% | 95% | hit | overlap | "
              "in range | hit chance | conf. | source (date) |",
              "|---|---|---|---:|---:|---:|---|---|---:|---:|---|---|"]
    by_name = {t.name: t for t in targets}
    for row in table.itertuples(index=False):
        t = by_name[row.target]
        source = t.source.replace("|", "/")
        q05, q50, q95 = (format_number(x) for x in (row.sim_q05, row.sim_q50, row.sim_q95))
        lines.append(f"| {t.name} | {t.range_text()} | {t.unit} | {q05} | {q50} | {q95} | "
                     f"{_mark(row.hit)} | {_mark(row.overlap)} | {format_share(row.in_range)} | "
                     f"{format_share(row.hit_chance)} | "
                     f"{t.confidence} | {source} "
                     f"({t.source_date}) |")
    misses = missed_rows(table)
    if misses:
        lines += ["", "## Misses", ""]
        for row in misses:
            t = by_name[row.target]
            band = "" if row.overlap else "; the 5-95% band misses the range too"
            lines.append(f"- {t.name}: {miss_text(t, row)}{band}. Compared as: "
                         f"{t.compare.describe()}.")
    lines += list(lacks)
    lines += ["", "## Figures", "", "![targets](targets.png)", "",
              "Each row: the sourced range (green bar, normalised to -1..1; a one-sided range "
              "starts at 0, one unit being half its bound), the simulated 5-95% band (line) and "
              "median (dot: filled when inside the range); the numbers on the right are in the "
              "target's unit."]
    if posterior is not None:
        lines += ["", "## Posterior", "", _posterior_table(posterior, drawn, staged), "",
                  "![posterior marginals](posterior_marginals.png)", "",
                  "![posterior pairs](posterior_pairs.png)"]
    lines += ["", f"Files: {', '.join(files)}.", ""]
    return "\n".join(lines)


def _posterior_table(posterior: pd.DataFrame, drawn: Collection[str] = (),
                     staged: Collection[str] = ()) -> str:
    """Weighted mean and 5-95% interval of each parameter, and the draws' effective size.

    With `drawn` or `staged`, a column says how each was fitted: moved by the fit's kernel,
    drawn from its prior, fitted by a second stage (or, without `drawn`, the first stage's).
    """
    from sim.calibration.fit_result import effective_sample_size, weighted_quantile
    from sim.calibration.report_plots import normalised_weights, parameters_of

    weights = normalised_weights(posterior)
    ess = effective_sample_size(weights)
    roles = bool(drawn) or bool(staged)
    lines = [f"{len(posterior)} weighted draws, effective sample size {ess:.0f} (Kish).", "",
             "| parameter | weighted mean | 5% | 95% |" + (" in the fit |" if roles else ""),
             "|---|---:|---:|---:|" + ("---|" if roles else "")]
    for name in parameters_of(posterior):
        values = posterior[name].to_numpy(np.float64)
        q05, q95 = weighted_quantile(values, weights, [0.05, 0.95])
        how = "" if not roles else (
            " fitted by the second stage |" if name in staged else
            " drawn from its prior |" if name in drawn else
            " moved by the kernel |" if drawn else " from the first stage |")
        lines.append(f"| {name} | {float(np.dot(weights, values)):.4g} | {q05:.4g} | "
                     f"{q95:.4g} |{how}")
    return "\n".join(lines)
