"""Each run's fatalities per PRIO-GRID cell-month, kept beside its time series.

They are `SahelModel.cell_months()` of the run (the ledger's deaths, nothing recomputed),
byte-identical in memory, on disk and with 1 or 2 workers, and a run whose cell-month file is
missing is run again on resuming.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim import experiments as ex
from sim.experiments.executors import RunTask, execute_run
from sim.experiments.prepared import prepare_scenario
from sim.experiments.result_store import ResultStore

from ..conftest import write_short_scenario

RUNS = 2


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_short_scenario(tmp_path_factory.mktemp("cells"), "2023-02-28")


def cell_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "runs" / "cells").glob("*.parquet"))}


def test_cell_months_are_the_models_and_agree_with_the_series(short: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "e"
    result = ex.ensemble(short, runs=RUNS, root_seed=3, out=out, plots=False)
    store = ResultStore(out)
    scenario = sim.load_scenario(short)
    for run in result.outcomes.itertuples():
        cells = store.read_cells(run.run_id)
        model = sim.SahelModel(scenario, rng=run.seed).run()
        pd.testing.assert_frame_equal(cells, model.cell_months())
        assert list(cells.columns) == ["month", "prio_gid", "country", "fatalities", "events"]
        series = store.read(run.run_id, ["date", "country", "killed_total"])
        monthly = series.groupby([series["date"].dt.to_period("M"), "country"])[
            "killed_total"].sum()
        inside = cells[cells["country"].isin(["MLI", "BFA", "NER"])]
        by_cell = inside.groupby([inside["month"].dt.to_period("M"), "country"])[
            "fatalities"].sum()
        pd.testing.assert_series_equal(by_cell.reindex(monthly.index, fill_value=0), monthly,
                                       check_names=False, check_dtype=False)
        assert cells["fatalities"].sum() > 0


def test_cell_files_are_the_same_in_memory_on_disk_and_with_two_workers(short: Path,
                                                                        tmp_path: Path) -> None:
    one = ex.ensemble(short, runs=RUNS, root_seed=4, out=tmp_path / "one", plots=False)
    ex.ensemble(short, runs=RUNS, root_seed=4, out=tmp_path / "two", workers=2, plots=False)
    assert cell_files(tmp_path / "one") == cell_files(tmp_path / "two")
    assert len(cell_files(tmp_path / "one")) == RUNS
    memory = ResultStore(None)
    prepared = prepare_scenario(short)
    for run in one.outcomes.itertuples():
        outcome = execute_run(RunTask(run.run_id, prepared.payload, prepared.hash, run.seed))
        memory.save(run.run_id, outcome.data, outcome.cells)
        assert outcome.cells == (tmp_path / "one" / "runs" / "cells" /
                                 f"{run.run_id}.parquet").read_bytes()
        pd.testing.assert_frame_equal(memory.read_cells(run.run_id),
                                      ResultStore(tmp_path / "one").read_cells(run.run_id))


def test_a_run_without_its_cell_month_file_is_run_again(short: Path, tmp_path: Path) -> None:
    out = tmp_path / "e"
    ex.ensemble(short, runs=RUNS, root_seed=5, out=out, plots=False)
    before = cell_files(out)
    first = sorted(before)[0]
    (out / "runs" / "cells" / first).unlink()
    (out / "runs" / "cells" / f".{first}.tmp123").write_bytes(b"half")  # a killed writer's
    again = ex.ensemble(short, runs=RUNS, root_seed=5, out=out, plots=False)
    assert again.report.reused == RUNS - 1 and len(again.report.compute_seconds) == 1
    assert cell_files(out) == before
    assert not list((out / "runs" / "cells").glob(".*"))
    manifest = json.loads((out / "manifest.json").read_text())
    (aside,) = manifest["set_aside"]
    assert aside["problem"] == f"incomplete: no cell-month file runs/cells/{first}"
    with pytest.raises(FileNotFoundError):
        ResultStore(out).read_cells("no-such-run")
