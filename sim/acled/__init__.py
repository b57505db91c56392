"""Real data in and out: a user's ACLED (or UCDP GED) export against the model.

Nothing is downloaded: the user supplies the file. Modules, bottom to top: `errors`,
`reading` (the export, one-line errors for bad files), `actors` (ACLED actors -> the model's
factions through `sim/data/acled_actors.toml`), `aggregate` (country-months and PRIO-GRID
cell-months), `ensembles` (an ensemble folder's draws), `scoring` (CRPS, interval score,
coverage, ignorance on VIEWS' bins), `plots`, `evaluation` (`score_ensemble`: everything
`sahel-sim score` does) and `targets` (calibration targets from the export).
"""

from sim.acled.actors import ActorMap, MappingReport, load_actor_map, map_events
from sim.acled.aggregate import cell_months, country_months, parse_months, sahel_cells
from sim.acled.errors import AcledError
from sim.acled.evaluation import ScoreResult, score_ensemble
from sim.acled.reading import EventFile, read_events
from sim.acled.scoring import VIEWS_BINS, crps, ignorance, interval_score, score_units

__all__ = [
    "VIEWS_BINS",
    "AcledError",
    "ActorMap",
    "EventFile",
    "MappingReport",
    "ScoreResult",
    "cell_months",
    "country_months",
    "crps",
    "ignorance",
    "interval_score",
    "load_actor_map",
    "map_events",
    "parse_months",
    "read_events",
    "sahel_cells",
    "score_ensemble",
    "score_units",
]
