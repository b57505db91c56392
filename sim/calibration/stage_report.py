"""What a second stage of the calibration writes: its posterior, medians, summary and figure.

`write_stage` writes, into the stage's folder, `posterior.csv` (the accepted proposals, equally
weighted), `fitted.toml` (their medians, as `sahel-sim calibrate` writes its own), `stage.json`
(the config, the acceptance, the sha256 of the posterior written, each stage parameter's prior
and posterior quantiles, how far the first stage's parameters moved, and every target's share
of runs in range before and after the acceptance) and `stage.png` (each stage parameter's
proposals and accepted values, and each stage target's statistic with its range).
`staged_parameters` finds, for the report, which parameters of a posterior file a stage fitted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from sim.calibration.posterior import DRAW, WEIGHT, Posterior
from sim.calibration.reachability import hit_matrix
from sim.calibration.stage import FITTED_FILE, PLOT_FILE, POSTERIOR_FILE, SUMMARY_FILE
from sim.calibration.targets import Target
from sim.files import atomic_save_figure, atomic_to_csv, atomic_write_text

DPI = 110
MOVED_WIDTHS = 0.5  # a target outside the stage whose kept median moved this far is named
PROPOSED_COLOUR, ACCEPTED_COLOUR, RANGE_COLOUR = "#BBBBBB", "#332288", "#B8E0B8"


def stage_summary(posterior: Posterior, runs: pd.DataFrame, accepted: np.ndarray,
                  epsilon: float, priors: Sequence[Any], stage_targets: Sequence[Target],
                  targets: Sequence[Target], table: pd.DataFrame) -> dict[str, Any]:
    """The acceptance and what it did to the parameters and the targets (for stage.json)."""
    from sim.calibration.fit_result import weighted_quantile

    stage_names = {p.name for p in priors}
    hits = hit_matrix(targets, runs, keep_unmeasured=True)
    quantiles = [0.05, 0.5, 0.95]
    parameters = {p.name: {"prior": [p.low, p.high, p.scale],
                           "posterior_q05_q50_q95": _quantiles(table[p.name], quantiles)}
                  for p in priors}
    first_stage = {}
    for c, name in enumerate(posterior.names):
        if name in stage_names:
            continue
        before = weighted_quantile(posterior.values[:, c], posterior.weights, [0.5])[0]
        first_stage[name] = {"median_before": _g(before),
                             "median_after": _g(float(np.median(table[name])))}
    return {
        "proposals": len(runs), "failed": int(runs[[t.name for t in targets]]
                                                   .isna().all(axis=1).sum()),
        "accepted": int(accepted.sum()), "epsilon": epsilon,
        "all_stage_targets_in_range": int(
            (hits[[t.name for t in stage_targets]] == 1).all(axis=1).sum()),
        "stage_parameters": parameters, "first_stage_parameters": first_stage,
        "by_target": {t.name: {"stage": t.name in {s.name for s in stage_targets},
                             "in_range_proposed": _g(hits[t.name].mean()),
                             "in_range_accepted": _g(hits.loc[accepted, t.name].mean()),
                             "median_proposed": _g(runs[t.name].median()),
                             "median_accepted": _g(runs.loc[accepted, t.name].median())}
                    for t in targets},
        "moved_outside_stage": moved_outside_stage(targets, stage_targets, runs, accepted)}


def moved_outside_stage(targets: Sequence[Target], stage_targets: Sequence[Target],
                        runs: pd.DataFrame, accepted: np.ndarray) -> list[dict[str, Any]]:
    """The targets outside the stage whose median the acceptance moved by `MOVED_WIDTHS` or more.

    Measured on the fit's scale (`comparable_summaries`: deaths on the log scale) in widths of the
    target's range, kept median against all proposals' median. The stage assumes its
    parameters move the other targets little; these are where its kept proposals say not.
    """
    from sim.calibration.calibrate import comparable_summaries

    summaries = comparable_summaries([t for t in targets
                                      if t.name not in {s.name for s in stage_targets}])
    moved = []
    for name, summary in summaries.items():
        before = float(runs[name].median())
        after = float(runs.loc[accepted, name].median())
        if not (np.isfinite(before) and np.isfinite(after)):
            continue
        widths = abs(float(summary.scaled(after)) - float(summary.scaled(before))) / summary.width
        if widths >= MOVED_WIDTHS:
            moved.append({"target": name, "median_proposed": _g(before),
                          "median_accepted": _g(after), "widths": _g(widths)})
    return moved


def stage_figure(runs: pd.DataFrame, accepted: np.ndarray, priors: Sequence[Any],
                 stage_targets: Sequence[Target]) -> Figure:
    """Each stage parameter, then each stage target: proposed against accepted."""
    panels = [(p.name, p.scale == "log", None) for p in priors] + [
        (t.name, t.unit == "deaths", t) for t in stage_targets]
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    fig = Figure(figsize=(4.2 * columns, 3.0 * rows), dpi=DPI, layout="constrained")
    for i, (name, log, target) in enumerate(panels):
        ax = fig.add_subplot(rows, columns, i + 1)
        values = runs[name].to_numpy(float)
        values = values[np.isfinite(values)]
        positive = values[values > 0]
        if log and len(positive) > 1:
            bins = np.geomspace(positive.min(), positive.max(), 31)
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels collide
        else:
            bins = np.histogram_bin_edges(values, bins=30) if len(values) else 10
        ax.hist(values, bins=bins, color=PROPOSED_COLOUR, label="proposed")
        kept = runs.loc[accepted, name].to_numpy(float)
        ax.hist(kept[np.isfinite(kept)], bins=bins, color=ACCEPTED_COLOUR, label="accepted")
        if target is not None:
            low = target.low if target.low is not None else ax.get_xlim()[0]
            high = target.high if target.high is not None else ax.get_xlim()[1]
            ax.axvspan(low, high, color=RANGE_COLOUR, alpha=0.6, zorder=0, label="sourced range")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=7)
    fig.suptitle(f"Second stage: {int(accepted.sum())} of {len(runs)} proposals accepted",
                 fontsize=10)
    return fig


def write_stage(out: Path, posterior: Posterior, runs: pd.DataFrame, accepted: np.ndarray,
                epsilon: float, priors: Sequence[Any], stage_targets: Sequence[Target],
                targets: Sequence[Target], table: pd.DataFrame, record: dict[str, Any],
                scenario: str) -> list[Path]:
    """Write the stage's posterior, medians, summary and figure into `out`; their paths."""
    from sim.calibration.calibrate import write_fitted

    integer = {p.name for p in priors if p.integer} | set(posterior.integer)
    columns = [SimpleNamespace(name=n, integer=n in integer)
               for n in table.columns if n not in (WEIGHT, DRAW)]
    summary = stage_summary(posterior, runs, accepted, epsilon, priors, stage_targets,
                            targets, table)
    written = Path(atomic_to_csv(table, out / POSTERIOR_FILE, index=False,
                                 float_format="%.17g"))
    summary["posterior_sha256"] = hashlib.sha256(written.read_bytes()).hexdigest()
    files = [written,
             write_fitted(out / FITTED_FILE, table, columns, scenario,
                          by=f"`sahel-sim calibrate-stage` (see {SUMMARY_FILE})"),
             atomic_write_text(out / SUMMARY_FILE,
                               json.dumps({**record, **summary}, indent=1) + "\n"),
             atomic_save_figure(stage_figure(runs, accepted, priors, stage_targets),
                                out / PLOT_FILE)]
    return [Path(f) for f in files]


def staged_parameters(posterior_file: Path, sha256: str) -> list[str]:
    """The parameters the second stage fitted, if `posterior_file` is a stage's posterior.

    Stage records (`stage.json`) are looked for beside the file, in its subfolders and in its
    folder's sibling folders (`calibration/stage_*` beside `calibration/stage/`); a record
    counts only if it names the file's content (sha256), so a copy of a stage's posterior is
    known as one and any other file is not. The chain is followed: a stage run on an earlier
    stage's posterior adds that stage's parameters (by the record whose posterior is its
    input, and the earlier parameters it recorded). For a stage's copy of its input
    (`first_stage_posterior.csv`), the parameters of the stages before it.
    """
    records = _stage_records(posterior_file.resolve().parent)
    names = _chain(records, sha256, set())
    if names is None and isinstance(sha256, str):  # perhaps some stage's copy of its input
        names = next((_earlier(records, r, set()) for r in records
                      if r.get("first_stage_posterior") == sha256), None)
    return list(dict.fromkeys(names or []))


def targets_fitted_before(posterior_file: Path, sha256: str) -> dict[str, list[str]]:
    """The targets the steps behind a posterior were fitted to, each with the records naming it.

    The ABC-SMC fit first: the `fit.json` beside the file or in its parent folder whose
    `posterior_sha256` is the content at the root of the chain (the input of its first stage,
    or the file itself); a record older than that field is taken by its folder alone and
    marked "(by folder)". Then the stages of the chain (found by content, as in
    `staged_parameters`; their `stage_targets`), earliest first.
    """
    from sim.calibration.fit_result import FIT_FILE

    folder = posterior_file.resolve().parent
    chain = _chain_records(_stage_records(folder), sha256, set())
    root = chain[-1].get("first_stage_posterior") if chain else sha256
    steps: list[tuple[str, list[Any]]] = []
    for path in dict.fromkeys(f.resolve() for f in (folder / FIT_FILE, folder.parent / FIT_FILE)):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            names = [s["name"] for s in record["summaries"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if "posterior_sha256" not in record:
            steps.append((f"{path} (by folder)", names))
            break
        if record["posterior_sha256"] == root:
            steps.append((str(path), names))
            break
    for record in reversed(chain):  # the earliest stage first
        names = record.get("stage_targets")
        steps.append((record["_file"], names if isinstance(names, list) else []))
    found: dict[str, list[str]] = {}
    for where, names in steps:
        for name in names:
            found.setdefault(str(name), []).append(where)
    return found


def _stage_records(folder: Path) -> list[dict[str, Any]]:
    """The readable stage records beside, below and beside the folder of a posterior file."""
    found = [folder / SUMMARY_FILE, *sorted(folder.glob(f"*/{SUMMARY_FILE}")),
             *sorted(folder.parent.glob(f"*/{SUMMARY_FILE}"))]
    records, seen = [], set()
    for path in found:
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(record, dict) and isinstance(record.get("stage_parameters"), dict):
                records.append({**record, "_file": str(key)})
        except (OSError, ValueError):
            continue
    return records


def _chain_records(records: list[dict[str, Any]], sha256: Any,
                   seen: set[Any]) -> list[dict[str, Any]]:
    """The stage records behind the posterior of this content, latest first ([] if none)."""
    if not isinstance(sha256, str) or sha256 in seen:
        return []
    record = next((r for r in records if r.get("posterior_sha256") == sha256), None)
    if record is None:
        return []
    return [record, *_chain_records(records, record.get("first_stage_posterior"),
                                    seen | {sha256})]


def _chain(records: list[dict[str, Any]], sha256: Any, seen: set[Any]) -> list[str] | None:
    """The stage parameters behind the posterior of this content, or None if no stage's."""
    chain = _chain_records(records, sha256, seen)
    if not chain:
        return None
    return [name for record in reversed(chain)
            for name in [*_recorded_earlier(record),
                         *(str(n) for n in record["stage_parameters"])]]


def _earlier(records: list[dict[str, Any]], record: dict[str, Any], seen: set[Any]) -> list[str]:
    """The parameters of the stages before `record`: found by its input, and as it recorded."""
    found = _chain(records, record.get("first_stage_posterior"), seen)
    return list(dict.fromkeys([*(found or []), *_recorded_earlier(record)]))


def _recorded_earlier(record: dict[str, Any]) -> list[str]:
    """The earlier stages' parameters a record lists (`earlier_stage_parameters`)."""
    listed = record.get("earlier_stage_parameters")
    return [str(name) for name in listed] if isinstance(listed, list) else []


def _quantiles(values: pd.Series, quantiles: list[float]) -> list[float]:
    return [_g(v) for v in np.quantile(values.to_numpy(float), quantiles)]


def _g(x: Any) -> float | None:
    x = float(x)
    return None if not np.isfinite(x) else float(f"{x:.6g}")
