"""Aggregation to country-months and PRIO-GRID cell-months on a hand-made export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.acled import AcledError, cell_months, country_months, parse_months, read_events
from sim.acled.aggregate import long_frame, sahel_cells
from sim.geography import build_geography

from .files import BAMAKO, DJIBO, MOPTI, NIAMEY, acled_rows, gid, write_csv


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("agg")
    return read_events(write_csv(folder / "a.csv", acled_rows())).events


def test_country_months(events: pd.DataFrame) -> None:
    months = parse_months("2023-01:2023-04")
    values = country_months(events, months)
    assert values.tolist() == [[15, 0, 20, 0],  # MLI: 10 + 5 in Jan, 20 in Mar
                               [0, 30, 0, 0],  # BFA: 30 in Feb
                               [0, 0, 0, 3]]  # NER: 3 in Apr
    civilians = country_months(events, months, "civilian_fatalities")
    assert civilians.tolist() == [[15, 0, 0, 0], [0, 30, 0, 0], [0, 0, 0, 0]]
    year = country_months(events, parse_months("2023-01:2023-12")).sum(axis=1)
    assert year.tolist() == [42, 34, 3]


def test_cell_months(events: pd.DataFrame) -> None:
    cells = sahel_cells()
    months = parse_months("2023-01:2023-03")
    values, outside = cell_months(events, months, cells)
    assert outside == 0
    index = {g: i for i, g in enumerate(cells["prio_gid"])}
    assert values[index[gid(BAMAKO)]].tolist() == [10, 0, 0]
    assert values[index[gid(MOPTI)]].tolist() == [5, 0, 20]
    assert values[index[gid(DJIBO)]].tolist() == [0, 30, 0]
    assert values.sum() == 65
    assert gid(NIAMEY) in index
    moved = events.assign(latitude=30.0, prio_gid=gid(("", "", "", 30.0, 0.0)))
    values, outside = cell_months(moved, months, cells)
    assert (values.sum(), outside) == (0, 65)


def test_sahel_cells_nest_the_model_grid() -> None:
    cells = sahel_cells()
    assert cells["prio_gid"].is_monotonic_increasing and cells["prio_gid"].is_unique
    assert set(cells["country"]) == {"MLI", "BFA", "NER"}
    assert 800 <= len(cells) <= 1000
    geo = build_geography(0.25)
    bamako_x, bamako_y = geo.cell_of(12.65, -8.0)
    assert geo.prio_gid[bamako_x, bamako_y] == gid(BAMAKO)
    assert cells.set_index("prio_gid").loc[gid(DJIBO), "country"] == "BFA"


def test_long_frame_lists_units_then_months() -> None:
    months = parse_months("2024-01:2024-02")
    frame = long_frame(np.array([[1.0, 2.0], [3.0, 4.0]]), months,
                       pd.DataFrame({"country": ["MLI", "BFA"]}), "observed")
    assert frame["country"].tolist() == ["MLI", "MLI", "BFA", "BFA"]
    assert frame["month"].dt.month.tolist() == [1, 2, 1, 2]
    assert frame["observed"].tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize(("text", "message"), [
    ("2024-01", None),
    ("2024-1:2024-12", "expected FIRST:LAST as YYYY-MM:YYYY-MM"),
    ("2024-13:2024-12", "not a month"),
    ("2024-06:2024-01", "the last month is before the first"),
    ("2024-01:2024-02:2024-03", "expected FIRST:LAST"),
])
def test_parse_months(text: str, message: str | None) -> None:
    if message is None:
        assert [str(m) for m in parse_months(text)] == ["2024-01"]
        return
    with pytest.raises(AcledError, match=message):
        parse_months(text)
    assert len(parse_months("2023-11:2024-02")) == 4

