"""Helpers for the scenario tests: scenario files written next to a test, and their errors."""

from pathlib import Path

import pytest

import sim

from ..conftest import SCENARIOS

BASE = SCENARIOS / "baseline.toml"


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def child(tmp_path: Path, body: str) -> Path:
    return write(tmp_path, f'extends = "{BASE}"\n{body}')


def error_of(path: Path) -> str:
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message
