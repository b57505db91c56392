"""How a calibration target is measured in a run: the `[targets.compare]` table.

`parse_comparison` checks one table and returns a `Comparison` (the statistic, its window,
place and actors; `sim.calibration.statistics` computes it), raising `FieldProblem` on the
first bad field; `sim.calibration.targets.load_targets` adds the file, line and target.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sim.geography import COUNTRIES
from sim.ledger import CIVILIAN_TARGETING_MECHANISMS, MECHANISM_NAMES
from sim.scenario import FACTION_KINDS, STATE_SIDE_KINDS, did_you_mean

KIND_GROUPS: dict[str, tuple[str, ...]] = {"state_side": STATE_SIDE_KINDS}
COUNTRY_CHOICES = ("MLI", "BFA", "NER", "all")
TERRITORY_CATEGORIES = ("state", "not_state", "armed_groups", "contested", "ungoverned")
RARE_EVENTS = ("coup_attempts", "coups", "capital_attacks")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")  # target names and faction ids
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


class FieldProblem(Exception):  # noqa: N818 - a signal, located and reworded by the loader
    """A problem in one field of one target (located and worded by `load_targets`)."""

    def __init__(self, field: str, message: str, allowed: str = "") -> None:
        super().__init__(message)
        self.field, self.message, self.allowed = field, message, allowed


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


def countries_in(country: str) -> list[str]:
    """The countries a target's `country` names: one ISO code, "all" three, or "MLI+NER"."""
    return list(COUNTRIES) if country == "all" else country.split("+")


def parse_comparison(table: Any) -> Comparison:
    """A target's `compare` table, checked (raises `FieldProblem` on the first bad field)."""
    if table is None:
        raise FieldProblem("compare", "missing", "a [targets.compare] table with a statistic")
    if not isinstance(table, dict):
        raise FieldProblem("compare", f"expected a table, got {type(table).__name__}",
                            "a [targets.compare] table with a statistic")
    statistic = table.get("statistic")
    if statistic not in STATISTICS:
        what = "missing" if statistic is None else f"{statistic!r} is not a statistic" + \
            did_you_mean(statistic, STATISTICS)
        raise FieldProblem("compare.statistic", what, ", ".join(STATISTICS))
    required, optional = STATISTICS[statistic]
    for key in table:
        if key != "statistic" and key not in required + optional:
            raise FieldProblem(f"compare.{key}", f"not used by the statistic {statistic!r}",
                                ", ".join(required + optional))
    for key in required:
        if key not in table:
            raise FieldProblem(f"compare.{key}", f"missing (the statistic {statistic!r} needs it)",
                                ", ".join(required))
    country = table["country"]
    parts = countries_in(country) if isinstance(country, str) else []
    if not parts or len(set(parts)) != len(parts) or not set(parts) <= set(COUNTRIES):
        raise FieldProblem("compare.country", f"{country!r} is not a country",
                            ", ".join(COUNTRY_CHOICES) + ", or countries joined by '+' (MLI+NER)")
    fields: dict[str, Any] = {"statistic": statistic, "country": country}
    for key in ("start", "end", "start_b", "end_b", "date"):
        if key in table:
            fields[key] = _compare_date(table, key)
    for first, last in (("start", "end"), ("start_b", "end_b")):
        if first in fields and fields[first] > fields[last]:
            raise FieldProblem(f"compare.{last}", f"{fields[last]} is before {first} "
                                f"({fields[first]})", f"a date on or after {first}")
    if "victims" in table:
        fields["victims"] = _kinds(table["victims"], "compare.victims", victims=True)
    if statistic == "civilian_death_share":
        counted = fields.setdefault("victims", ("civilians",))
        if counted not in (("civilians",), (CIVILIAN_TARGETING,)):
            raise FieldProblem("compare.victims", f"{table['victims']!r} is not a way of counting "
                                "civilian deaths", f'"civilians" or "{CIVILIAN_TARGETING}"')
    for key in ("perpetrators", "involving"):
        if key in table:
            if not isinstance(table[key], list):
                raise FieldProblem(f"compare.{key}", f"expected a list, got {table[key]!r}",
                                    'a list of faction kinds such as ["jihadist"]')
            fields[key] = _kinds(table[key], f"compare.{key}", victims=False)
    for key, choices in (("mechanism", MECHANISM_NAMES), ("category", TERRITORY_CATEGORIES),
                         ("event", RARE_EVENTS)):
        if key in table:
            if table[key] not in choices:
                raise FieldProblem(f"compare.{key}", f"{table[key]!r} is not allowed"
                                    f"{did_you_mean(table[key], choices)}", ", ".join(choices))
            fields[key] = table[key]
    if "faction" in table:
        faction = table["faction"]
        if not isinstance(faction, str) or not IDENTIFIER.match(faction):
            raise FieldProblem("compare.faction", f"{faction!r} is not a faction id",
                                "a faction id of the scenario, such as \"jnim\"")
        fields["faction"] = faction
    if (fields.get("victims") == (CIVILIAN_TARGETING,) and "mechanism" in fields
            and fields["mechanism"] not in CIVILIAN_TARGETING_MECHANISMS):
        raise FieldProblem("compare.mechanism", f"{fields['mechanism']!r} is not a mechanism of "
                            f"events that target civilians (victims = \"{CIVILIAN_TARGETING}\")",
                            ", ".join(CIVILIAN_TARGETING_MECHANISMS))
    return Comparison(**fields)


def _kinds(value: Any, field: str, victims: bool) -> tuple[str, ...]:
    """Faction kinds (groups expanded); victims may also be all, civilians, civilian_targeting."""
    words = ([*(("all", CIVILIAN_TARGETING, "civilians") if victims else ()), *FACTION_KINDS,
              *KIND_GROUPS])
    items = [value] if victims and isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise FieldProblem(field, f"expected {'a kind or ' if victims else ''}a non-empty list of "
                            f"kinds, got {value!r}", ", ".join(words))
    out: list[str] = []
    for item in items:
        if item not in words:
            raise FieldProblem(field, f"{item!r} is not a faction kind{did_you_mean(item, words)}",
                                ", ".join(words))
        if item in ("all", CIVILIAN_TARGETING) and len(items) > 1:
            raise FieldProblem(field, f"'{item}' cannot be combined with other kinds",
                                f"'{item}' alone, or a list of kinds")
        for kind in KIND_GROUPS.get(item, (item,)):
            if kind not in out:
                out.append(kind)
    return tuple(out)


def _compare_date(table: dict[str, Any], key: str) -> dt.date:
    value = table[key]
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise FieldProblem(f"compare.{key}", f"{value!r} is not a date",
                            "a TOML date such as 2024-01-01 (no quotes, no time)")
    return value
