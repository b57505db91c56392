"""Calibration targets: sourced ranges and the model statistic each one is compared with.

`calibration/targets.toml` holds a list of `[[targets]]` tables (the keys are described in
`calibration/README.md`); `load_targets` reads and checks it, raising `CalibrationError` with
one line (`<file>:<line>: targets[3] (name): field: what is wrong; allowed: ...`) on the first
problem. Each target's `compare` table says how the model is measured against it
(`sim.calibration.comparisons`; computed by `sim.calibration.statistics`).

`CONFIDENCE_WEIGHT` turns a target's confidence into the weight of its term in the fitter's
distance: H = 1, M = 0.5, L = 0.25. The weights are an assumption (each step down the
confidence scale halves a target's pull), not a sourced figure.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.comparisons import IDENTIFIER, Comparison, FieldProblem, parse_comparison
from sim.calibration.errors import CalibrationError
from sim.scenario import did_you_mean

CALIBRATION_DIR = Path(__file__).resolve().parents[2] / "calibration"
DEFAULT_TARGETS = CALIBRATION_DIR / "targets.toml"

CONFIDENCE_WEIGHT: dict[str, float] = {"H": 1.0, "M": 0.5, "L": 0.25}
SHARE_STATISTICS = ("civilian_death_share", "territory_share")
TARGET_KEYS = ("name", "value", "low", "high", "unit", "period", "place", "definition",
               "source", "source_date", "confidence", "note", "compare")


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


def load_targets(path: str | Path) -> list[Target]:
    """Read and check a targets file.

    Raises:
        CalibrationError: one line naming the file, line, target, field, problem and fix.
    """
    path = Path(path)
    text, entries = read_tables(path, "targets")
    return parse_entries(path, TableLines(text), "targets", entries, _target)


def parse_entries(path: Path, lines: TableLines, table: str, entries: list[Any],
                  parse: Callable[[dict[str, Any]], Any]) -> list[Any]:
    """Each `[[table]]` entry parsed by `parse` (raising FieldProblem), names used once.

    Raises:
        CalibrationError: the first bad entry's line (`entry_error`).
    """
    parsed: list[Any] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        try:
            item = parse(entry)
            if item.name in seen:
                raise FieldProblem("name", f"duplicate name (also {table}[{seen[item.name]}])",
                                   "a name used once")
        except FieldProblem as problem:
            raise entry_error(path, lines, table, i, entry, problem) from None
        seen[item.name] = i
        parsed.append(item)
    return parsed


def read_tables(path: Path, table: str) -> tuple[str, list[Any]]:
    """A TOML file's text and its `[[table]]` entries, checked to be all the file holds.

    Raises:
        CalibrationError: one line: the file is missing or unreadable, not TOML (with its
            line), has another top-level key, or no `[[table]]` tables.
    """
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
    extra = sorted(set(data) - {table})
    if extra:
        raise CalibrationError(f"{path}: {extra[0]}: unknown top-level key; allowed: "
                               f"[[{table}]] tables only")
    entries = data.get(table)
    if not isinstance(entries, list) or not entries:
        raise CalibrationError(f"{path}: {table}: no [[{table}]] tables found; allowed: a list "
                               f"of [[{table}]] tables (see calibration/README.md)")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise CalibrationError(f"{path}: {table}[{i}]: expected a table, got "
                                   f"{type(entry).__name__}; allowed: [[{table}]] tables")
    return text, entries


def entry_error(path: Path, lines: TableLines, table: str, index: int, entry: dict[str, Any],
                problem: FieldProblem) -> CalibrationError:
    """One line for a bad entry: `<file>:<line>: table[i] (name): field: problem; allowed`."""
    label = f"{table}[{index}]"
    if isinstance(entry.get("name"), str):
        label += f" ({entry['name']})"
    field = f" {problem.field}:" if problem.field else ""
    allowed = f"; allowed: {problem.allowed}" if problem.allowed else ""
    return CalibrationError(f"{path}{lines.where(index, problem.field)}: {label}:{field} "
                            f"{problem.message}{allowed}")


def _target(entry: dict[str, Any]) -> Target:
    for key in entry:
        if key not in TARGET_KEYS:
            raise FieldProblem(key, f"unknown key{did_you_mean(key, TARGET_KEYS)}",
                                ", ".join(TARGET_KEYS))
    name = _text(entry, "name")
    if not IDENTIFIER.match(name):
        raise FieldProblem("name", f"{name!r} is not a lower_snake_case identifier",
                            "letters a-z, digits and _, starting with a letter")
    low, high, value = (_number(entry, k) for k in ("low", "high", "value"))
    if low is None and high is None:
        raise FieldProblem("low", "missing: a target needs low, high or both",
                            "a number (a party's claim gives only low or only high)")
    if low is not None and high is not None and low > high:
        raise FieldProblem("high", f"{high:g} is below low ({low:g})", "a number >= low")
    if value is not None and ((low is not None and value < low)
                              or (high is not None and value > high)):
        raise FieldProblem("value", f"{value:g} is outside the range low..high "
                            f"({_fmt(low) if low is not None else '-inf'} to "
                            f"{_fmt(high) if high is not None else 'inf'})", "low <= value <= high")
    confidence = _text(entry, "confidence")
    if confidence not in CONFIDENCE_WEIGHT:
        raise FieldProblem("confidence", f"{confidence!r} is not a confidence level",
                            "H, M or L (as in FACTS.md)")
    if confidence == "L" and (value is not None or (low is not None and high is not None)):
        raise FieldProblem("confidence", "'L' marks a party's claim, which is never a point or a "
                            "range", "only low or only high, and no value, for an L target")
    source_date = entry.get("source_date")
    if source_date is None:
        raise FieldProblem("source_date", "missing", "a TOML date such as 2024-09-24")
    if not isinstance(source_date, dt.date) or isinstance(source_date, dt.datetime):
        raise FieldProblem("source_date", f"{source_date!r} is not a date",
                            "a TOML date such as 2024-09-24 (no quotes, no time)")
    compare = parse_comparison(entry.get("compare"))
    for key, bound in (("low", low), ("high", high), ("value", value)):
        if bound is None:
            continue
        if bound < 0:
            raise FieldProblem(key, f"{bound:g} is negative", "a number >= 0 (every statistic is)")
        if compare.statistic in SHARE_STATISTICS and bound > 1:
            raise FieldProblem(key, f"{bound:g} is above 1 for a {compare.statistic}",
                                "a share from 0 to 1")
    return Target(name=name, low=low, high=high, value=value, unit=_text(entry, "unit"),
                  period=_text(entry, "period"), place=_text(entry, "place"),
                  definition=_text(entry, "definition"), source=_text(entry, "source"),
                  source_date=source_date, confidence=confidence, compare=compare,
                  note=_text(entry, "note", required=False))


def _text(entry: dict[str, Any], key: str, required: bool = True) -> str:
    value = entry.get(key)
    if value is None and not required:
        return ""
    if value is None:
        raise FieldProblem(key, "missing", "non-empty text")
    if not isinstance(value, str) or not value.strip():
        raise FieldProblem(key, f"expected non-empty text, got {value!r}", "non-empty text")
    return value.strip()


def _number(entry: dict[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldProblem(key, f"{value!r} is not a finite number", "a number such as 400 or 0.45")
    return float(value)


def target_signature(targets: Sequence[Target]) -> list[list[Any]]:
    """What a stored result depends on in the targets: names, ranges and comparisons."""
    return [[t.name, t.low, t.high, t.compare.describe()] for t in targets]


def targets_within(targets: list[Target], start: dt.date, end: dt.date) -> list[Target]:
    """The targets whose comparison window lies inside a run from `start` to `end`."""
    return [t for t in targets if start <= t.compare.window()[0]
            and t.compare.window()[1] <= end]


class TableLines:
    """Best-effort line numbers of a TOML file's `[[table]]` entries and their keys.

    TOML parsers keep no positions; `where(i, "key")` finds entry i's key (a key of its
    `[table.sub]` sub-table as "sub.key"), else the entry's header.
    """

    def __init__(self, text: str, table: str = "targets", sub: str | None = "compare") -> None:
        self.lines = text.splitlines()
        header = re.compile(r"^\s*\[\[\s*" + re.escape(table) + r"\s*\]\]")
        self._sub = None if sub is None else re.compile(
            r"^\s*\[\s*" + re.escape(table) + r"\s*\.\s*" + re.escape(sub) + r"\s*\]")
        self._sub_key = sub or ""
        self.headers = [i for i, line in enumerate(self.lines) if header.match(line)]

    def where(self, index: int, field: str) -> str:
        """':line' of an entry's field (or its header), or '' when it cannot be found."""
        if index >= len(self.headers):
            return ""
        first = self.headers[index]
        last = self.headers[index + 1] if index + 1 < len(self.headers) else len(self.lines)
        block = range(first, last)
        sub = self._sub
        compare = None if sub is None else next((i for i in block if sub.match(self.lines[i])),
                                                None)
        in_compare = sub is not None and field.startswith(self._sub_key + ".")
        key = field.removeprefix(self._sub_key + ".") if in_compare else field
        scope = (range(compare, last) if in_compare and compare is not None
                 else range(first, compare if compare is not None else last))
        if in_compare and compare is None:  # an inline table: compare = { ... }
            key = self._sub_key
        pattern = re.compile(r"^\s*\"?" + re.escape(key) + r"\"?\s*=") if key else None
        for i in scope:
            if pattern is not None and pattern.match(self.lines[i]):
                return f":{i + 1}"
        if in_compare and compare is not None:
            return f":{compare + 1}"
        return f":{first + 1}"
