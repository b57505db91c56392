"""Reading ACLED and UCDP GED exports: values, dates, countries, and one-line errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sim.acled import AcledError, read_events

from .files import (
    ACLED_HEADER,
    BAMAKO,
    DJIBO,
    MOPTI,
    UCDP_HEADER,
    acled_rows,
    event,
    gid,
    write_csv,
)


def test_an_acled_export_is_read_with_both_date_styles(tmp_path: Path) -> None:
    data = read_events(write_csv(tmp_path / "acled.csv", acled_rows()))
    assert data.kind == "ACLED"
    assert len(data.events) == 9 and data.outside == 1  # Kano (Nigeria) left out
    assert (data.first, data.last) == (dt.date(2023, 1, 5), dt.date(2024, 2, 29))
    assert [str(m) for m in data.months[[0, -1]]] == ["2023-01", "2024-02"]
    events = data.events
    assert events["event_date"].is_monotonic_increasing
    assert events["event_date"].iloc[1] == dt.datetime(2023, 1, 17)  # "17 January 2023"
    assert sorted(events["country"].unique()) == ["BFA", "MLI", "NER"]
    assert events.groupby("country")["fatalities"].sum().to_dict() == {
        "BFA": 35, "MLI": 50, "NER": 3}
    assert events.groupby("country")["civilian_fatalities"].sum().to_dict() == {
        "BFA": 31, "MLI": 30, "NER": 0}
    bamako = events[events["location"] == "Bamako"]
    assert set(bamako["prio_gid"]) == {gid(BAMAKO)} == {147945}


def test_semicolons_a_byte_order_mark_and_civilian_targeting(tmp_path: Path) -> None:
    rows = [event("2023-02-01", DJIBO, 6, "Islamic State (Sahel)", "Civilians (Burkina Faso)",
                  "Explosions/Remote violence") | {"civilian_targeting": "Civilian targeting"},
            event("2023-02-02", DJIBO, 2, event_type="Battles")]
    path = write_csv(tmp_path / "semi.csv", rows, (*ACLED_HEADER, "civilian_targeting"), ";")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    events = read_events(path).events
    assert events["fatalities"].tolist() == [6, 2]
    assert events["civilian_fatalities"].tolist() == [6, 0]


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    header = [c for c in ACLED_HEADER if c != "fatalities"]
    path = write_csv(tmp_path / "a.csv", acled_rows(), header)
    with pytest.raises(AcledError) as info:
        read_events(path)
    assert str(info.value) == (f"{path}: missing column fatalities; an ACLED export has "
                               "event_date, event_type, actor1, actor2, country, latitude, "
                               "longitude, fatalities")


def test_a_bad_date_names_its_line_past_a_note_over_two_lines(tmp_path: Path) -> None:
    rows = acled_rows()
    rows[1]["event_date"] = "2023-02-30"
    path = write_csv(tmp_path / "a.csv", rows)  # row 1's note spans lines 2 and 3
    with pytest.raises(AcledError) as info:
        read_events(path)
    assert str(info.value) == (f"{path}, line 4: event_date '2023-02-30' is not a date "
                               "(expected YYYY-MM-DD or a date like '17 September 2024')")


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("fatalities", "-3", "is not a whole number >= 0"),
    ("fatalities", "2.5", "is not a whole number >= 0"),
    ("fatalities", "", "is not a whole number >= 0"),
    ("latitude", "north", "is not a number from -90 to 90"),
    ("longitude", "200", "is not a number from -180 to 180"),
])
def test_bad_numbers_name_line_field_and_what_is_allowed(tmp_path: Path, field: str, value: str,
                                                         allowed: str) -> None:
    rows = [event("2023-01-01", MOPTI, 1), event("2023-01-02", MOPTI, 1)]
    rows[1][field] = value
    path = write_csv(tmp_path / "a.csv", rows)
    with pytest.raises(AcledError) as info:
        read_events(path)
    assert str(info.value) == f"{path}, line 3: {field} {value!r} {allowed}"


def test_files_that_are_not_exports(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("name,score\nx,1\n", encoding="utf-8")
    with pytest.raises(AcledError, match=r"^.*other\.csv: not an ACLED export \(columns "
                                         r"event_date.*\) nor a UCDP GED export .*; found: "
                                         r"name, score$"):
        read_events(other)
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00 zipped")
    with pytest.raises(AcledError, match="a binary file, not a CSV export"):
        read_events(binary)
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(AcledError, match="empty file"):
        read_events(empty)
    header_only = write_csv(tmp_path / "h.csv", [])
    with pytest.raises(AcledError, match=r"h\.csv: no events \(only a header\)$"):
        read_events(header_only)
    with pytest.raises(AcledError, match=r"missing\.csv: file not found$"):
        read_events(tmp_path / "missing.csv")
    with pytest.raises(AcledError, match="is a folder"):
        read_events(tmp_path)


def test_a_ucdp_ged_export_is_read_with_its_civilian_deaths(tmp_path: Path) -> None:
    rows = [
        {"id": 1, "year": 2023, "type_of_violence": 3, "side_a": "JNIM", "side_b": "Civilians",
         "country": "Burkina Faso", "adm_1": "Sahel", "where_coordinates": "Djibo",
         "latitude": 14.10, "longitude": -1.63, "priogrid_gid": gid(DJIBO),
         "date_start": "2023-02-11 00:00:00.000", "date_end": "2023-02-11 00:00:00.000",
         "deaths_civilians": 30, "best": 30},
        {"id": 2, "year": 2023, "type_of_violence": 1, "side_a": "Government of Mali",
         "side_b": "JNIM", "country": "Mali", "adm_1": "Mopti", "where_coordinates": "Mopti",
         "latitude": 14.49, "longitude": -4.19, "priogrid_gid": gid(MOPTI),
         "date_start": "2023-03-02", "date_end": "2023-03-02", "deaths_civilians": 2,
         "best": 20},
    ]
    data = read_events(write_csv(tmp_path / "ged.csv", rows, UCDP_HEADER))
    assert data.kind == "UCDP GED"
    events = data.events
    assert events["actor1"].tolist() == ["JNIM", "Government of Mali"]
    assert events["event_type"].tolist() == ["One-sided violence", "State-based conflict"]
    assert events["fatalities"].tolist() == [30, 20]
    assert events["civilian_fatalities"].tolist() == [30, 2]
    assert events["prio_gid"].tolist() == [gid(DJIBO), gid(MOPTI)]
    rows[1]["type_of_violence"] = 4
    path = write_csv(tmp_path / "bad.csv", rows, UCDP_HEADER)
    with pytest.raises(AcledError, match=r"line 3: type_of_violence '4' is not one of 1"):
        read_events(path)
