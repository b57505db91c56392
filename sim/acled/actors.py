"""ACLED actors -> the model's factions, through an editable mapping file.

The bundled file is `sim/data/acled_actors.toml` (its header explains the format and where the
names come from); users pass their own with `--actors FILE`. `ActorMap.faction_of` gives an
actor's faction (or "civilians", or None when no rule matches); `map_events` adds each event's
perpetrator (actor1) and victim (actor2) faction and reports the share of fatalities whose
actors could not be mapped, with the largest unmapped actors, so users can add rules.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from sim.acled.errors import AcledError
from sim.geography import COUNTRIES

CIVILIANS = "civilians"
RULE_KEYS = {"faction", "contains", "matches", "country", "note"}
CIVILIAN_INTER = ("7", "civilians")  # ACLED's inter code of civilians (number, or its text)
TOP_UNMAPPED = 5


def default_actor_file() -> Path:
    """The bundled mapping file (`sim/data/acled_actors.toml`)."""
    return Path(str(resources.files("sim.data").joinpath("acled_actors.toml")))


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the mapping file: names it matches -> a faction."""

    faction: str
    contains: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    country: str | None
    line: int

    def matches(self, name: str, country: str) -> bool:
        """True if the rule applies to an actor of this name in an event of this country."""
        if self.country is not None and country != self.country:
            return False
        lower = name.lower()
        return any(s in lower for s in self.contains) or any(
            p.search(name) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class ActorMap:
    """The rules of a mapping file, in order (the first match wins)."""

    path: Path
    rules: tuple[Rule, ...]

    def faction_of(self, name: str, country: str = "", inter: str = "") -> str | None:
        """The faction of an actor (or "civilians"), or None when no rule matches.

        An actor no rule names but whose ACLED inter code is 7 (civilians) is a civilian.
        """
        name = name.strip()
        if not name:
            return None
        for rule in self.rules:
            if rule.matches(name, country):
                return rule.faction
        return CIVILIANS if inter.strip().lower() in CIVILIAN_INTER else None

    @property
    def factions(self) -> list[str]:
        """The factions the rules name, in order of first appearance."""
        return list(dict.fromkeys(r.faction for r in self.rules))


def load_actor_map(path: str | Path | None = None,
                   factions: Mapping[str, str] | None = None) -> ActorMap:
    """Read a mapping file (default: the bundled one).

    Args:
        path: the TOML file.
        factions: faction id -> kind of the scenario; when given, every rule's faction must be
            one of them or "civilians".

    Raises:
        AcledError: one line naming the file, the line, the field and what is allowed.
    """
    path = default_actor_file() if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AcledError(f"{path}: actor mapping file not found") from None
    except IsADirectoryError:
        raise AcledError(f"{path}: is a folder, not an actor mapping file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AcledError(f"{path}: cannot read the actor mapping: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AcledError(f"{path}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"rules"})
    if extra:
        raise AcledError(f"{path}: unknown key {extra[0]!r} at the top; the file holds only "
                         "[[rules]] tables")
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries:
        raise AcledError(f"{path}: no [[rules]]; each rule has faction and contains or matches")
    lines = [n for n, line in enumerate(text.splitlines(), start=1)
             if line.strip().replace(" ", "") == "[[rules]]"]
    allowed = None if factions is None else [*factions, CIVILIANS]
    rules = tuple(_rule(path, lines[i] if i < len(lines) else 0, entry, allowed)
                  for i, entry in enumerate(entries))
    return ActorMap(path, rules)


def _rule(path: Path, line: int, entry: object, allowed: list[str] | None) -> Rule:
    where = f"{path}, line {line}" if line else str(path)
    if not isinstance(entry, dict):
        raise AcledError(f"{where}: a rule must be a table with faction and contains or matches")
    unknown = sorted(set(entry) - RULE_KEYS)
    if unknown:
        raise AcledError(f"{where}: unknown key {unknown[0]!r}; a rule takes "
                         f"{', '.join(sorted(RULE_KEYS))}")
    faction = entry.get("faction")
    if not isinstance(faction, str) or not faction:
        raise AcledError(f"{where}: faction: missing; give a faction id of the scenario or "
                         f"'{CIVILIANS}'")
    if allowed is not None and faction not in allowed:
        raise AcledError(f"{where}: faction {faction!r} is not a faction of the scenario; "
                         f"allowed: {', '.join(allowed)}")
    contains = _strings(where, entry, "contains")
    matches = _strings(where, entry, "matches")
    if not contains and not matches:
        raise AcledError(f"{where}: rule for {faction!r} has neither contains nor matches; "
                         "give at least one name")
    patterns = []
    for text in matches:
        try:
            patterns.append(re.compile(text, re.IGNORECASE))
        except re.error as exc:
            raise AcledError(f"{where}: matches: {text!r} is not a regular expression "
                             f"({exc})") from None
    country = entry.get("country")
    if country is not None and country not in COUNTRIES:
        raise AcledError(f"{where}: country {country!r} is not one of "
                         f"{', '.join(COUNTRIES)}")
    return Rule(faction, tuple(s.lower() for s in contains), tuple(patterns), country, line)


def _strings(where: str, entry: dict, key: str) -> list[str]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise AcledError(f"{where}: {key}: expected a list of non-empty strings, got "
                         f"{value!r}")
    return value


@dataclass(frozen=True, slots=True)
class MappingReport:
    """How much of an export the mapping covers, by fatalities."""

    fatalities: int
    unmapped_actor1: int  # fatalities of events whose actor1 no rule maps
    unmapped_actor2: int  # fatalities of events with an actor2 no rule maps
    top_unmapped: tuple[tuple[str, int], ...]  # the largest unmapped actors (name, fatalities)

    @property
    def share_unmapped(self) -> float:
        """Share of fatalities whose actor1 (the perpetrator) could not be mapped."""
        return self.unmapped_actor1 / self.fatalities if self.fatalities else 0.0

    def text(self) -> str:
        """One line for people."""
        if not self.fatalities:
            return "actor mapping: no fatalities to map"
        second = self.unmapped_actor2 / self.fatalities
        line = (f"actor mapping: {self.share_unmapped:.1%} of {self.fatalities:,} fatalities "
                f"have an unmapped actor1, {second:.1%} an unmapped actor2")
        if self.top_unmapped:
            line += "; largest unmapped: " + ", ".join(
                f"{name} ({deaths:,})" for name, deaths in self.top_unmapped)
        return line


def map_events(events: pd.DataFrame, actors: ActorMap) -> tuple[pd.DataFrame, MappingReport]:
    """Add `perpetrator` (actor1's faction) and `victim` (actor2's) to events; the coverage.

    Unmapped actors get None. Each distinct (name, country, inter code) is looked up once.
    """
    out = events.copy()
    for actor, inter, column in (("actor1", "inter1", "perpetrator"),
                                 ("actor2", "inter2", "victim")):
        keys = out[[actor, "country", inter]].astype(str)
        unique = keys.drop_duplicates()
        found = {tuple(row): actors.faction_of(*row) for row in unique.itertuples(index=False)}
        out[column] = [found[key] for key in keys.itertuples(index=False, name=None)]
    deaths = out["fatalities"].to_numpy()
    first = out["perpetrator"].isna().to_numpy()
    second = (out["victim"].isna() & (out["actor2"].astype(str).str.strip() != "")).to_numpy()
    named = pd.concat([out.loc[first, ["actor1", "fatalities"]].set_axis(["name", "deaths"],
                                                                          axis=1),
                       out.loc[second, ["actor2", "fatalities"]].set_axis(["name", "deaths"],
                                                                          axis=1)])
    largest = named.groupby("name")["deaths"].sum().sort_values(ascending=False, kind="stable")
    top = tuple((str(n), int(d)) for n, d in largest.head(TOP_UNMAPPED).items() if d > 0)
    report = MappingReport(int(deaths.sum()), int(deaths[first].sum()),
                           int(deaths[second].sum()), top)
    return out, report
