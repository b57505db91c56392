"""The rows a mechanism hands to the ledger (`Ledger.log`, `Ledger.book_rows`), built by kernels.

Kept apart from `sim.ledger`, which stores and sums them: these are the builders the
mechanisms call (`sim.mechanics.drones`, `sim.mechanics.victims`).
"""

from __future__ import annotations

import numba
import numpy as np

from sim.ledger import N_GROUPS


@numba.njit(cache=True)
def event_rows(cells, mechanism, actor1, actor2, killed, wounded, victims):
    """The ledger's rows (`Ledger.log`) of E events whose initiator killed them all.

    `killed` and `wounded` (E, F) are fighters by faction, `victims` (E, G) civilians by
    community; casualty rows come event by event, every event's fighters before the civilians.
    """
    n_e = cells.size
    events = np.empty((n_e, 4), dtype=np.int64)
    n_rows = 0
    for e in range(n_e):
        events[e, 0], events[e, 1], events[e, 2], events[e, 3] = (
            cells[e], mechanism, actor1[e], actor2[e])
        for f in range(killed.shape[1]):
            n_rows += killed[e, f] > 0 or wounded[e, f] > 0
        for j in range(victims.shape[1]):
            n_rows += victims[e, j] > 0
    casualties = np.zeros((n_rows, 5), dtype=np.int64)
    r = 0
    for e in range(n_e):  # fighters, then civilians, as booked before
        for f in range(killed.shape[1]):
            if killed[e, f] > 0 or wounded[e, f] > 0:
                casualties[r, 0], casualties[r, 1], casualties[r, 2] = e, N_GROUPS + f, actor1[e]
                casualties[r, 3], casualties[r, 4] = killed[e, f], wounded[e, f]
                r += 1
    for e in range(n_e):
        for j in range(victims.shape[1]):
            if victims[e, j] > 0:
                casualties[r, 0], casualties[r, 1], casualties[r, 2] = e, j, actor1[e]
                casualties[r, 3] = victims[e, j]
                r += 1
    return events, casualties


@numba.njit(cache=True)
def victim_rows(events, perpetrators, victims):
    """Casualty rows (R, 5) of civilian victims (E, G) of logged events, event by event."""
    n_rows = 0
    for e in range(events.size):
        for j in range(victims.shape[1]):
            n_rows += victims[e, j] > 0
    rows = np.zeros((n_rows, 5), dtype=np.int64)
    r = 0
    for e in range(events.size):
        for j in range(victims.shape[1]):
            if victims[e, j] > 0:
                rows[r, 0], rows[r, 1], rows[r, 2] = events[e], j, perpetrators[e]
                rows[r, 3] = victims[e, j]
                r += 1
    return rows
