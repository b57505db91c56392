"""Target statistics: known answers on hand-made frames and agreement with a run's outputs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time

import numpy as np
import pandas as pd
import pytest

from sim.calibration.statistics import RunFrames, target_statistics
from sim.calibration.targets import DEFAULT_TARGETS, load_targets

from .target_factory import target

D = dt.date
KINDS = {"army": "state", "vdp": "militia", "wagner": "russian", "jnim": "jihadist",
         "isg": "jihadist", "csp": "separatist"}
STATE_SIDE = ("state", "militia", "russian")


def casualty(event, day, country, mechanism, actor1, actor2, rows, claimed_as=""):
    return [{"event": event, "date": pd.Timestamp(2024, 1, day), "country": country,
             "mechanism": mechanism, "actor1": actor1, "actor2": actor2, "victim": victim,
             "perpetrator": perpetrator, "killed": killed, "claimed_as": claimed_as}
            for victim, perpetrator, killed in rows]


@pytest.fixture(scope="module")
def frames() -> RunFrames:
    rows = (
        casualty(0, 2, "BFA", "clash", "jnim", "army", [("army", "jnim", 10), ("jnim", "army", 4)])
        + casualty(1, 3, "BFA", "violence_against_civilians", "army", "civilians",
                   [("civilians", "army", 30)])
        + casualty(2, 5, "BFA", "violence_against_civilians", "jnim", "civilians",
                   [("civilians", "jnim", 50)])
        + casualty(3, 6, "MLI", "complex_attack", "jnim", "army",
                   [("army", "jnim", 20), ("civilians", "jnim", 5), ("jnim", "army", 3)])
        + casualty(4, 8, "MLI", "ambush", "csp", "wagner", [("wagner", "csp", 7)])
        + casualty(5, 9, "NER", "drone_strike", "army", "jnim",
                   [("jnim", "army", 6), ("civilians", "army", 2)])
        + casualty(6, 9, "abroad", "clash", "jnim", "army", [("army", "jnim", 100)])
        + casualty(7, 10, "BFA", "violence_against_civilians", "vdp", "civilians",
                   [("civilians", "vdp", 15)]))
    dates = pd.date_range("2024-01-01", periods=10, freq="D")
    series = []
    for day, date in enumerate(dates, start=1):
        bfa_state = 0.6 if day >= 5 else 0.7
        for iso, state, jnim, csp, contested, ungoverned in (
                ("BFA", bfa_state, 0.2, 0.0, 0.95 - bfa_state, 0.05),
                ("MLI", 0.3, 0.2, 0.1, 0.1, 0.3), ("NER", 0.5, 0.1, 0.0, 0.1, 0.3)):
            series.append({
                "date": date, "country": iso, "territory_state": state, "territory_jnim": jnim,
                "territory_csp": csp, "territory_contested": contested,
                "territory_ungoverned": ungoverned,
                "coup_attempts": (iso == "BFA") * ((day >= 4) + (day >= 8)),
                "coups": 0, "capital_attacks": int(iso == "MLI" and day >= 6),
                "personnel_jnim": {"BFA": 1000, "MLI": 2000, "NER": 500}[iso] + 10 * day})
    return RunFrames(start=D(2024, 1, 1), end=D(2024, 1, 10), timeseries=pd.DataFrame(series),
                     casualties=pd.DataFrame(rows), faction_kinds=KINDS,
                     cells_per_country={"MLI": 300, "BFA": 100, "NER": 200})


WHOLE = {"start": D(2024, 1, 1), "end": D(2024, 1, 10)}
CASES = [
    # deaths
    (target("deaths", country="BFA", **WHOLE), 10 + 4 + 30 + 50 + 15),
    (target("deaths", country="all", victims=("civilians",), **WHOLE), 30 + 50 + 5 + 2 + 15),
    (target("deaths", country="all", involving=("jihadist",), **WHOLE), 14 + 50 + 28 + 8),
    (target("deaths", country="BFA", victims=("civilians",), perpetrators=STATE_SIDE, **WHOLE),
     30 + 15),
    (target("deaths", country="MLI", victims=("russian",), perpetrators=("separatist",),
            **WHOLE), 7),
    (target("deaths", country="BFA", start=D(2024, 1, 3), end=D(2024, 1, 5)), 80),
    # countries joined by "+": Mali's 20 + 5 + 3 + 7 and Niger's 6 + 2; the jihadists' events
    (target("deaths", country="MLI+NER", **WHOLE), 35 + 8),
    (target("deaths", country="MLI+NER", involving=("jihadist",), **WHOLE), 28 + 8),
    (target("territory_share", country="MLI+NER", date=D(2024, 1, 5), category="not_state"),
     (0.7 * 300 + 0.5 * 200) / 500),
    (target("fighters", country="MLI+NER", date=D(2024, 1, 10), faction="jnim"), 2100 + 600),
    (target("event_count", country="MLI+NER", event="capital_attacks", **WHOLE), 1),
    (target("event_count", country="BFA+NER", event="capital_attacks", **WHOLE), 0),
    # deaths_ratio: B (5-10 Jan) over A (1-4 Jan)
    (target("deaths_ratio", country="BFA", victims=("civilians",), start=D(2024, 1, 1),
            end=D(2024, 1, 4), start_b=D(2024, 1, 5), end_b=D(2024, 1, 10)), 65 / 30),
    (target("deaths_ratio", country="NER", victims=("civilians",), start=D(2024, 1, 1),
            end=D(2024, 1, 4), start_b=D(2024, 1, 5), end_b=D(2024, 1, 10)), math.nan),
    # max_event_deaths
    (target("max_event_deaths", country="BFA", **WHOLE), 50),
    (target("max_event_deaths", country="MLI", perpetrators=("jihadist",), **WHOLE), 25),
    (target("max_event_deaths", country="BFA", perpetrators=STATE_SIDE, victims=("civilians",),
            mechanism="violence_against_civilians", **WHOLE), 30),
    (target("max_event_deaths", country="MLI", perpetrators=("jihadist", "separatist"),
            victims=("russian",), **WHOLE), 7),
    (target("max_event_deaths", country="NER", mechanism="complex_attack", **WHOLE), 0),
    # civilian_death_share
    (target("civilian_death_share", country="BFA", perpetrators=("jihadist",), **WHOLE), 50 / 95),
    (target("civilian_death_share", country="all", perpetrators=STATE_SIDE, **WHOLE),
     (30 + 15 + 2) / 102),
    (target("civilian_death_share", country="MLI", perpetrators=("jihadist",),
            start=D(2024, 1, 1), end=D(2024, 1, 5)), math.nan),
    # ACLED's civilian fatalities: every death of a violence-against-civilians event, not
    # the civilians of the complex attack (5) or the drone strike (2)
    (target("deaths", country="all", victims=("civilian_targeting",), **WHOLE), 30 + 50 + 15),
    (target("civilian_death_share", country="all", perpetrators=STATE_SIDE,
            victims=("civilian_targeting",), **WHOLE), (30 + 15) / 95),
    (target("civilian_death_share", country="MLI", perpetrators=("jihadist",),
            victims=("civilian_targeting",), **WHOLE), math.nan),
    (target("civilian_death_share", country="MLI", perpetrators=("jihadist",), **WHOLE), 1.0),
    # territory_share
    (target("territory_share", country="all", date=D(2024, 1, 5), category="not_state"),
     (0.4 * 100 + 0.7 * 300 + 0.5 * 200) / 600),
    (target("territory_share", country="BFA", date=D(2024, 1, 4), category="state"), 0.7),
    (target("territory_share", country="MLI", date=D(2024, 1, 4), category="armed_groups"), 0.3),
    (target("territory_share", country="BFA", date=D(2024, 1, 9), category="contested"), 0.35),
    (target("territory_share", country="NER", date=D(2024, 1, 9), category="ungoverned"), 0.3),
    # event_count
    (target("event_count", country="BFA", event="coup_attempts", **WHOLE), 2),
    (target("event_count", country="BFA", event="coup_attempts", start=D(2024, 1, 5),
            end=D(2024, 1, 10)), 1),
    (target("event_count", country="BFA", event="coup_attempts", start=D(2024, 1, 4),
            end=D(2024, 1, 4)), 1),
    (target("event_count", country="all", event="capital_attacks", start=D(2024, 1, 2),
            end=D(2024, 1, 6)), 1),
    # fighters
    (target("fighters", country="all", date=D(2024, 1, 3), faction="jnim"), 3500 + 3 * 30),
    (target("fighters", country="MLI", date=D(2024, 1, 10), faction="jnim"), 2100),
    (target("fighters", country="NER", date=D(2024, 2, 1), faction="jnim"), math.nan),
    # windows outside the run
    (target("deaths", country="BFA", start=D(2023, 12, 31), end=D(2024, 1, 10)), math.nan),
    (target("event_count", country="BFA", event="coups", start=D(2024, 1, 1),
            end=D(2024, 1, 11)), math.nan),
    (target("territory_share", country="BFA", date=D(2024, 2, 1), category="state"), math.nan),
]


@pytest.mark.parametrize(("case", "expected"), CASES,
                         ids=[f"{i}-{c.compare.statistic}" for i, (c, _) in enumerate(CASES)])
def test_known_answers(frames, case, expected):
    value = target_statistics(frames, [case])[case.name]
    if math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-12)


def test_many_targets_at_once_give_the_same_answers(frames):
    named = [dataclasses.replace(t, name=f"t{i}") for i, (t, _) in enumerate(CASES)]
    values = target_statistics(frames, named)
    assert list(values) == [t.name for t in named]
    for (_, expected), value in zip(CASES, values.values(), strict=True):
        assert (math.isnan(value) and math.isnan(expected)) or value == pytest.approx(expected)


def test_acled_civilian_fatalities_are_every_death_of_events_that_target_civilians(frames):
    rows = (casualty(0, 2, "BFA", "violence_against_civilians", "jnim", "civilians",
                     [("civilians", "jnim", 10), ("vdp", "jnim", 2)])
            + casualty(1, 3, "BFA", "blockade", "jnim", "civilians", [("civilians", "jnim", 7)])
            + casualty(2, 6, "BFA", "violence_against_civilians", "army", "civilians",
                       [("civilians", "army", 4)])
            + casualty(3, 7, "BFA", "clash", "jnim", "army",
                       [("army", "jnim", 9), ("civilians", "jnim", 5)])
            + casualty(4, 8, "BFA", "drone_strike", "army", "jnim", [("civilians", "army", 3)]))
    run = dataclasses.replace(frames, casualties=pd.DataFrame(rows))
    acled = ("civilian_targeting",)
    first, later = {"start": D(2024, 1, 1), "end": D(2024, 1, 4)}, {"start_b": D(2024, 1, 5),
                                                                    "end_b": D(2024, 1, 10)}
    cases = [
        (target("deaths", country="BFA", victims=acled, **WHOLE), 10 + 2 + 7 + 4),
        (target("deaths", country="BFA", victims=("civilians",), **WHOLE), 10 + 7 + 4 + 5 + 3),
        (target("deaths", country="BFA", victims=acled, perpetrators=("jihadist",), **WHOLE),
         19),
        (target("deaths_ratio", country="BFA", victims=acled, **first, **later), 4 / 19),
        (target("civilian_death_share", country="BFA", perpetrators=("jihadist",),
                victims=acled, **WHOLE), 19 / 23),
        (target("civilian_death_share", country="BFA", perpetrators=("jihadist",), **WHOLE),
         22 / 29),
        (target("max_event_deaths", country="BFA", victims=acled, **WHOLE), 12),
    ]
    cases = [(dataclasses.replace(t, name=f"case{i}"), x) for i, (t, x) in enumerate(cases)]
    values = target_statistics(run, [t for t, _ in cases])
    for t, expected in cases:
        assert values[t.name] == pytest.approx(expected), t.compare.describe()


def test_an_attack_reported_as_combat_counts_as_the_data_record_it(frames):
    rows = (casualty(0, 2, "BFA", "violence_against_civilians", "army", "civilians",
                     [("civilians", "army", 12)], claimed_as="jnim")
            + casualty(1, 3, "BFA", "violence_against_civilians", "army", "civilians",
                       [("civilians", "army", 5)])
            + casualty(2, 4, "BFA", "violence_against_civilians", "jnim", "civilians",
                       [("civilians", "jnim", 20)])
            + casualty(3, 5, "BFA", "violence_against_civilians", "vdp", "civilians",
                       [("civilians", "vdp", 3)], claimed_as="csp"))
    run = dataclasses.replace(frames, casualties=pd.DataFrame(rows))
    acled = ("civilian_targeting",)
    cases = [
        (target("deaths", country="BFA", victims=acled, **WHOLE), 5 + 20),
        (target("deaths", country="BFA", victims=("civilians",), **WHOLE), 12 + 5 + 20 + 3),
        (target("deaths", country="BFA", victims=("all",), involving=("jihadist",), **WHOLE),
         12 + 20),
        (target("deaths", country="BFA", victims=("all",), involving=("separatist",),
                **WHOLE), 3),
        (target("civilian_death_share", country="BFA", perpetrators=("jihadist",),
                victims=acled, **WHOLE), 20 / 25),
        (target("civilian_death_share", country="BFA", perpetrators=("jihadist",), **WHOLE),
         20 / 40),
    ]
    cases = [(dataclasses.replace(t, name=f"case{i}"), x) for i, (t, x) in enumerate(cases)]
    values = target_statistics(run, [t for t, _ in cases])
    for t, expected in cases:
        assert values[t.name] == pytest.approx(expected), t.compare.describe()


def test_the_bundled_targets_on_the_baseline_agree_with_its_outputs(baseline_run):
    targets = load_targets(DEFAULT_TARGETS)
    frames = RunFrames.from_model(baseline_run)
    values = target_statistics(frames, targets)
    for t in targets:
        value = values[t.name]
        if t.name == "moura_massacre_deaths":  # March 2022, before the baseline's start
            assert math.isnan(value)
            continue
        assert math.isfinite(value), t.name
        assert value >= 0, t.name
        if t.compare.statistic in ("civilian_death_share", "territory_share"):
            assert value <= 1, t.name
        if t.compare.statistic in ("deaths", "max_event_deaths", "event_count"):
            assert float(value).is_integer(), t.name
    # Deaths agree with the model's own fatality table (ACLED's civilian fatalities: every
    # death of its violence against civilians not reported as combat); territory and counts
    # with its series.
    events = baseline_run.events()
    window = (events["country"] == "BFA") & events["event_date"].between("2024-01-01",
                                                                          "2024-09-09")
    targeting = window & (events["event_type"] == "Violence against civilians")
    assert (targeting & (events["claimed_as"] != "")).any()  # the baseline's reports
    targeting &= events["claimed_as"] == ""
    assert values["bfa_civilian_deaths_2024_jan_sep"] == events.loc[targeting, "fatalities"].sum()
    fatalities = baseline_run.fatalities()
    civilians = fatalities[(fatalities["country"] == "BFA") & (fatalities["victim"] == "civilians")
                           & fatalities["date"].between("2024-01-01", "2024-09-09")]
    assert values["bfa_civilian_deaths_2024_jan_sep"] < civilians["killed"].sum()
    ts = frames.timeseries
    row = ts[(ts["date"] == "2024-09-30") & (ts["country"] == "BFA")].iloc[0]
    assert values["bfa_coup_attempts"] == row["coup_attempts"]
    cells = np.array([frames.cells_per_country[c] for c in ("MLI", "BFA", "NER")])
    day = ts[ts["date"] == "2024-09-30"].set_index("country").loc[["MLI", "BFA", "NER"]]
    outside = ((1 - day["territory_state"]).to_numpy() * cells).sum() / cells.sum()
    assert values["aes_territory_outside_state_control"] == pytest.approx(outside)
    bfa = events[(events["country"] == "BFA") & (events["event_date"] <= "2024-09-30")]
    assert values["barsalogho_largest_jihadist_event_bfa"] <= bfa["fatalities"].max()
    # Fast: far cheaper than the run itself (the median of 7 timings, as the machine is shared).
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        target_statistics(frames, targets)
        timings.append(time.perf_counter() - start)
    assert float(np.median(timings)) < 0.05


def test_a_fighters_target_of_a_faction_the_run_lacks_names_the_factions(frames):
    case = target("fighters", country="all", date=D(2024, 1, 3), faction="jnnim")
    with pytest.raises(ValueError, match=r"no faction 'jnnim' in the run: .*jnim"):
        target_statistics(frames, [case])
