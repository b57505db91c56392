"""Matplotlib figures of the dashboard, rendered to PNG bytes (no Solara in here).

The map is the one figure redrawn on every Play frame, so `MapFigure` draws it once with
`sim.plots.draw_control_map` and afterwards only swaps the control raster, the event markers and
the title before rendering again. The charts are cheaper to rebuild than to patch (their axes
rescale), so they are plain functions; the explore view calls them less often while playing
(see `sim.dashboard.state.refresh_key`).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from sim.experiments.plots import (
    BASELINE_COLOUR,
    COUNTERFACTUAL_COLOUR,
    DIFFERENCE_COLOUR,
    band_plot,
)
from sim.geography import COUNTRIES
from sim.outputs import series_columns
from sim.plots import (
    CIVILIAN_COLOUR,
    DRONE_COLOUR,
    DRONE_MARKER,
    control_codes,
    draw_control_map,
    draw_control_shares,
    draw_fatalities,
    events_to_mark,
    faction_colours,
    is_drone_strike,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection
    from matplotlib.image import AxesImage
    from matplotlib.text import Text

    from sim.experiments import ComparisonResult
    from sim.model import SahelModel

MAP_SIZE_IN = (7.6, 4.6)
MAP_DPI = 90
CHART_SIZE_IN = (5.25, 2.5)  # 420 px wide at CHART_DPI: the width of the charts card
CHART_DPI = 80
PNG_LEVEL = 1  # zlib level of the map PNG: fast, and only ~5% larger than the default
MAP_EVENTS = 12
MAP_RECENT_DAYS = 30
BATTLE_EDGE = "#111111"
VIOLENCE_AGAINST_CIVILIANS = "Violence against civilians"
TITLE_PX = 30  # chart margins, in pixels
TICK_PX = 30
LEGEND_ROW_PX = 11
COUNTRY_LINE = {"MLI": "#2e7d32", "BFA": "#1565c0", "NER": "#ef6c00"}

FatalityMode = Literal["cumulative", "daily", "monthly"]
FatalityBy = Literal["victim", "perpetrator"]


def png_bytes(fig: Figure) -> bytes:
    """Render a figure to PNG bytes with the Agg canvas (what Solara's image widget shows)."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    return buffer.getvalue()


class MapFigure:
    """The control map of one browser session, drawn in two layers and composited.

    The static layer (borders, towns and their labels, axes, legend) is drawn once with
    `sim.plots.draw_control_map`, on a transparent background, then kept as pixels. Each frame
    only draws the dynamic layer (the control raster, the event markers and the title) on a
    second figure with the same axes box, and lays the static pixels over it. Text is what
    makes matplotlib slow, and all but the title is in the static layer: a frame costs about a
    fifth of a full redraw. The static layer is redrawn for a new model, and when event markers
    appear or disappear (the legend lists them only when there are some).
    """

    def __init__(self, size_in: tuple[float, float] = MAP_SIZE_IN, dpi: int = MAP_DPI) -> None:
        self.static = Figure(figsize=size_in, dpi=dpi)
        self.dynamic = Figure(figsize=size_in, dpi=dpi)
        FigureCanvasAgg(self.static)
        FigureCanvasAgg(self.dynamic)
        self._model_id: int | None = None
        self._has_marks = False
        self._overlay: np.ndarray | None = None
        self._image: AxesImage | None = None
        self._marks: PathCollection | None = None
        self._drone_marks: PathCollection | None = None
        self._title: Text | None = None
        self.full_redraws = 0

    def render(self, model: SahelModel, events: pd.DataFrame | None) -> bytes:
        """PNG of the map for the model's current day, with the recent deadly events."""
        marks = events_to_mark(events, recent_days=MAP_RECENT_DAYS)
        if (self._model_id != id(model) or self._overlay is None
                or self._has_marks != (not marks.empty)):
            self._draw_static(model, events, has_marks=not marks.empty)
        self._update(model, marks)
        return self._composite()

    def _draw_static(self, model: SahelModel, events: pd.DataFrame | None,
                     has_marks: bool) -> None:
        """Draw the static layer, keep its pixels, and set up the dynamic layer to match."""
        fig = self.static
        fig.clear()
        ax = fig.add_axes((0.07, 0.09, 0.91, 0.84))
        draw_control_map(ax, model, events, n_events=MAP_EVENTS, recent_days=MAP_RECENT_DAYS)
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_fontsize(8)
        ax.yaxis.label.set_fontsize(8)
        image = ax.images[0]
        scatters = ax.collections[-2:] if has_marks else []  # events, then drone strikes
        image.set_visible(False)
        for scatter in scatters:
            scatter.set_visible(False)
        fig.patch.set_alpha(0.0)
        ax.patch.set_alpha(0.0)
        fig.canvas.draw()
        self._overlay = np.array(fig.canvas.buffer_rgba(), dtype=np.uint16)  # type: ignore[attr-defined]

        layer = self.dynamic
        layer.clear()
        box = ax.get_position(original=False)  # after the draw: where aspect='equal' put it
        dyn = layer.add_axes((box.x0, box.y0, box.width, box.height))
        dyn.set_axis_off()
        dyn.set_xlim(ax.get_xlim())
        dyn.set_ylim(ax.get_ylim())
        self._image = dyn.imshow(image.get_array(), origin="lower", extent=image.get_extent(),
                                 cmap=image.get_cmap(), norm=image.norm,
                                 interpolation="nearest", aspect="auto")
        self._marks = self._drone_marks = None
        if scatters:
            self._marks = dyn.scatter([], [], s=[], facecolors="none", linewidths=1.2,
                                      zorder=5)
            self._drone_marks = dyn.scatter([], [], s=[], marker=DRONE_MARKER,
                                            facecolors="none", edgecolors=DRONE_COLOUR,
                                            linewidths=1.2, zorder=5)
        self._title = dyn.set_title(" ", fontsize=9)
        self._has_marks = has_marks
        self._model_id = id(model)
        self.full_redraws += 1

    def _update(self, model: SahelModel, marks: pd.DataFrame) -> None:
        """Put the model's day into the dynamic layer."""
        assert self._image is not None and self._title is not None
        self._image.set_data(control_codes(model))
        if self._marks is not None and self._drone_marks is not None:
            drone = is_drone_strike(marks)
            where = marks[["longitude", "latitude"]].to_numpy(dtype=float)
            sizes = 12 + 3 * np.sqrt(marks["fatalities"].to_numpy(dtype=float))
            self._marks.set_offsets(where[~drone])
            self._marks.set_sizes(sizes[~drone])
            civilian = (marks["event_type"] == VIOLENCE_AGAINST_CIVILIANS).to_numpy()[~drone]
            self._marks.set_edgecolors([to_rgba(CIVILIAN_COLOUR if c else BATTLE_EDGE)
                                        for c in civilian])
            self._drone_marks.set_offsets(where[drone])
            self._drone_marks.set_sizes(sizes[drone])
        self._title.set_text(f"Control on {model.date:%Y-%m-%d}, deadly events of the last "
                             f"{MAP_RECENT_DAYS} days (size: deaths)")

    def _composite(self) -> bytes:
        """Draw the dynamic layer, lay the static pixels over it, encode as PNG."""
        assert self._overlay is not None
        self.dynamic.canvas.draw()
        under = np.asarray(self.dynamic.canvas.buffer_rgba())[..., :3]  # type: ignore[attr-defined]
        over = self._overlay
        alpha = over[..., 3:]
        rgb = (over[..., :3] * alpha + under * (255 - alpha) + 127) // 255
        buffer = io.BytesIO()
        PIL.Image.fromarray(rgb.astype(np.uint8), "RGB").save(buffer, format="png",
                                                               compress_level=PNG_LEVEL)
        return buffer.getvalue()


def _chart(n_axes: int, title: str, size_in: tuple[float, float] = CHART_SIZE_IN
           ) -> tuple[Figure, list[Axes]]:
    """A chart figure with `n_axes` panels side by side and a title; `_legend` sets margins.

    Fixed margins instead of a layout engine: constrained layout doubles the rendering time.
    """
    fig = Figure(figsize=size_in, dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    axes = list(np.atleast_1d(fig.subplots(1, n_axes, sharex=True)))
    fig.suptitle(title, fontsize=9, x=0.01, y=0.99, ha="left", va="top")
    _margins(fig, legend_rows=0)
    return fig, axes


def _margins(fig: Figure, legend_rows: int) -> None:
    """Margins in pixels: title on top, date ticks and `legend_rows` of legend below."""
    height = fig.get_figheight() * fig.dpi
    width = fig.get_figwidth() * fig.dpi
    bottom = (TICK_PX + legend_rows * LEGEND_ROW_PX) / height
    fig.subplots_adjust(left=34 / width, right=1 - 6 / width, bottom=bottom,
                        top=1 - TITLE_PX / height, wspace=0.32)


def _legend(fig: Figure, axes: list[Axes], ncol: int = 3) -> None:
    """One legend for all panels, below them (labels deduplicated)."""
    handles: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    if not handles:
        return
    labels = list(handles)
    rows = -(-len(labels) // ncol)
    _margins(fig, rows)
    fig.legend(list(handles.values()), labels, loc="lower center", ncol=ncol,
               bbox_to_anchor=(0.5, 0.0), fontsize=6.5, frameon=False, handlelength=1.2,
               columnspacing=1.0, labelspacing=0.25, borderaxespad=0.2)


def _style_axes(axes: list[Axes], period: tuple[dt.date, dt.date] | None = None) -> None:
    """Small fonts and compact date ticks, so three panels fit a narrow card.

    With `period`, the time axis spans the scenario's whole run, so the lines grow to the right
    as the model advances instead of the axis rescaling every day.
    """
    for ax in axes:
        if period is not None:
            ax.set_xlim(pd.Timestamp(period[0]), pd.Timestamp(period[1]))
        locator = AutoDateLocator(minticks=3, maxticks=5)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))
        ax.tick_params(axis="both", labelsize=7, labelrotation=0)
        ax.title.set_fontsize(8)


def _period(model: SahelModel) -> tuple[dt.date, dt.date]:
    """First and last day of the model's scenario."""
    return model.spec.start, model.spec.end


def shares_png(model: SahelModel, ts: pd.DataFrame, kind: str = "territory") -> bytes:
    """Stacked control shares per country (`sim.plots.draw_control_shares`), as PNG."""
    fig, axes = _chart(3, f"Share of {kind} by controller")
    if ts.empty:
        return _empty(fig, axes, "no days simulated yet")
    draw_control_shares(axes, model, ts, kind)
    _legend(fig, axes)
    _style_axes(axes, _period(model))
    for ax, name in zip(axes, COUNTRIES.values(), strict=True):
        ax.set_title(name, fontsize=8)
    return png_bytes(fig)


def fatality_groups(model: SahelModel, by: FatalityBy) -> list[str]:
    """Victim groups (civilians, then factions) or perpetrators (factions)."""
    return ["civilians", *model.faction_ids] if by == "victim" else list(model.faction_ids)


def fatality_series(model: SahelModel, ts: pd.DataFrame, iso: str, by: FatalityBy,
                    mode: FatalityMode) -> pd.DataFrame:
    """Deaths per day (7-day mean) or cumulative, one column per victim group or perpetrator."""
    series = "killed" if by == "victim" else "killed_by"
    groups = fatality_groups(model, by)
    columns = series_columns(series, model.faction_ids, model.actor_ids)
    part = ts[ts["country"] == iso].set_index("date")[columns]
    part.columns = groups
    if mode == "cumulative":
        return part.cumsum()
    return part.rolling(7, min_periods=1).mean()


def fatalities_png(model: SahelModel, ts: pd.DataFrame, by: FatalityBy = "victim",
                   mode: FatalityMode = "cumulative") -> bytes:
    """Deaths per country by victim or perpetrator: cumulative, daily (7-day mean) or monthly."""
    what = {"cumulative": "Cumulative deaths", "daily": "Deaths per day (7-day mean)",
            "monthly": "Deaths per month"}[mode]
    fig, axes = _chart(3, f"{what} by {by}")
    if ts.empty:
        return _empty(fig, axes, "no days simulated yet")
    if mode == "monthly":
        draw_fatalities(axes, model, ts, by)
    else:
        colours = faction_colours(model)
        for ax, iso in zip(axes, COUNTRIES, strict=True):
            series = fatality_series(model, ts, iso, by, mode)
            for group in series.columns[series.sum() > 0]:
                ax.plot(series.index, series[group], color=colours[group], lw=1.2,
                        label=group.replace("_", " "))
            ax.set_ylim(bottom=0)
    for ax, name in zip(axes, COUNTRIES.values(), strict=True):
        ax.set_title(name, fontsize=8)
    _legend(fig, axes)
    _style_axes(axes, _period(model))
    return png_bytes(fig)


def credibility_png(model: SahelModel, ts: pd.DataFrame) -> bytes:
    """Junta credibility per country, with coup attempts marked."""
    fig, (ax,) = _chart(1, "Junta credibility (x: coup attempt)",
                        size_in=(CHART_SIZE_IN[0], 1.9))
    if ts.empty:
        return _empty(fig, [ax], "no days simulated yet")
    for iso, name in COUNTRIES.items():
        part = ts[ts["country"] == iso]
        colour = COUNTRY_LINE[iso]
        ax.plot(part["date"], part["credibility"], color=colour, lw=1.3, label=name)
        attempts = part[part["coup_attempts"].diff().fillna(part["coup_attempts"]) > 0]
        if not attempts.empty:
            ax.scatter(attempts["date"], attempts["credibility"], marker="x", color=colour,
                       s=30, zorder=5)
    ax.set_ylim(0, 1)
    _legend(fig, [ax], ncol=3)
    _style_axes([ax], _period(model))
    return png_bytes(fig)


def _empty(fig: Figure, axes: list[Axes], message: str) -> bytes:
    for ax in axes:
        ax.set_axis_off()
    axes[len(axes) // 2].text(0.5, 0.5, message, ha="center", va="center", fontsize=9,
                              transform=axes[len(axes) // 2].transAxes)
    return png_bytes(fig)


# Series of a comparison's bands the compare view offers: label -> (column, scale, unit).
COMPARE_SERIES: dict[str, tuple[str, float, str]] = {
    "territory outside state control": ("territory_outside_state", 100.0, "% of cells"),
    "civilian deaths (cumulative)": ("cum_killed_civilians", 1.0, "deaths"),
    "all deaths (cumulative)": ("cum_killed_total", 1.0, "deaths"),
    "displaced people": ("displaced", 1.0, "people"),
    "junta credibility": ("credibility", 1.0, "share"),
}


def comparison_png(result: ComparisonResult, counterfactual: str, series: str) -> bytes:
    """Bands of the baseline and a counterfactual (top) and of their paired difference (bottom).

    Args:
        result: a finished `sim.experiments.compare` result.
        counterfactual: the label of one of its counterfactuals.
        series: a key of `COMPARE_SERIES`.
    """
    column, scale, unit = COMPARE_SERIES[series]
    base = result.bands.get(result.baseline)
    other = result.bands.get(counterfactual)
    diff = result.difference_bands.get(counterfactual)
    fig = Figure(figsize=(10.5, 5.2), dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 3, sharex=True)
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.08, top=0.86, wspace=0.25,
                        hspace=0.3)
    fig.suptitle(f"{series}: {counterfactual} vs {result.baseline} (same seeds); median, "
                 "25-75% and 5-95% of runs", fontsize=10)
    missing = [name for name, frame in (("baseline", base), ("counterfactual", other),
                                        ("difference", diff))
               if frame is None or column not in frame.columns]
    if missing:
        return _empty(fig, list(axes.ravel()), f"no bands for {', '.join(missing)}")
    assert base is not None and other is not None and diff is not None
    for k, (iso, name) in enumerate(COUNTRIES.items()):
        top, bottom = axes[0, k], axes[1, k]
        band_plot(top, base, column, iso, BASELINE_COLOUR, result.baseline, scale)
        band_plot(top, other, column, iso, COUNTERFACTUAL_COLOUR, counterfactual, scale)
        top.set_title(f"{name} ({unit})", fontsize=9)
        band_plot(bottom, diff, column, iso, DIFFERENCE_COLOUR, "paired difference", scale)
        bottom.axhline(0.0, color="black", linewidth=0.8)
        bottom.set_title(f"{name}: difference", fontsize=9)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    axes[1, 0].legend(fontsize=7, loc="upper left")
    _style_axes(list(axes.ravel()))
    return png_bytes(fig)
