"""The dashboard's figures: live charts as SVG (`sim.dashboard.svg`), downloads as PNG.

The explore view draws its charts as SVG text built from the time series in a few
milliseconds, so they can follow every Play frame; the same charts (and the map) are drawn by
matplotlib only when a PNG is downloaded. Colours come from the shared palette (`sim.plots`),
labels and units from the declared outputs (`sim.outputs`). No Solara in here.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from sim.dashboard.chart_svg import Line, Panel, chart_svg
from sim.dashboard.svg import EXTENTS, legend_html
from sim.experiments.plots import (
    BASELINE_COLOUR,
    COUNTERFACTUAL_COLOUR,
    DIFFERENCE_COLOUR,
    band_plot,
    mark_divergence,
)
from sim.geography import COUNTRIES
from sim.outputs import SERIES_BY_NAME, series_columns
from sim.plots import (
    CONTESTED_COLOUR,
    UNGOVERNED_COLOUR,
    actor_colours,
    draw_control_map,
    draw_control_shares,
    draw_fatalities,
    faction_colours,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.experiments import ComparisonResult
    from sim.model import SahelModel

CHART_DPI = 100
MAX_POINTS = 100  # points per line of an SVG chart (a small panel is ~130 px wide)
COUNTRY_LINE = {"MLI": "#117733", "BFA": "#332288", "NER": "#CC6677"}

FatalityMode = Literal["cumulative", "daily", "monthly"]
FatalityBy = Literal["victim", "perpetrator"]
ChartKind = Literal["shares", "fatalities", "credibility"]


def png_bytes(fig: Figure) -> bytes:
    """Render a figure to PNG bytes with the Agg canvas."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    return buffer.getvalue()


def actor_label(model: SahelModel, actor: str) -> str:
    """Legend label of a control actor."""
    if actor == "state":
        return "state (junta forces)"
    if actor == "contested":
        return "contested"
    if actor == "ungoverned":
        return "ungoverned (no force reaches)"
    return model.spec.factions[actor].label.split(" (")[0]


def group_label(model: SahelModel, group: str) -> str:
    """Legend label of a victim group or perpetrator."""
    if group == "civilians":
        return "civilians"
    return model.spec.factions[group].label.split(" (")[0]


def map_colours(model: SahelModel) -> tuple[list[str], list[tuple[str, str]]]:
    """Colours of the map codes (`ExploreSession.control_codes`) and the legend items."""
    colours = actor_colours(model)
    actors = list(model.actor_ids)
    codes = [colours[a] for a in actors] + [CONTESTED_COLOUR, UNGOVERNED_COLOUR]
    legend = [(actor_label(model, a), colours[a]) for a in actors]
    legend += [("contested", CONTESTED_COLOUR), ("ungoverned (no force reaches)",
                                                 UNGOVERNED_COLOUR)]
    return codes, legend


def _days(model: SahelModel, dates: pd.Series) -> np.ndarray:
    return (pd.to_datetime(dates) - pd.Timestamp(model.spec.start)).dt.days.to_numpy(float)


def _thin(n: int) -> np.ndarray:
    """Indices of at most MAX_POINTS points out of n, always including the last."""
    if n <= MAX_POINTS:
        return np.arange(n)
    idx = np.linspace(0, n - 1, MAX_POINTS).round().astype(int)
    return np.unique(idx)


def chart_unit(series: str) -> str:
    """The declared unit of a series, in words."""
    unit = SERIES_BY_NAME[series].unit
    return {"persons/day": "people per day", "persons": "people", "share of cells": "%",
            "share of residents": "%"}.get(unit, unit)


def shares_chart(model: SahelModel, ts: pd.DataFrame, kind: str = "territory",
                 width: float = 500) -> tuple[str, str]:
    """Stacked shares of territory (or population) by controller per country: SVG, legend."""
    colours = actor_colours(model)
    actors = [*model.actor_ids, "contested"]
    panels = []
    for iso, name in COUNTRIES.items():
        part = ts[ts["country"] == iso]
        idx = _thin(len(part))
        x = _days(model, part["date"])[idx]
        bottom = np.zeros(len(idx))
        lines = []
        for a in actors:
            y = part[f"{kind}_{a}"].to_numpy(float)[idx]
            lines.append(Line(actor_label(model, a), colours[a], x, bottom + y, "area",
                              bottom=bottom.copy()))
            bottom = bottom + y
        panels.append(Panel(name, lines, ymax=1.0))
    what = "territory (cells)" if kind == "territory" else "population (residents)"
    svg = chart_svg(panels, model.spec.start, model.spec.days, "%", width=width,
                    css="sahel-chart-shares", alt=f"Share of {what} by controller, per country")
    legend = legend_html([(actor_label(model, a), colours[a]) for a in actors])
    return svg, legend


def fatality_groups(model: SahelModel, by: FatalityBy) -> list[str]:
    """Victim groups (civilians, then factions) or perpetrators (factions)."""
    return ["civilians", *model.faction_ids] if by == "victim" else list(model.faction_ids)


def fatality_series(model: SahelModel, ts: pd.DataFrame, iso: str, by: FatalityBy,
                    mode: FatalityMode) -> pd.DataFrame:
    """Deaths per day (7-day mean), per month or cumulative, one column per group."""
    series = "killed" if by == "victim" else "killed_by"
    groups = fatality_groups(model, by)
    columns = series_columns(series, model.faction_ids, model.actor_ids)
    part = ts[ts["country"] == iso].set_index("date")[columns]
    part.columns = groups
    if mode == "cumulative":
        return part.cumsum()
    if mode == "monthly":
        return part.resample("MS").sum()
    return part.rolling(7, min_periods=1).mean()


FATALITY_TITLES = {"cumulative": ("Deaths so far", "people"),
                   "daily": ("Deaths per day (7-day mean)", "people per day"),
                   "monthly": ("Deaths per month", "people per month")}


def fatalities_chart(model: SahelModel, ts: pd.DataFrame, by: FatalityBy = "victim",
                     mode: FatalityMode = "cumulative", width: float = 500) -> tuple[str, str]:
    """Deaths per country by victim or perpetrator: SVG and legend."""
    colours = faction_colours(model)
    shown: dict[str, str] = {}
    panels = []
    for iso, name in COUNTRIES.items():
        frame = fatality_series(model, ts, iso, by, mode) if not ts.empty else pd.DataFrame()
        lines = []
        if not frame.empty:
            idx = _thin(len(frame))
            x = _days(model, frame.index.to_series())[idx]
            for group in frame.columns[frame.sum() > 0]:
                shown[group] = colours[group]
                lines.append(Line(f"{group_label(model, group)} ({name})", colours[group], x,
                                  frame[group].to_numpy(float)[idx]))
        panels.append(Panel(name, lines))
    title, unit = FATALITY_TITLES[mode]
    svg = chart_svg(panels, model.spec.start, model.spec.days, unit, width=width,
                    css="sahel-chart-fatalities", alt=f"{title} by {by}, per country ({unit})")
    legend = legend_html([(group_label(model, g), c) for g, c in shown.items()])
    return svg, legend


def credibility_chart(model: SahelModel, ts: pd.DataFrame, width: float = 500
                      ) -> tuple[str, str]:
    """Junta credibility per country with coup attempts marked: SVG and legend."""
    lines = []
    for iso, name in COUNTRIES.items():
        part = ts[ts["country"] == iso]
        if part.empty:
            continue
        idx = _thin(len(part))
        attempts = np.flatnonzero(part["coup_attempts"].diff().fillna(
            part["coup_attempts"]).to_numpy() > 0)
        keep = np.unique(np.concatenate([idx, attempts]))
        marks = np.searchsorted(keep, attempts)
        lines.append(Line(name, COUNTRY_LINE[iso], _days(model, part["date"])[keep],
                          part["credibility"].to_numpy(float)[keep], markers=marks))
    svg = chart_svg([Panel("Junta credibility (0-1); x: coup attempt", lines, ymax=1.0)],
                    model.spec.start, model.spec.days, "0-1", width=width, height=130,
                    css="sahel-chart-credibility", alt="Junta credibility per country")
    legend = legend_html([(name, COUNTRY_LINE[iso]) for iso, name in COUNTRIES.items()])
    return svg, legend


# ------------------------------------------------------------------------------------------
# PNG downloads (matplotlib)
# ------------------------------------------------------------------------------------------


def _chart(n_axes: int, title: str, size_in: tuple[float, float] = (12, 3.6)
           ) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=size_in, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = list(np.atleast_1d(fig.subplots(1, n_axes, sharex=True)))
    fig.suptitle(title, fontsize=12)
    return fig, axes


def _style_axes(axes: list[Axes], period: tuple[dt.date, dt.date] | None = None) -> None:
    for ax in axes:
        if period is not None:
            ax.set_xlim(pd.Timestamp(period[0]), pd.Timestamp(period[1]))
        locator = AutoDateLocator(minticks=3, maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))
        ax.tick_params(axis="both", labelsize=10, labelrotation=0)
        ax.grid(alpha=0.3)


def chart_png(model: SahelModel, ts: pd.DataFrame, chart: ChartKind, kind: str = "territory",
              by: FatalityBy = "victim", mode: FatalityMode = "cumulative") -> bytes:
    """A chart of the explore view as a PNG (for download)."""
    period = (model.spec.start, model.spec.end)
    if chart == "credibility":
        fig, (ax,) = _chart(1, "Junta credibility (0-1); x: coup attempt", (9, 3.6))
        for iso, name in COUNTRIES.items():
            part = ts[ts["country"] == iso]
            ax.plot(part["date"], part["credibility"], color=COUNTRY_LINE[iso], lw=1.6,
                    label=name)
            attempts = part[part["coup_attempts"].diff().fillna(part["coup_attempts"]) > 0]
            ax.scatter(attempts["date"], attempts["credibility"], marker="x",
                       color=COUNTRY_LINE[iso], s=40, zorder=5)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=10)
        _style_axes([ax], period)
        return png_bytes(fig)
    if chart == "shares":
        fig, axes = _chart(3, f"Share of {kind} by controller")
        if not ts.empty:
            draw_control_shares(axes, model, ts, kind)
        for ax, name in zip(axes, COUNTRIES.values(), strict=True):
            ax.set_title(name, fontsize=11)
        _style_axes(axes, period)
        return png_bytes(fig)
    title, unit = FATALITY_TITLES[mode]
    fig, axes = _chart(3, f"{title} by {by} ({unit})")
    if mode == "monthly" and not ts.empty:
        draw_fatalities(axes, model, ts, by)
    elif not ts.empty:
        colours = faction_colours(model)
        for ax, iso in zip(axes, COUNTRIES, strict=True):
            series = fatality_series(model, ts, iso, by, mode)
            for group in series.columns[series.sum() > 0]:
                ax.plot(series.index, series[group], color=colours[group], lw=1.5,
                        label=group_label(model, group))
            ax.set_ylim(bottom=0)
            ax.legend(fontsize=9)
    for ax, name in zip(axes, COUNTRIES.values(), strict=True):
        ax.set_title(name, fontsize=11)
    _style_axes(axes, period)
    return png_bytes(fig)


def map_png(model: SahelModel, codes: np.ndarray, events: pd.DataFrame, date: dt.date,
            zoom: str = "region") -> bytes:
    """The map of a day as a PNG (for download): control, borders, towns, recent events."""
    from matplotlib.colors import ListedColormap

    colours, legend = map_colours(model)
    fig = Figure(figsize=(12, 7.6), dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    draw_control_map(ax, model, events, n_events=len(events) or 1, codes=codes.astype(float),
                     extent=EXTENTS.get(zoom))
    image = ax.images[0]
    data = np.ma.masked_less(codes.astype(float), 0)
    image.set_data(data)
    image.set_cmap(ListedColormap(colours))
    image.set_clim(-0.5, len(colours) - 0.5)
    from matplotlib.patches import Patch

    handles = [Patch(color=c, label=label) for label, c in legend]
    old = ax.get_legend()
    extra = old.legend_handles[len(model.actor_ids) + 1:] if old is not None else []
    ax.legend(handles=handles + list(extra), loc="upper left", fontsize=9, framealpha=0.9)
    ax.set_title(f"{model.spec.name}: control on {date:%Y-%m-%d} and deadly events of the "
                 "previous 30 days (size: deaths)", fontsize=12)
    return png_bytes(fig)


# ------------------------------------------------------------------------------------------
# Comparisons
# ------------------------------------------------------------------------------------------

# Series of a comparison's bands the compare view offers: label -> (column, scale, unit).
COMPARE_SERIES: dict[str, tuple[str, float, str]] = {
    "territory outside state control": ("territory_outside_state", 100.0, "% of cells"),
    "civilian deaths so far": ("cum_killed_civilians", 1.0, "people"),
    "all deaths so far": ("cum_killed_total", 1.0, "people"),
    "displaced people": ("displaced", 1.0, "people"),
    "junta credibility": ("credibility", 1.0, "0-1"),
}


def comparison_png(result: ComparisonResult, counterfactual: str, series: str) -> bytes:
    """Bands of the baseline and a counterfactual (top) and of their paired difference.

    The bottom row shows the difference; a dashed line marks the first date the runs differ.

    Args:
        result: a finished `sim.experiments.compare` result.
        counterfactual: the label of one of its counterfactuals.
        series: a key of `COMPARE_SERIES`.
    """
    column, scale, unit = COMPARE_SERIES[series]
    base = result.bands.get(result.baseline)
    other = result.bands.get(counterfactual)
    diff = result.difference_bands.get(counterfactual)
    first = result.divergence.get(counterfactual) if result.divergence else None
    fig = Figure(figsize=(10.5, 5.6), dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 3, sharex=True)
    when = (f"paired runs differ from {pd.Timestamp(first):%Y-%m-%d} (dashed line)"
            if first is not None and not pd.isna(first) else
            "paired runs identical on every date")
    fig.suptitle(f"{series} ({unit}): {counterfactual} vs {result.baseline}, same seeds\n"
                 f"median, 25-75% and 5-95% of runs; {when}", fontsize=11)
    missing = [name for name, frame in (("baseline", base), ("counterfactual", other),
                                        ("difference", diff))
               if frame is None or column not in frame.columns]
    if missing:
        for ax in axes.ravel():
            ax.set_axis_off()
        axes[0, 1].text(0.5, 0.5, f"no bands for {', '.join(missing)}", ha="center")
        return png_bytes(fig)
    assert base is not None and other is not None and diff is not None
    for k, (iso, name) in enumerate(COUNTRIES.items()):
        top, bottom = axes[0, k], axes[1, k]
        band_plot(top, base, column, iso, BASELINE_COLOUR, result.baseline, scale)
        band_plot(top, other, column, iso, COUNTERFACTUAL_COLOUR, counterfactual, scale)
        mark_divergence(top, first)
        top.set_title(f"{name} ({unit})", fontsize=11)
        band_plot(bottom, diff, column, iso, DIFFERENCE_COLOUR, "paired difference", scale)
        mark_divergence(bottom, first, label=False)
        bottom.axhline(0.0, color="black", linewidth=0.8)
        bottom.set_title(f"{name}: difference ({unit})", fontsize=11)
    axes[0, 0].legend(fontsize=9, loc="upper left")
    axes[1, 0].legend(fontsize=9, loc="upper left")
    _style_axes(list(axes.ravel()))
    return png_bytes(fig)
