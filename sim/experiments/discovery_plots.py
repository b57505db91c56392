"""Plots of scenario discovery: PRIM's trade-off curve and the chosen boxes' limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sim.files import atomic_save_figure

DiscoveryResult = Any  # sim.experiments.discovery.DiscoveryResult (imported there, not here)


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
    return atomic_save_figure(fig, path, dpi=110)
