"""Reading a user's conflict-event export: ACLED's CSV, or UCDP GED's.

Nothing is downloaded: the user supplies the file. `read_events` tells the two apart by their
header and returns the events of Mali, Burkina Faso and Niger in one frame (`EVENT_COLUMNS`):
ACLED's own columns, UCDP's renamed to them (date_start -> event_date, side_a/side_b ->
actor1/actor2, best -> fatalities, type_of_violence -> event_type), the ISO code of the
country, the PRIO-GRID cell (`sim.geography.prio_gid`) and the deaths counted as civilians
(ACLED: every death of a "Violence against civilians" event or of an event whose
civilian_targeting is "Civilian targeting"; UCDP: deaths_civilians, or `best` of one-sided
violence when that column is absent). A missing column, a bad date or number, or a file that
is neither export raises one-line `AcledError`s naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from sim.acled.errors import AcledError
from sim.geography import COUNTRIES, prio_gid

ACLED = "ACLED"
UCDP = "UCDP GED"
ACLED_COLUMNS = ("event_date", "event_type", "actor1", "actor2", "country", "latitude",
                 "longitude", "fatalities")
UCDP_COLUMNS = ("date_start", "latitude", "longitude", "best", "side_a", "side_b",
                "type_of_violence", "country")
UCDP_TYPES = {"1": "State-based conflict", "2": "Non-state conflict", "3": "One-sided violence"}
VIOLENCE_AGAINST_CIVILIANS = "Violence against civilians"
CIVILIAN_TARGETING = "Civilian targeting"
DATE_HINT = "expected YYYY-MM-DD or a date like '17 September 2024'"
EVENT_COLUMNS = ("event_date", "country", "admin1", "location", "latitude", "longitude",
                 "prio_gid", "event_type", "sub_event_type", "actor1", "assoc_actor_1",
                 "inter1", "actor2", "assoc_actor_2", "inter2", "fatalities",
                 "civilian_fatalities")
_ISO_BY_NAME = {**{name.lower(): iso for iso, name in COUNTRIES.items()},
                **{iso.lower(): iso for iso in COUNTRIES}}


@dataclass(frozen=True, slots=True)
class EventFile:
    """An export read: its kind, its events in the three countries and its dates."""

    path: Path
    kind: str  # ACLED or UCDP
    events: pd.DataFrame  # columns EVENT_COLUMNS, sorted by date
    outside: int  # events of other countries, left out
    first: dt.date  # earliest and latest event date in the whole file
    last: dt.date
    modified: dt.date  # the file's modification date

    @property
    def months(self) -> pd.PeriodIndex:
        """The months the export covers: from its first event's month to its last's."""
        return pd.period_range(self.first, self.last, freq="M")


def read_events(path: str | Path) -> EventFile:
    """Read an ACLED or UCDP GED export (CSV) and keep the events of the three countries.

    Raises:
        AcledError: the file cannot be read, lacks a column, or holds a bad value.
    """
    path = Path(path)
    raw, sep, encoding = _read_table(path)
    columns = set(raw.columns)
    if set(ACLED_COLUMNS) <= columns:
        kind = ACLED
    elif set(UCDP_COLUMNS) <= columns:
        kind = UCDP
    else:
        _refuse_shape(path, columns)
    if raw.empty:
        raise AcledError(f"{path}: no events (only a header)")
    where = _Locator(path, sep, encoding)
    frame = _from_acled(raw, where) if kind == ACLED else _from_ucdp(raw, where)
    dates = frame["event_date"]
    iso = frame.pop("country_name").str.strip().str.lower().map(_ISO_BY_NAME)
    inside = iso.notna().to_numpy()
    frame["country"] = iso
    frame["prio_gid"] = prio_gid(frame["latitude"].to_numpy(), frame["longitude"].to_numpy())
    events = frame.loc[inside, list(EVENT_COLUMNS)].sort_values("event_date", kind="stable")
    modified = dt.date.fromtimestamp(path.stat().st_mtime)
    return EventFile(path, kind, events.reset_index(drop=True), int((~inside).sum()),
                     dates.min().date(), dates.max().date(), modified)


def _read_table(path: Path) -> tuple[pd.DataFrame, str, str]:
    """Every cell as text; the delimiter (comma, or semicolon from some spreadsheets)."""
    if path.is_dir():
        raise AcledError(f"{path}: is a folder, not an ACLED or UCDP CSV file")
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        raise AcledError(f"{path}: file not found") from None
    except OSError as exc:
        raise AcledError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if b"\x00" in head:
        raise AcledError(f"{path}: a binary file, not a CSV export of ACLED or UCDP GED")
    first_line = head.split(b"\n", 1)[0]
    sep = ";" if first_line.count(b";") > first_line.count(b",") else ","
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                              encoding=encoding)
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise AcledError(f"{path}: empty file, not an ACLED or UCDP GED export") from None
        except (pd.errors.ParserError, ValueError) as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
            raise AcledError(f"{path}: not a readable CSV file ({reason})") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    return raw, sep, encoding


def _refuse_shape(path: Path, columns: set[str]) -> NoReturn:
    acled_missing = [c for c in ACLED_COLUMNS if c not in columns]
    ucdp_missing = [c for c in UCDP_COLUMNS if c not in columns]
    if len(acled_missing) <= len(ACLED_COLUMNS) // 2 and len(acled_missing) <= len(ucdp_missing):
        raise AcledError(f"{path}: missing column{'s' if len(acled_missing) > 1 else ''} "
                         f"{', '.join(acled_missing)}; an ACLED export has "
                         f"{', '.join(ACLED_COLUMNS)}")
    if len(ucdp_missing) <= len(UCDP_COLUMNS) // 2:
        raise AcledError(f"{path}: missing column{'s' if len(ucdp_missing) > 1 else ''} "
                         f"{', '.join(ucdp_missing)}; a UCDP GED export has "
                         f"{', '.join(UCDP_COLUMNS)}")
    found = ", ".join(sorted(columns)[:6]) + (", ..." if len(columns) > 6 else "")
    raise AcledError(f"{path}: not an ACLED export (columns {', '.join(ACLED_COLUMNS)}) nor a "
                     f"UCDP GED export (columns {', '.join(UCDP_COLUMNS)}); found: {found}")


class _Locator:
    """Line numbers of data rows, found only when an error is reported (fields may span lines)."""

    def __init__(self, path: Path, sep: str, encoding: str) -> None:
        self.path, self.sep, self.encoding = path, sep, encoding

    def line(self, row: int) -> int | None:
        """The line (1-based) on which data row `row` (0-based) starts."""
        with self.path.open(newline="", encoding=self.encoding, errors="replace") as handle:
            reader = csv.reader(handle, delimiter=self.sep)
            next(reader, None)
            start = reader.line_num + 1
            for index, _ in enumerate(reader):
                if index == row:
                    return start
                start = reader.line_num + 1
        return None

    def fail(self, row: int, field: str, value: str, allowed: str) -> AcledError:
        """The one-line error for a bad value in a row."""
        line = self.line(row)
        where = f"{self.path}, line {line}" if line else f"{self.path}, row {row + 1}"
        shown = value if len(value) <= 40 else value[:37] + "..."
        return AcledError(f"{where}: {field} {shown!r} {allowed}")


def _dates(raw: pd.DataFrame, column: str, where: _Locator) -> pd.Series:
    text = raw[column].str.strip()
    dates = pd.to_datetime(text, format="ISO8601", errors="coerce")
    missing = dates.isna()
    if missing.any():
        dates[missing] = pd.to_datetime(text[missing], format="%d %B %Y", errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:
        raise where.fail(int(bad[0]), column, raw[column].iloc[bad[0]],
                         f"is not a date ({DATE_HINT})")
    return dates.dt.normalize().astype("datetime64[ns]")


def _numbers(raw: pd.DataFrame, column: str, where: _Locator, low: float, high: float,
             whole: bool = False) -> np.ndarray:
    values = pd.to_numeric(raw[column].str.strip(), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(values) & (values >= low) & (values <= high)
    if whole:
        ok &= values == np.round(values)
    bad = np.flatnonzero(~ok)
    if bad.size:
        allowed = ("is not a whole number >= 0" if whole else
                   f"is not a number from {low:g} to {high:g}")
        raise where.fail(int(bad[0]), column, raw[column].iloc[bad[0]], allowed)
    return values.astype(np.int64) if whole else values


def _text(raw: pd.DataFrame, column: str) -> pd.Series:
    if column not in raw:
        return pd.Series("", index=raw.index, dtype=object)
    return raw[column].str.strip().astype(object)


def _from_acled(raw: pd.DataFrame, where: _Locator) -> pd.DataFrame:
    fatalities = _numbers(raw, "fatalities", where, 0, 1e6, whole=True)
    event_type = _text(raw, "event_type")
    civilian = (event_type == VIOLENCE_AGAINST_CIVILIANS) | (
        _text(raw, "civilian_targeting").str.lower() == CIVILIAN_TARGETING.lower())
    return pd.DataFrame({
        "event_date": _dates(raw, "event_date", where), "country_name": _text(raw, "country"),
        "admin1": _text(raw, "admin1"), "location": _text(raw, "location"),
        "latitude": _numbers(raw, "latitude", where, -90, 90),
        "longitude": _numbers(raw, "longitude", where, -180, 180),
        "event_type": event_type, "sub_event_type": _text(raw, "sub_event_type"),
        **{c: _text(raw, c) for c in ("actor1", "assoc_actor_1", "inter1", "actor2",
                                      "assoc_actor_2", "inter2")},
        "fatalities": fatalities,
        "civilian_fatalities": np.where(civilian.to_numpy(), fatalities, 0),
    })


def _from_ucdp(raw: pd.DataFrame, where: _Locator) -> pd.DataFrame:
    fatalities = _numbers(raw, "best", where, 0, 1e6, whole=True)
    kind = raw["type_of_violence"].str.strip()
    bad = np.flatnonzero(~kind.isin(list(UCDP_TYPES)).to_numpy())
    if bad.size:
        raise where.fail(int(bad[0]), "type_of_violence", raw["type_of_violence"].iloc[bad[0]],
                         "is not one of 1 (state-based), 2 (non-state), 3 (one-sided)")
    if "deaths_civilians" in raw:
        civilians = _numbers(raw, "deaths_civilians", where, 0, 1e6, whole=True)
    else:
        civilians = np.where((kind == "3").to_numpy(), fatalities, 0)
    empty = pd.Series("", index=raw.index, dtype=object)
    return pd.DataFrame({
        "event_date": _dates(raw, "date_start", where), "country_name": _text(raw, "country"),
        "admin1": _text(raw, "adm_1"), "location": _text(raw, "where_coordinates"),
        "latitude": _numbers(raw, "latitude", where, -90, 90),
        "longitude": _numbers(raw, "longitude", where, -180, 180),
        "event_type": kind.map(UCDP_TYPES).astype(object), "sub_event_type": empty,
        "actor1": _text(raw, "side_a"), "assoc_actor_1": empty, "inter1": empty,
        "actor2": _text(raw, "side_b"), "assoc_actor_2": empty, "inter2": empty,
        "fatalities": fatalities, "civilian_fatalities": np.minimum(civilians, fatalities),
    })
