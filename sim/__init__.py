"""sahel-sim: an agent-based scenario simulator of the central Sahel security environment."""

from sim.model import SahelModel
from sim.scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"
__all__ = ["SahelModel", "Scenario", "ScenarioError", "__version__", "load_scenario"]
