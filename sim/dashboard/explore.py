"""The explore view: one scenario, stepped or played live, on a map with charts and an event log.

Each browser session gets its own `ExploreSession` (created in a `use_memo` from the page's URL,
so a reload or a shared link replays the same scenario, seed, parameters and day). Reactive
values drive the page: `version` (a new model was built), `tick` (days simulated), `playing`,
`shown` (the day the date slider shows; None follows the run) and `zoom`. One component,
`LiveView`, reads `tick`, so a Play frame re-renders the status line, the map and, in turn, a
chart or the event log, never the controls.

Play runs in a thread (`solara.use_thread`): step `days per frame` days, set `tick` (which
renders the frame), wait until the map of that day has been drawn, pause 20 ms, repeat; Pause,
Reset or closing the tab sets its cancel event. The map and the charts are SVG built in
milliseconds (`sim.dashboard.svg`); PNGs are drawn only for downloads.
"""


from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pandas as pd
import reacton.ipyvuetify as v
import solara

from sim.dashboard.controls import ParameterPanel, parse_number
from sim.dashboard.figures import (
    chart_png,
    credibility_chart,
    fatalities_chart,
    map_colours,
    map_png,
    shares_chart,
)
from sim.dashboard.mapwidget import MapWidget
from sim.dashboard.state import (
    EVENT_COLUMNS,
    MAP_RECENT_DAYS,
    EventFilter,
    ExploreSession,
    ViewState,
    event_items,
    filter_events,
    public_message,
    refresh_key,
    restore,
    scenario_files,
)
from sim.dashboard.svg import ZOOM_LABELS, MapLayer, MapSVG, legend_html
from sim.geography import COUNTRIES
from sim.plots import UNIT_COLOUR
from sim.scenario import Event, ScenarioError

logger = logging.getLogger(__name__)

PLAY_YIELD_S = 0.02  # pause between Play frames, so clicks and messages get through
SEED_MAX = 2**63 - 1
DAYS_PER_FRAME = (1, 2, 4, 7, 14)
DEFAULT_DAYS_PER_FRAME = 4
EVENTS_PER_PAGE = 15
ALL = "all"


def parse_seed(text: str) -> int | None:
    """The seed typed by the user; '' means the scenario's own seed.

    Raises:
        ValueError: with a one-line message if it is not an integer from 0 to 2**63-1.
    """
    text = text.strip()
    if not text:
        return None
    try:
        seed = int(text)
    except ValueError:
        raise ValueError(f"seed: '{text}' is not an integer; allowed 0 to 2**63-1") from None
    if not 0 <= seed <= SEED_MAX:
        raise ValueError(f"seed: {seed} is out of range; allowed 0 to 2**63-1")
    return seed


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
def ExploreView() -> None:
    """Scenario picker, seed, Reset/Step/Play, date slider, map, charts, event log, exports."""
    router = solara.use_router()
    files = solara.use_memo(scenario_files, [])
    first_view = solara.use_memo(lambda: ViewState.parse(router.search), [])
    session, first_error = solara.use_memo(lambda: restore(files, first_view), [])
    version = solara.use_reactive(0)
    tick = solara.use_reactive(cast(int, solara.use_memo(
        lambda: session.day() if session else 0, [])))
    playing = solara.use_reactive(False)
    shown = solara.use_reactive(cast(int | None, None))
    zoom = solara.use_reactive(first_view.zoom)
    per_frame = solara.use_reactive(DEFAULT_DAYS_PER_FRAME)
    errors = solara.use_reactive(cast(dict[str, str], {}))
    load_error = solara.use_reactive(cast(str | None, first_error))
    seed_error = solara.use_reactive(cast(str | None, None))
    show_parameters = solara.use_reactive(False)

    def play_loop(cancel: threading.Event) -> None:
        if session is None or not playing.value:
            return
        shown.set(None)
        while not cancel.is_set():
            start = time.perf_counter()
            day = session.step(cancel, per_frame.value)
            if day is None:
                if not cancel.is_set():  # the end of the scenario
                    playing.set(False)
                return
            tick.set(day)  # renders the frame in this thread, unless a render is running
            session.wait_drawn(day, cancel)
            session.last_frame_ms = 1000.0 * (time.perf_counter() - start)
            time.sleep(PLAY_YIELD_S)

    solara.use_thread(play_loop, dependencies=[playing.value, version.value],
                      intrusive_cancel=False)

    if session is None:
        solara.Error(f"The dashboard cannot start: {load_error.value}")
        return
    assert session.scenario is not None

    def rebuild(path: Path, overrides: dict[str, Any], seed: int | None) -> str | None:
        playing.set(False)
        try:
            session.load(path, overrides, seed)
        except ScenarioError as exc:
            return public_message(str(exc), path)
        except Exception as exc:  # a model that fails to build must not take the page down
            logger.exception("building the model failed")
            return f"could not build the model of {path.stem}: {type(exc).__name__}"
        version.set(version.value + 1)
        shown.set(None)
        tick.set(0)
        return None

    def on_scenario(stem: str | None) -> None:
        path = next((f for f in files if f.stem == stem), None)
        if path is None or path == session.path:
            return
        load_error.set(rebuild(path, {}, None))
        if load_error.value is None:
            errors.set({})
            seed_error.set(None)

    def on_seed(text: str) -> None:
        try:
            seed = parse_seed(text)
        except ValueError as exc:
            seed_error.set(str(exc))
            return
        seed_error.set(rebuild(session.path, session.overrides, seed))

    def on_parameter(name: str, text: str) -> None:
        rest = {k: m for k, m in errors.value.items() if k != name}
        try:
            value = parse_number(text)
        except ValueError as exc:
            errors.set({**rest, name: f"{name}: {exc}"})
            return
        message = rebuild(session.path, {**session.overrides, name: value}, session.seed)
        errors.set({**rest, name: message} if message else rest)

    def on_reset() -> None:
        load_error.set(rebuild(session.path, session.overrides, session.seed))

    scenario = session.scenario
    with solara.Column(gap="6px", classes=["sahel-explore"],
                       style={"padding": "4px 8px 48px 8px"}):
        with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"},
                        classes=["sahel-setup"]):
            with solara.Column(gap="0px", style={"width": "220px"}):
                solara.Select("Scenario", values=[f.stem for f in files],
                              value=session.path.stem, on_value=on_scenario,
                              classes=["sahel-scenario-select"])
            with solara.Column(gap="0px", style={"width": "200px"}):
                solara.InputText("Seed (blank: the scenario's)",
                                 value=str(session.effective_seed), on_value=on_seed,
                                 continuous_update=False, error=bool(seed_error.value),
                                 dense=True, classes=["sahel-seed"])
            Downloads(session, version.value)
            if seed_error.value:
                solara.Text(seed_error.value, classes=["sahel-param-error"],
                            style={"color": "#b00020", "font-size": "13px"})
        if load_error.value:
            solara.Error(load_error.value, classes=["sahel-load-error"])
        LiveView(session, tick, version, playing, shown, zoom, per_frame, on_reset)
        with solara.ColumnsResponsive(12, large=[8, 4], gutters_dense=True):
            with solara.Card("Parameters", margin=0, classes=["sahel-parameters"]):
                # Closed, the panel's ~40 fields are not part of the page, which keeps every
                # Step's render pass short; a changed parameter or an error keeps it open.
                is_open = show_parameters.value or bool(session.overrides) or bool(
                    errors.value)
                solara.Button(("Hide" if is_open else "Show") + " parameters",
                              icon_name="mdi-tune", text=True, small=True,
                              on_click=lambda: show_parameters.set(not is_open),
                              classes=["sahel-parameters-toggle"])
                if is_open:
                    ParameterPanel(scenario.model_dump(), errors.value, on_parameter,
                                   sorted(session.overrides)).key(str(session.path))
            TimelineCard(session, version.value)


@solara.component
def LiveView(session: ExploreSession, tick: solara.Reactive[int],
             version: solara.Reactive[int], playing: solara.Reactive[bool],
             shown: solara.Reactive[int | None], zoom: solara.Reactive[str],
             per_frame: solara.Reactive[int], on_reset: Callable[[], None]) -> None:
    """Everything that changes with the model's day: the only reader of `tick`.

    One reader matters for speed: reacton renders once per component that subscribed to a
    changed value, and each pass walks the whole page.
    """
    latest, model_version, is_playing = tick.value, version.value, playing.value
    day = latest if shown.value is None or is_playing else min(shown.value, latest)

    def on_step() -> None:
        if shown.value is not None:
            shown.set(None)
        done = session.step()
        if done is not None:
            tick.set(done)

    with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}):
        PlayControls(session, latest, is_playing, on_reset, on_step,
                     lambda: playing.set(not playing.value), per_frame)
        StatusLine(session, day, latest, is_playing, shown)
    session.shown_day, session.zoom = day, zoom.value  # what the downloads export
    with solara.ColumnsResponsive(12, large=[7, 5], gutters_dense=True):
        MapCard(session, day, model_version, zoom, is_playing)
        ChartsCard(session, day, model_version, is_playing)
    EventLogCard(session, day, model_version, is_playing)


@solara.component
def PlayControls(session: ExploreSession, day: int, playing: bool, on_reset: Callable[[], None],
                 on_step: Callable[[], None], on_play: Callable[[], None],
                 per_frame: solara.Reactive[int]) -> None:
    """Reset, Step (one day), Play/Pause and the days simulated per Play frame."""
    finished = day >= (session.scenario.days if session.scenario else 0)
    with solara.Row(gap="6px", style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Reset", icon_name="mdi-restart", on_click=on_reset, outlined=True,
                      classes=["sahel-reset"])
        solara.Button("Step", icon_name="mdi-step-forward", on_click=on_step, outlined=True,
                      disabled=playing or finished, classes=["sahel-step"])
        solara.Button("Pause" if playing else "Play",
                      icon_name="mdi-pause" if playing else "mdi-play", on_click=on_play,
                      color="primary", disabled=finished and not playing,
                      classes=["sahel-play"])
        solara.Text("days per frame", style={"font-size": "13px", "margin-left": "6px"})
        solara.ToggleButtonsSingle(per_frame.value, values=list(DAYS_PER_FRAME),
                                   on_value=per_frame.set, dense=True,
                                   classes=["sahel-days-per-frame"])


@solara.component
def StatusLine(session: ExploreSession, day: int, latest: int, playing: bool,
               shown: solara.Reactive[int | None]) -> None:
    """The date shown, the days simulated, and the date slider over them."""
    assert session.scenario is not None
    days = session.scenario.days
    date = session.date_of(day)
    with solara.Column(gap="0px", style={"min-width": "300px", "flex": "1"}):
        with solara.Row(gap="10px", style={"align-items": "baseline", "flex-wrap": "wrap"}):
            solara.Text(f"{date:%Y-%m-%d}", classes=["sahel-date"],
                        style={"font-size": "22px", "font-weight": "bold"})
            note = f"day {day} of {days}"
            if day < latest:
                note += f" (simulated to day {latest})"
            elif latest >= days:
                note += " (end of scenario)"
            if playing and session.last_frame_ms is not None:
                note += f" - frame {session.last_frame_ms:.0f} ms"
            solara.Text(note, classes=["sahel-day"], style={"color": "#444",
                                                           "font-size": "14px"})
        with solara.Column(gap="0px", classes=["sahel-date-slider"]):
            solara.SliderInt("", value=day, min=0, max=max(latest, 1),
                             disabled=playing or latest == 0, thumb_label=False,
                             on_value=lambda d: shown.set(None if d >= latest else d))


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
