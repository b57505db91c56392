"""`score_ensemble` on fake ensemble folders whose draws the tests choose."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.acled import AcledError, cell_months, country_months, parse_months, read_events
from sim.acled.aggregate import sahel_cells
from sim.acled.evaluation import align_months, month_span, score_ensemble

from .files import BAMAKO, DJIBO, MOPTI, acled_rows, gid, write_csv, write_ensemble

RUNS = 5


@pytest.fixture(scope="module")
def acled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("acled") / "acled.csv", acled_rows())


def observed(acled: Path, months: pd.PeriodIndex) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The export's country-months and its non-zero cell-months."""
    events = read_events(acled).events
    cells = sahel_cells()
    values, _ = cell_months(events, months, cells)
    nonzero = {int(g): values[i] for i, g in enumerate(cells["prio_gid"]) if values[i].any()}
    return country_months(events, months), nonzero


def as_draws(countries: np.ndarray, cells: dict[int, np.ndarray], shift: float = 0.0
             ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The same values in every run (plus `shift`)."""
    return (np.repeat(countries[:, :, None] + shift, RUNS, axis=2),
            {g: np.repeat(v[:, None] + shift, RUNS, axis=1) for g, v in cells.items()})


def test_an_ensemble_equal_to_the_observations_beats_a_shifted_one(acled: Path,
                                                                   tmp_path: Path) -> None:
    months = parse_months("2023-01:2023-12")
    countries, cells = observed(acled, months)
    write_ensemble(tmp_path / "exact", months, *as_draws(countries, cells))
    write_ensemble(tmp_path / "shifted", months, *as_draws(countries, cells, 10.0))
    exact = score_ensemble(tmp_path / "exact", acled, plots=False)
    shifted = score_ensemble(tmp_path / "shifted", acled, plots=False)
    assert [str(m) for m in exact.months[[0, -1]]] == ["2023-01", "2023-12"]
    assert exact.notes[0] == ("months left out, not simulated (whole months only): 2024-01 to "
                              "2024-02")
    assert exact.notes[1].startswith("no climatology reference: acled.csv starts in 2023-01")
    table = exact.summary.set_index(["level", "forecast"])
    worse = shifted.summary.set_index(["level", "forecast"])
    for level in ("country", "cell"):
        assert table.loc[(level, "model"), "crps"] == 0
        assert table.loc[(level, "model"), "coverage_90"] == 1
        assert table.loc[(level, "model"), "crps_skill_vs_zero"] == 1
        assert worse.loc[(level, "model"), "crps"] > 0
        assert worse.loc[(level, "model"), "ignorance"] > table.loc[(level, "model"), "ignorance"]
        assert (level, "climatology") not in table.index
    assert table.loc[("country", "zero"), "crps"] == pytest.approx(79 / 36)  # 42 + 34 + 3
    assert table.loc[("country", "model"), "units"] == 36
    assert table.loc[("cell", "model"), "units"] == 12 * len(sahel_cells())
    units = exact.units["cell"]
    bamako = units[(units["prio_gid"] == gid(BAMAKO)) & (units["forecast"] == "zero")]
    assert bamako["observed"].tolist()[:2] == [10, 0]
    assert bamako["crps"].tolist()[:2] == [10, 0]


def test_climatology_is_last_years_months_of_the_same_unit(acled: Path, tmp_path: Path) -> None:
    months = parse_months("2023-01:2024-02")
    countries, cells = observed(acled, months)
    write_ensemble(tmp_path / "e", months, *as_draws(countries, cells))
    result = score_ensemble(tmp_path / "e", acled, months=parse_months("2024-01:2024-02"),
                            level="country", plots=False)
    assert result.notes == []
    history = country_months(read_events(acled).events, parse_months("2023-01:2023-12"))
    units = result.units["country"]
    clim = units[units["forecast"] == "climatology"].set_index(["country", "month"])
    for c, iso in enumerate(("MLI", "BFA", "NER")):
        past = history[c]
        for m, month in enumerate(pd.period_range("2024-01", "2024-02", freq="M")):
            y = countries[c, 12 + m]
            by_hand = np.abs(past - y).mean() - 0.5 * np.abs(past[:, None] - past).mean()
            assert clim.loc[(iso, month.to_timestamp()), "crps"] == pytest.approx(by_hand)
    assert list(result.summary["forecast"]) == ["model", "climatology", "zero"]


def test_a_comparison_folder_scores_its_baseline_or_a_chosen_scenario(acled: Path,
                                                                        tmp_path: Path) -> None:
    months = parse_months("2023-01:2023-03")
    countries, cells = observed(acled, months)
    folder = tmp_path / "cmp"
    write_ensemble(folder, months, *as_draws(countries, cells), label="baseline",
                   kind="compare", others=["other"])
    result = score_ensemble(folder, acled, level="country", plots=False)
    assert (result.scenario, result.runs) == ("baseline", RUNS)
    assert result.out == folder / "score-acled-baseline"
    other = score_ensemble(folder, acled, level="country", scenario="other", plots=False)
    assert other.out == folder / "score-acled-other"
    with pytest.raises(AcledError, match=r"--scenario: 'nope' is not in .* \(it holds "
                                         r"baseline, other\)"):
        score_ensemble(folder, acled, scenario="nope")


def test_folders_that_cannot_be_scored(acled: Path, tmp_path: Path) -> None:
    months = parse_months("2023-01:2023-02")
    countries, _ = observed(acled, months)
    with pytest.raises(AcledError, match="no such folder"):
        score_ensemble(tmp_path / "missing", acled)
    (tmp_path / "empty").mkdir()
    with pytest.raises(AcledError, match=r"not an experiment's folder \(no manifest.json\)"):
        score_ensemble(tmp_path / "empty", acled)
    write_ensemble(tmp_path / "sweep", months, as_draws(countries, {})[0], kind="sweep")
    with pytest.raises(AcledError, match="holds a 'sweep' experiment"):
        score_ensemble(tmp_path / "sweep", acled)
    old = tmp_path / "old"  # runs without cell-month files
    write_ensemble(old, months, as_draws(countries, {})[0], cells=None)
    with pytest.raises(AcledError, match="5 of 5 runs have no cell-month file"):
        score_ensemble(old, acled, level="cell")
    result = score_ensemble(old, acled, plots=False)
    assert list(result.units) == ["country"]
    assert any(n.startswith("cell-months not scored") for n in result.notes)
    late = tmp_path / "late"
    write_ensemble(late, parse_months("2025-01:2025-02"), as_draws(countries, {})[0], {})
    with pytest.raises(AcledError, match=r"no month to score: the ensemble covers 2025-01 to "
                                         r"2025-02, acled\.csv 2023-01 to 2024-02"):
        score_ensemble(late, acled)


def test_the_files_written(acled: Path, tmp_path: Path) -> None:
    months = parse_months("2023-01:2023-03")
    countries, cells = observed(acled, months)
    write_ensemble(tmp_path / "e", months, *as_draws(countries, cells, 1.0))
    out = tmp_path / "scores"
    result = score_ensemble(tmp_path / "e", acled, out=out)
    assert sorted(p.name for p in result.files) == sorted(
        ["scores.csv", "country_month_scores.csv", "cell_month_scores.csv",
         "country_months.png", "crps_map.png"])
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in result.files)
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores.columns) == ["level", "forecast", "units", "crps",
                                    "crps_skill_vs_climatology", "crps_skill_vs_zero", "mis_90",
                                    "coverage_50", "coverage_90", "ignorance"]
    per_unit = pd.read_csv(out / "cell_month_scores.csv")
    assert list(per_unit.columns) == ["forecast", "month", "prio_gid", "country", "observed",
                                      "crps", "mis_90", "covered_50", "covered_90", "ignorance"]
    model = per_unit[(per_unit["forecast"] == "model") & (per_unit["prio_gid"] == gid(MOPTI))]
    assert model["crps"].tolist() == pytest.approx([1, 1, 1])  # every draw off by one
    assert (out / "crps_map.png").read_bytes()[:4] == b"\x89PNG"
    assert gid(DJIBO) in set(per_unit["prio_gid"])


def test_month_alignment_names_what_is_left_out() -> None:
    simulated = parse_months("2023-01:2024-12")
    observed = parse_months("2024-01:2025-06")
    window, notes = align_months(simulated, observed, "x.csv")
    assert month_span(window) == "2024-01 to 2024-12"
    assert notes == ["months left out, not simulated (whole months only): 2025-01 to 2025-06",
                     "months left out, not in x.csv: 2023-01 to 2023-12"]
    window, notes = align_months(simulated, observed, "x.csv", parse_months("2024-06:2025-02"))
    assert month_span(window) == "2024-06 to 2024-12"
    assert notes == ["months left out, not simulated (whole months only): 2025-01 to 2025-02"]
    assert month_span(pd.PeriodIndex(["2024-01", "2024-03", "2024-04"], freq="M")) == \
        "2024-01, 2024-03 to 2024-04"


def test_runs_without_deaths_in_any_cell_score_as_the_zero_forecast(acled: Path,
                                                                    tmp_path: Path) -> None:
    months = parse_months("2023-01:2023-02")
    countries, _ = observed(acled, months)
    write_ensemble(tmp_path / "quiet", months, as_draws(countries, {})[0], {})  # empty files
    result = score_ensemble(tmp_path / "quiet", acled, level="cell", plots=False)
    table = result.summary.set_index("forecast")
    assert table.loc["model", "crps"] == pytest.approx(table.loc["zero", "crps"])
    assert table.loc["model", "crps"] == pytest.approx(45 / (2 * len(sahel_cells())))
