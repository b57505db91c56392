"""The explore view's charts as SVG text: small panels of lines and stacked areas over time.

Drawn by the browser at its real size, like the map (`sim.dashboard.svg`); PNG downloads are
drawn by matplotlib (`sim.dashboard.figures`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from sim.dashboard.svg import FONT, TICK_PX, TITLE_PX, _esc


@dataclass
class Line:
    """One series of a panel: x as days since the period's start, y values."""

    label: str
    colour: str
    x: np.ndarray
    y: np.ndarray
    kind: str = "line"  # "line", "area" (stacked by the caller: y is (bottom, top)), "step"
    bottom: np.ndarray | None = None
    markers: np.ndarray | None = None  # indices to mark with a cross


@dataclass
class Panel:
    """A small chart: a title and its series over the scenario's period."""

    title: str
    lines: list[Line]
    ymax: float | None = None
    marker_day: float | None = None  # a vertical line (the day shown), in days


def nice_ticks(high: float, count: int = 3) -> list[float]:
    """Round tick values from 0 to at least `high`."""
    if not np.isfinite(high) or high <= 0:
        return [0.0, 1.0]
    raw = high / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [step * k for k in range(math.ceil(high / step - 1e-9) + 1)]


def short_number(value: float, unit: str = "") -> str:
    """A tick label: 1.2k, 3M, 40%."""
    if unit == "%":
        return f"{value:.0f}%"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f}M".replace(".0M", "M")
    if abs(value) >= 1e3:
        return f"{value / 1e3:.1f}k".replace(".0k", "k")
    if value == int(value):
        return f"{value:.0f}"
    return f"{value:.2g}"


def date_ticks(start: dt.date, days: int) -> list[tuple[int, str]]:
    """Ticks at the first of January (year) and of July ('Jul'); months for short periods."""
    out = []
    months = 1 if days <= 200 else 6
    current = dt.date(start.year, start.month, 1)
    while (current - start).days <= days:
        offset = (current - start).days
        if offset >= 0 and (current.month - 1) % months == 0:
            out.append((offset, str(current.year) if current.month == 1 else
                        current.strftime("%b")))
        current = dt.date(current.year + (current.month == 12), current.month % 12 + 1, 1)
    return out


def chart_svg(panels: list[Panel], start: dt.date, days: int, unit: str,
              width: float = 500, height: float = 170, css: str = "", alt: str = "") -> str:
    """Panels side by side sharing the time axis (the scenario's whole period) and a unit."""
    n = len(panels)
    left, right, top, bottom, gap = 40, 6, 20, 20, 10
    pw = (width - left - right - gap * (n - 1)) / n
    ph = height - top - bottom
    ticks = date_ticks(start, days)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sahel-chart-svg {css}" role="img"'
             f' aria-label="{_esc(alt)}" viewBox="0 0 {width:.0f} {height:.0f}" width="100%" '
             f'style="display:block;{FONT}"><title>{_esc(alt)}</title>']
    for k, panel in enumerate(panels):
        x0 = left + k * (pw + gap)
        high = panel.ymax
        if high is None:
            high = max([float(np.nanmax(line.y)) for line in panel.lines if line.y.size] or [1])
        yt = nice_ticks(high)
        ymax = yt[-1] if panel.ymax is None else panel.ymax
        ymax = ymax or 1.0

        def px(day: np.ndarray, x0: float = x0) -> np.ndarray:
            return x0 + np.asarray(day, dtype=float) / max(days, 1) * pw

        def py(val: np.ndarray, ymax: float = ymax) -> np.ndarray:
            return top + ph - np.clip(np.asarray(val, dtype=float) / ymax, 0, 1.02) * ph

        parts.append(f'<text x="{x0:.1f}" y="{top - 6}" style="font-size:{TITLE_PX}px;'
                     f'font-weight:500;fill:#222">{_esc(panel.title)}</text>')
        parts.append(f'<rect x="{x0:.1f}" y="{top}" width="{pw:.1f}" height="{ph:.1f}" '
                     'fill="#fafafa" stroke="#ccc" stroke-width="0.8"/>')
        ticks_y = yt if panel.ymax is None else [0, ymax / 2, ymax]
        for value in ticks_y:
            y = float(py(value))
            parts.append(f'<line x1="{x0:.1f}" x2="{x0 + pw:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                         'stroke="#e3e3e3" stroke-width="0.8"/>')
            if k == 0:
                label = short_number(value * (100 if unit == "%" else 1), unit)
                parts.append(f'<text x="{x0 - 4:.1f}" y="{y + 4:.1f}" text-anchor="end" '
                             f'style="font-size:{TICK_PX}px;fill:#444">{label}</text>')
        for offset, label in ticks:
            x = float(px(offset))
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + ph:.1f}" '
                         f'y2="{top + ph + 3:.1f}" stroke="#888"/>')
            if x - x0 < pw - 10 or len(ticks) < 3:
                parts.append(f'<text x="{x:.1f}" y="{top + ph + 15:.1f}" text-anchor="middle" '
                             f'style="font-size:{TICK_PX}px;fill:#444">{label}</text>')
        for line in panel.lines:
            if line.x.size == 0:
                continue
            xs = px(line.x)
            title = f"<title>{_esc(line.label)}</title>"
            if line.kind == "area":
                low = py(line.bottom if line.bottom is not None else np.zeros_like(line.y))
                up = py(line.y)
                pts = [*zip(xs, up, strict=True), *zip(xs[::-1], low[::-1], strict=True)]
                d = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
                parts.append(f'<polygon points="{d}" fill="{line.colour}" stroke="none">'
                             f'{title}</polygon>')
            else:
                ys = py(line.y)
                d = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))
                parts.append(f'<polyline points="{d}" fill="none" stroke="{line.colour}" '
                             f'stroke-width="1.8" stroke-linejoin="round">{title}</polyline>')
            if line.markers is not None:
                for i in line.markers:
                    a, b = float(xs[i]), float(py(line.y[i]))
                    parts.append(f'<path d="M{a - 4:.1f},{b - 4:.1f} L{a + 4:.1f},{b + 4:.1f} '
                                 f'M{a - 4:.1f},{b + 4:.1f} L{a + 4:.1f},{b - 4:.1f}" '
                                 f'stroke="{line.colour}" stroke-width="2"><title>coup attempt'
                                 '</title></path>')
        if panel.marker_day is not None:
            x = float(px(panel.marker_day))
            parts.append(f'<line class="sahel-day-marker" x1="{x:.1f}" x2="{x:.1f}" '
                         f'y1="{top}" y2="{top + ph:.1f}" stroke="#d00" stroke-width="1" '
                         'stroke-dasharray="3,2"/>')
    parts.append("</svg>")
    return "".join(parts)
