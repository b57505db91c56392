"""Shared fixtures: bundled scenarios, short test scenarios and finished model runs."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.model import SahelModel

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASELINE_EVENTS = [
    "mali_north_offensive", "africa_corps_burkina_arrives", "niger_recruits",
    "africa_corps_niger_arrives", "bear_brigade_arrives", "africa_corps_mali_reinforced",
    "bear_brigade_reinforced", "bear_brigade_withdraws"]


def write_short_scenario(folder: Path, days_end: str = "2023-04-30", extra: str = "") -> Path:
    """A baseline variant ending early (its later events removed), for fast tests."""
    path = folder / "short.toml"
    path.write_text(
        f'extends = "{SCENARIOS / "baseline.toml"}"\n'
        f'name = "short"\nend = {days_end}\n'
        f"remove_events = {BASELINE_EVENTS!r}\n".replace("'", '"') + extra,
        encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def baseline() -> sim.Scenario:
    return sim.load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def short_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_short_scenario(tmp_path_factory.mktemp("short"))


@pytest.fixture(scope="session")
def baseline_run(baseline: sim.Scenario) -> SahelModel:
    return SahelModel(baseline, rng=11).run()
