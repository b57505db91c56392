"""Combat mechanics against Lanchester's and Deitchman's analytic results."""

import numpy as np
import pytest

from sim.mechanics import combat


def test_square_law_deterministic_limit_matches_closed_form():
    a0, b0, alpha, beta, dt = 1000.0, 800.0, 0.02, 0.03, 1e-3
    times = np.arange(0, 20, dt)
    a, b = a0, b0
    numeric = []
    for _ in times:
        numeric.append((a, b))
        a, b = combat.square_law_step(a, b, alpha, beta, dt)
    exact_a, exact_b = combat.square_law_solution(a0, b0, alpha, beta, times)
    numeric = np.array(numeric)
    alive = exact_b > 0
    assert np.allclose(numeric[alive, 0], exact_a[alive], rtol=1e-3)
    assert np.allclose(numeric[alive, 1], exact_b[alive], rtol=1e-3)


def test_square_law_invariant_and_winner():
    # alpha A^2 - beta B^2 is conserved; the side with the larger alpha A0^2 wins.
    a0, b0, alpha, beta, dt = 1000.0, 800.0, 0.02, 0.03, 1e-4
    a, b = a0, b0
    while b > 0 and a > 0:
        a, b = combat.square_law_step(a, b, alpha, beta, dt)
    assert b == 0.0
    assert a == pytest.approx(np.sqrt((alpha * a0**2 - beta * b0**2) / alpha), rel=1e-3)


def test_mixed_law_parabolic_invariant_and_winner():
    # Deitchman: dA = -k G, dG = -c A G  =>  c (A0^2 - A^2) / 2 = k (G0 - G).
    a0, g0, c, k, dt = 500.0, 200.0, 2e-4, 0.1, 1e-3
    a, g = a0, g0
    for _ in range(20_000):
        a, g = combat.mixed_law_step(a, g, c, k, dt)
    assert c * (a0**2 - a**2) / 2 == pytest.approx(k * (g0 - g), rel=2e-3)
    # The column wins iff c A0^2 > 2 k G0.
    for g_start, column_wins in ((200.0, True), (300.0, False)):
        a, g = a0, g_start
        while a > 0 and g > 1e-6:
            a, g = combat.mixed_law_step(a, g, c, k, 1e-2)
        assert (a > 0) == column_wins == (c * a0**2 > 2 * k * g_start)


def test_expected_casualties_aimed_and_ambush():
    hostility = np.array([[0.0, 1.0], [1.0, 0.0]])
    firepower = np.array([1.0, 2.0])
    guerrilla = np.array([False, True])
    forces = np.array([[100.0, 100.0], [50.0, 50.0]])  # two cells
    ambush = np.array([False, True])
    e = combat.expected_casualties(forces, hostility, firepower, guerrilla, ambush,
                                   aimed_rate=0.01, area_rate=1e-4, ambush_multiplier=3.0)
    # Cell 0, aimed fire both ways: A loses k fp_B B = 0.01*2*50; B loses 0.01*1*100.
    assert e[0, 1, 0] == pytest.approx(1.0)
    assert e[1, 0, 0] == pytest.approx(1.0)
    # Cell 1, ambush: the column suffers 3x aimed fire; hidden guerrillas suffer area fire.
    assert e[0, 1, 1] == pytest.approx(3.0)
    assert e[1, 0, 1] == pytest.approx(1e-4 * 100 * 50)
    assert e[0, 0].sum() == 0 and e[1, 1].sum() == 0


def test_stochastic_engagements_average_to_expectation_and_add_up():
    rng = np.random.default_rng(5)
    hostility = np.array([[0.0, 1.0], [1.0, 0.0]])
    presence = np.zeros((2, 10))
    presence[:, 3] = [400.0, 300.0]
    moved = np.zeros(10, dtype=bool)
    draws = []
    for _ in range(2000):
        r = combat.resolve_engagements(
            rng, presence, moved, hostility, np.ones(2), np.array([False, True]), 1.0, 0.0,
            0.01, 1e-4, 3.0, 0.3, 0.5)
        killed = r.killed.sum(axis=1)
        assert np.array_equal(killed + r.wounded, r.losses)
        assert (r.losses <= 0.5 * presence[:, r.cells]).all()
        draws.append(r.losses[:, 0])
    mean = np.mean(draws, axis=0)
    assert mean[0] == pytest.approx(0.01 * 300, rel=0.05)
    assert mean[1] == pytest.approx(0.01 * 400, rel=0.05)


def test_no_engagement_between_allies():
    presence = np.zeros((2, 4))
    presence[:, 1] = 100.0
    assert combat.hostile_cells(presence, np.zeros((2, 2))).size == 0
    assert list(combat.hostile_cells(presence, np.array([[0, 1], [1, 0]]))) == [1]


def test_apportion_sums_exactly():
    rng = np.random.default_rng(0)
    totals = np.array([[7, 0], [3, 11]])
    share = rng.random((2, 2, 2))
    out = combat.apportion(totals, share, rng)
    assert np.array_equal(out.sum(axis=1), totals)


def test_violence_victims_capped_per_cell_in_order():
    from sim.mechanics.violence import cap_by_residents

    cells = np.array([5, 2, 5, 5])
    victims = np.array([[3, 1], [4, 0], [2, 2], [9, 9]])
    residents = np.array([[6, 2], [10, 10], [6, 2], [6, 2]])
    out = cap_by_residents(cells, victims, residents)
    assert out.tolist() == [[3, 1], [4, 0], [2, 1], [1, 0]]
