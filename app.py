"""The sahel-sim dashboard: `solara run app.py`, then open http://localhost:8765.

Explore a scenario day by day, or compare a baseline with a counterfactual. Each browser tab
has its own model. The page is assembled here from the components in `sim.dashboard`.
"""

# ruff: noqa: N802 - Solara components are named in CamelCase, like React's.

from __future__ import annotations

import solara

from sim.dashboard import CompareView, ExploreView, check_bind_host

check_bind_host()


@solara.component
def Page() -> None:
    """The two views, in tabs."""
    solara.Title("sahel-sim dashboard")
    with solara.lab.Tabs():
        with solara.lab.Tab("Explore"):
            ExploreView()
        with solara.lab.Tab("Compare"):
            CompareView()
