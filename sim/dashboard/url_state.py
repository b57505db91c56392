"""What the explore page's URL keeps, so that a reload or a shared link replays the same view."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from sim.geography import COUNTRIES


@dataclass(frozen=True)
class ViewState:
    """What the URL keeps: scenario (file stem), seed, parameter overrides, day, map zoom."""

    scenario: str | None = None
    seed: int | None = None
    overrides: tuple[tuple[str, float], ...] = ()
    day: int = 0
    zoom: str = "region"

    def query(self) -> str:
        """The URL query string, e.g. `scenario=baseline&seed=7&day=120&p.x.y=0.5`."""
        items: list[tuple[str, str]] = []
        if self.scenario:
            items.append(("scenario", self.scenario))
        if self.seed is not None:
            items.append(("seed", str(self.seed)))
        items += [(f"p.{name}", f"{value:g}") for name, value in self.overrides]
        items.append(("day", str(self.day)))
        if self.zoom != "region":
            items.append(("zoom", self.zoom))
        return urllib.parse.urlencode(items, safe=".:")

    @classmethod
    def parse(cls, search: str | None) -> ViewState:
        """Read a query string; malformed values are ignored (the defaults apply)."""
        fields = urllib.parse.parse_qsl((search or "").lstrip("?"))
        scenario, seed, day, zoom = None, None, 0, "region"
        overrides: list[tuple[str, float]] = []
        for key, value in fields:
            try:
                if key == "scenario":
                    scenario = value
                elif key == "seed":
                    seed = int(value)
                elif key == "day":
                    day = max(0, int(value))
                elif key == "zoom" and value in ("region", *COUNTRIES):
                    zoom = value
                elif key.startswith("p."):
                    overrides.append((key[2:], float(value)))
            except ValueError:
                continue
        return cls(scenario, seed, tuple(sorted(overrides)), day, zoom)
