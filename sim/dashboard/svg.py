"""The explore view's map and charts as SVG text: drawn by the browser, built in milliseconds.

Matplotlib PNGs cost 0.1-0.5 s each and their text shrinks with the image; SVG text is laid
out by the browser at its real size (CSS pixels), with a white halo so it reads on any fill, and
a frame is a few milliseconds of string building. The map projects longitude and latitude with
the right aspect for the Sahel's latitude (equirectangular, x scaled by cos 17 degrees), shows
the control raster as a small embedded PNG drawn pixelated, borders, country names, capitals
and towns (placed so they do not overlap), recent events clustered and sized by deaths (under
the labels), and Russian units as symbols. PNG downloads are drawn by matplotlib instead
(`sim.dashboard.figures`).
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import PIL.Image

from sim.geography import COUNTRIES, LAT_MAX, LAT_MIN, LON_MAX, LON_MIN
from sim.plots import (
    CAPITALS,
    COUNTRY_LABEL_POINTS,
    DRONE_COLOUR,
    LABELLED_TOWNS,
    MAP_BACKGROUND,
    UNIT_COLOUR,
    is_drone_strike,
)

MAP_WIDTH = 760  # SVG user units = CSS pixels when shown at its natural width
REF_LAT = 17.0  # latitude at which the map's aspect is right
TOWN_PX = 13
CAPITAL_PX = 14
COUNTRY_PX = 17
TICK_PX = 12
TITLE_PX = 13
HALO = "paint-order:stroke;stroke:#ffffff;stroke-width:3.5px;stroke-linejoin:round"
CLUSTER_PX = 26  # events within this many pixels are drawn as one circle
VAC = "Violence against civilians"
FONT = "font-family:Roboto,Arial,sans-serif"

EXTENTS: dict[str, tuple[float, float, float, float]] = {
    "region": (LON_MIN, LON_MAX, LAT_MIN, LAT_MAX),
    "MLI": (-12.5, 4.5, 10.0, 25.0),
    "BFA": (-5.8, 2.6, 9.2, 15.3),
    "NER": (0.0, 16.0, 11.5, 23.6),
}
ZOOM_LABELS = {"region": "Region", **COUNTRIES}


@dataclass(frozen=True)
class Projection:
    """Longitude/latitude to SVG pixels for one extent (lon0, lon1, lat0, lat1)."""

    extent: tuple[float, float, float, float]
    width: float = MAP_WIDTH

    @property
    def kx(self) -> float:
        """Pixels per degree of longitude."""
        lon0, lon1, _, _ = self.extent
        return self.width / (lon1 - lon0)

    @property
    def ky(self) -> float:
        """Pixels per degree of latitude (more than kx: a degree of longitude is shorter)."""
        return self.kx / math.cos(math.radians(REF_LAT))

    @property
    def height(self) -> float:
        """Height of the map in pixels."""
        _, _, lat0, lat1 = self.extent
        return (lat1 - lat0) * self.ky

    def xy(self, lon: np.ndarray | float, lat: np.ndarray | float
           ) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates of points."""
        lon0, _, _, lat1 = self.extent
        return ((np.asarray(lon) - lon0) * self.kx, (lat1 - np.asarray(lat)) * self.ky)

    def lonlat(self, fx: float, fy: float) -> tuple[float, float]:
        """Longitude and latitude at a fraction (0-1) of the map's width and height."""
        lon0, _, _, lat1 = self.extent
        return lon0 + fx * self.width / self.kx, lat1 - fy * self.height / self.ky


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _png_data_url(rgba: np.ndarray) -> str:
    buffer = io.BytesIO()
    PIL.Image.fromarray(rgba, "RGBA").save(buffer, format="png", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass
class MapLayer:
    """What the map of one day shows (all arrays over the grid's cells, flat x * ny + y)."""

    codes: np.ndarray  # (ny, nx) colour index per cell, -1 outside the three countries
    colours: Sequence[str]  # colour of each code
    events: pd.DataFrame  # recent deadly events: longitude, latitude, fatalities, event_type
    units: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # lon, lat, strength
    unit_label: str = "Russian unit"


class MapSVG:
    """Builds the map's SVG; the static parts (borders, labels) are cached per extent."""

    def __init__(self, geo: object, extra_towns: Sequence[str] = ()) -> None:
        self.geo = geo
        self.extra_towns = [t for t in extra_towns if t not in LABELLED_TOWNS]
        self._static: dict[str, tuple[str, str]] = {}

    def projection(self, zoom: str) -> Projection:
        """The projection of a zoom ('region' or a country code)."""
        return Projection(EXTENTS.get(zoom, EXTENTS["region"]))

    def _borders(self, proj: Projection) -> str:
        parts = []
        for iso, rings in self.geo.borders.items():  # type: ignore[attr-defined]
            ours = iso in COUNTRIES
            for ring in rings:
                x, y = proj.xy(ring[:, 0], ring[:, 1])
                points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))
                parts.append(f'<polyline points="{points}" fill="none" '
                             f'stroke="{"#222" if ours else "#9a9a9a"}" '
                             f'stroke-width="{1.4 if ours else 0.8}"/>')
        return "".join(parts)

    def _labels(self, proj: Projection) -> str:
        """Country names, then capitals and towns placed greedily without overlaps."""
        placed: list[tuple[float, float, float, float]] = []
        out: list[str] = []
        for iso, (lon, lat) in COUNTRY_LABEL_POINTS.items():
            x, y = proj.xy(lon, lat)
            text = COUNTRIES[iso].upper()
            w = 0.68 * COUNTRY_PX * len(text) + 4 * len(text)
            box = (float(x) - w / 2, float(y) - COUNTRY_PX, float(x) + w / 2, float(y) + 2)
            placed.append(box)
            out.append(f'<text class="sahel-country-label" x="{float(x):.1f}" '
                       f'y="{float(y):.1f}" text-anchor="middle" '
                       f'style="font-size:{COUNTRY_PX}px;font-weight:600;letter-spacing:4px;'
                       f'fill:#444;{HALO};{FONT}">{_esc(text)}</text>')
        names = [*CAPITALS, *[t for t in LABELLED_TOWNS if t not in CAPITALS],
                 *self.extra_towns]
        markers: list[str] = []
        for name in names:
            try:
                town = self.geo.town(name)  # type: ignore[attr-defined]
            except KeyError:
                continue
            x, y = (float(v) for v in proj.xy(town.lon, town.lat))
            if not (0 <= x <= proj.width and 0 <= y <= proj.height):
                continue
            capital = name in CAPITALS
            size = CAPITAL_PX if capital else TOWN_PX
            w = 0.56 * size * len(town.name)
            spots = [(x + 6, y + size * 0.35, "start"), (x - 6, y + size * 0.35, "end"),
                     (x, y - 7, "middle"), (x, y + size + 4, "middle")]
            for tx, ty, anchor in spots:
                left = tx if anchor == "start" else tx - w if anchor == "end" else tx - w / 2
                box = (left, ty - size, left + w, ty + 3)
                if box[0] < 0 or box[2] > proj.width or box[1] < 0 or box[3] > proj.height:
                    continue
                if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                       for b in placed):
                    continue
                placed.append(box)
                weight = "700" if capital else "400"
                out.append(f'<text class="sahel-town-label{" sahel-capital" if capital else ""}"'
                           f' x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" '
                           f'style="font-size:{size}px;font-weight:{weight};fill:#111;{HALO};'
                           f'{FONT}">{_esc(town.name)}</text>')
                break
            else:
                if not capital:
                    continue
            if capital:
                markers.append(_star(x, y, 6.5))
            else:
                markers.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#111" '
                               'stroke="#fff" stroke-width="1.2"/>')
        return "".join(markers) + "".join(out)

    def static(self, zoom: str) -> tuple[str, str]:
        """Borders and labels of a zoom, built once."""
        if zoom not in self._static:
            proj = self.projection(zoom)
            self._static[zoom] = (self._borders(proj), self._labels(proj))
        return self._static[zoom]

    def render(self, layer: MapLayer, zoom: str = "region", alt: str = "") -> str:
        """The SVG of one day's map at a zoom ('region' or a country code)."""
        proj = self.projection(zoom)
        borders, labels = self.static(zoom)
        codes = layer.codes
        palette = np.array([_rgba(c) for c in layer.colours] + [(0, 0, 0, 0)], dtype=np.uint8)
        rgba = palette[np.where(codes < 0, len(layer.colours), codes)][::-1]  # north up
        x0, y0 = proj.xy(LON_MIN, LAT_MAX)
        x1, y1 = proj.xy(LON_MAX, LAT_MIN)
        raster = (f'<image href="{_png_data_url(np.ascontiguousarray(rgba))}" '
                  f'x="{float(x0):.2f}" y="{float(y0):.2f}" width="{float(x1 - x0):.2f}" '
                  f'height="{float(y1 - y0):.2f}" preserveAspectRatio="none" '
                  'style="image-rendering:pixelated"/>')
        h = proj.height
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="sahel-map-svg" role="img" '
                f'aria-label="{_esc(alt)}" viewBox="0 0 {proj.width:.0f} {h:.0f}" '
                f'width="100%" style="display:block;background:{MAP_BACKGROUND}">'
                f'<title>{_esc(alt)}</title>{raster}{borders}'
                f'{self._events(layer.events, proj)}{self._units(layer, proj)}{labels}</svg>')

    def _events(self, events: pd.DataFrame, proj: Projection) -> str:
        if events is None or events.empty:
            return ""
        drone = is_drone_strike(events)
        strikes = self._strikes(events[drone], proj)
        events = events[~drone]
        if events.empty:
            return strikes
        x, y = proj.xy(events["longitude"].to_numpy(float), events["latitude"].to_numpy(float))
        deaths = events["fatalities"].to_numpy(float)
        vac = (events["event_type"] == VAC).to_numpy()
        key = (x // CLUSTER_PX).astype(np.int64) * 100_000 + (y // CLUSTER_PX).astype(np.int64)
        _, group = np.unique(key, return_inverse=True)
        n = np.bincount(group)
        total = np.bincount(group, weights=deaths)
        cx = np.bincount(group, weights=x) / n
        cy = np.bincount(group, weights=y) / n
        civ = np.bincount(group, weights=deaths * vac)
        out = []
        for g in np.argsort(-total, kind="stable"):
            r = min(4.0 + 1.7 * math.sqrt(total[g]), 30.0)
            civilian = civ[g] >= total[g] / 2
            fill = "#000000" if civilian else "#ffffff"
            opacity = 0.42 if civilian else 0.6
            stroke = "#ffffff" if civilian else "#222222"
            kind = "mostly violence against civilians" if civilian else "mostly battles"
            out.append(f'<circle class="sahel-event" cx="{cx[g]:.1f}" cy="{cy[g]:.1f}" '
                       f'r="{r:.1f}" fill="{fill}" fill-opacity="{opacity}" stroke="{stroke}" '
                       f'stroke-width="1.3"><title>{int(n[g])} events, {total[g]:,.0f} deaths'
                       f' ({kind})</title></circle>')
        return "".join(out) + strikes

    def _strikes(self, events: pd.DataFrame, proj: Projection) -> str:
        """Drone strikes: downward triangles, sized by deaths (not clustered)."""
        if events.empty:
            return ""
        x, y = proj.xy(events["longitude"].to_numpy(float), events["latitude"].to_numpy(float))
        out = []
        for a, b, d in zip(x, y, events["fatalities"].to_numpy(float), strict=True):
            s = min(4.0 + 1.5 * math.sqrt(d), 20.0)
            out.append(f'<path class="sahel-drone" d="M{a - s:.1f},{b - s * 0.8:.1f} '
                       f'L{a + s:.1f},{b - s * 0.8:.1f} L{a:.1f},{b + s:.1f} Z" fill="none" '
                       f'stroke="{DRONE_COLOUR}" stroke-width="1.6"><title>drone strike, '
                       f'{d:,.0f} deaths</title></path>')
        return "".join(out)

    def _units(self, layer: MapLayer, proj: Projection) -> str:
        if layer.units.size == 0:
            return ""
        x, y = proj.xy(layer.units[:, 0], layer.units[:, 1])
        out = []
        for a, b, strength in zip(x, y, layer.units[:, 2], strict=True):
            s = 7.0
            out.append(f'<path class="sahel-unit" d="M{a:.1f},{b - s:.1f} L{a + s:.1f},'
                       f'{b + s * 0.8:.1f} L{a - s:.1f},{b + s * 0.8:.1f} Z" '
                       f'fill="{UNIT_COLOUR}" stroke="#fff" stroke-width="1.5">'
                       f'<title>{_esc(layer.unit_label)}: {strength:,.0f} personnel</title>'
                       '</path>')
        return "".join(out)


def _star(x: float, y: float, r: float) -> str:
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.45
        angle = math.pi / 2 + k * math.pi / 5
        points.append(f"{x + radius * math.cos(angle):.1f},{y - radius * math.sin(angle):.1f}")
    return (f'<polygon points="{" ".join(points)}" fill="#111" stroke="#fff" '
            'stroke-width="1.2"/>')


def _rgba(colour: str) -> tuple[int, int, int, int]:
    from matplotlib.colors import to_rgba

    r, g, b, a = to_rgba(colour)
    return round(255 * r), round(255 * g), round(255 * b), round(255 * a)


# ------------------------------------------------------------------------------------------
# Charts
# ------------------------------------------------------------------------------------------


def legend_html(items: list[tuple[str, str]], css: str = "") -> str:
    """A legend of colour chips and labels, as HTML (wraps, readable at any width)."""
    chips = "".join(
        f'<span style="display:inline-flex;align-items:center;margin:0 10px 2px 0;'
        f'white-space:nowrap"><span style="display:inline-block;width:12px;height:12px;'
        f'background:{colour};border:1px solid #777;margin-right:4px"></span>{_esc(label)}'
        '</span>' for label, colour in items)
    return (f'<div class="sahel-legend {css}" style="font-size:13px;line-height:18px;'
            f'color:#222">{chips}</div>')
