"""Plots of experiments: quantile bands of ensembles and comparisons, sensitivity indices.

Figures are built with `matplotlib.figure.Figure` (no pyplot, no global state), so they can be
drawn from a dashboard's worker thread. Bands are frames long by quantile (see
`sim.experiments.EnsembleResult`): the 5-95% band is light, the 25-75% band darker, the median
a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from sim.files import atomic_save_figure
from sim.geography import COUNTRIES
from sim.outputs import scenario_columns
from sim.plots import CIVILIAN_COLOUR, FACTION_PALETTE, KIND_PALETTE

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.experiments.results import ComparisonResult, SweepResult
    from sim.scenario import Scenario

# Colours from the shared palette (`sim.plots`), so every figure of the project agrees.
STATE_COLOUR = KIND_PALETTE["state"]
CONTESTED_COLOUR = "#999999"
VICTIM_COLOURS = {"civilians": CIVILIAN_COLOUR, "state_forces": KIND_PALETTE["state"],
                  "russians": KIND_PALETTE["russian"], "jihadists": KIND_PALETTE["jihadist"],
                  "separatists": KIND_PALETTE["separatist"],
                  "foreign_forces": KIND_PALETTE["peacekeeping"]}
BASELINE_COLOUR = "#555555"
COUNTERFACTUAL_COLOUR = "#EE7733"  # Tol vibrant orange: apart from the grey baseline
DIFFERENCE_COLOUR = "#0077BB"  # Tol vibrant blue
DIVERGENCE_COLOUR = "#CC3311"
DPI = 110


def band_plot(ax: Axes, bands: pd.DataFrame, column: str, country: str, colour: str,
              label: str | None = None, scale: float = 1.0) -> None:
    """Draw one series' bands (5-95%, 25-75%) and median for a country on `ax`."""
    rows = bands[bands["country"] == country]
    wide = rows.pivot(index="date", columns="quantile", values=column) * scale
    dates = wide.index.to_numpy()
    q = {round(float(c), 2): wide[c].to_numpy() for c in wide.columns}
    ax.fill_between(dates, q[0.05], q[0.95], color=colour, alpha=0.15, linewidth=0)
    ax.fill_between(dates, q[0.25], q[0.75], color=colour, alpha=0.3, linewidth=0)
    ax.plot(dates, q[0.5], color=colour, linewidth=1.4, label=label)


def mark_divergence(ax: Axes, date: object, label: bool = True) -> None:
    """A vertical marker at the first date the paired runs differ (nothing if they never do)."""
    if date is None or pd.isna(date):
        return
    when = pd.Timestamp(date)
    ax.axvline(when, color=DIVERGENCE_COLOUR, linestyle="--", linewidth=1.1, zorder=6,
               label=f"runs differ from {when:%Y-%m-%d}" if label else None)


def _actors(bands: pd.DataFrame, scenario: Scenario | None) -> list[str]:
    """Control actors (and contested) of the territory bands: declared by `sim.outputs`."""
    if scenario is not None:
        columns = scenario_columns(scenario)["territory"]
    else:  # bands read back without their scenario: the declared territory columns present
        columns = [c for c in bands.columns
                   if c.startswith("territory_") and c != "territory_outside_state"]
    return [c.removeprefix("territory_") for c in columns if c in bands.columns]


def _actor_colour(actor: str, scenario: Scenario | None) -> str:
    if actor == "state":
        return STATE_COLOUR
    if actor == "contested":
        return CONTESTED_COLOUR
    if scenario is not None and actor in scenario.factions:
        return FACTION_PALETTE.get(actor, scenario.factions[actor].colour)
    return "#888888"


def _style(ax: Axes, title: str, ylabel: str) -> None:
    locator = AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)


def ensemble_figures(bands: pd.DataFrame, scenario: Scenario | None, folder: Path,
                     title: str = "") -> list[Path]:
    """One PNG per country: control shares by actor, cumulative fatalities by victim."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    runs_note = title or (scenario.name if scenario is not None else "")
    for iso, name in COUNTRIES.items():
        fig = Figure(figsize=(12, 4.5), dpi=DPI, layout="constrained")
        left, right = fig.subplots(1, 2)
        for actor in _actors(bands, scenario):
            band_plot(left, bands, f"territory_{actor}", iso, _actor_colour(actor, scenario),
                      actor.replace("_", " "), scale=100)
        _style(left, f"{name}: share of territory controlled", "% of cells")
        left.legend(fontsize=8, loc="upper left")
        for group, colour in VICTIM_COLOURS.items():
            column = f"cum_victims_{group}"
            if column in bands.columns:
                band_plot(right, bands, column, iso, colour, group.replace("_", " "))
        _style(right, f"{name}: fatalities by victim (cumulative)", "deaths")
        right.legend(fontsize=8, loc="upper left")
        fig.suptitle(f"{runs_note}: median, 25-75% and 5-95% of runs".lstrip(": "),
                     fontsize=11)
        path = folder / f"ensemble_{iso}.png"
        atomic_save_figure(fig, path)
        paths.append(path)
    return paths


_COMPARED = (("territory_outside_state", "territory outside state control", "%", 100.0),
             ("cum_killed_civilians", "civilian fatalities (cumulative)", "deaths", 1.0),
             ("cum_killed_total", "all fatalities (cumulative)", "deaths", 1.0),
             ("displaced", "displaced people", "people", 1.0))


def comparison_figures(result: ComparisonResult, folder: Path) -> list[Path]:
    """Per counterfactual and country: bands of both scenarios, and of their difference."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    base = result.bands.get(result.baseline)
    if base is None:
        return paths
    for label in result.counterfactuals:
        other = result.bands.get(label)
        diff = result.difference_bands.get(label)
        if other is None or diff is None:
            continue
        for iso, name in COUNTRIES.items():
            fig = Figure(figsize=(15, 7), dpi=DPI, layout="constrained")
            axes = fig.subplots(2, len(_COMPARED), sharex=True)
            for k, (column, title, unit, scale) in enumerate(_COMPARED):
                top, bottom = axes[0, k], axes[1, k]
                band_plot(top, base, column, iso, BASELINE_COLOUR, result.baseline, scale)
                band_plot(top, other, column, iso, COUNTERFACTUAL_COLOUR, label, scale)
                _style(top, title, unit)
                top.legend(fontsize=8, loc="upper left")
                band_plot(bottom, diff, column, iso, DIFFERENCE_COLOUR,
                          "paired difference", scale)
                bottom.axhline(0.0, color="black", linewidth=0.8)
                first = result.divergence.get(label)
                mark_divergence(top, first)
                mark_divergence(bottom, first, label=False)
                _style(bottom, f"difference: {label} - {result.baseline}", unit)
            fig.suptitle(f"{name}: {label} vs {result.baseline} (same seeds); median, 25-75%"
                         " and 5-95% of runs", fontsize=11)
            path = folder / f"compare_{_safe(label)}_{iso}.png"
            atomic_save_figure(fig, path)
            paths.append(path)
    return paths


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in label)


def sensitivity_figure(table: pd.DataFrame, design: str, path: Path,
                       outcomes: Sequence[str] | None = None) -> Path:
    """Bars of each outcome's indices per parameter with their 95% intervals.

    Sobol: first-order (S1) and total (ST) indices; Morris: mu* with sigma beside it.
    """
    outcomes = list(outcomes or dict.fromkeys(table["outcome"]))
    params = list(dict.fromkeys(table["parameter"]))
    cols = 4
    rows = int(np.ceil(len(outcomes) / cols))
    fig = Figure(figsize=(4 * cols, 0.5 + (0.45 * len(params) + 1.2) * rows), dpi=DPI,
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).reshape(-1)
    if design == "sobol":
        bars = (("S1", "S1_conf", "first order", "#3b6ea8"),
                ("ST", "ST_conf", "total", "#c0392b"))
    else:
        bars = (("mu_star", "mu_star_conf", "mu*", "#3b6ea8"), ("sigma", None, "sigma",
                                                                 "#aaaaaa"))
    y = np.arange(len(params))
    height = 0.38
    short = [p.split(".", 1)[-1] for p in params]
    for ax, outcome in zip(axes, outcomes, strict=False):
        sub = table[table["outcome"] == outcome].set_index("parameter").reindex(params)
        for k, (key, conf, label, colour) in enumerate(bars):
            values = sub[key].to_numpy(dtype=float)
            err = sub[conf].to_numpy(dtype=float) if conf else None
            ax.barh(y + (k - 0.5) * height, np.nan_to_num(values), height=height,
                    xerr=None if err is None else np.nan_to_num(err), color=colour,
                    label=label, error_kw={"elinewidth": 0.8, "capsize": 2})
        ax.set_yticks(y, short, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(outcome, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(alpha=0.3, axis="x")
        if sub[bars[0][0]].isna().all():
            ax.text(0.5, 0.5, "does not vary", transform=ax.transAxes, ha="center",
                    fontsize=8, color="#777777")
    for ax in axes[len(outcomes):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="lower right")
    kind = "Sobol indices" if design == "sobol" else "Morris elementary effects"
    fig.suptitle(f"{kind} of the headline outcomes (bars: 95% intervals)", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_save_figure(fig, path)
    return path


def sweep_figures(result: SweepResult, folder: Path) -> list[Path]:
    """The sensitivity figure (Sobol, Morris) or outcome-vs-parameter scatter (grid, LHS)."""
    if result.sensitivity is not None:
        return [sensitivity_figure(result.sensitivity, result.design,
                                   folder / "sensitivity.png")]
    folder.mkdir(parents=True, exist_ok=True)
    outcomes = ["civilian_fatalities_MLI", "civilian_fatalities_BFA", "civilian_fatalities_NER",
                "russian_fatalities", "territory_outside_state_MLI",
                "territory_outside_state_BFA", "territory_outside_state_NER"]
    params = list(result.parameters)
    frame = result.point_outcomes
    fig = Figure(figsize=(3.2 * len(params) + 0.5, 2.4 * len(outcomes)), dpi=DPI,
                 layout="constrained")
    axes = fig.subplots(len(outcomes), len(params), squeeze=False)
    for i, outcome in enumerate(outcomes):
        for j, param in enumerate(params):
            ax = axes[i, j]
            ax.scatter(frame[param], frame[outcome], s=10, color="#3b6ea8", alpha=0.7)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            if i == len(outcomes) - 1:
                ax.set_xlabel(param.split(".", 1)[-1], fontsize=8)
            if j == 0:
                ax.set_ylabel(outcome, fontsize=7)
    fig.suptitle(f"{result.design} sweep: outcome (mean over replicates) per point",
                 fontsize=11)
    path = folder / "sweep_scatter.png"
    atomic_save_figure(fig, path)
    return [path]
