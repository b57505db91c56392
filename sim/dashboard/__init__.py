"""The Solara dashboard (`solara run app.py`): explore one scenario live, compare two.

`app.py` only assembles the page from the components exported here. Modules: `state` (one
session's model, scenario files), `figures` (matplotlib to PNG, no Solara), `controls`
(parameter fields from the scenario schema), `explore` and `compare` (the two views), `host`
(the loopback check).
"""

from sim.dashboard.compare import CompareView
from sim.dashboard.explore import ExploreView
from sim.dashboard.host import check_bind_host

__all__ = ["CompareView", "ExploreView", "check_bind_host"]
