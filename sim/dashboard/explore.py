"""The explore view: one scenario, stepped or played live, on a map with charts and an event log.

Each browser session gets its own `ExploreSession` (created in a `use_memo`), so two tabs never
share a model. Three reactive values drive the page: `version` (a new model was built), `tick`
(days simulated) and `playing`. One component, `LiveView`, reads `tick`: a Play frame re-renders
the status line and the map, and (once a week, one at a time) a chart or the event log, never
the controls, in a single render pass.

Play runs in a thread (`solara.use_thread`): step, set `tick` (which renders the frame), wait
until the map of that day has been drawn, pause 20 ms, repeat; Pause, Reset or closing the tab
sets its cancel event.
"""


from __future__ import annotations

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
from sim.dashboard.figures import MapFigure, credibility_png, fatalities_png, shares_png
from sim.dashboard.state import (
    EVENT_COLUMNS,
    EVENT_ROWS,
    ExploreSession,
    default_scenario,
    event_items,
    refresh_key,
    scenario_files,
)
from sim.scenario import Event, ScenarioError

logger = logging.getLogger(__name__)

PLAY_YIELD_S = 0.02  # pause between Play frames, so clicks and messages get through
SEED_MAX = 2**63 - 1


def _new_session(files: list[Path]) -> tuple[ExploreSession | None, str | None]:
    """A session on the default scenario, or None and the reason it cannot load."""
    path = default_scenario(files)
    if path is None:
        return None, "no scenario files found (see SAHEL_SCENARIO_DIR)"
    session = ExploreSession(path)
    try:
        session.load(path)
    except ScenarioError as exc:
        return None, str(exc)
    return session, None


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


Drawn = tuple[bytes | None, str | None]


def guarded(draw: Callable[[], bytes], what: str) -> Drawn:
    """PNG bytes of a figure, or a message if drawing it failed (the page must not break)."""
    try:
        return draw(), None
    except Exception as exc:
        logger.exception("drawing the %s failed", what)
        return None, f"could not draw the {what}: {exc!r}"


@solara.component
def FigureImage(drawn: Drawn, classes: list[str]) -> None:
    """A figure's PNG at the card's width, or the reason it could not be drawn."""
    png, error = drawn
    if png is None:
        solara.Error(error or "no figure", dense=True)
    else:
        solara.Image(png, width="100%", classes=classes)


@solara.component
def ExploreView() -> None:
    """Scenario picker, seed, Reset/Step/Play, map, charts, parameters, event log, timeline."""
    files = solara.use_memo(scenario_files, [])
    session, first_error = solara.use_memo(lambda: _new_session(files), [])
    version = solara.use_reactive(0)
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    errors = solara.use_reactive(cast(dict[str, str], {}))
    load_error = solara.use_reactive(cast(str | None, first_error))
    seed_error = solara.use_reactive(cast(str | None, None))

    def play_loop(cancel: threading.Event) -> None:
        if session is None or not playing.value:
            return
        while not cancel.is_set():
            start = time.perf_counter()
            day = session.step(cancel)
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
            return str(exc)
        except Exception as exc:  # a model that fails to build must not take the page down
            logger.exception("building the model failed")
            return f"could not build the model: {exc!r}"
        version.set(version.value + 1)
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
    with solara.Columns([1, 3], gutters_dense=True, classes=["sahel-explore"],
                        style={"padding": "4px 8px"}):
        with solara.Column(gap="8px"):
            with solara.Card(margin=0, classes=["sahel-setup"]):
                solara.Select("Scenario", values=[f.stem for f in files],
                              value=session.path.stem, on_value=on_scenario,
                              classes=["sahel-scenario-select"])
                solara.InputText("Seed", value=str(session.effective_seed), on_value=on_seed,
                                 continuous_update=False, error=bool(seed_error.value),
                                 message="blank: the scenario's seed", dense=True,
                                 classes=["sahel-seed"])
                if seed_error.value:
                    solara.Text(seed_error.value, classes=["sahel-param-error"],
                                style={"color": "#b00020", "font-size": "12px"})
            with solara.Card("Parameters", margin=0, classes=["sahel-parameters"]):
                ParameterPanel(scenario.model_dump(), errors.value, on_parameter,
                               sorted(session.overrides)).key(str(session.path))
            TimelineCard(session, version.value)
        with solara.Column(gap="8px"):
            if load_error.value:
                solara.Error(load_error.value, classes=["sahel-load-error"])
            LiveView(session, tick, version, playing, on_reset)


@solara.component
def LiveView(session: ExploreSession, tick: solara.Reactive[int],
             version: solara.Reactive[int], playing: solara.Reactive[bool],
             on_reset: Callable[[], None]) -> None:
    """Everything that changes with the model's day: the only reader of `tick`.

    One reader matters for speed: reacton renders once per component that subscribed to a
    changed value, and each pass walks the whole page.
    """
    day, model_version, is_playing = tick.value, version.value, playing.value

    def on_step() -> None:
        day = session.step()
        if day is not None:
            tick.set(day)

    with solara.Row(gap="16px", style={"align-items": "center", "flex-wrap": "wrap"}):
        PlayControls(session, day, is_playing, on_reset, on_step,
                     lambda: playing.set(not playing.value))
        StatusLine(session, day, model_version, is_playing)
    with solara.Columns([3, 2], gutters_dense=True):
        MapCard(session, day, model_version)
        ChartsCard(session, day, model_version, is_playing)
    EventLogCard(session, day, model_version, is_playing)


@solara.component
def PlayControls(session: ExploreSession, day: int, playing: bool, on_reset: Callable[[], None],
                 on_step: Callable[[], None], on_play: Callable[[], None]) -> None:
    """Reset, Step (one day) and Play/Pause."""
    finished = day >= (session.scenario.days if session.scenario else 0)
    with solara.Row(gap="8px"):
        solara.Button("Reset", icon_name="mdi-restart", on_click=on_reset, outlined=True,
                      classes=["sahel-reset"])
        solara.Button("Step", icon_name="mdi-step-forward", on_click=on_step, outlined=True,
                      disabled=playing or finished, classes=["sahel-step"])
        solara.Button("Pause" if playing else "Play",
                      icon_name="mdi-pause" if playing else "mdi-play", on_click=on_play,
                      color="primary", disabled=finished and not playing,
                      classes=["sahel-play"])


@solara.component
def StatusLine(session: ExploreSession, day: int, model_version: int, playing: bool) -> None:
    """The date reached, days done and, while playing, the last frame's duration."""
    with session.lock:
        assert session.scenario is not None and session.model is not None
        date, days = session.model.date, session.scenario.days
    with solara.Column(gap="2px", style={"min-width": "280px", "flex": "1"}):
        with solara.Row(gap="12px", style={"align-items": "baseline"}):
            solara.Text(f"{date:%Y-%m-%d}", classes=["sahel-date"],
                        style={"font-size": "22px", "font-weight": "bold"})
            note = f"day {day} of {days}"
            if day >= days:
                note += " (end of scenario)"
            if playing and session.last_frame_ms is not None:
                note += f" - frame {session.last_frame_ms:.0f} ms"
            solara.Text(note, classes=["sahel-day"], style={"color": "#555"})
        solara.ProgressLinear(100.0 * day / max(days, 1))


@solara.component
def MapCard(session: ExploreSession, day: int, model_version: int) -> None:
    """The control map, redrawn on every day."""
    map_figure = solara.use_memo(MapFigure, [])

    def draw() -> bytes:
        events = session.events()
        return cast(bytes, session.draw(lambda m: map_figure.render(m, events)))

    png = solara.use_memo(lambda: guarded(draw, "map"), [model_version, day])
    solara.use_effect(lambda: session.mark_drawn(day), [model_version, day])
    with solara.Card(margin=0, classes=["sahel-map-card"]):
        FigureImage(png, ["sahel-map"])


@solara.component
def ChartsCard(session: ExploreSession, day: int, model_version: int, playing: bool) -> None:
    """Control shares, fatalities and junta credibility; weekly while playing."""
    kind, set_kind = solara.use_state("territory")
    by, set_by = solara.use_state("victim")
    mode, set_mode = solara.use_state("cumulative")

    def chart(render: Callable[[Any, pd.DataFrame], bytes]) -> Callable[[], Drawn]:
        return lambda: guarded(
            lambda: cast(bytes, session.draw(lambda m: render(m, session.timeseries()))),
            "chart")

    shares = solara.use_memo(
        chart(lambda m, ts: shares_png(m, ts, kind)),
        [model_version, refresh_key(day, playing, "shares"), kind])
    fatalities = solara.use_memo(
        chart(lambda m, ts: fatalities_png(m, ts, by, mode)),  # type: ignore[arg-type]
        [model_version, refresh_key(day, playing, "fatalities"), by, mode])
    credibility = solara.use_memo(
        chart(credibility_png), [model_version, refresh_key(day, playing, "credibility")])
    with solara.Card(margin=0, classes=["sahel-charts-card"]):
        if playing:
            solara.Text("Playing: charts are redrawn once a week; Pause shows every day.",
                        style={"font-size": "12px", "color": "#666"})
        solara.ToggleButtonsSingle(kind, values=["territory", "population"], on_value=set_kind,
                                   dense=True)
        FigureImage(shares, ["sahel-chart", "sahel-chart-shares"])
        with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
            solara.ToggleButtonsSingle(by, values=["victim", "perpetrator"], on_value=set_by,
                                       dense=True)
            solara.ToggleButtonsSingle(mode, values=["cumulative", "daily", "monthly"],
                                       on_value=set_mode, dense=True)
        FigureImage(fatalities, ["sahel-chart", "sahel-chart-fatalities"])
        FigureImage(credibility, ["sahel-chart", "sahel-chart-credibility"])


@solara.component
def EventLogCard(session: ExploreSession, day: int, model_version: int, playing: bool) -> None:
    """The latest events in ACLED's columns; click a header to sort."""

    def rows() -> tuple[list[dict[str, Any]], int]:
        events = session.events()
        return event_items(events), len(events)

    items, total = solara.use_memo(rows, [model_version, refresh_key(day, playing, "events")])
    headers = [{"text": label, "value": column, "sortable": True}
               for column, label in EVENT_COLUMNS.items()]
    title = f"Event log: latest {min(total, EVENT_ROWS)} of {total:,} events"
    with solara.Card(title, subtitle="Click a column header to sort", margin=0,
                     classes=["sahel-event-log"]):
        v.DataTable(headers=headers, items=items, item_key="row", dense=True,
                    items_per_page=10, sort_by=["event_date"], sort_desc=[True],
                    footer_props={"items-per-page-options": [10, 25, 50, 200]},
                    class_="sahel-event-table", style_="font-size: 12px")


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
                solara.Text(line, style={"font-size": "12px", "font-family": "monospace"})
