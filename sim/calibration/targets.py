"""Calibration targets: sourced ranges and the model statistic each one is compared with.

`calibration/targets.toml` holds a list of `[[targets]]` tables (the keys are described in
`calibration/README.md`); `load_targets` reads and checks it, raising `CalibrationError` with
one line (`<file>:<line>: targets[3] (name): field: what is wrong; allowed: ...`) on the first
problem. Each target's `compare` table says how the model is measured against it (see
`sim.calibration.statistics`).

`CONFIDENCE_WEIGHT` turns a target's confidence into the weight of its term in the fitter's
distance: H = 1, M = 0.5, L = 0.25. The weights are an assumption (each step down the
confidence scale halves a target's pull), not a sourced figure.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.errors import CalibrationError
from sim.geography import COUNTRIES
from sim.ledger import CIVILIAN_TARGETING_MECHANISMS, MECHANISM_NAMES
from sim.scenario import FACTION_KINDS, STATE_SIDE_KINDS, did_you_mean

CALIBRATION_DIR = Path(__file__).resolve().parents[2] / "calibration"
DEFAULT_TARGETS = CALIBRATION_DIR / "targets.toml"

CONFIDENCE_WEIGHT: dict[str, float] = {"H": 1.0, "M": 0.5, "L": 0.25}
KIND_GROUPS: dict[str, tuple[str, ...]] = {"state_side": STATE_SIDE_KINDS}
COUNTRY_CHOICES = ("MLI", "BFA", "NER", "all")
TERRITORY_CATEGORIES = ("state", "not_state", "armed_groups", "contested", "ungoverned")
RARE_EVENTS = ("coup_attempts", "coups", "capital_attacks")
SHARE_STATISTICS = ("civilian_death_share", "territory_share")
# The `victims` word for ACLED's civilian fatalities: every death of an event of one of
# `sim.ledger.CIVILIAN_TARGETING_MECHANISMS`, whoever died in it.
CIVILIAN_TARGETING = "civilian_targeting"

# statistic -> (required keys, optional keys) of its `compare` table, besides `statistic`.
STATISTICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "deaths": (("country", "start", "end", "victims"), ("perpetrators", "involving")),
    "deaths_ratio": (("country", "victims", "start", "end", "start_b", "end_b"),
                     ("perpetrators", "involving")),
    "max_event_deaths": (("country", "start", "end"), ("perpetrators", "victims", "mechanism")),
    "civilian_death_share": (("country", "start", "end", "perpetrators"), ("victims",)),
    "territory_share": (("country", "date", "category"), ()),
    "event_count": (("country", "start", "end", "event"), ()),
    "fighters": (("country", "date", "faction"), ()),
}
TARGET_KEYS = ("name", "value", "low", "high", "unit", "period", "place", "definition",
               "source", "source_date", "confidence", "note", "compare")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Comparison:
    """How a target is measured in a run: the statistic and its window, place and actors.

    Kind lists are expanded (`state_side` becomes state, militia, russian); `victims` is
    ("all",) for every victim, ("civilian_targeting",) for every death of an event ACLED
    codes as violence against civilians (its civilian fatalities), else civilians and/or
    faction kinds. A `civilian_death_share` reads ("civilians",) or ("civilian_targeting",).
    """

    statistic: str
    country: str
    start: dt.date | None = None
    end: dt.date | None = None
    start_b: dt.date | None = None
    end_b: dt.date | None = None
    date: dt.date | None = None
    victims: tuple[str, ...] = ("all",)
    perpetrators: tuple[str, ...] | None = None
    involving: tuple[str, ...] | None = None
    mechanism: str | None = None
    category: str | None = None
    event: str | None = None
    faction: str | None = None

    def window(self) -> tuple[dt.date, dt.date]:
        """The first and last day the statistic reads."""
        days = [d for d in (self.start, self.end, self.start_b, self.end_b, self.date) if d]
        return min(days), max(days)

    def describe(self) -> str:
        """A short human description, e.g. `deaths BFA 2024-01-01..2024-12-31 victims civilians`."""
        parts = [self.statistic, self.country]
        if self.date is not None:
            parts.append(str(self.date))
        else:
            parts.append(f"{self.start}..{self.end}")
        if self.start_b is not None:
            parts.append(f"/ {self.start_b}..{self.end_b}")
        for label, kinds in (("victims", self.victims if self.victims != ("all",) else None),
                             ("perpetrators", self.perpetrators), ("involving", self.involving)):
            if kinds:
                parts.append(f"{label} {'+'.join(kinds)}")
        parts += [x for x in (self.mechanism, self.category, self.event, self.faction) if x]
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Target:
    """A sourced calibration target: its range, provenance and the comparison it needs."""

    name: str
    low: float | None
    high: float | None
    value: float | None
    unit: str
    period: str
    place: str
    definition: str
    source: str
    source_date: dt.date
    confidence: str
    compare: Comparison
    note: str = ""

    @property
    def weight(self) -> float:
        """The confidence weight of the target in a distance (`CONFIDENCE_WEIGHT`)."""
        return CONFIDENCE_WEIGHT[self.confidence]

    def contains(self, x: Any) -> Any:
        """True where x (a number or an array) lies in the sourced range.

        A missing bound is open; NaN is never inside.
        """
        with np.errstate(invalid="ignore"):
            above = True if self.low is None else np.greater_equal(x, self.low)
            below = True if self.high is None else np.less_equal(x, self.high)
        return np.logical_and(np.logical_and(above, below), ~np.isnan(np.asarray(x, float)))

    def range_text(self) -> str:
        """The range as text: `200 to 600`, `>= 27`, `<= 0.5`."""
        if self.low is not None and self.high is not None:
            return f"{_fmt(self.low)} to {_fmt(self.high)}"
        return f">= {_fmt(self.low)}" if self.low is not None else f"<= {_fmt(self.high)}"


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 1 else f"{x:.3g}"


class _Problem(Exception):  # noqa: N818 - an internal signal, caught and reworded below
    """A problem in one field of one target (located and formatted by `load_targets`)."""

    def __init__(self, field: str, message: str, allowed: str = "") -> None:
        super().__init__(message)
        self.field, self.message, self.allowed = field, message, allowed


def load_targets(path: str | Path) -> list[Target]:
    """Read and check a targets file.

    Raises:
        CalibrationError: one line naming the file, line, target, field, problem and fix.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalibrationError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}"
                               ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f"{path}:{line.group(1)}" if line else str(path)
        raise CalibrationError(f"{where}: not valid TOML: {str(exc).split(' (at')[0]}"
                               ) from None
    extra = sorted(set(data) - {"targets"})
    if extra:
        raise CalibrationError(f"{path}: {extra[0]}: unknown top-level key; allowed: "
                               "[[targets]] tables only")
    entries = data.get("targets")
    if not isinstance(entries, list) or not entries:
        raise CalibrationError(f"{path}: targets: no [[targets]] tables found; allowed: a list "
                               "of [[targets]] tables (see calibration/README.md)")
    lines = _TargetLines(text)
    targets: list[Target] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        label = f"targets[{i}]"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            label += f" ({entry['name']})"
        try:
            if not isinstance(entry, dict):
                raise _Problem("", f"expected a table, got {type(entry).__name__}",
                               "[[targets]] tables")
            target = _target(entry)
            if target.name in seen:
                raise _Problem("name", f"duplicate name (also targets[{seen[target.name]}])",
                               "a name used once")
        except _Problem as problem:
            where = lines.where(i, problem.field)
            field = f" {problem.field}:" if problem.field else ""
            allowed = f"; allowed: {problem.allowed}" if problem.allowed else ""
            raise CalibrationError(f"{path}{where}: {label}:{field} {problem.message}{allowed}"
                                   ) from None
        seen[target.name] = i
        targets.append(target)
    return targets


def _target(entry: dict[str, Any]) -> Target:
    for key in entry:
        if key not in TARGET_KEYS:
            raise _Problem(key, f"unknown key{did_you_mean(key, TARGET_KEYS)}",
                           ", ".join(TARGET_KEYS))
    name = _text(entry, "name")
    if not _NAME.match(name):
        raise _Problem("name", f"{name!r} is not a lower_snake_case identifier",
                       "letters a-z, digits and _, starting with a letter")
    low, high, value = (_number(entry, k) for k in ("low", "high", "value"))
    if low is None and high is None:
        raise _Problem("low", "missing: a target needs low, high or both",
                       "a number (a party's claim gives only low or only high)")
    if low is not None and high is not None and low > high:
        raise _Problem("high", f"{high:g} is below low ({low:g})", "a number >= low")
    if value is not None and ((low is not None and value < low)
                              or (high is not None and value > high)):
        raise _Problem("value", f"{value:g} is outside the range low..high "
                       f"({_fmt(low) if low is not None else '-inf'} to "
                       f"{_fmt(high) if high is not None else 'inf'})", "low <= value <= high")
    confidence = _text(entry, "confidence")
    if confidence not in CONFIDENCE_WEIGHT:
        raise _Problem("confidence", f"{confidence!r} is not a confidence level",
                       "H, M or L (as in FACTS.md)")
    if confidence == "L" and (value is not None or (low is not None and high is not None)):
        raise _Problem("confidence", "'L' marks a party's claim, which is never a point or a "
                       "range", "only low or only high, and no value, for an L target")
    source_date = entry.get("source_date")
    if source_date is None:
        raise _Problem("source_date", "missing", "a TOML date such as 2024-09-24")
    if not isinstance(source_date, dt.date) or isinstance(source_date, dt.datetime):
        raise _Problem("source_date", f"{source_date!r} is not a date",
                       "a TOML date such as 2024-09-24 (no quotes, no time)")
    compare = _comparison(entry.get("compare"))
    for key, bound in (("low", low), ("high", high), ("value", value)):
        if bound is None:
            continue
        if bound < 0:
            raise _Problem(key, f"{bound:g} is negative", "a number >= 0 (every statistic is)")
        if compare.statistic in SHARE_STATISTICS and bound > 1:
            raise _Problem(key, f"{bound:g} is above 1 for a {compare.statistic}",
                           "a share from 0 to 1")
    return Target(name=name, low=low, high=high, value=value, unit=_text(entry, "unit"),
                  period=_text(entry, "period"), place=_text(entry, "place"),
                  definition=_text(entry, "definition"), source=_text(entry, "source"),
                  source_date=source_date, confidence=confidence, compare=compare,
                  note=_text(entry, "note", required=False))


def countries_in(country: str) -> list[str]:
    """The countries a target's `country` names: one ISO code, "all" three, or "MLI+NER"."""
    return list(COUNTRIES) if country == "all" else country.split("+")


def _comparison(table: Any) -> Comparison:
    if table is None:
        raise _Problem("compare", "missing", "a [targets.compare] table with a statistic")
    if not isinstance(table, dict):
        raise _Problem("compare", f"expected a table, got {type(table).__name__}",
                       "a [targets.compare] table with a statistic")
    statistic = table.get("statistic")
    if statistic not in STATISTICS:
        what = "missing" if statistic is None else f"{statistic!r} is not a statistic" + \
            did_you_mean(statistic, STATISTICS)
        raise _Problem("compare.statistic", what, ", ".join(STATISTICS))
    required, optional = STATISTICS[statistic]
    for key in table:
        if key != "statistic" and key not in required + optional:
            raise _Problem(f"compare.{key}", f"not used by the statistic {statistic!r}",
                           ", ".join(required + optional))
    for key in required:
        if key not in table:
            raise _Problem(f"compare.{key}", f"missing (the statistic {statistic!r} needs it)",
                           ", ".join(required))
    country = table["country"]
    parts = countries_in(country) if isinstance(country, str) else []
    if not parts or len(set(parts)) != len(parts) or not set(parts) <= set(COUNTRIES):
        raise _Problem("compare.country", f"{country!r} is not a country",
                       ", ".join(COUNTRY_CHOICES) + ", or countries joined by '+' (MLI+NER)")
    fields: dict[str, Any] = {"statistic": statistic, "country": country}
    for key in ("start", "end", "start_b", "end_b", "date"):
        if key in table:
            fields[key] = _compare_date(table, key)
    for first, last in (("start", "end"), ("start_b", "end_b")):
        if first in fields and fields[first] > fields[last]:
            raise _Problem(f"compare.{last}", f"{fields[last]} is before {first} "
                           f"({fields[first]})", f"a date on or after {first}")
    if "victims" in table:
        fields["victims"] = _kinds(table["victims"], "compare.victims", victims=True)
    if statistic == "civilian_death_share":
        counted = fields.setdefault("victims", ("civilians",))
        if counted not in (("civilians",), (CIVILIAN_TARGETING,)):
            raise _Problem("compare.victims", f"{table['victims']!r} is not a way of counting "
                           "civilian deaths", f'"civilians" or "{CIVILIAN_TARGETING}"')
    for key in ("perpetrators", "involving"):
        if key in table:
            if not isinstance(table[key], list):
                raise _Problem(f"compare.{key}", f"expected a list, got {table[key]!r}",
                               'a list of faction kinds such as ["jihadist"]')
            fields[key] = _kinds(table[key], f"compare.{key}", victims=False)
    for key, choices in (("mechanism", MECHANISM_NAMES), ("category", TERRITORY_CATEGORIES),
                         ("event", RARE_EVENTS)):
        if key in table:
            if table[key] not in choices:
                raise _Problem(f"compare.{key}", f"{table[key]!r} is not allowed"
                               f"{did_you_mean(table[key], choices)}", ", ".join(choices))
            fields[key] = table[key]
    if "faction" in table:
        faction = table["faction"]
        if not isinstance(faction, str) or not _NAME.match(faction):
            raise _Problem("compare.faction", f"{faction!r} is not a faction id",
                           "a faction id of the scenario, such as \"jnim\"")
        fields["faction"] = faction
    if (fields.get("victims") == (CIVILIAN_TARGETING,) and "mechanism" in fields
            and fields["mechanism"] not in CIVILIAN_TARGETING_MECHANISMS):
        raise _Problem("compare.mechanism", f"{fields['mechanism']!r} is not a mechanism of "
                       f"events that target civilians (victims = \"{CIVILIAN_TARGETING}\")",
                       ", ".join(CIVILIAN_TARGETING_MECHANISMS))
    return Comparison(**fields)


def _kinds(value: Any, field: str, victims: bool) -> tuple[str, ...]:
    """Faction kinds (groups expanded); victims may also be all, civilians, civilian_targeting."""
    words = ([*(("all", CIVILIAN_TARGETING, "civilians") if victims else ()), *FACTION_KINDS,
              *KIND_GROUPS])
    items = [value] if victims and isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise _Problem(field, f"expected {'a kind or ' if victims else ''}a non-empty list of "
                       f"kinds, got {value!r}", ", ".join(words))
    out: list[str] = []
    for item in items:
        if item not in words:
            raise _Problem(field, f"{item!r} is not a faction kind{did_you_mean(item, words)}",
                           ", ".join(words))
        if item in ("all", CIVILIAN_TARGETING) and len(items) > 1:
            raise _Problem(field, f"'{item}' cannot be combined with other kinds",
                           f"'{item}' alone, or a list of kinds")
        for kind in KIND_GROUPS.get(item, (item,)):
            if kind not in out:
                out.append(kind)
    return tuple(out)


def _text(entry: dict[str, Any], key: str, required: bool = True) -> str:
    value = entry.get(key)
    if value is None and not required:
        return ""
    if value is None:
        raise _Problem(key, "missing", "non-empty text")
    if not isinstance(value, str) or not value.strip():
        raise _Problem(key, f"expected non-empty text, got {value!r}", "non-empty text")
    return value.strip()


def _number(entry: dict[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Problem(key, f"{value!r} is not a finite number", "a number such as 400 or 0.45")
    return float(value)


def _compare_date(table: dict[str, Any], key: str) -> dt.date:
    value = table[key]
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise _Problem(f"compare.{key}", f"{value!r} is not a date",
                       "a TOML date such as 2024-01-01 (no quotes, no time)")
    return value


def targets_within(targets: list[Target], start: dt.date, end: dt.date) -> list[Target]:
    """The targets whose comparison window lies inside a run from `start` to `end`."""
    return [t for t in targets if start <= t.compare.window()[0]
            and t.compare.window()[1] <= end]


class _TargetLines:
    """Best-effort line numbers of targets and their keys (TOML parsers keep no positions)."""

    _HEADER = re.compile(r"^\s*\[\[\s*targets\s*\]\]")
    _COMPARE = re.compile(r"^\s*\[\s*targets\s*\.\s*compare\s*\]")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i for i, line in enumerate(self.lines) if self._HEADER.match(line)]

    def where(self, index: int, field: str) -> str:
        """':line' of a target's field (or its header), or '' when it cannot be found."""
        if index >= len(self.headers):
            return ""
        first = self.headers[index]
        last = self.headers[index + 1] if index + 1 < len(self.headers) else len(self.lines)
        block = range(first, last)
        compare = next((i for i in block if self._COMPARE.match(self.lines[i])), None)
        in_compare = field.startswith("compare.")
        key = field.removeprefix("compare.") if field else ""
        scope = (range(compare, last) if in_compare and compare is not None
                 else range(first, compare if compare is not None else last))
        if in_compare and compare is None:  # an inline table: compare = { ... }
            key = "compare"
        pattern = re.compile(r"^\s*\"?" + re.escape(key) + r"\"?\s*=") if key else None
        for i in scope:
            if pattern is not None and pattern.match(self.lines[i]):
                return f":{i + 1}"
        if in_compare and compare is not None:
            return f":{compare + 1}"
        return f":{first + 1}"
