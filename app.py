"""The sahel-sim dashboard: `solara run app.py --production`, then open http://localhost:8765.

Explore a scenario day by day, or compare a baseline with a counterfactual. Each browser tab
has its own model. The server listens on 127.0.0.1 unless told otherwise (`--host`, or the
HOST / SOLARA_HOST environment variables); `sim.dashboard.host` warns when it does not.
`--production` turns off Solara's hot reload, which re-imports numpy from a `.venv` inside the
project and breaks the page as soon as a file changes. The page is assembled here from the
components in `sim.dashboard`.
"""


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
