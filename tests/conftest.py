"""Shared fixtures: bundled scenarios, short test scenarios and finished model runs."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

import sim
from sim.model import SahelModel

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
def write_short_scenario(folder: Path, days_end: str = "2023-04-30", extra: str = "") -> Path:
    """A baseline variant ending early (its events after the end removed), for fast tests."""
    baseline = SCENARIOS / "baseline.toml"
    events = tomllib.loads(baseline.read_text(encoding="utf-8"))["events"]
    late = [e["id"] for e in events if str(e["date"]) > days_end]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "short.toml"
    path.write_text(f'extends = "{baseline}"\nname = "short"\nend = {days_end}\n'
                    f"remove_events = {json.dumps(late)}\n{extra}", encoding="utf-8")
    return path


def territory_target(name: str, low: float, high: float, definition: str) -> str:
    """A targets.toml entry on Burkina Faso's territory outside state control, Feb 2023."""
    return f"""[[targets]]
name = "{name}"
low = {low}
high = {high}
unit = "share"
period = "Feb 2023"
place = "Burkina Faso"
definition = "{definition}"
source = "test"
source_date = 2023-02-15
confidence = "M"
[targets.compare]
statistic = "territory_share"
country = "BFA"
date = 2023-02-15
category = "not_state"
"""


@pytest.fixture(scope="session")
def baseline() -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def baseline_at_setup(baseline: sim.Scenario) -> sim.Scenario:
    """The baseline without its spin-up: the world on day 0 is the set-up's (ODD 5)."""
    return baseline.model_copy(update={"spin_up_days": 0})


@pytest.fixture(scope="session")
def short_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_short_scenario(tmp_path_factory.mktemp("short"))


@pytest.fixture(scope="session")
def baseline_run(baseline: sim.Scenario) -> SahelModel:
    return SahelModel(baseline, rng=11).run()
