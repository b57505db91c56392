"""The Solara dashboard (`solara run app.py`): explore one scenario live, compare two.

`app.py` only assembles the page from the components exported here; the figures, the
per-session state and the parameter controls live in their own modules.
"""

from sim.dashboard.explore import ExploreView
from sim.dashboard.host import check_bind_host

__all__ = ["ExploreView", "check_bind_host"]
