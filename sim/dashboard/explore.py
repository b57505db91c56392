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

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import solara

from sim.dashboard.cards import ChartsCard, Downloads, EventLogCard, MapCard, TimelineCard
from sim.dashboard.controls import ParameterPanel, parse_number
from sim.dashboard.state import (
    ExploreSession,
    public_message,
    restore,
    scenario_files,
)
from sim.dashboard.url_state import ViewState
from sim.scenario import ScenarioError

logger = logging.getLogger(__name__)

PLAY_YIELD_S = 0.02  # pause between Play frames, so clicks and messages get through
SEED_MAX = 2**63 - 1
DAYS_PER_FRAME = (1, 2, 4, 7, 14)
DEFAULT_DAYS_PER_FRAME = 4


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
