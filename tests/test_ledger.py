"""The ledger books each death once, with its event; today's sums and the run's cubes agree."""

import numpy as np
import pytest

from sim.ledger import CIVILIANS, N_GROUPS, NONE, Ledger


class FakeWorld:
    """The few world arrays the ledger's day summary reads: 4 cells, 2 countries + abroad."""

    region = np.array([0, 0, 1, -1])
    country_bucket = np.array([0, 0, 1, 3])
    state_side = np.array([True, False])
    capital_cell = np.array([1, 2, -1])
    n_cells = 4
    grievance = np.zeros((2 * N_GROUPS, 2))


def test_bookings_and_todays_sums():
    ledger = Ledger(n_factions=2, capacity=1)  # grows as needed
    ledger.open_day(0)
    clash = ledger.add_events("clash", np.array([0, 2]), np.array([1, 0]), np.array([0, 1]))
    ledger.book(clash, N_GROUPS + np.array([0, 1]), np.array([1, 0]), np.array([3, 4]),
                np.array([5, 0]))
    massacre = ledger.add_events("violence_against_civilians", np.array([2]), 1, CIVILIANS)
    ledger.book(massacre[0], np.array([0, 3]), 1, np.array([7, 2]))
    attack = ledger.add_events("complex_attack", np.array([1]), 1, 0)
    ledger.book(attack[0], N_GROUPS + 0, 1, 10, 20)
    today = ledger.today(FakeWorld())
    assert today.deaths_per_cell.tolist() == [3, 10, 13, 0]
    assert today.state_killed.tolist() == [13, 0, 0]  # faction 0 is state side
    assert today.enemies_killed.tolist() == [0, 4, 0]
    assert today.capital_attacked.tolist() == [True, False, False]
    civ = today.civilian_deaths
    assert civ[1 * N_GROUPS + 0, 1] == 7 and civ[1 * N_GROUPS + 3, 1] == 2 and civ.sum() == 9
    # A new day starts from zero; the whole run keeps everything.
    ledger.open_day(1)
    ledger.add_events("deployment", np.array([3]), 0, NONE, note="unit_a")
    assert ledger.today(FakeWorld()).deaths_per_cell.sum() == 0
    assert ledger.event_fatalities().tolist() == [3, 4, 9, 10, 0]
    cube = ledger.killed_cube(2, FakeWorld.country_bucket)
    assert cube.sum() == 26 and cube[0, 1, 0, 1] == 9  # civilians in country 1 by faction 1
    wounded = ledger.wounded_cube(2, FakeWorld.country_bucket)
    assert wounded.sum() == 25 and wounded[0, 0, 0] == 25
    assert ledger.notes == {4: "unit_a"}


def test_today_is_recomputed_after_new_bookings():
    ledger = Ledger(n_factions=2)
    ledger.open_day(0)
    event = ledger.add_events("clash", np.array([0]), 0, 1)
    assert ledger.today(FakeWorld()).deaths_per_cell.sum() == 0
    ledger.book(event[0], N_GROUPS + 1, 0, 6)
    assert ledger.today(FakeWorld()).deaths_per_cell.sum() == pytest.approx(6)


def test_todays_deaths_per_cell_start_clean_each_day_and_add_up():
    ledger = Ledger(n_factions=2)
    cumulative = np.zeros(FakeWorld.n_cells)
    for day, cells, killed in ((0, [0, 0, 2], [1, 2, 3]), (1, [1], [4]), (2, [], [])):
        ledger.open_day(day)
        events = ledger.add_events("clash", np.array(cells, dtype=np.int64), 0, 1)
        if cells:
            ledger.book(events, N_GROUPS + 1, 0, np.array(killed))
        expected = np.bincount(cells, weights=killed, minlength=FakeWorld.n_cells)
        assert ledger.today(FakeWorld()).deaths_per_cell.tolist() == expected.tolist()
        ledger.add_deaths_today(FakeWorld(), cumulative)
    assert cumulative.tolist() == [3, 4, 3, 0]


def test_the_deaths_layer_is_the_ledgers_deaths_per_cell(baseline_run):
    ledger = baseline_run.ledger
    cells = ledger.events["cell"][ledger.casualties["event"]]
    booked = np.bincount(cells, weights=ledger.casualties["killed"],
                         minlength=baseline_run.world.n_cells)
    assert np.allclose(baseline_run.world.deaths, booked, rtol=0, atol=1e-6)
