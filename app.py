"""The sahel-sim dashboard: `solara run app.py --production`, then open http://localhost:8765.

Explore a scenario day by day, or compare a baseline with a counterfactual. Each browser tab
has its own model. The server listens on 127.0.0.1 unless told otherwise (`--host`, or the
HOST / SOLARA_HOST environment variables); `sim.dashboard.host` warns when it does not.
`--production` turns off Solara's hot reload, which re-imports numpy from a `.venv` inside the
project and breaks the page as soon as a file changes. The page is assembled here from the
components in `sim.dashboard`.
"""


from __future__ import annotations

import warnings

import solara
import solara.server.settings

from sim.dashboard import CompareView, ExploreView, check_bind_host

check_bind_host()
# The "runs on Solara" banner covered the bottom of the page (the event log's pager).
solara.server.settings.theme.show_banner = False
# Solara warns on every page load from 127.0.0.1 that it cannot use SameSite=None cookies
# without https; the dashboard is not embedded in other sites, so the lax cookie it falls back
# to is the right one.
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https",
                        category=UserWarning)


@solara.component
def Page() -> None:
    """The two views, in tabs."""
    solara.Title("sahel-sim dashboard")
    with solara.lab.Tabs():
        with solara.lab.Tab("Explore"):
            ExploreView()
        with solara.lab.Tab("Compare"):
            CompareView()
