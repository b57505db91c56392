"""The dashboard's parts without a browser: figures, session state, controls, render passes."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.dashboard.days import EventFilter, event_items, filter_events
from sim.dashboard.figures import (
    chart_png,
    credibility_chart,
    fatalities_chart,
    map_colours,
    map_png,
    shares_chart,
)
from sim.dashboard.state import (
    CHART_SLOTS,
    SCENARIO_DIR_ENV,
    ExploreSession,
    public_message,
    refresh_key,
    restore,
    scenario_files,
)
from sim.dashboard.svg import MapLayer, MapSVG, Projection
from sim.dashboard.url_state import ViewState
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


def test_day_frames_replay_the_map_of_any_day(session: ExploreSession) -> None:
    """The slider's days come from the recorder: the same codes as a fresh run stopped there."""
    again = ExploreSession(SHORT)
    again.load(SHORT)
    again.run_to(12)
    assert np.array_equal(session.control_codes(12), again.control_codes(12))
    assert not np.array_equal(session.control_codes(0), session.control_codes(40))
    assert np.array_equal(session.control_codes(40), session.control_codes(99))  # clipped
    ts = session.timeseries_upto(12)
    assert len(ts) == 12 * 3 and ts["date"].max() == pd.Timestamp("2023-01-12")
    assert session.events_upto(12)["event_date"].max() < pd.Timestamp("2023-01-13")
    recent = session.recent_events(40)
    assert recent["event_date"].min() >= pd.Timestamp("2023-01-10")
    assert (recent["fatalities"] > 0).all()


def test_cell_details(session: ExploreSession) -> None:
    details = session.cell_details(-1.52, 12.37, 20)  # Ouagadougou
    assert details is not None
    assert details["country"] == "Burkina Faso" and details["region"]
    assert details["Kalyvas zone"][0] in "012345"
    assert session.cell_details(30.0, 12.0, 20) is None  # off the grid


def test_map_svg_labels_projection_and_speed(session: ExploreSession) -> None:
    model = session.model
    assert model is not None
    colours, legend = map_colours(model)
    builder = MapSVG(model.world.geo)
    layer = MapLayer(session.control_codes(40), colours, session.recent_events(40),
                     session.units_on(40))
    start = time.perf_counter()
    svg = builder.render(layer, "region", alt="map")
    assert time.perf_counter() - start < 1.0
    for text in ("MALI", "BURKINA FASO", "NIGER", "Bamako", "Ouagadougou", "Niamey",
                 'class="sahel-event"', "paint-order:stroke"):
        assert text in svg
    assert svg.count('font-size:13px') > 5
    proj = Projection((-12.5, 16.0, 9.0, 25.0))
    assert proj.height / proj.width == pytest.approx(16.0 / (28.5 * np.cos(np.radians(17))))
    lon, lat = proj.lonlat(*(v / s for v, s in zip(
        proj.xy(-1.5, 12.4), (proj.width, proj.height), strict=True)))
    assert (lon, lat) == pytest.approx((-1.5, 12.4))
    assert "ungoverned (no force reaches)" in dict(legend)


def test_charts_are_svg_with_units_and_pngs_for_download(session: ExploreSession) -> None:
    model, ts = session.model, session.timeseries()
    assert model is not None
    for svg, legend in (shares_chart(model, ts), shares_chart(model, ts, "population"),
                        fatalities_chart(model, ts), fatalities_chart(model, ts, "perpetrator",
                                                                      "daily"),
                        fatalities_chart(model, ts, "victim", "monthly"),
                        credibility_chart(model, ts)):
        assert svg.startswith("<svg") and "sahel-legend" in legend
    assert "people" in fatalities_chart(model, ts)[0]
    for kind in ("shares", "fatalities", "credibility"):
        assert chart_png(model, ts, kind).startswith(PNG_MAGIC)  # type: ignore[arg-type]
    png = map_png(model, session.control_codes(40), session.recent_events(40),
                  session.date_of(40))
    assert png.startswith(PNG_MAGIC)


def test_event_filter_and_pages(session: ExploreSession) -> None:
    events = session.events()
    start = session.scenario.start  # type: ignore[union-attr]
    everything = filter_events(events, start, EventFilter(), 40)
    assert len(everything) == len(events)
    bfa = filter_events(events, start, EventFilter(country="BFA"), 40)
    assert 0 < len(bfa) < len(events) and set(bfa["country"]) == {"BFA"}
    jnim = filter_events(events, start, EventFilter(actor="JNIM"), 40)
    assert ((jnim["actor1"] == "JNIM") | (jnim["actor2"] == "JNIM")).all()
    window = filter_events(events, start, EventFilter(first_day=10, last_day=19), 40)
    assert window["event_date"].between("2023-01-11", "2023-01-20").all()
    items = event_items(everything, page=1, per_page=25)
    assert len(items) == 25
    dates = [row["event_date"] for row in items]
    assert dates == sorted(dates, reverse=True)
    assert {"actor1", "actor2", "fatalities", "admin1", "location"} <= set(items[0])


def test_view_state_round_trip_and_restore() -> None:
    view = ViewState("short_baseline", 7, (("factions.jnim.restraint", 0.4),), 9, "BFA")
    assert ViewState.parse("?" + view.query()) == view
    assert ViewState.parse("seed=x&day=-3&zoom=nowhere") == ViewState()
    files = [SHORT]
    session, error = restore(files, view)
    assert error is None and session is not None
    assert session.day() == 9 and session.seed == 7
    assert session.overrides == {"factions.jnim.restraint": 0.4}
    bad, error = restore(files, ViewState("short_baseline", None,
                                          (("factions.jnim.restraint", 5.0),), 3))
    assert bad is not None and bad.overrides == {} and error is None


def test_messages_name_the_scenario_not_the_server_path() -> None:
    message = public_message(f"{SHORT.resolve()}:4: factions.x: bad", SHORT)
    assert message == "short_baseline.toml:4: factions.x: bad"
    assert str(ROOT) not in message


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
    shares = [n for n in tunable_parameters(data) if n.endswith(".share")]
    assert "units.jnim_burkina.share" in shares  # for sweeps and fits; the panel sets strengths
    assert sorted(names) == sorted(set(tunable_parameters(data)) - set(shares))
    assert {f"factions.{f}.restraint" for f in data["factions"]} <= set(groups["main"])
    assert groups["order of battle"] == [
        n for n in tunable_parameters(data) if n.startswith("units.") and n.endswith(".strength")]
    from sim.dashboard.controls import parameter_label, parameter_value

    burkina = next(u for u in data["units"] if u["id"] == "jnim_burkina")
    assert parameter_value(data, "units.jnim_burkina.strength") == burkina["strength"]
    assert parameter_label("units.jnim_burkina.strength", data) == f"{burkina['name']} strength"
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


def test_compare_offers_a_posterior_only_where_one_exists(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.calibration import posterior as posterior_module
    from sim.dashboard.compare import CompareRequest
    from sim.dashboard.posterior import POSTERIOR_ENV, posterior_file, posterior_summary

    monkeypatch.delenv(POSTERIOR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(posterior_module, "SCENARIO_DIR", tmp_path / "project" / "scenarios")
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    baseline = scenarios / "baseline.toml"
    assert posterior_file(baseline) is None
    assert posterior_summary(None) == (
        "no posterior: calibration/posterior.csv does not exist (run the calibration)", "")
    text = "parameters.combat.engage_probability,weight\n0.1,1\n0.3,3\n"
    (tmp_path / "calibration").mkdir()
    project = tmp_path / "calibration" / "posterior.csv"
    project.write_text(text)
    assert posterior_file(baseline) == project
    beside = scenarios / "posterior.csv"  # the scenario folder's own posterior comes first
    beside.write_text(text)
    assert posterior_file(baseline) == beside
    monkeypatch.setenv(POSTERIOR_ENV, str(tmp_path / "elsewhere.csv"))
    assert posterior_file(baseline) is None  # the one named, or none
    monkeypatch.setenv(POSTERIOR_ENV, str(project))
    assert posterior_file(baseline) == project
    summary, sha = posterior_summary(project)
    assert summary == "from calibration/posterior.csv (2 draws, ESS 1.6)" and len(sha) == 64
    beside.write_text("parameters.combat.engage_probability,weight\n0.1,-1\n")
    assert posterior_summary(beside) == (
        "unusable posterior: scenarios/posterior.csv:2: column 'weight': '-1' is negative; "
        "weights are finite numbers >= 0 (normalised on reading)", "")
    plain = CompareRequest(1, SHORT, SHORT, 2, None, 1)
    drawn = CompareRequest(1, SHORT, SHORT, 2, None, 1, project, sha)
    changed = CompareRequest(1, SHORT, SHORT, 2, None, 1, project, "0" * 64)
    assert len({plain.folder(), drawn.folder(), changed.folder()}) == 3
    assert drawn.command().endswith("--runs 2 --posterior=calibration/posterior.csv")
    assert "--posterior" not in plain.command()


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
            date = next(w for w in found
                        if "sahel-date" in (getattr(w, "class_", "") or "").split())
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
    # The PNG map (CLI plots, downloads): triangles in their own collection.
    from matplotlib.figure import Figure

    from sim.plots import draw_control_map

    fig = Figure(figsize=(8, 5), dpi=80)
    ax = fig.add_axes((0.07, 0.09, 0.91, 0.84))
    draw_control_map(ax, model, events, n_events=12, recent_days=30)
    others, drones = ax.collections[-2:]
    assert len(drones.get_offsets()) == len(strikes)
    assert len(others.get_offsets()) == len(recent) - len(strikes)
    assert "drone strike" in [t.get_text() for t in ax.get_legend().get_texts()]
    triangle, circle = drones.get_paths()[0], others.get_paths()[0]
    assert len(triangle.vertices) < len(circle.vertices)  # a triangle, not a circle
    # The dashboard's SVG map: one triangle per strike, not clustered with other events.
    colours, _ = map_colours(model)
    layer = MapLayer(session.control_codes(int(model.time)), colours, recent,
                     session.units_on(int(model.time)))
    svg = MapSVG(model.world.geo).render(layer, "region", alt="map")
    assert svg.count('class="sahel-drone"') == len(strikes)


def test_an_edited_scenario_gets_a_new_compare_folder(tmp_path):
    from sim.dashboard.compare import CompareRequest

    path = tmp_path / "edited.toml"
    path.write_text(f'extends = "{SHORT}"\nname = "edited"\n', encoding="utf-8")
    before = CompareRequest(1, path, path, 2, None, 1).folder()
    assert CompareRequest(2, path, path, 2, None, 1).folder() == before  # same request
    path.write_text(path.read_text(encoding="utf-8")
                    + "[parameters.combat]\nengage_probability = 0.3\n", encoding="utf-8")
    assert CompareRequest(1, path, path, 2, None, 1).folder() != before


def test_edited_model_code_gets_a_new_compare_folder(monkeypatch):
    """The folders outlive the server: runs of the model before an edit are not shown as its."""
    import sim.dashboard.compare as compare_view

    request = compare_view.CompareRequest(1, SHORT, SHORT, 2, None, 1)
    before = request.folder()
    monkeypatch.setattr(compare_view, "code_digest", lambda: "f" * 64)
    assert request.folder() != before
    monkeypatch.undo()
    assert request.folder() == before
