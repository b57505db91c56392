"""The row builders the mechanisms hand to the ledger: known answers on two small events."""

from __future__ import annotations

import numpy as np

from sim.ledger import N_GROUPS
from sim.ledger_rows import event_rows, victim_rows


def test_event_rows_give_one_event_row_each_and_fighters_before_civilians():
    cells = np.array([10, 11])
    actor1, actor2 = np.array([0, 2]), np.array([1, -1])
    killed = np.array([[0, 3, 0], [0, 0, 1]])  # (E, F) fighters by faction
    wounded = np.array([[1, 2, 0], [0, 0, 0]])
    victims = np.zeros((2, N_GROUPS), dtype=np.int64)
    victims[0, 1], victims[1, 0], victims[1, 2] = 4, 5, 6
    events, casualties = event_rows(cells, 7, actor1, actor2, killed, wounded, victims)
    assert events.tolist() == [[10, 7, 0, 1], [11, 7, 2, -1]]
    assert casualties.tolist() == [
        [0, N_GROUPS + 0, 0, 0, 1],  # faction 0 only wounded
        [0, N_GROUPS + 1, 0, 3, 2],
        [1, N_GROUPS + 2, 2, 1, 0],  # the second event's fighters
        [0, 1, 0, 4, 0],  # civilians after every event's fighters
        [1, 0, 2, 5, 0],
        [1, 2, 2, 6, 0],
    ]


def test_victim_rows_skip_empty_groups_and_carry_each_events_perpetrator():
    victims = np.zeros((2, N_GROUPS), dtype=np.int64)
    victims[0, 0], victims[1, N_GROUPS - 1] = 2, 9
    rows = victim_rows(np.array([40, 41]), np.array([3, 5]), victims)
    assert rows.tolist() == [[40, 0, 3, 2, 0], [41, N_GROUPS - 1, 5, 9, 0]]
    assert victim_rows(np.array([40]), np.array([3]), victims[:1] * 0).shape == (0, 5)
