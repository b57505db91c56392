"""The dashboard's parts without a browser: figures, session state, controls, render passes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from sim.dashboard.figures import (
    MAP_DPI,
    MAP_SIZE_IN,
    MapFigure,
    credibility_png,
    fatalities_png,
    png_bytes,
    shares_png,
)
from sim.dashboard.state import (
    CHART_SLOTS,
    SCENARIO_DIR_ENV,
    ExploreSession,
    event_items,
    refresh_key,
    scenario_files,
)
from sim.plots import draw_control_map
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SHORT = Path(__file__).resolve().parent / "scenarios" / "short_baseline.toml"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def session() -> ExploreSession:
    """The short baseline after 40 days."""
    s = ExploreSession(SHORT)
    s.load(SHORT)
    for day in range(1, 41):
        assert s.step() == day
    return s


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def test_layered_map_matches_a_full_draw(session: ExploreSession) -> None:
    map_figure = MapFigure()
    model = session.model
    assert model is not None
    for _ in range(3):  # the first call draws the static layer, the next ones only composite
        session.step()
        layered = map_figure.render(model, session.events())
    assert map_figure.full_redraws == 1
    fig = Figure(figsize=MAP_SIZE_IN, dpi=MAP_DPI)
    ax = fig.add_axes((0.07, 0.09, 0.91, 0.84))
    draw_control_map(ax, model, session.events(), n_events=12, recent_days=30)
    ax.tick_params(labelsize=7)
    ax.xaxis.label.set_fontsize(8)
    ax.yaxis.label.set_fontsize(8)
    ax.set_title(f"Control on {model.date:%Y-%m-%d}, deadly events of the last 30 days "
                 "(size: deaths)", fontsize=9)
    a, b = pixels(layered), pixels(png_bytes(fig))
    assert a.shape == b.shape
    differ = (np.abs(a - b).max(axis=-1) > 24).mean()
    assert differ < 0.01, f"{differ:.2%} of the pixels differ from a full draw"


def test_map_changes_with_the_day_and_redraws_for_a_new_model() -> None:
    s = ExploreSession(SHORT)
    s.load(SHORT)
    map_figure = MapFigure()
    assert s.model is not None
    first = map_figure.render(s.model, s.events())
    for _ in range(5):
        s.step()
    later = map_figure.render(s.model, s.events())
    assert first.startswith(PNG_MAGIC) and later != first
    s.reset()
    map_figure.render(s.model, s.events())
    assert map_figure.full_redraws >= 2


def test_charts_render_as_pngs_the_width_of_their_card(session: ExploreSession) -> None:
    model, ts = session.model, session.timeseries()
    assert model is not None
    for png in (shares_png(model, ts), shares_png(model, ts, "population"),
                fatalities_png(model, ts), fatalities_png(model, ts, "perpetrator", "daily"),
                fatalities_png(model, ts, "victim", "monthly"), credibility_png(model, ts)):
        assert png.startswith(PNG_MAGIC)
        assert Image.open(io.BytesIO(png)).width == 420


@pytest.mark.parametrize("path", [BASELINE, ROOT / "scenarios" / "africa_corps_exit.toml"])
def test_charts_span_the_scenario_period_without_warnings(path: Path) -> None:
    """The time axis is the whole run (2 or 4 years) from the first day on."""
    s = ExploreSession(path)
    s.load(path)
    s.step()
    model, ts = s.model, s.timeseries()
    assert model is not None
    for png in (shares_png(model, ts), fatalities_png(model, ts, "victim", "monthly"),
                fatalities_png(model, ts), credibility_png(model, ts)):
        assert png.startswith(PNG_MAGIC)


def test_event_items_are_the_latest_events_newest_first(session: ExploreSession) -> None:
    events = session.events()
    items = event_items(events, n=25)
    assert len(items) == 25
    dates = [row["event_date"] for row in items]
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == events["event_date"].max().strftime("%Y-%m-%d")
    assert {"actor1", "actor2", "fatalities", "admin1", "location"} <= set(items[0])


def test_refresh_key_redraws_one_chart_a_day_while_playing() -> None:
    for day in range(1, 30):
        for slot in CHART_SLOTS:
            assert refresh_key(day, False, slot) != refresh_key(day - 1, False, slot)
    changes: dict[int, list[str]] = {}
    for day in range(8, 36):
        for slot in CHART_SLOTS:
            if refresh_key(day, True, slot) != refresh_key(day - 1, True, slot):
                changes.setdefault(day, []).append(slot)
    assert all(len(slots) == 1 for slots in changes.values())
    for slot in CHART_SLOTS:
        assert sum(slot in s for s in changes.values()) == 4  # weekly over 28 days
    assert refresh_key(10, True, "shares") != refresh_key(10, False, "shares")


def test_scenario_dir_env_replaces_the_bundled_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCENARIO_DIR_ENV, raising=False)
    assert "baseline" in [p.stem for p in scenario_files()]
    monkeypatch.setenv(SCENARIO_DIR_ENV, str(SHORT.parent))
    assert [p.stem for p in scenario_files()] == ["short_baseline", "short_russian_restraint"]


def test_a_bad_override_leaves_the_session_as_it_was() -> None:
    s = ExploreSession(SHORT)
    s.load(SHORT)
    s.step()
    model = s.model
    with pytest.raises(ScenarioError, match=r"factions\.jnim\.restraint: 2\.0 is out of range"):
        s.load(SHORT, {"factions.jnim.restraint": 2.0})
    assert s.model is model and s.day() == 1 and s.overrides == {}
    s.load(SHORT, {"factions.jnim.restraint": 0.9})
    assert s.day() == 0 and s.scenario is not None
    assert s.scenario.factions["jnim"].restraint == 0.9


def test_controls_cover_the_schema() -> None:
    from sim.dashboard.controls import format_value, parameter_groups, parse_number
    from sim.scenario import load_scenario, tunable_parameters

    data = load_scenario(BASELINE).model_dump()
    groups = parameter_groups(data)
    names = [n for group in groups.values() for n in group]
    assert sorted(names) == sorted(tunable_parameters(data))
    assert {f"factions.{f}.restraint" for f in data["factions"]} <= set(groups["main"])
    assert parse_number(" 0,5 ") == 0.5
    with pytest.raises(ValueError, match="not a number"):
        parse_number("abc")
    with pytest.raises(ValueError, match="not a finite number"):
        parse_number("inf")
    assert format_value(0.0002) == "0.0002" and format_value(540.0) == "540"


def test_seed_and_integer_fields() -> None:
    from sim.dashboard.compare import parse_int
    from sim.dashboard.explore import parse_seed

    assert parse_seed("") is None and parse_seed(" 7 ") == 7
    with pytest.raises(ValueError, match="out of range"):
        parse_seed("-1")
    with pytest.raises(ValueError, match="not an integer"):
        parse_seed("1.5")
    assert parse_int("3", "runs", 1, 10) == 3
    assert parse_int("", "root seed", 0, 10) is None
    with pytest.raises(ValueError, match="runs: required"):
        parse_int("", "runs", 1, 10)


def test_host_check_knows_loopback() -> None:
    from sim.dashboard.host import is_loopback

    for host in ("localhost", "127.0.0.1", "::1", "[::1]", "127.0.0.2"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.10"):
        assert not is_loopback(host), host


def test_a_step_costs_one_render_pass() -> None:
    """Only one component reads the day: each reader would cost a pass over the whole page."""
    import ipyvuetify as v
    import ipywidgets
    import solara
    from solara.server import kernel_context

    from sim.dashboard import ExploreView

    context = kernel_context.create_dummy_context()
    with context:
        box, render_context = solara.render(ExploreView(), handle_error=False)
        try:
            todo, found = [box], []
            while todo:
                w = todo.pop()
                found.append(w)
                todo += [c for c in getattr(w, "children", None) or []
                         if isinstance(c, ipywidgets.Widget)]
            step = next(w for w in found
                        if isinstance(w, v.Btn) and "sahel-step" in (w.class_ or ""))
            date = next(w for w in found if "sahel-date" in (getattr(w, "class_", "") or ""))
            before = render_context.render_count
            step.click()
            assert render_context.render_count - before == 1
            assert "2023-01-02" in str(date.children)
        finally:
            render_context.close()


def test_drone_strikes_have_their_own_symbol_on_the_map(session: ExploreSession) -> None:
    model, events = session.model, session.events()
    assert model is not None
    deadly = events[events["fatalities"] > 0]
    recent = deadly[deadly["event_date"] > deadly["event_date"].max() - np.timedelta64(30, "D")]
    strikes = recent[recent["sub_event_type"] == "Air/drone strike"]
    assert len(strikes) > 0, "the short baseline has deadly drone strikes in its last 30 days"
    fig = Figure(figsize=MAP_SIZE_IN, dpi=MAP_DPI)
    ax = fig.add_axes((0.07, 0.09, 0.91, 0.84))
    draw_control_map(ax, model, events, n_events=12, recent_days=30)
    others, drones = ax.collections[-2:]
    assert len(drones.get_offsets()) == len(strikes)
    assert len(others.get_offsets()) == len(recent) - len(strikes)
    assert "drone strike" in [t.get_text() for t in ax.get_legend().get_texts()]
    triangle, circle = drones.get_paths()[0], others.get_paths()[0]
    assert len(triangle.vertices) < len(circle.vertices)  # a triangle, not a circle
    layered = MapFigure()
    layered.render(model, events)
    assert layered._drone_marks is not None
    assert len(layered._drone_marks.get_offsets()) == len(strikes)
