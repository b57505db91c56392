"""Levers: policy choices written as fields of a scenario's dated events.

In the vocabulary of exploratory modelling (the EMA Workbench's), the behavioural parameters
of `tunable_parameters` are *uncertainties* (things nobody controls) and the dated events are
*levers* (choices: when a unit withdraws, how many are deployed, the restraint ordered from a
date). A lever is named `events.<event id>.<field>`:

- `date` of any event with an id (swept as whole days from the scenario's start; its range is
  written as ISO dates, `events.bear_brigade_withdraws.date=2024-06-01:2024-12-31`, and must
  lie inside the scenario's period);
- `strength` of a deploy or reinforce event (personnel, a whole number);
- `restraint` of a set_restraint event (0-1).

`apply_settings` sets parameters and levers alike; `lever` resolves one name with one-line
errors (an unknown event id, a field the event does not have).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.scenario.errors import ScenarioError, did_you_mean
from sim.scenario.fields import limits
from sim.scenario.schema import Event
from sim.scenario.tunable import apply_overrides

LEVER_PREFIX = "events."
LEVER_FIELDS: dict[str, tuple[str, ...]] = {
    "date": ("deploy", "withdraw", "reinforce", "set_restraint", "set_posture"),
    "strength": ("deploy", "reinforce"),
    "restraint": ("set_restraint",),
}
_UNITS = {"date": "days from the start", "strength": "personnel", "restraint": "share"}


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@dataclass(frozen=True, slots=True)
class Lever:
    """One sweepable field of a dated event, on a numeric scale.

    Dates are days from the scenario's start (`origin`); `low` and `high` are the bounds the
    schema allows (the scenario's period for dates); `value` is the scenario's own setting
    (None when the event leaves it unset, e.g. a deploy without a strength).
    """

    name: str
    event: str
    field: str
    action: str
    kind: str  # "date", "integer" or "real"
    value: float | None
    low: float
    high: float
    origin: dt.date

    @property
    def unit(self) -> str:
        """Unit of the numeric scale."""
        return _UNITS[self.field]

    @property
    def integer(self) -> bool:
        """True if the lever takes whole numbers (dates as days, strengths)."""
        return self.kind != "real"

    def to_setting(self, number: float) -> Any:
        """The value written into the scenario for a number on the lever's scale."""
        if self.kind == "date":
            return (self.origin + dt.timedelta(days=round(number))).isoformat()
        if self.kind == "integer":
            return round(number)
        return float(number)

    def format(self, number: float) -> str:
        """A number on the lever's scale for people (an ISO date for dates)."""
        if self.kind == "date":
            return str(self.to_setting(number))
        return f"{number:.4g}"

    def parse(self, text: str, origin: str) -> float:
        """A bound as written by a user (an ISO date for dates) on the lever's scale.

        Raises:
            ScenarioError: not a date (or number), or outside the lever's bounds.
        """
        text = text.strip()
        if self.kind == "date":
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                raise ScenarioError(f"{origin}: {self.name}: '{text}' is not a date such as "
                                    "2024-08-30") from None
            end = self.origin + dt.timedelta(days=round(self.high))
            if not self.origin <= day <= end:
                raise ScenarioError(f"{origin}: {self.name}: {day} is outside the scenario's "
                                    f"period {self.origin} to {end}")
            return float((day - self.origin).days)
        try:
            number = float(text)
        except ValueError:
            raise ScenarioError(f"{origin}: {self.name}: '{text}' is not a number") from None
        if not self.low <= number <= self.high:
            raise ScenarioError(f"{origin}: {self.name}: {text} is outside the field's bounds "
                                f"[{self.low:g}, {self.high:g}]")
        return number


def is_lever(name: str) -> bool:
    """True for a lever's name (`events.<id>.<field>`)."""
    return name.startswith(LEVER_PREFIX)


def _lever_limits(name: str) -> tuple[float, float]:
    lo, hi = limits(Event.model_fields[name])
    return float(lo), float(hi)


def lever(name: str, data: Mapping[str, Any], origin: str = "--param") -> Lever:
    """Resolve a lever's name against a scenario (a merged TOML mapping or a JSON dump).

    Raises:
        ScenarioError: a malformed name, an unknown event id, or a field the event does not
            have (one line, with what is allowed).
    """
    parts = name.split(".")
    if len(parts) != 3 or parts[0] != "events":
        raise ScenarioError(f"{origin}: {name}: a lever is named events.<event id>.<field>, "
                            f"e.g. events.bear_brigade_withdraws.date")
    _, event_id, field = parts
    events = {e.get("id"): e for e in data.get("events", []) if isinstance(e, dict)}
    known = sorted(k for k in events if k)
    if event_id not in events:
        raise ScenarioError(f"{origin}: {name}: no event with id '{event_id}'"
                            f"{did_you_mean(event_id, known)}; events with ids: "
                            f"{', '.join(known) or 'none'}")
    event = events[event_id]
    action = str(event.get("action"))
    allowed = [f for f, actions in LEVER_FIELDS.items() if action in actions]
    if field not in allowed:
        raise ScenarioError(f"{origin}: {name}: a '{action}' event has no lever '{field}'; "
                            f"its levers: {', '.join(allowed)}")
    start, end = _date(data["start"]), _date(data["end"])
    if field == "date":
        return Lever(name, event_id, field, action, "date",
                     float((_date(event["date"]) - start).days), 0.0,
                     float((end - start).days), start)
    low, high = _lever_limits(field)
    value = event.get(field)
    return Lever(name, event_id, field, action, "integer" if field == "strength" else "real",
                 None if value is None else float(value), low, high, start)


def event_levers(data: Mapping[str, Any]) -> dict[str, Lever]:
    """Every lever of a scenario's events that have an id, in event order."""
    out: dict[str, Lever] = {}
    for event in data.get("events", []):
        if not isinstance(event, dict) or not event.get("id"):
            continue
        for field, actions in LEVER_FIELDS.items():
            if event.get("action") in actions:
                name = f"{LEVER_PREFIX}{event['id']}.{field}"
                out[name] = lever(name, data)
    return out


def default_range(item: Lever, data: Mapping[str, Any]) -> tuple[float, float] | None:
    """A lever's default range for exploration, or None if it has none.

    Dates move between the neighbouring events acting on the same unit or faction (exclusive)
    inside the scenario's period, so a deployment stays before its withdrawal; strengths range
    from 0 to twice the scenario's value (None if the event sets none); restraint over [0, 1].
    """
    if item.kind == "date":
        low, high = item.low, item.high
        events = [e for e in data.get("events", []) if isinstance(e, dict)]
        this = next(e for e in events if e.get("id") == item.event)
        target = ("unit", this["unit"]) if this.get("unit") else ("faction", this.get("faction"))
        for other in events:
            if other is this or other.get(target[0]) != target[1]:
                continue
            day = float((_date(other["date"]) - item.origin).days)
            if day < item.value:
                low = max(low, day + 1)
            elif day > item.value:
                high = min(high, day - 1)
        return (low, high) if low < high else None
    if item.kind == "integer":
        return None if not item.value else (0.0, 2.0 * item.value)
    return (item.low, item.high)


def apply_levers(data: Mapping[str, Any], settings: Mapping[str, Any],
                 origin: str = "overrides") -> dict[str, Any]:
    """Set levers (`events.<id>.<field>` -> value as written in a scenario) in a copy of data."""
    out = copy.deepcopy(dict(data))
    events = out.get("events", [])
    for name, value in settings.items():
        item = lever(name, out, origin)
        for i, event in enumerate(events):
            if isinstance(event, dict) and event.get("id") == item.event:
                events[i] = {**event, item.field: value}
    return out


def apply_settings(data: Mapping[str, Any], settings: Mapping[str, Any],
                   origin: str = "overrides") -> dict[str, Any]:
    """Set parameters (dotted paths of `tunable_parameters`) and levers in a copy of data."""
    params = {k: v for k, v in settings.items() if not is_lever(k)}
    levers = {k: v for k, v in settings.items() if is_lever(k)}
    out = apply_overrides(dict(data), params, origin) if params else copy.deepcopy(dict(data))
    return apply_levers(out, levers, origin) if levers else out
