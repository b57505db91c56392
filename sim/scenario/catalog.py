"""The bundled scenarios (`scenarios/` at the top of the repository) and finding them by name."""

from __future__ import annotations

from pathlib import Path

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def bundled_scenarios() -> list[Path]:
    """The scenario files shipped in `scenarios/`."""
    return sorted(SCENARIO_DIR.glob("*.toml"))


def resolve_scenario_path(name: str) -> Path:
    """A path as given, or a bundled scenario's name (`baseline`: scenarios/baseline.toml)."""
    path = Path(name)
    if path.exists() or path.suffix == ".toml":
        return path
    bundled = SCENARIO_DIR / f"{name}.toml"
    return bundled if bundled.exists() else path
