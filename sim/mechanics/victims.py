"""Civilian victims, drawn in one place for every process that kills civilians.

The victims of an event are split over the communities living in its cell in proportion to
residents times the perpetrator's `target_bias` (residents alone where the bias spares every
community living there), as a multinomial draw, at most the people of each group who live
there; they are removed from the residents and booked in the ledger against the event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

from sim.ledger_rows import victim_rows
from sim.streams import multinomial

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.world import World


@numba.njit(cache=True)
def draw_victims(residents: np.ndarray, cell: int, bias: np.ndarray, n: int, out: np.ndarray,
                 key: np.uint64, day: int, item: int, draw: int) -> None:
    """Draw `n` victims in `cell` by community into `out` (G,) and remove them from residents.

    Uses two draws per community group from `draw` on.
    """
    g = residents.shape[0]
    weights = np.empty(g)
    total = 0.0
    for j in range(g):
        weights[j] = max(residents[j, cell], 0.0) * bias[j]
        total += weights[j]
    if total <= 0.0:
        for j in range(g):
            weights[j] = max(residents[j, cell], 0.0)
    multinomial(n, weights, out, key, day, item, draw)
    for j in range(g):
        out[j] = min(out[j], int(np.floor(max(residents[j, cell], 0.0))))
        residents[j, cell] -= out[j]


def book_victims(world: World, ledger: Ledger, events: np.ndarray, cells: np.ndarray,
                 perpetrators: np.ndarray, victims: np.ndarray) -> None:
    """Book civilian victims (E, G) of events in the ledger."""
    ledger.book_rows(victim_rows(events, perpetrators, victims))
