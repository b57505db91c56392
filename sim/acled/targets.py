"""Calibration targets from a user's ACLED export, in the format of `calibration/targets.toml`.

For each country and calendar year of the period (clipped to it): deaths, civilian deaths and
the largest single event; for each country over the whole period: the share of civilian deaths
caused by jihadist groups and by the state side (armies, militias, Russian forces), from the
actor mapping (`sim.acled.actors`). ACLED's counts are reported estimates, so every target is
a band: the count ±`band` (15% by default, an assumption stated in each target's note), and
for shares also the range the unattributed civilian deaths leave open. Confidence is "M".

The target format has no statistic for a distribution of event sizes, so that distribution is
written beside the targets as a table (`event_size_table`: events and deaths per VIEWS bin).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.acled.actors import CIVILIANS
from sim.acled.errors import AcledError
from sim.acled.reading import ACLED, EventFile
from sim.acled.scoring import VIEWS_BINS, bin_index
from sim.calibration.comparisons import CIVILIAN_TARGETING
from sim.files import atomic_path
from sim.geography import COUNTRIES

DEFAULT_BAND = 0.15
CONFIDENCE = "M"
PERPETRATOR_GROUPS: dict[str, tuple[str, ...]] = {
    "jihadist": ("jihadist",),
    "state_side": ("state", "militia", "russian"),
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """`2023-01-01:2024-12-31` -> (first day, last day), both included.

    Raises:
        AcledError: one line saying what is wrong and what is allowed.
    """
    parts = [p.strip() for p in str(text).split(":")]
    hint = "expected FIRST:LAST as YYYY-MM-DD:YYYY-MM-DD, e.g. 2023-01-01:2024-12-31"
    if len(parts) != 2 or not all(_DATE.match(p) for p in parts):
        raise AcledError(f"--period: {text!r}: {hint}")
    try:
        first, last = (dt.date.fromisoformat(p) for p in parts)
    except ValueError as exc:
        raise AcledError(f"--period: {text!r}: {exc}") from None
    if last < first:
        raise AcledError(f"--period: {text!r}: the last day is before the first")
    return first, last


def year_windows(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The calendar years of a period, each clipped to it."""
    return [(max(first, dt.date(y, 1, 1)), min(last, dt.date(y, 12, 31)))
            for y in range(first.year, last.year + 1)]


def period_text(first: dt.date, last: dt.date) -> str:
    """'2024' for a whole year, else '1 Jan 2024 to 30 Jun 2024'."""
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and \
            first.year == last.year:
        return str(first.year)
    return f"{first.day} {first:%b %Y} to {last.day} {last:%b %Y}"


def _band(value: float, band: float) -> tuple[int, int]:
    return math.floor(value * (1 - band)), math.ceil(value * (1 + band))


def _target(name: str, value: float, low: float, high: float, unit: str, period: str,
            place: str, definition: str, source: Mapping[str, Any], note: str,
            compare: dict[str, Any]) -> dict[str, Any]:
    """A target with the shared format's keys in its order."""
    return {"name": name, "value": value, "low": low, "high": high, "unit": unit,
            "period": period, "place": place, "definition": definition, **source, "note": note,
            "compare": compare}


def derive_targets(data: EventFile, events: pd.DataFrame, kinds: Mapping[str, str],
                   first: dt.date, last: dt.date, band: float = DEFAULT_BAND
                   ) -> list[dict[str, Any]]:
    """The targets of a period, one dict per target in the shared format.

    Args:
        data: the export read (for its name, dates and kind).
        events: its events with `perpetrator` (from `sim.acled.actors.map_events`).
        kinds: faction id -> kind (the scenario's).
        first: first day of the period.
        last: last day of the period.
        band: the relative half-width of every range.

    Raises:
        AcledError: the period is not inside the months the export covers, or a bad band.
    """
    if not 0 <= band < 1:
        raise AcledError(f"--band: {band} is not a share from 0 to 1 (e.g. 0.15)")
    covered = data.months
    if pd.Period(first, freq="M") < covered[0] or pd.Period(last, freq="M") > covered[-1]:
        raise AcledError(f"--period: {first} to {last} is not inside the months of "
                         f"{data.path.name} ({covered[0]} to {covered[-1]}); choose a period "
                         "the export covers")
    name = "ACLED" if data.kind == ACLED else "UCDP GED"
    common = {"source": f"{name} export '{data.path.name}' supplied by the user (file dated "
                        f"{data.modified}; events {data.first} to {data.last})",
              "source_date": data.modified, "confidence": CONFIDENCE}
    note = (f"Range: the count ±{band:.0%}, an assumption: {name}'s fatalities are reported "
            "estimates, not exact counts.")
    dates = events["event_date"].dt.date
    civilians, civilian_definition = civilian_count(data.kind)
    targets: list[dict[str, Any]] = []
    for iso, country in COUNTRIES.items():
        mine = events[events["country"] == iso]
        for a, b in year_windows(first, last):
            rows = mine[(dates[mine.index] >= a) & (dates[mine.index] <= b)]
            period = period_text(a, b)
            tag = f"{iso.lower()}_{a.year}" + ("" if period == str(a.year) else
                                               f"_{a:%m%d}_{b:%m%d}")
            where = {"country": iso, "start": a, "end": b}
            for victims, column, what in (
                    ("all", "fatalities", "Fatalities of every event"),
                    (civilians, "civilian_fatalities", civilian_definition)):
                value = int(rows[column].sum())
                low, high = _band(value, band)
                label = "deaths" if victims == "all" else "civilian_deaths"
                targets.append(_target(
                    f"acled_{label}_{tag}", value, low, high, "deaths", period, country,
                    f"{what} in {name} for {country}, {a} to {b} (event dates, both included)",
                    common, note, {"statistic": "deaths", **where, "victims": victims}))
            if len(rows) and rows["fatalities"].max() > 0:
                top = rows.loc[rows["fatalities"].idxmax()]
                value = int(top["fatalities"])
                low, high = _band(value, band)
                targets.append(_target(
                    f"acled_max_event_deaths_{tag}", value, low, high, "deaths", period,
                    country, f"The largest fatality count of a single {name} event in "
                             f"{country}, {a} to {b}", common,
                    f"{note} The event: {top['event_date']:%d %b %Y}, "
                    f"{top['location'] or top['admin1'] or 'no location'}, "
                    f"{top['event_type']}, {top['actor1']}.",
                    {"statistic": "max_event_deaths", **where}))
        targets += _share_targets(mine, kinds, iso, first, last, band, name, common,
                                  civilians)
    return targets


def civilian_count(kind: str) -> tuple[str, str]:
    """How an export counts civilian deaths: the model's `victims` word and the definition.

    ACLED's are the deaths of events that target civilians (all counted as civilians), the
    model's `civilian_targeting`; UCDP GED's `deaths_civilians` counts civilians killed in any
    kind of violence, battles included, the model's `civilians`.
    """
    if kind == ACLED:
        return CIVILIAN_TARGETING, ("Fatalities of 'Violence against civilians' events and of "
                                    "events whose civilian_targeting is 'Civilian targeting' "
                                    "(all counted as civilians)")
    return "civilians", ("Civilians killed in any kind of violence (deaths_civilians; `best` of "
                         "one-sided violence where that column is absent)")


def _share_targets(events: pd.DataFrame, kinds: Mapping[str, str], iso: str,
                   first: dt.date, last: dt.date, band: float, name: str,
                   common: dict[str, Any], civilians: str) -> list[dict[str, Any]]:
    """Shares of civilian deaths by perpetrator group, with the unattributed as a range."""
    dates = events["event_date"].dt.date
    rows = events[(dates >= first) & (dates <= last) & (events["civilian_fatalities"] > 0)]
    deaths = rows["civilian_fatalities"].to_numpy(dtype=float)
    total = deaths.sum()
    perpetrator = rows["perpetrator"]
    kind = perpetrator.map(lambda f: kinds.get(f, CIVILIANS) if isinstance(f, str) else None)
    unattributed = deaths[kind.isna().to_numpy()].sum()
    if total == 0 or unattributed == total:
        return []
    out = []
    for group, members in PERPETRATOR_GROUPS.items():
        k = deaths[kind.isin(members).to_numpy()].sum()
        value = k / (total - unattributed)
        low = max(0.0, k / total * (1 - band))
        high = min(1.0, (k + unattributed) / total * (1 + band))
        out.append(_target(
            f"acled_civilian_death_share_{group}_{iso.lower()}", round(value, 4),
            round(low, 4), round(high, 4), "share", period_text(first, last), COUNTRIES[iso],
            f"Share of civilian deaths (as in acled_civilian_deaths_*) in {name} for "
            f"{COUNTRIES[iso]}, {first} to {last}, whose actor1 maps to a faction of kind "
            f"{' or '.join(members)} (actor mapping file); value: among deaths with an "
            "identified perpetrator", common,
            f"{unattributed / total:.0%} of the {int(total):,} civilian deaths have an unmapped "
            "perpetrator: low counts none of them for this group, high all of them; both "
            f"widened by ±{band:.0%} (an assumption: reported counts).",
            {"statistic": "civilian_death_share", "country": iso, "start": first, "end": last,
             "perpetrators": list(members), "victims": civilians}))
    return out


def event_size_table(events: pd.DataFrame, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Events and fatalities per VIEWS size bin, per country and for the three together."""
    dates = events["event_date"].dt.date
    rows = events[(dates >= first) & (dates <= last)]
    edges = [*VIEWS_BINS, np.inf]
    labels = ["0"] + [f"{math.ceil(edges[i])}-{math.floor(edges[i + 1])}"
                      for i in range(1, len(VIEWS_BINS) - 1)] + [f"over {int(VIEWS_BINS[-1])}"]
    frames = []
    for place, part in [*((iso, rows[rows["country"] == iso]) for iso in COUNTRIES),
                        ("all", rows)]:
        bins = bin_index(part["fatalities"].to_numpy())
        count = np.bincount(bins, minlength=len(labels))
        deaths = np.bincount(bins, weights=part["fatalities"].to_numpy(dtype=float),
                             minlength=len(labels))
        frames.append(pd.DataFrame({
            "country": place, "size": labels, "events": count,
            "share_of_events": count / max(count.sum(), 1), "fatalities": deaths.astype(int),
            "share_of_fatalities": deaths / max(deaths.sum(), 1.0)}))
    return pd.concat(frames, ignore_index=True)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Sequence):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def targets_toml(targets: Sequence[Mapping[str, Any]], header: Sequence[str]) -> str:
    """The targets as TOML (`[[targets]]` with a `[targets.compare]` table each)."""
    lines = [f"# {line}".rstrip() for line in header]
    for target in targets:
        lines += ["", "[[targets]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in target.items() if k != "compare"]
        lines.append("[targets.compare]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in target["compare"].items()]
    return "\n".join(lines) + "\n"


def sizes_path(path: Path) -> Path:
    """Where the event-size table goes beside a targets file: NAME_event_sizes.csv."""
    return path.with_name(f"{path.stem}_event_sizes.csv")


def write_targets(path: Path, text: str, sizes: pd.DataFrame, force: bool) -> list[Path]:
    """Write the targets and the event-size table (each to a temporary name, then renamed).

    Raises:
        AcledError: a file exists and `force` is false, or the folder cannot be written.
    """
    paths = [path, sizes_path(path)]
    for p in paths:
        if p.is_dir():
            raise AcledError(f"--out: {p} is a folder; give a file name such as targets.toml")
        if p.exists() and not force:
            raise AcledError(f"--out: {p} exists; use --force to replace it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as temp, atomic_path(paths[1]) as table:
            temp.write_text(text, encoding="utf-8")
            sizes.to_csv(table, index=False, float_format="%.6g")
    except OSError as exc:
        raise AcledError(f"--out: cannot write {path}: {exc.strerror or exc}") from None
    return paths
