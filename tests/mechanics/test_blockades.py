"""Blockades: which towns an armed group besieges, and who is killed around them."""

import numpy as np
import pytest

from sim.mechanics.blockades import besiege, siege_victims

KEY = np.uint64(20240917)
NY = 5
TOWN = 2 * NY + 2  # the centre of a 5 x 5 map


def _besieged(controller: np.ndarray, share: float = 0.35) -> int:
    """The blockader of the central town (ring of radius 2: its 24 neighbours)."""
    n = controller.size
    influence = np.zeros((3, n))
    influence[2] = 1.0  # armed group 2 is the strongest wherever a cell is contested
    blockaded_by = np.full(n, -1, dtype=np.int8)
    besiege(np.array([TOWN]), controller, influence, np.arange(n), np.zeros(n, dtype=np.int64),
            blockaded_by, NY, 2, share)
    return int(blockaded_by[TOWN])


def test_the_group_holding_enough_of_the_ring_blockades_a_state_town():
    controller = np.zeros(25, dtype=np.int64)
    controller[:9] = 1  # group 1 holds 9 of the 24 ring cells: 0.375 >= 0.35
    assert _besieged(controller) == 1
    controller[8] = 0  # 8 of 24 = 0.33
    assert _besieged(controller) == -1


def test_contested_cells_count_half_for_the_strongest_group():
    controller = np.zeros(25, dtype=np.int64)
    controller[:6] = 1
    controller[13:25] = -1  # 12 contested cells: 6 for group 2, against group 1's 6
    controller[TOWN] = 0
    assert _besieged(controller, share=0.25) == 1  # the first of equals
    controller[:6] = 0
    assert _besieged(controller, share=0.25) == 2


def test_a_town_held_by_an_armed_group_is_not_blockaded():
    controller = np.ones(25, dtype=np.int64)
    assert _besieged(controller) == -1


def _siege(exposure: float, days: int = 200, displaced_people: float = 100_000.0,
           dialogue: float = 0.0, country_of_town: int = 1):
    """Kill around one blockaded town for `days` days; what was lost and booked."""
    residents = np.zeros((2, 25))
    residents[:, TOWN] = (60_000.0, 40_000.0)
    displaced = np.zeros(25)
    displaced[TOWN] = displaced_people
    by_origin = np.zeros(3)
    by_origin[country_of_town] = displaced_people
    country = np.full(25, country_of_town, dtype=np.int64)
    blockaded_by = np.full(25, -1, dtype=np.int8)
    blockaded_by[TOWN] = 1
    start = (residents.sum(), displaced.sum())
    booked = 0
    for day in range(days):
        events, casualties = siege_victims(
            np.array([TOWN]), blockaded_by, np.array([-1, 0]), residents,
            np.ones((1, 2)), displaced, by_origin, country, 10.0,
            np.array([0.0, dialogue, 0.0, 0.0]), exposure, KEY, day)
        assert (events[:, 0] == TOWN).all() and (casualties[:, 2] == 0).all()
        booked += int(casualties[:, 3].sum())
    lost_residents, lost_displaced = start[0] - residents.sum(), start[1] - displaced.sum()
    assert by_origin[country_of_town] == pytest.approx(displaced[TOWN])  # a refuge at home
    assert booked == pytest.approx(lost_residents + lost_displaced)  # every victim booked
    return lost_residents / days, lost_displaced / days


def test_the_displaced_sheltering_in_a_besieged_town_share_its_residents_exposure():
    # 10 deaths per 100,000 exposed people a day: residents 100,000, displaced 100,000.
    residents, displaced = _siege(exposure=1.0)
    assert residents + displaced == pytest.approx(20.0, rel=0.1)
    assert displaced / (residents + displaced) == pytest.approx(0.5, abs=0.05)
    residents, displaced = _siege(exposure=0.5)
    assert residents + displaced == pytest.approx(15.0, rel=0.1)
    assert displaced / (residents + displaced) == pytest.approx(1 / 3, abs=0.05)


def test_with_no_exposure_the_displaced_are_spared_and_the_draws_are_unchanged():
    residents, displaced = _siege(exposure=0.0)
    assert displaced == 0.0 and residents == pytest.approx(10.0, rel=0.1)
    # No displaced people: the same victims whatever the exposure (no extra draw is made).
    assert _siege(exposure=0.0, displaced_people=0.0) == _siege(exposure=1.0,
                                                                displaced_people=0.0)


def test_an_elected_governments_dialogue_cuts_the_killings_in_its_country_only():
    # 10 per 100,000 a day on 200,000 exposed people: 20 a day, 8 under a dialogue of 0.6.
    residents, displaced = _siege(exposure=1.0, dialogue=0.6)
    assert residents + displaced == pytest.approx(8.0, rel=0.12)
    residents, displaced = _siege(exposure=1.0, dialogue=0.6, country_of_town=2)
    assert residents + displaced == pytest.approx(20.0, rel=0.1)  # country 2 has no dialogue
