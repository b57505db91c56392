"""Small ACLED- and UCDP-shaped files and fake ensemble folders, written by the tests.

No real data: every event here is made up. `acled_rows` gives the rows of a hand-made export
whose aggregates the tests know; `write_ensemble` writes an experiment folder holding given
draws, as `sahel-sim ensemble` would (manifest, run files, cell-month files).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments.executors import encode_frame
from sim.experiments.result_store import ResultStore
from sim.geography import COUNTRIES, prio_gid

ACLED_HEADER = ("event_id_cnty", "event_date", "year", "event_type", "sub_event_type", "actor1",
                "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "country",
                "admin1", "location", "latitude", "longitude", "fatalities", "notes")
UCDP_HEADER = ("id", "year", "type_of_violence", "side_a", "side_b", "country", "adm_1",
               "where_coordinates", "latitude", "longitude", "priogrid_gid", "date_start",
               "date_end", "deaths_civilians", "best")
# Places: (country, admin1, location, latitude, longitude)
BAMAKO = ("Mali", "Bamako", "Bamako", 12.65, -8.0)
MOPTI = ("Mali", "Mopti", "Mopti", 14.49, -4.19)
DJIBO = ("Burkina Faso", "Sahel", "Djibo", 14.10, -1.63)
NIAMEY = ("Niger", "Niamey", "Niamey", 13.51, 2.11)
KANO = ("Nigeria", "Kano", "Kano", 12.0, 8.52)
JNIM = "JNIM: Group for Support of Islam and Muslims"
FAMA = "Military Forces of Mali (2021-)"
WAGNER = "Wagner Group"
VAC = "Violence against civilians"


def event(date: str, place: tuple, fatalities: int, actor1: str = JNIM,
          actor2: str = "Civilians (Mali)", event_type: str = VAC, inter1: str = "2",
          inter2: str = "7", notes: str = "") -> dict[str, object]:
    """One ACLED row."""
    country, admin1, location, lat, lon = place
    return {"event_id_cnty": "", "event_date": date, "year": date[-4:] if " " in date
            else date[:4], "event_type": event_type, "sub_event_type": "Attack",
            "actor1": actor1, "assoc_actor_1": "", "inter1": inter1, "actor2": actor2,
            "assoc_actor_2": "", "inter2": inter2, "country": country, "admin1": admin1,
            "location": location, "latitude": lat, "longitude": lon, "fatalities": fatalities,
            "notes": notes}


def acled_rows() -> list[dict[str, object]]:
    """A hand-made export, Jan 2023 to Feb 2024, whose aggregates the tests know.

    Deaths, 2023: Mali 10 + 5 + 20 + 7 = 42 (civilian 10 + 5 + 7 = 22), Burkina Faso 30 + 4 = 34
    (civilian 30), Niger 3 (civilian 0); Kano (Nigeria) 50, left out. 2024 (Jan-Feb): Mali 8,
    Burkina Faso 1.
    """
    return [
        event("2023-01-05", BAMAKO, 10, JNIM, notes="a note,\nover two lines"),
        event("17 January 2023", MOPTI, 5, FAMA),
        event("2023-03-02", MOPTI, 20, FAMA, "JNIM: Group for Support of Islam and Muslims",
              "Battles", "1", "2"),
        event("2023-06-30", MOPTI, 7, "Unidentified Armed Group (Mali)", inter1="3"),
        event("2023-02-11", DJIBO, 30, JNIM, "Civilians (Burkina Faso)"),
        event("2023-12-31", DJIBO, 4, "Military Forces of Burkina Faso (2022-)", JNIM, "Battles",
              "1", "2"),
        event("2023-04-01", NIAMEY, 3, "Islamic State (Sahel)", "Military Forces of Niger (2023-)",
              "Battles", "2", "1"),
        event("2023-05-05", KANO, 50, "Boko Haram", "Military Forces of Nigeria (2015-)",
              "Battles"),
        event("2024-01-20", BAMAKO, 8, WAGNER, "Civilians (Mali)"),
        event("2024-02-29", DJIBO, 1, JNIM, "Civilians (Burkina Faso)"),
    ]


def write_csv(path: Path, rows: Sequence[Mapping[str, object]],
              header: Sequence[str] = ACLED_HEADER, delimiter: str = ",") -> Path:
    """Write rows as CSV (fields with commas or newlines quoted, as ACLED's are)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header), delimiter=delimiter,
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def gid(place: tuple) -> int:
    """The PRIO-GRID cell of a place."""
    return int(prio_gid(np.array([place[3]]), np.array([place[4]]))[0])


def write_ensemble(folder: Path, months: pd.PeriodIndex, countries: np.ndarray,
                   cells: Mapping[int, np.ndarray] | None = None, label: str = "fake",
                   kind: str = "ensemble", others: Sequence[str] = ()) -> list[str]:
    """An experiment folder whose runs hold the given deaths.

    Args:
        folder: where to write it.
        months: the whole months the runs cover (their days are simulated).
        countries: deaths per country (COUNTRIES order), month and run: (3, months, runs); each
            month's deaths fall on its first day.
        cells: PRIO-GRID gid -> deaths (months, runs); None writes no cell-month files.
        label: the scenario's label.
        kind: the manifest's kind.
        others: further scenario labels (a comparison's counterfactuals), with the same runs.

    Returns:
        The run ids (of `label`).
    """
    store = ResultStore(folder)
    (folder / "runs" / "cells").mkdir(parents=True, exist_ok=True)
    days = pd.date_range(months[0].start_time, months[-1].end_time.normalize(), freq="D")
    runs = countries.shape[2]
    entries, ids = [], []
    for s, scenario in enumerate([label, *others]):
        for r in range(runs):
            run_id = f"{s:016x}-{r}"
            killed = np.zeros((len(days), len(COUNTRIES)))
            killed[days.get_indexer(months.to_timestamp())] = countries[:, :, r].T
            frame = pd.DataFrame({"date": np.repeat(days, len(COUNTRIES)),
                                  "country": np.tile(list(COUNTRIES), len(days)),
                                  "killed_total": killed.reshape(-1)})
            cell_rows = [{"month": month.start_time, "prio_gid": np.int32(g), "country": "MLI",
                          "fatalities": int(v[m, r]), "events": 1}
                         for g, v in (cells or {}).items() for m, month in enumerate(months)
                         if v[m, r]]
            cell_frame = pd.DataFrame(cell_rows, columns=["month", "prio_gid", "country",
                                                          "fatalities", "events"])
            store.save(run_id, encode_frame(frame),
                       None if cells is None else encode_frame(cell_frame))
            entries.append({"id": run_id, "scenario": scenario, "point": 0, "replicate": r,
                            "seed": r})
            if scenario == label:
                ids.append(run_id)
    manifest = {"format": 1, "kind": kind, "command": "sahel-sim ensemble fake --runs N",
                "scenarios": {name: {"hash": f"{s:064x}"} for s, name in
                              enumerate([label, *others])},
                "runs": entries, "status": {"state": "complete"}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return ids
