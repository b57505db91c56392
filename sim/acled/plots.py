"""Plots of a scoring: the map of cell-month CRPS and the country-months against the bands.

Figures are built with `matplotlib.figure.Figure` (no pyplot state); the map uses the
project's outlines and labels (`sim.plots.draw_borders`) and its palette.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import PowerNorm
from matplotlib.dates import ConciseDateFormatter, MonthLocator
from matplotlib.figure import Figure

from sim.files import atomic_save_figure
from sim.geography import COUNTRIES, LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, PRIO_CELL, load_borders
from sim.plots import CIVILIAN_COLOUR, MAP_EXTENT, draw_borders

MODEL_COLOUR = "#0077BB"  # Tol vibrant blue, as the experiments' difference bands
DPI = 110


def cell_raster(values: pd.Series) -> np.ndarray:
    """Values by PRIO-GRID gid as a raster over the map (rows from the south), NaN elsewhere."""
    nx = round((LON_MAX - LON_MIN) / PRIO_CELL)
    ny = round((LAT_MAX - LAT_MIN) / PRIO_CELL)
    raster = np.full((ny, nx), np.nan)
    gid = values.index.to_numpy(dtype=np.int64) - 1
    lat0 = (gid // 720) * PRIO_CELL - 90.0
    lon0 = (gid % 720) * PRIO_CELL - 180.0
    x = np.round((lon0 - LON_MIN) / PRIO_CELL).astype(int)
    y = np.round((lat0 - LAT_MIN) / PRIO_CELL).astype(int)
    inside = (x >= 0) & (x < nx) & (y >= 0) & (y < ny)
    raster[y[inside], x[inside]] = values.to_numpy(dtype=float)[inside]
    return raster


def crps_map_figure(crps_by_cell: pd.Series, title: str) -> Figure:
    """Mean CRPS per PRIO-GRID cell (index: gid) on a map of the three countries."""
    fig = Figure(figsize=(11, 6.5), constrained_layout=True)
    ax = fig.add_subplot()
    top = float(np.nanmax(crps_by_cell.to_numpy())) if len(crps_by_cell) else 1.0
    image = ax.imshow(cell_raster(crps_by_cell), origin="lower", extent=MAP_EXTENT,
                      cmap="YlOrRd", norm=PowerNorm(0.5, vmin=0.0, vmax=max(top, 1e-9)),
                      interpolation="nearest", aspect="auto")
    draw_borders(ax, load_borders())
    ax.set_xlim(LON_MIN, LON_MAX)
    ax.set_ylim(LAT_MIN, LAT_MAX)
    ax.set_aspect(1.0 / np.cos(np.radians(0.5 * (LAT_MIN + LAT_MAX))))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    fig.colorbar(image, ax=ax, shrink=0.8, label="mean CRPS per month (deaths; lower is better)")
    ax.set_title(title)
    return fig


def country_months_figure(months: pd.PeriodIndex, observed: np.ndarray, draws: np.ndarray,
                          title: str) -> Figure:
    """Observed deaths per country-month against the ensemble's 5-50-95% bands.

    Args:
        months: the scored months.
        observed: (3 countries, months).
        draws: (3 countries, months, runs).
        title: the figure's title.
    """
    fig = Figure(figsize=(15, 4.5), constrained_layout=True)
    axes = np.atleast_1d(fig.subplots(1, len(COUNTRIES), sharex=True))
    edges = [*months.to_timestamp(), (months[-1] + 1).to_timestamp()]
    middles = months.to_timestamp() + pd.Timedelta(days=14)
    low, mid, high = np.quantile(np.asarray(draws, dtype=float), [0.05, 0.5, 0.95], axis=2)
    step = max(1, len(months) // 12)
    for c, (ax, (iso, name)) in enumerate(zip(axes, COUNTRIES.items(), strict=True)):
        ax.fill_between(edges, [*low[c], low[c][-1]], [*high[c], high[c][-1]],
                        color=MODEL_COLOUR, alpha=0.2, linewidth=0, step="post",
                        label="ensemble 5-95%")
        ax.step(edges, [*mid[c], mid[c][-1]], where="post", color=MODEL_COLOUR, linewidth=1.4,
                label="ensemble median")
        ax.plot(middles, observed[c], "o-", color=CIVILIAN_COLOUR, markersize=3.5, linewidth=1,
                label="observed")
        ax.set_title(f"{name} ({iso}): deaths per month", fontsize=10)
        ax.set_ylim(bottom=0)
        ax.xaxis.set_major_locator(MonthLocator(interval=step))
        ax.xaxis.set_major_formatter(ConciseDateFormatter(ax.xaxis.get_major_locator()))
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle(title)
    return fig


def save_figure(fig: Figure, path: Path) -> Path:
    """Write a figure as PNG (to a temporary name, then renamed)."""
    return atomic_save_figure(fig, path, dpi=DPI)
