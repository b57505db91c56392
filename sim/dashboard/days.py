"""What the explore view keeps of each simulated day, and the event log's filters.

`DayFrames` keeps the controller, zone, residents, displaced and Russian units of every day
simulated so far, so that the date slider scrubs without re-running the model;
`filter_events` and `event_items` filter and page the event log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.model import SahelModel

EVENT_COLUMNS = {
    "event_date": "date", "event_type": "event type", "sub_event_type": "sub-event type",
    "actor1": "actor 1", "actor2": "actor 2", "country": "country", "admin1": "admin1",
    "location": "location", "latitude": "lat", "longitude": "lon", "fatalities": "fatalities",
}


class DayFrames:
    """What the map and cell details need of every day simulated, kept while the run lasts.

    Row d is the state after d days (row 0: the start). Controller and zone as int8 take 2 bytes
    per cell and day (about 5 MB for two years of the baseline), residents and displaced as
    float32 8 more; Russian units are a few rows a day.
    """

    def __init__(self, model: SahelModel) -> None:
        world = model.world
        self.sahel_idx = world.sahel_idx
        days = model.spec.days + 1
        s = self.sahel_idx.size
        self.controller = np.zeros((days, s), dtype=np.int8)
        self.zone = np.zeros((days, s), dtype=np.int8)
        self.residents = np.zeros((days, s), dtype=np.float32)
        self.displaced = np.zeros((days, s), dtype=np.float32)
        self.units: list[np.ndarray] = [np.zeros((0, 2))] * days  # (rows, [cell, strength])
        russian = [i for i, fid in enumerate(world.faction_ids)
                   if model.spec.factions[fid].kind == "russian"]
        self.russian = np.array(russian, dtype=np.int64)
        self.last = -1
        self.record(model)

    def record(self, model: SahelModel) -> None:
        """Keep the model's current day."""
        world = model.world
        day = int(model.time)
        if day >= self.controller.shape[0]:
            return
        idx = self.sahel_idx
        self.controller[day] = world.controller[idx]
        self.zone[day] = world.zone[idx]
        total = world.residents[:, idx].sum(axis=0)
        self.residents[day] = total
        self.displaced[day] = world.displaced[idx]
        units = world.forces
        rows = units.present & np.isin(units.faction, self.russian) & (units.strength > 0)
        if rows.any():
            cells, where = np.unique(units.cell[rows], return_inverse=True)
            strength = np.bincount(where, weights=units.strength[rows])
            self.units[day] = np.column_stack([cells, strength])
        else:
            self.units[day] = np.zeros((0, 2))
        self.last = day


# ------------------------------------------------------------------------------------------
# Events
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilter:
    """Filters of the event log: country code, actor label, event type, date range (days)."""

    country: str | None = None
    actor: str | None = None
    event_type: str | None = None
    first_day: int = 0
    last_day: int | None = None  # inclusive; None: up to the day shown


def filter_events(events: pd.DataFrame, start: dt.date, flt: EventFilter, upto_day: int
                  ) -> pd.DataFrame:
    """Events of days [first_day, min(last_day, upto_day - 1)] matching the filter.

    An event dated start + k happens during day k + 1, so the view of day d shows k < d.
    """
    if events.empty:
        return events
    offset = (events["event_date"] - pd.Timestamp(start)).dt.days.to_numpy()
    last = upto_day - 1 if flt.last_day is None else min(flt.last_day, upto_day - 1)
    keep = (offset >= flt.first_day) & (offset <= last)
    if flt.country:
        keep &= (events["country"] == flt.country).to_numpy()
    if flt.actor:
        keep &= ((events["actor1"] == flt.actor) | (events["actor2"] == flt.actor)).to_numpy()
    if flt.event_type:
        keep &= (events["event_type"] == flt.event_type).to_numpy()
    return events[keep]


def event_items(events: pd.DataFrame, page: int = 0, per_page: int = 15,
                sort_by: str = "event_date", descending: bool = True
                ) -> list[dict[str, Any]]:
    """One page of events as table rows (JSON-ready), sorted."""
    if sort_by not in EVENT_COLUMNS:
        sort_by = "event_date"
    ordered = events.sort_values(sort_by, ascending=not descending, kind="stable")
    part = ordered.iloc[page * per_page:(page + 1) * per_page]
    frame = part[list(EVENT_COLUMNS)].copy()
    frame["event_date"] = pd.to_datetime(frame["event_date"]).dt.strftime("%Y-%m-%d")
    frame[["latitude", "longitude"]] = frame[["latitude", "longitude"]].round(3)
    frame.insert(0, "row", part.index.to_numpy())
    return cast(list[dict[str, Any]], frame.to_dict("records"))
