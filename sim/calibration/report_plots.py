"""Figures of the calibration report: all targets on one page, and the posterior's draws.

Built with `matplotlib.figure.Figure` (no pyplot state), as the experiments' figures are.
Targets of very different magnitudes share one axis by normalising each row to its range:
x = (value - centre) / half-width, so a two-sided range spans -1..1; a one-sided range starts
at 0 (its bound) with one unit per half of its bound; a point range (a count such as 0 or 1
coups) is widened by half an event either side for drawing only.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from sim.calibration.targets import Target
from sim.scenario import tunable_parameters

DPI = 110
LIMIT = 4.0  # the normalised axis runs from -LIMIT to LIMIT; values beyond are drawn at it
RANGE_COLOUR, BAND_COLOUR, HIT_COLOUR, MISS_COLOUR = "#B8E0B8", "#332288", "#117733", "#CC3311"


def parameters_of(posterior: pd.DataFrame) -> list[str]:
    """The parameter columns of a posterior (every numeric column but `weight` and `draw`)."""
    return [c for c in posterior.columns if c not in ("weight", "draw")
            and pd.api.types.is_numeric_dtype(posterior[c])]


def normalised_weights(posterior: pd.DataFrame) -> np.ndarray:
    """The draws' weights, summing to 1."""
    weights = posterior["weight"].to_numpy(np.float64)
    return weights / weights.sum()


def schema_bounds(names: Sequence[str]) -> dict[str, tuple[float, float]]:
    """The scenario schema's bounds of dotted parameter names (those it knows)."""
    skeleton: dict[str, dict[str, dict]] = {"factions": {}, "juntas": {}, "drones": {}}
    for name in names:
        parts = name.split(".")
        if len(parts) == 3 and parts[0] in skeleton:
            skeleton[parts[0]][parts[1]] = {}
    known = tunable_parameters(skeleton)
    return {n: (float(known[n]["low"]), float(known[n]["high"])) for n in names if n in known}


def _scale(target: Target) -> tuple[float, float]:
    """Centre and half-width of a target's row (see the module's docstring)."""
    low, high = target.low, target.high
    if low is not None and high is not None:
        if high > low:
            return (low + high) / 2, (high - low) / 2
        return low, max(0.5, abs(low) * 0.1)
    bound = low if low is not None else high
    return bound, abs(bound) / 2 if bound else 1.0


def targets_figure(targets: Sequence[Target], table: pd.DataFrame, title: str,
                   dot: str = "filled = inside the range") -> Figure:
    """Every target's sourced range, simulated 5-95% band and median, one row each.

    The median's dot is filled where the table's `hit` holds; `dot` says what that means.
    """
    n = len(targets)
    fig = Figure(figsize=(11, 1.2 + 0.38 * n), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    rows = table.set_index("target")
    for i, target in enumerate(targets):
        y = n - 1 - i
        centre, half = _scale(target)

        def x(value: float, centre: float = centre, half: float = half) -> float:
            return float(np.clip((value - centre) / half, -LIMIT, LIMIT))

        lo = x(target.low) if target.low is not None else -LIMIT
        hi = x(target.high) if target.high is not None else LIMIT
        ax.barh(y, hi - lo, left=lo, height=0.6, color=RANGE_COLOUR, edgecolor="#5A9A5A")
        row = rows.loc[target.name]
        text = f"range {target.range_text()}"
        if not math.isnan(row["sim_q50"]):
            ax.plot([x(row["sim_q05"]), x(row["sim_q95"])], [y, y], color=BAND_COLOUR, lw=2)
            hit = bool(row["hit"])
            ax.plot(x(row["sim_q50"]), y, "o", ms=7, color=HIT_COLOUR if hit else MISS_COLOUR,
                    mfc=HIT_COLOUR if hit else "white", mew=2)
            text += (f" | sim {_short(row['sim_q50'])} [{_short(row['sim_q05'])}, "
                     f"{_short(row['sim_q95'])}]")
        else:
            text += " | not compared"
        ax.text(LIMIT + 0.15, y, text, va="center", fontsize=7.5)
    ax.set_yticks(range(n), [t.name for t in reversed(targets)], fontsize=8)
    ax.set_xlim(-LIMIT, LIMIT)
    ax.set_ylim(-0.7, n - 0.3)
    ax.axvline(0, color="#999999", lw=0.6, ls=":")
    ax.set_xlabel("position relative to the sourced range (two-sided range: -1 to 1; "
                  "one-sided: from its bound at 0; values beyond the axis drawn at its edge)",
                  fontsize=8)
    ax.set_title(f"{title}\nsourced range (green), simulated 5-95% (line) and median (dot: "
                 f"{dot})", fontsize=9.5)
    ax.grid(axis="x", color="#EEEEEE")
    return fig


def _short(x: float) -> str:
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _limits(name: str, values: np.ndarray, bounds: Mapping[str, tuple[float, float]],
            span_bounds: bool) -> tuple[float, float]:
    """The axis of a parameter: its prior bounds, or else the draws' range padded by 5%."""
    if span_bounds and name in bounds:
        low, high = bounds[name]
    else:
        low, high = float(values.min()), float(values.max())
        pad = 0.05 * (high - low)
        low, high = low - pad, high + pad
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return low, high


def _bounds_label(span_bounds: bool) -> str:
    return "prior bounds" if span_bounds else "schema bounds (where inside the draws' range)"


def marginals_figure(posterior: pd.DataFrame, bounds: Mapping[str, tuple[float, float]],
                     span_bounds: bool = True, log_scale: Collection[str] = (),
                     drawn: Collection[str] = (), staged: Collection[str] = ()) -> Figure:
    """Weighted histogram of each parameter, its bounds dashed, its mean solid.

    With `span_bounds` the axes span the bounds (the fit's priors); without, the draws'
    range (the schema's bounds may be far wider than the priors were). A parameter in
    `log_scale` (a log-uniform prior) is binned evenly in its logarithm on a log axis, where
    its prior is flat; one in `drawn` is titled so, and one in `staged` (fitted by a second
    stage) too.
    """
    names = parameters_of(posterior)
    weights = normalised_weights(posterior)
    columns = min(3, max(1, len(names)))
    rows = max(1, math.ceil(len(names) / columns))
    fig = Figure(figsize=(4 * columns, 2.8 * rows), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax, name in zip(axes, names, strict=False):
        values = posterior[name].to_numpy(np.float64)
        low, high = _limits(name, values, bounds, span_bounds)
        logarithmic = name in log_scale and low > 0 and bool((values > 0).all())
        bins = np.geomspace(low, high, 31) if logarithmic else np.linspace(low, high, 31)
        ax.hist(np.clip(values, low, high), bins=bins, weights=weights, color="#88CCEE",
                edgecolor="#332288", lw=0.4)
        if logarithmic:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels collide
        for bound in bounds.get(name, ()):
            if low <= bound <= high:
                ax.axvline(bound, color="#CC3311", ls="--", lw=1)
        ax.axvline(float(np.dot(weights, values)), color="#332288", lw=1.2)
        ax.set_title(name + (" [stage 2]" if name in staged else " [drawn]" if name in drawn
                             else "")
                     + (" (log axis)" if logarithmic else ""), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_ylabel("weight", fontsize=7)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"Posterior marginals (weighted); dashed: {_bounds_label(span_bounds)}; "
                 "solid: weighted mean" + ("; [drawn]: drawn from its prior in each "
                                           "simulation of the fit" if drawn else "")
                 + ("; [stage 2]: fitted by the second stage" if staged else ""),
                 fontsize=10)
    return fig


def pairs_figure(posterior: pd.DataFrame, bounds: Mapping[str, tuple[float, float]],
                 span_bounds: bool = True) -> Figure:
    """Pairwise weighted 2-D histograms below the diagonal, marginals on the diagonal.

    The axes are chosen as in `marginals_figure`.
    """
    names = parameters_of(posterior)
    k = max(1, len(names))
    weights = normalised_weights(posterior)
    fig = Figure(figsize=(1.9 * k + 1, 1.9 * k + 1), dpi=DPI, layout="constrained")
    axes = np.atleast_2d(fig.subplots(k, k, squeeze=False))
    limits = {n: _limits(n, posterior[n].to_numpy(np.float64), bounds, span_bounds)
              for n in names}
    for i, row_name in enumerate(names):
        for j, column_name in enumerate(names):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            x = posterior[column_name].to_numpy(np.float64)
            if i == j:
                ax.hist(x, bins=20, range=limits[column_name], weights=weights,
                        color="#88CCEE", edgecolor="#332288", lw=0.3)
            else:
                ax.hist2d(x, posterior[row_name].to_numpy(np.float64), bins=20,
                          range=[limits[column_name], limits[row_name]], weights=weights,
                          cmap="Blues", cmin=1e-12)
                ax.set_ylim(limits[row_name])
            ax.set_xlim(limits[column_name])
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(column_name.split(".", 1)[-1], fontsize=6.5)
            if j == 0 and i > 0:
                ax.set_ylabel(row_name.split(".", 1)[-1], fontsize=6.5)
    fig.suptitle("Posterior: pairwise weighted histograms (axes: "
                 f"{'the prior bounds' if span_bounds else 'the range of the draws'})",
                 fontsize=10)
    return fig


def pairs_lift_figure(pairs: pd.DataFrame) -> Figure:
    """Joint hits of each pair of targets against independence (log2 lift); conflicts x'd.

    `pairs` has the columns of `sim.calibration.reachability.PAIR_COLUMNS`. Blue: the two
    targets are hit together more often than chance; red: less often; a cross: a conflict.
    """
    names = list(dict.fromkeys([*pairs["target_a"], *pairs["target_b"]]))
    k = len(names)
    fig = Figure(figsize=(2.5 + 0.32 * k, 1.5 + 0.3 * k), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    if not k:
        ax.text(0.5, 0.5, "fewer than two targets reached: no pairs", ha="center")
        ax.set_axis_off()
        return fig
    index = {n: i for i, n in enumerate(names)}
    lift = np.full((k, k), np.nan)
    for r in pairs.itertuples():
        value = np.log2(max(r.lift, 1 / 16)) if r.expected > 0 else np.nan
        lift[index[r.target_b], index[r.target_a]] = value
        if r.conflict:
            ax.plot(index[r.target_a], index[r.target_b], "x", color="black", ms=6, mew=1.5)
    image = ax.imshow(lift, cmap="RdBu", vmin=-4, vmax=4)
    fig.colorbar(image, ax=ax, shrink=0.6, label="log2(joint hits / expected if independent)")
    ax.set_xticks(range(k), names, rotation=90, fontsize=7)
    ax.set_yticks(range(k), names, fontsize=7)
    ax.set_title("Pairs of targets over the prior box: hit together more (blue) or less (red) "
                 "often than chance; x: conflict", fontsize=9)
    return fig
