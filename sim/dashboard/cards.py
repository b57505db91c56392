"""The explore view's cards: downloads, the map, the charts, the event log and the timeline.

Each card is a Solara component of `sim.dashboard.explore`'s page; what it draws comes from the
session (`sim.dashboard.state.ExploreSession`).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any, cast

import pandas as pd
import reacton.ipyvuetify as v
import solara

from sim.dashboard.days import EVENT_COLUMNS, EventFilter, event_items, filter_events
from sim.dashboard.figures import (
    chart_png,
    credibility_chart,
    fatalities_chart,
    map_colours,
    map_png,
    shares_chart,
)
from sim.dashboard.mapwidget import MapWidget
from sim.dashboard.state import MAP_RECENT_DAYS, ExploreSession, refresh_key
from sim.dashboard.svg import ZOOM_LABELS, MapLayer, MapSVG, legend_html
from sim.geography import COUNTRIES
from sim.plots import UNIT_COLOUR
from sim.scenario import Event

logger = logging.getLogger(__name__)
EVENTS_PER_PAGE = 15
ALL = "all"


def guarded(draw: Callable[[], Any], what: str) -> tuple[Any, str | None]:
    """A figure, or a message if drawing it failed (the page must not break)."""
    try:
        return draw(), None
    except Exception as exc:
        logger.exception("drawing the %s failed", what)
        return None, f"could not draw the {what}: {exc!r}"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV bytes."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


@solara.component
def Downloads(session: ExploreSession, model_version: int) -> None:
    """Exports of the current run up to the day shown: tables as CSV, figures as PNG.

    The data are made when a button is clicked, for the day shown then (`session.shown_day`),
    so these buttons need not follow every Play frame.
    """
    stem = f"{session.path.stem}-seed{session.effective_seed}"

    def ts() -> bytes:
        return csv_bytes(session.timeseries_upto(session.shown_day))

    def events() -> bytes:
        return csv_bytes(session.events_upto(session.shown_day))

    def cell_months() -> bytes:
        from sim.tables import cell_month_frame

        return csv_bytes(cell_month_frame(session.events_upto(session.shown_day)))

    def map_image() -> bytes:
        day = session.shown_day
        return cast(bytes, session.draw(lambda m: map_png(
            m, session.control_codes(day), session.recent_events(day), session.date_of(day),
            session.zoom)))

    def chart(kind: str) -> Callable[[], bytes]:
        return lambda: cast(bytes, session.draw(lambda m: chart_png(
            m, session.timeseries_upto(session.shown_day), kind)))  # type: ignore[arg-type]

    with solara.Row(gap="2px", style={"flex-wrap": "wrap", "align-items": "center"},
                    classes=["sahel-downloads"]):
        solara.Text("Download:", style={"font-size": "13px"})
        for label, name, data, mime in (
                ("time series", "timeseries.csv", ts, "text/csv"),
                ("events", "events.csv", events, "text/csv"),
                ("cell-months", "cell_months.csv", cell_months, "text/csv"),
                ("map", "map.png", map_image, "image/png"),
                ("charts", "shares.png", chart("shares"), "image/png"),
                ("", "fatalities.png", chart("fatalities"), "image/png"),
                ("", "credibility.png", chart("credibility"), "image/png")):
            css = "sahel-download-" + name.replace(".", "-")
            with solara.FileDownload(data, filename=f"{stem}-{name}", mime_type=mime):
                solara.Button(label or name.split(".")[0], text=True, small=True,
                              icon_name="mdi-download", classes=[css])


@solara.component
def MapCard(session: ExploreSession, day: int, model_version: int,
            zoom: solara.Reactive[str], playing: bool) -> None:
    """The control map of the day shown, with a tooltip on hover and zoom buttons."""
    builder = solara.use_memo(
        lambda: session.draw(lambda m: MapSVG(m.world.geo, scenario_towns(m))),
        [model_version])
    pointer, set_pointer = solara.use_state(cast(dict[str, Any], {}))
    colours, legend = solara.use_memo(lambda: session.draw(map_colours), [model_version])

    def draw() -> str:
        layer = MapLayer(session.control_codes(day), colours, session.recent_events(day),
                         session.units_on(day), "Russian unit (Africa Corps / Bear Brigade)")
        alt = (f"Map of control on {session.date_of(day):%Y-%m-%d}: controlling actor per "
               f"cell, deadly events of the previous {MAP_RECENT_DAYS} days, Russian units")
        return cast(str, builder.render(layer, zoom.value, alt=alt))

    svg, error = solara.use_memo(lambda: guarded(draw, "map"),
                                 [model_version, day, zoom.value])
    solara.use_effect(lambda: session.mark_drawn(day), [model_version, day, zoom.value])

    def tip() -> str:
        if not pointer or pointer.get("leave"):
            return ""
        lon, lat = builder.projection(zoom.value).lonlat(float(pointer.get("fx", -1)),
                                                         float(pointer.get("fy", -1)))
        details = session.cell_details(lon, lat, day)
        if details is None:
            return ""
        rows = "".join(f"<div><b>{k}</b>: {v}</div>" for k, v in details.items())
        return f'<div class="sahel-cell-details">{rows}</div>'

    tip_html = solara.use_memo(tip, [pointer, day, model_version, zoom.value])
    url = session.view_state(day, zoom.value).query() if not playing else ""
    with solara.Card(margin=0, classes=["sahel-map-card"]):
        with solara.Row(gap="4px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.ToggleButtonsSingle(zoom.value, values=list(ZOOM_LABELS),
                                       on_value=zoom.set, dense=True,
                                       classes=["sahel-zoom"])
            solara.Text("hover or click a cell for its details",
                        style={"font-size": "13px", "color": "#555"})
        if svg is None:
            solara.Error(error or "no map", dense=True)
        else:
            MapWidget.element(svg=svg, tip=tip_html, pointer=pointer, on_pointer=set_pointer,
                              url_query=url)
        items = [*legend, ("battles (circle size: deaths)", "#ffffff"),
                 ("violence against civilians", "#555555")]
        solara.HTML(unsafe_innerHTML=legend_html(items, "sahel-map-legend") + (
            f'<div style="font-size:13px;color:#222"><span style="color:{UNIT_COLOUR}">'
            "&#9650;</span> Russian unit &nbsp; &#9733; capital &nbsp; events of the previous "
            f"{MAP_RECENT_DAYS} days, grouped when close</div>"))


def scenario_towns(model: Any) -> list[str]:
    """Bases of the units that the scenario's dated events move (their towns get labels)."""
    spec = model.spec
    moved = {e.unit for e in spec.events if e.unit}
    return [u.base for u in spec.units if u.id in moved and isinstance(u.base, str)]


@solara.component
def ChartsCard(session: ExploreSession, day: int, model_version: int, playing: bool) -> None:
    """Control shares, deaths and junta credibility up to the day shown (in turn if playing)."""
    kind, set_kind = solara.use_state("territory")
    by, set_by = solara.use_state("victim")
    mode, set_mode = solara.use_state("cumulative")

    def chart(build: Callable[[Any, pd.DataFrame], tuple[str, str]]
              ) -> Callable[[], tuple[Any, str | None]]:
        return lambda: guarded(
            lambda: session.draw(lambda m: build(m, session.timeseries_upto(day))), "chart")

    shares = solara.use_memo(chart(lambda m, ts: shares_chart(m, ts, kind)),
                             [model_version, refresh_key(day, playing, "shares"), kind])
    fatalities = solara.use_memo(
        chart(lambda m, ts: fatalities_chart(m, ts, by, mode)),  # type: ignore[arg-type]
        [model_version, refresh_key(day, playing, "fatalities"), by, mode])
    credibility = solara.use_memo(
        chart(credibility_chart), [model_version, refresh_key(day, playing, "credibility")])
    with solara.Card(margin=0, classes=["sahel-charts-card"]):
        solara.ToggleButtonsSingle(kind, values=["territory", "population"], on_value=set_kind,
                                   dense=True)
        ChartBox(shares, "sahel-chart sahel-chart-shares")
        with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
            solara.ToggleButtonsSingle(by, values=["victim", "perpetrator"], on_value=set_by,
                                       dense=True)
            solara.ToggleButtonsSingle(mode, values=["cumulative", "daily", "monthly"],
                                       on_value=set_mode, dense=True)
        ChartBox(fatalities, "sahel-chart sahel-chart-fatalities")
        ChartBox(credibility, "sahel-chart sahel-chart-credibility")


@solara.component
def ChartBox(drawn: tuple[Any, str | None], css: str) -> None:
    """A chart's SVG and its legend, or the reason it could not be drawn."""
    value, error = drawn
    if value is None:
        solara.Error(error or "no chart", dense=True)
        return
    svg, legend = value
    solara.HTML(unsafe_innerHTML=svg + legend, classes=css.split())


@solara.component
def EventLogCard(session: ExploreSession, day: int, model_version: int, playing: bool) -> None:
    """Every event of the run up to the day shown, filtered, sorted and paged on the server."""
    assert session.scenario is not None
    country, set_country = solara.use_state(ALL)
    actor, set_actor = solara.use_state(ALL)
    event_type, set_type = solara.use_state(ALL)
    span, set_span = solara.use_state(cast(tuple[int, int] | None, None))
    options, set_options = solara.use_state(cast(dict[str, Any], {
        "page": 1, "itemsPerPage": EVENTS_PER_PAGE, "sortBy": ["event_date"],
        "sortDesc": [True]}))
    key = (model_version, refresh_key(day, playing, "events"))
    events = solara.use_memo(lambda: session.events_upto(day), [key])
    choices = solara.use_memo(lambda: (
        sorted(set(events["actor1"]) | set(events["actor2"]) - {""}),
        sorted(set(events["event_type"]))), [key])
    start = session.scenario.start
    low, high = span if span is not None else (0, max(day - 1, 0))
    flt = EventFilter(None if country == ALL else country, None if actor == ALL else actor,
                      None if event_type == ALL else event_type, low,
                      None if span is None else high)
    chosen = solara.use_memo(lambda: filter_events(events, start, flt, day), [key, flt])
    page = max(int(options.get("page", 1)), 1)
    per_page = int(options.get("itemsPerPage", EVENTS_PER_PAGE))
    per_page = len(chosen) if per_page < 0 else per_page
    sort_by = (options.get("sortBy") or ["event_date"])[0]
    descending = bool((options.get("sortDesc") or [True])[0])
    items = solara.use_memo(
        lambda: event_items(chosen, page - 1, max(per_page, 1), sort_by, descending),
        [key, flt, page, per_page, sort_by, descending])
    headers = [{"text": label, "value": column, "sortable": True}
               for column, label in EVENT_COLUMNS.items()]
    title = f"Event log: {len(chosen):,} of {len(events):,} events up to the day shown"
    with solara.Card(title, margin=0, classes=["sahel-event-log"]):
        with solara.Row(gap="10px", style={"flex-wrap": "wrap", "align-items": "center"}):
            with solara.Column(gap="0px", style={"width": "170px"}):
                solara.Select("Country", values=[ALL, *COUNTRIES], value=country,
                              on_value=set_country, classes=["sahel-filter-country"])
            with solara.Column(gap="0px", style={"width": "260px"}):
                solara.Select("Actor", values=[ALL, *choices[0]], value=actor,
                              on_value=set_actor, classes=["sahel-filter-actor"])
            with solara.Column(gap="0px", style={"width": "240px"}):
                solara.Select("Event type", values=[ALL, *choices[1]], value=event_type,
                              on_value=set_type, classes=["sahel-filter-type"])
            with solara.Column(gap="0px", style={"min-width": "260px", "flex": "1"},
                               classes=["sahel-filter-dates"]):
                solara.SliderRangeInt(
                    f"Dates: {start + pd.Timedelta(days=low):%Y-%m-%d} to "
                    f"{start + pd.Timedelta(days=min(high, max(day - 1, 0))):%Y-%m-%d}",
                    value=(low, min(high, max(day - 1, 0))), min=0, max=max(day - 1, 1),
                    on_value=lambda value: set_span((int(value[0]), int(value[1]))))
            solara.Button("Clear filters", text=True, small=True, classes=["sahel-filter-clear"],
                          on_click=lambda: (set_country(ALL), set_actor(ALL), set_type(ALL),
                                            set_span(None)))
        v.DataTable(headers=headers, items=items, item_key="row", dense=True,
                    server_items_length=len(chosen), options=options, on_options=set_options,
                    footer_props={"items-per-page-options": [15, 50, 100]},
                    class_="sahel-event-table", style_="font-size: 13px")


def timeline_rows(events: list[Event]) -> list[str]:
    """One line per scheduled scenario event: date, action, target and detail."""
    lines = []
    for event in sorted(events, key=lambda e: e.date):
        target = event.unit or event.faction or ""
        detail = (f" +{event.strength}" if event.action == "reinforce" else
                  f" restraint={event.restraint}" if event.action == "set_restraint" else
                  f" posture={event.posture}" if event.action == "set_posture" else "")
        note = f" ({event.note})" if event.note else ""
        lines.append(f"{event.date} {event.action} {target}{detail}{note}")
    return lines


@solara.component
def TimelineCard(session: ExploreSession, model_version: int) -> None:
    """The scenario's period, description and dated events."""
    scenario = session.scenario
    assert scenario is not None
    with solara.Card(f"Scenario: {scenario.name}", margin=0, classes=["sahel-timeline"]):
        solara.Text(scenario.description, style={"font-size": "13px"})
        solara.Text(f"{scenario.start} to {scenario.end} ({scenario.days} days), "
                    f"{len(scenario.units)} units", classes=["sahel-period"],
                    style={"font-weight": "bold", "display": "block", "margin": "6px 0"})
        lines = timeline_rows(scenario.events)
        if not lines:
            solara.Text("No scheduled events.")
        with solara.Column(gap="0px", classes=["sahel-timeline-list"]):
            for line in lines:
                solara.Text(line, style={"font-size": "13px", "font-family": "monospace"})
