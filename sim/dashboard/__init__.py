"""The Solara dashboard (`solara run app.py`): explore one scenario live, compare two.

`app.py` only assembles the page from the components exported here. Modules: `state` (one
session's model, the scenario files offered), `figures` (matplotlib to PNG, no Solara),
`controls` (parameter fields from the scenario schema), `explore` and `compare` (the two views),
`host` (the loopback check). The components are imported on first use, so `state` and `figures`
load without Solara (the benchmark uses them alone).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {"CompareView": "sim.dashboard.compare", "ExploreView": "sim.dashboard.explore",
            "check_bind_host": "sim.dashboard.host"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a component's module when the component is first asked for."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim.dashboard' has no attribute '{name}'")
    return getattr(import_module(_EXPORTS[name]), name)
