"""Calibration targets from a hand-made export: values, ranges, the format, the files."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from sim.acled import AcledError, load_actor_map, map_events, read_events
from sim.acled.evaluation import baseline_factions
from sim.acled.targets import (
    derive_targets,
    event_size_table,
    parse_period,
    period_text,
    sizes_path,
    targets_toml,
    write_targets,
    year_windows,
)

from .files import DJIBO, MOPTI, UCDP_HEADER, acled_rows, gid, write_csv

KEYS = ["name", "value", "low", "high", "unit", "period", "place", "definition", "source",
        "source_date", "confidence", "note", "compare"]


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    path = write_csv(tmp_path_factory.mktemp("t") / "export.csv", acled_rows())
    data = read_events(path)
    kinds = baseline_factions()
    events, _ = map_events(data.events, load_actor_map(None, kinds))
    found = derive_targets(data, events, kinds, dt.date(2023, 1, 1), dt.date(2024, 1, 31))
    return {t["name"]: t for t in found}


def test_deaths_and_civilian_deaths_per_country_and_year(targets: dict[str, dict]) -> None:
    mli = targets["acled_deaths_mli_2023"]
    assert (mli["value"], mli["low"], mli["high"]) == (42, 35, 49)  # 42 ± 15%
    assert mli["compare"] == {"statistic": "deaths", "country": "MLI",
                              "start": dt.date(2023, 1, 1), "end": dt.date(2023, 12, 31),
                              "victims": "all"}
    assert (mli["period"], mli["place"], mli["unit"], mli["confidence"]) == (
        "2023", "Mali", "deaths", "M")
    assert targets["acled_civilian_deaths_mli_2023"]["value"] == 22
    assert targets["acled_civilian_deaths_mli_2023"]["compare"]["victims"] == "civilian_targeting"
    assert targets["acled_deaths_bfa_2023"]["value"] == 34
    assert targets["acled_deaths_ner_2023"]["value"] == 3
    assert targets["acled_civilian_deaths_ner_2023"]["value"] == 0
    january = targets["acled_deaths_mli_2024_0101_0131"]  # the period ends on 31 Jan 2024
    assert january["value"] == 8 and january["period"] == "1 Jan 2024 to 31 Jan 2024"
    assert "acled_deaths_bfa_2024_0101_0131" in targets  # 0 deaths: still a target
    assert targets["acled_deaths_bfa_2024_0101_0131"]["value"] == 0
    assert "±15%, an assumption" in mli["note"]
    assert mli["source"].startswith("ACLED export 'export.csv' supplied by the user")


def test_largest_events(targets: dict[str, dict]) -> None:
    mli = targets["acled_max_event_deaths_mli_2023"]
    assert (mli["value"], mli["low"], mli["high"]) == (20, 17, 23)
    assert mli["compare"] == {"statistic": "max_event_deaths", "country": "MLI",
                              "start": dt.date(2023, 1, 1), "end": dt.date(2023, 12, 31)}
    assert "02 Mar 2023, Mopti, Battles, Military Forces of Mali (2021-)" in mli["note"]
    assert targets["acled_max_event_deaths_bfa_2023"]["value"] == 30
    assert "acled_max_event_deaths_bfa_2024_0101_0131" not in targets  # no event


def test_perpetrator_mix_of_civilian_deaths(targets: dict[str, dict]) -> None:
    # Mali, 2023-01-01 to 2024-01-31: civilian deaths 10 (JNIM), 5 (army), 7 (unidentified),
    # 8 (Wagner): 30, of which 23 attributed.
    jihadist = targets["acled_civilian_death_share_jihadist_mli"]
    assert jihadist["value"] == pytest.approx(round(10 / 23, 4))
    assert jihadist["low"] == pytest.approx(round(10 / 30 * 0.85, 4))
    assert jihadist["high"] == pytest.approx(round(17 / 30 * 1.15, 4))
    state = targets["acled_civilian_death_share_state_side_mli"]
    assert state["value"] == pytest.approx(round(13 / 23, 4))
    assert state["compare"]["perpetrators"] == ["state", "militia", "russian"]
    assert state["compare"]["statistic"] == "civilian_death_share"
    assert state["compare"]["victims"] == "civilian_targeting"
    assert "23%" in state["note"]  # 7 of 30 unattributed
    bfa = targets["acled_civilian_death_share_jihadist_bfa"]  # all by JNIM
    assert (bfa["value"], bfa["high"]) == (1.0, 1.0)
    assert "acled_civilian_death_share_jihadist_ner" not in targets  # no civilian deaths


def test_every_target_has_the_shared_format(targets: dict[str, dict]) -> None:
    for target in targets.values():
        assert list(target) == KEYS
        assert target["low"] <= target["value"] <= target["high"]
        assert target["confidence"] == "M"
    assert len({t["source_date"] for t in targets.values()}) == 1
    assert isinstance(next(iter(targets.values()))["source_date"], dt.date)
    text = targets_toml(list(targets.values()), ["a header", "", "second line"])
    assert text.startswith("# a header\n#\n# second line\n")
    loaded = tomllib.loads(text)["targets"]
    assert [t["name"] for t in loaded] == list(targets)
    assert loaded[0] == targets["acled_deaths_mli_2023"]
    assert len({t["name"] for t in loaded}) == len(loaded)


def test_the_event_size_distribution(tmp_path: Path) -> None:
    events = read_events(write_csv(tmp_path / "a.csv", acled_rows())).events
    table = event_size_table(events, dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    mali = table[table["country"] == "MLI"].set_index("size")
    assert mali["events"].to_dict() == {"0": 0, "1-2": 0, "3-5": 1, "6-10": 2, "11-25": 1,
                                        "26-50": 0, "51-100": 0, "101-250": 0, "251-500": 0,
                                        "501-1000": 0, "over 1000": 0}
    assert mali.loc["6-10", "fatalities"] == 17
    every = table[table["country"] == "all"]
    assert every["events"].sum() == 7 and every["fatalities"].sum() == 79
    assert every["share_of_fatalities"].sum() == pytest.approx(1.0)


def test_files_are_never_replaced_without_force(tmp_path: Path) -> None:
    out = tmp_path / "t.toml"
    sizes = pd.DataFrame({"size": ["0"], "events": [1]})
    assert write_targets(out, "x = 1\n", sizes, force=False) == [out, sizes_path(out)]
    assert sizes_path(out).name == "t_event_sizes.csv"
    with pytest.raises(AcledError, match=r"t\.toml exists; use --force to replace it"):
        write_targets(out, "x = 2\n", sizes, force=False)
    assert out.read_text() == "x = 1\n"
    out.unlink()
    with pytest.raises(AcledError, match=r"t_event_sizes\.csv exists"):
        write_targets(out, "x = 2\n", sizes, force=False)
    assert not out.exists()
    write_targets(out, "x = 3\n", sizes, force=True)
    assert out.read_text() == "x = 3\n"
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize(("text", "message"), [
    ("2023-01-01", "expected FIRST:LAST as YYYY-MM-DD:YYYY-MM-DD"),
    ("2023-02-30:2023-12-31", "day is out of range for month"),
    ("2024-01-01:2023-12-31", "the last day is before the first"),
])
def test_bad_periods(text: str, message: str) -> None:
    with pytest.raises(AcledError, match=message):
        parse_period(text)


def test_periods_and_years() -> None:
    assert parse_period("2023-01-01:2024-06-30") == (dt.date(2023, 1, 1), dt.date(2024, 6, 30))
    assert year_windows(dt.date(2023, 3, 1), dt.date(2024, 6, 30)) == [
        (dt.date(2023, 3, 1), dt.date(2023, 12, 31)), (dt.date(2024, 1, 1), dt.date(2024, 6, 30))]
    assert period_text(dt.date(2024, 1, 1), dt.date(2024, 12, 31)) == "2024"
    assert period_text(dt.date(2024, 3, 1), dt.date(2024, 6, 30)) == "1 Mar 2024 to 30 Jun 2024"


def test_a_period_the_export_does_not_cover_is_refused(tmp_path: Path) -> None:
    data = read_events(write_csv(tmp_path / "a.csv", acled_rows()))
    events, _ = map_events(data.events, load_actor_map())
    with pytest.raises(AcledError, match=r"--period: 2022-06-01 to 2023-12-31 is not inside the "
                                         r"months of a\.csv \(2023-01 to 2024-02\)"):
        derive_targets(data, events, baseline_factions(), dt.date(2022, 6, 1),
                       dt.date(2023, 12, 31))
    with pytest.raises(AcledError, match=r"--band: 1\.5 is not a share"):
        derive_targets(data, events, baseline_factions(), dt.date(2023, 1, 1),
                       dt.date(2023, 12, 31), band=1.5)


def test_a_ucdp_export_counts_every_civilian_killed(tmp_path: Path) -> None:
    # UCDP's deaths_civilians counts civilians killed in battles too (2 of the clash's 20), so
    # its targets compare with every civilian the model kills, not ACLED's civilian targeting.
    place = {"MLI": ("Mali", "Mopti", "Mopti", MOPTI), "BFA": ("Burkina Faso", "Sahel", "Djibo",
                                                                 DJIBO)}
    rows = [{"id": i, "year": 2023, "type_of_violence": kind, "side_a": a, "side_b": b,
             "country": place[iso][0], "adm_1": place[iso][1], "where_coordinates": place[iso][2],
             "latitude": place[iso][3][3], "longitude": place[iso][3][4],
             "priogrid_gid": gid(place[iso][3]), "date_start": day, "date_end": day,
             "deaths_civilians": civilians, "best": best}
            for i, (kind, a, b, iso, day, civilians, best) in enumerate([
                (3, "JNIM", "Civilians", "BFA", "2023-02-11", 30, 30),
                (1, "Government of Mali", "JNIM", "MLI", "2023-03-02", 2, 20)], start=1)]
    data = read_events(write_csv(tmp_path / "ged.csv", rows, UCDP_HEADER))
    kinds = baseline_factions()
    events, _ = map_events(data.events, load_actor_map(None, kinds))
    found = {t["name"]: t for t in derive_targets(data, events, kinds, dt.date(2023, 2, 1),
                                                   dt.date(2023, 3, 31))}
    mli = found["acled_civilian_deaths_mli_2023_0201_0331"]
    assert (mli["value"], mli["compare"]["victims"]) == (2, "civilians")
    assert "deaths_civilians" in mli["definition"]
    shares = [t for name, t in found.items() if name.startswith("acled_civilian_death_share")]
    assert shares and all(t["compare"]["victims"] == "civilians" for t in shares)
