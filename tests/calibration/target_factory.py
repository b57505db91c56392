"""A hand-made calibration target for the statistics' tests: any statistic, any comparison."""

from __future__ import annotations

import datetime as dt

from sim.calibration.comparisons import Comparison
from sim.calibration.targets import Target


def target(statistic: str, **compare) -> Target:
    name = compare.pop("name", statistic)
    return Target(name=name, low=0.0, high=None, value=None, unit="u", period="p", place="p",
                  definition="d", source="s", source_date=dt.date(2024, 1, 1), confidence="M",
                  compare=Comparison(statistic=statistic, **compare))
