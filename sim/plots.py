"""Plots of one run: control over time, fatalities by victim and perpetrator, map of control.

Functions draw on matplotlib axes they are given (so the CLI and the dashboard share them);
`save_run_plots` writes the PNGs of `sahel-sim run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.files import atomic_save_figure
from sim.geography import COUNTRIES, LAT_MAX, LAT_MIN, LON_MAX, LON_MIN
from sim.outputs import series_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.model import SahelModel

# The palette, defined once for the PNG plots, the experiments' plots and the dashboard: Paul
# Tol's "muted" scheme (designed to stay distinguishable with colour-blindness), one colour per
# faction, black for civilians. The scenario files' own colours are used only for factions not
# listed here.
FACTION_PALETTE = {
    "mali_army": "#117733",  # green
    "burkina_army": "#332288",  # indigo
    "vdp": "#88CCEE",  # cyan
    "niger_army": "#44AA99",  # teal
    "africa_corps": "#882255",  # wine
    "bear_brigade": "#AA4499",  # purple
    "jnim": "#DDAA33",  # ochre
    "is_sahel": "#CC6677",  # rose
    "csp_dpa": "#999933",  # olive
    "dan_na_ambassagou": "#661100",  # brown (Tol's extended set)
}
KIND_PALETTE = {"state": "#332288", "militia": "#88CCEE", "russian": "#882255",
                "jihadist": "#DDAA33", "separatist": "#999933", "peacekeeping": "#77AADD",
                "western": "#BBBBBB"}
CIVILIAN_COLOUR = "#000000"
STATE_COLOUR = "#A9C4E8"  # cells held by the state (junta forces)
CONTESTED_COLOUR = "#D9D9D9"
UNGOVERNED_COLOUR = "#F4F1E8"  # nominal state control: no actor has real influence
MAP_BACKGROUND = "#FFFFFF"
UNIT_COLOUR = "#882255"  # Russian units drawn as symbols on the map
COUNTRY_LABEL_POINTS = {"MLI": (-3.0, 20.0), "BFA": (-1.3, 11.0), "NER": (9.5, 18.0)}
HALO_PX = 3.0
DRONE_COLOUR = "#00838f"
DRONE_MARKER = "v"  # drone strikes: a downward triangle, the other events circles
DRONE_STRIKE = "Air/drone strike"  # ACLED sub-event type of drone strikes
MAP_EXTENT = (-12.5, 16.0, 9.0, 25.0)
LABELLED_TOWNS = ("Bamako", "Ouagadougou", "Niamey", "Timbuktu", "Gao", "Kidal", "Mopti",
                  "Ménaka", "Tinzaouaten", "Djibo", "Barsalogho", "Dori", "Tillabéri", "Agadez",
                  "Diffa", "Kayes", "Ségou", "Fada N'gourma", "Kaya", "Bobo-Dioulasso")
CAPITALS = ("Bamako", "Ouagadougou", "Niamey")


def control_categories(model: SahelModel) -> list[str]:
    """What a cell's control can be: each actor, contested, ungoverned (as declared)."""
    return [c.removeprefix("territory_")
            for c in series_columns("territory", model.faction_ids, model.actor_ids)]


def faction_colour(fid: str, scenario_colour: str) -> str:
    """A faction's colour: the shared palette's, else the scenario file's."""
    return FACTION_PALETTE.get(fid, scenario_colour)


def actor_colours(model: SahelModel) -> dict[str, str]:
    """Colour of each control actor and of 'contested' and 'ungoverned'."""
    colours = {"state": STATE_COLOUR, "contested": CONTESTED_COLOUR,
               "ungoverned": UNGOVERNED_COLOUR}
    for actor in model.actor_ids[1:]:
        colours[actor] = faction_colour(actor, model.spec.factions[actor].colour)
    return colours


def faction_colours(model: SahelModel) -> dict[str, str]:
    """Colour of each faction, plus civilians."""
    colours = {f: faction_colour(f, spec.colour) for f, spec in model.spec.factions.items()}
    colours["civilians"] = CIVILIAN_COLOUR
    return colours


def halo(px: float = HALO_PX) -> list:
    """A white outline around text, so labels read on any fill."""
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=px, foreground="white")]


def draw_control_map(ax: Axes, model: SahelModel, events: pd.DataFrame | None = None,
                     n_events: int = 12, recent_days: int | None = None,
                     codes: np.ndarray | None = None,
                     extent: tuple[float, float, float, float] | None = None) -> None:
    """Controlling actor per cell, borders, towns and the largest (or most recent) events.

    `codes` (from `control_codes`, or a recorded day's) replaces the model's current control;
    `extent` (lon0, lon1, lat0, lat1) zooms in. Labels have a white halo; the aspect is right
    for the Sahel's latitude.
    """
    geo = model.geo
    actors = control_categories(model)
    colours = actor_colours(model)
    cmap = ListedColormap([colours[a] for a in actors]).with_extremes(bad=(1, 1, 1, 0))
    ax.imshow(control_codes(model) if codes is None else codes, origin="lower",
              extent=MAP_EXTENT, cmap=cmap, vmin=-0.5, vmax=len(actors) - 0.5,
              interpolation="nearest", aspect="auto")
    draw_borders(ax, geo.borders, labels=False)
    handles = [Patch(color=colours[a], label=_actor_label(model, a)) for a in actors]
    if events is not None and not events.empty:
        chosen = events_to_mark(events, n_events, recent_days)
        if not chosen.empty:
            size = 12 + 3 * np.sqrt(chosen["fatalities"].to_numpy(dtype=float))
            civilian = (chosen["event_type"] == "Violence against civilians").to_numpy()
            drone = is_drone_strike(chosen)
            lon, lat = chosen["longitude"].to_numpy(), chosen["latitude"].to_numpy()
            ax.scatter(lon[~drone], lat[~drone], s=size[~drone],
                       facecolors=np.where(civilian, "#00000070", "#ffffff99")[~drone],
                       edgecolors=np.where(civilian, "#ffffff", "#222222")[~drone],
                       linewidths=1.0, zorder=5)
            ax.scatter(lon[drone], lat[drone], s=size[drone], marker=DRONE_MARKER,
                       facecolors="none", edgecolors=DRONE_COLOUR, linewidths=1.2, zorder=5)
            handles += [Line2D([], [], ls="", marker="o", mfc="#ffffff", mec="#222222",
                               label="battle (size: deaths)"),
                        Line2D([], [], ls="", marker="o", mfc="#555555", mec="#ffffff",
                               label="violence against civilians"),
                        Line2D([], [], ls="", marker=DRONE_MARKER, mfc="none",
                               mec=DRONE_COLOUR, label="drone strike")]
    _country_labels(ax)
    for name in LABELLED_TOWNS:
        town = geo.town(name)
        capital = name in CAPITALS
        ax.plot(town.lon, town.lat, marker="*" if capital else "o", ms=9 if capital else 3.5,
                color="black", mec="white", mew=0.7, zorder=8)
        ax.annotate(town.name, (town.lon, town.lat), xytext=(4, 3), textcoords="offset points",
                    fontsize=10 if capital else 8.5, weight="bold" if capital else "normal",
                    path_effects=halo(), zorder=8)
    lon0, lon1, lat0, lat1 = extent or (LON_MIN, LON_MAX, LAT_MIN, LAT_MAX)
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(1.0 / np.cos(np.radians(0.5 * (lat0 + lat1))))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.9)


def draw_borders(ax: Axes, borders: dict[str, list[np.ndarray]], labels: bool = True) -> None:
    """Country outlines (the three countries dark, neighbours light) and, optionally, names.

    `borders` is `sim.geography.load_borders()` (or a geography's `borders`).
    """
    for iso, rings in borders.items():
        for ring in rings:
            ax.plot(ring[:, 0], ring[:, 1], color="#222222" if iso in COUNTRIES else "#999999",
                    lw=1.0 if iso in COUNTRIES else 0.5)
    if labels:
        _country_labels(ax)


def _country_labels(ax: Axes) -> None:
    for iso, (lon, lat) in COUNTRY_LABEL_POINTS.items():
        ax.text(lon, lat, COUNTRIES[iso].upper(), ha="center", va="center", fontsize=12,
                color="#444444", weight="bold", path_effects=halo(), zorder=7)


def _actor_label(model: SahelModel, actor: str) -> str:
    if actor in ("state", "contested", "ungoverned"):
        return {"state": "state control", "contested": "contested",
                "ungoverned": "ungoverned (no force reaches)"}[actor]
    return model.spec.factions[actor].label.split(" (")[0]


def control_codes(model: SahelModel) -> np.ndarray:
    """The map raster: index in `control_categories` per cell, NaN outside the three countries.

    Returns:
        Array of shape (ny, nx), ready for `imshow(origin="lower")`.
    """
    geo = model.geo
    n_actors = len(model.actor_ids)
    controller = model.controller.reshape(geo.shape)
    # -1 contested, -2 ungoverned: after the actors, in that order.
    code = np.where(controller < 0, n_actors - 1 - controller, controller).astype(float)
    code[~model.in_sahel.reshape(geo.shape)] = np.nan
    return code.T


def events_to_mark(events: pd.DataFrame | None, n: int = 12, recent_days: int | None = None
                   ) -> pd.DataFrame:
    """Deadly events to mark on the map.

    Those of the last `recent_days` before the latest one, or else the `n` deadliest.
    """
    if events is None or events.empty:
        return pd.DataFrame(columns=["longitude", "latitude", "fatalities", "event_type",
                                     "sub_event_type"])
    deadly = events[events["fatalities"] > 0]
    if recent_days is not None and not deadly.empty:
        cutoff = deadly["event_date"].max() - pd.Timedelta(days=recent_days)
        return deadly[deadly["event_date"] > cutoff]
    return deadly.nlargest(n, "fatalities")


def is_drone_strike(events: pd.DataFrame) -> np.ndarray:
    """Which events are drone strikes (drawn with their own symbol on the map)."""
    if "sub_event_type" not in events:
        return np.zeros(len(events), dtype=bool)
    return (events["sub_event_type"] == DRONE_STRIKE).to_numpy(dtype=bool)


def draw_control_shares(axes: list[Axes], model: SahelModel, ts: pd.DataFrame,
                        kind: str = "territory") -> None:
    """Stacked shares of territory (or population) by controller, one axis per country."""
    colours = actor_colours(model)
    actors = control_categories(model)
    for ax, iso in zip(axes, COUNTRIES, strict=True):
        part = ts[ts["country"] == iso]
        ax.stackplot(part["date"], *[part[f"{kind}_{a}"] for a in actors],
                     colors=[colours[a] for a in actors],
                     labels=[_actor_label(model, a) for a in actors])
        ax.set_ylim(0, 1)
        ax.set_title(f"{COUNTRIES[iso]}: share of {kind}", fontsize=10)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    axes[0].legend(loc="lower left", fontsize=7)


def draw_fatalities(axes: list[Axes], model: SahelModel, ts: pd.DataFrame,
                    by: str = "victim", freq: str = "MS") -> None:
    """Monthly deaths per country, stacked by victim group or by perpetrator."""
    colours = faction_colours(model)
    series = "killed" if by == "victim" else "killed_by"
    groups = (["civilians", *model.faction_ids] if by == "victim" else model.faction_ids)
    cols = series_columns(series, model.faction_ids, model.actor_ids)
    for ax, iso in zip(axes, COUNTRIES, strict=True):
        part = ts[ts["country"] == iso].set_index("date")
        monthly = part[cols].resample(freq).sum()
        monthly.columns = groups
        monthly = monthly.loc[:, monthly.sum() > 0]
        bottom = np.zeros(len(monthly))
        for g in monthly.columns:
            ax.bar(monthly.index, monthly[g], width=25, bottom=bottom, color=colours[g],
                   label=g.replace("_", " "))
            bottom += monthly[g].to_numpy()
        ax.set_title(f"{COUNTRIES[iso]}: deaths per month by {by}", fontsize=10)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        if len(monthly.columns):
            ax.legend(fontsize=6, ncol=2)


def _two_row_figure(model: SahelModel, title: str) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5), sharex=True, constrained_layout=True)
    fig.suptitle(f"{model.spec.name}: {title}")
    return fig, axes


def control_figure(model: SahelModel, ts: pd.DataFrame) -> Figure:
    """Territory and population control shares over time, per country."""
    fig, axes = _two_row_figure(model, "control over time")
    draw_control_shares(list(axes[0]), model, ts, "territory")
    draw_control_shares(list(axes[1]), model, ts, "population")
    return fig


def fatalities_figure(model: SahelModel, ts: pd.DataFrame) -> Figure:
    """Monthly deaths by victim (top) and by perpetrator (bottom), per country."""
    fig, axes = _two_row_figure(model, "fatalities")
    draw_fatalities(list(axes[0]), model, ts, "victim")
    draw_fatalities(list(axes[1]), model, ts, "perpetrator")
    return fig


def map_figure(model: SahelModel, events: pd.DataFrame) -> Figure:
    """Map of control on the last simulated day with the run's largest events."""
    fig, ax = plt.subplots(figsize=(12, 7.5), constrained_layout=True)
    draw_control_map(ax, model, events, n_events=15)
    ax.set_title(f"{model.spec.name}: control on {model.date - pd.Timedelta(days=1):%Y-%m-%d}"
                 " and the 15 deadliest events")
    return fig


def save_run_plots(model: SahelModel, ts: pd.DataFrame, events: pd.DataFrame, out: Path
                   ) -> list[Path]:
    """Write control.png, fatalities.png and map.png; return their paths."""
    paths = []
    for name, fig in (("control.png", control_figure(model, ts)),
                      ("fatalities.png", fatalities_figure(model, ts)),
                      ("map.png", map_figure(model, events))):
        path = out / name
        atomic_save_figure(fig, path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
