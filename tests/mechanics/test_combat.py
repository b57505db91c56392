"""Combat against Lanchester's and Deitchman's analytic results, and its stochastic kernel."""

import numpy as np
import pytest

from sim.mechanics import combat
from sim.streams import RandomStreams

HOSTILE = np.array([[0.0, 1.0], [1.0, 0.0]])
ENEMIES = np.array([2, 1], dtype=np.int64)  # bit masks: 0 fights 1, 1 fights 0


def square_law_solution(a0: float, b0: float, alpha: float, beta: float, t: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Closed form of the square law: A(t) = A0 cosh(gt) - sqrt(beta/alpha) B0 sinh(gt)."""
    g = np.sqrt(alpha * beta)
    a = a0 * np.cosh(g * t) - np.sqrt(beta / alpha) * b0 * np.sinh(g * t)
    b = b0 * np.cosh(g * t) - np.sqrt(alpha / beta) * a0 * np.sinh(g * t)
    return a, b


def integrate(a0, b0, fp, guerrilla, ambush, aimed, area, mult, dt, steps):
    """Euler integration of the kernel's expected casualties (the deterministic limit)."""
    forces = np.array([a0, b0])
    path = [forces.copy()]
    for _ in range(steps):
        e = combat.expected_casualties(forces, HOSTILE, fp, guerrilla, ambush, aimed, area,
                                       np.full(2, mult))
        forces = np.maximum(forces - e.sum(axis=1) * dt, 0.0)
        path.append(forces.copy())
    return np.array(path)


def test_aimed_fire_follows_the_square_law_closed_form():
    fp, dt = np.array([2.0, 3.0]), 1e-3
    path = integrate(1000.0, 800.0, fp, np.array([False, False]), False, 0.01, 0.0, 1.0, dt,
                     20_000)
    times = np.arange(path.shape[0]) * dt
    # dA = -k fp_B B (beta = 0.03), dB = -k fp_A A (alpha = 0.02).
    exact_a, exact_b = square_law_solution(1000.0, 800.0, 0.02, 0.03, times)
    alive = exact_b > 1.0
    assert np.allclose(path[alive, 0], exact_a[alive], rtol=2e-3)
    assert np.allclose(path[alive, 1], exact_b[alive], rtol=2e-3)


def test_ambush_follows_the_mixed_law_invariant():
    # Column A under aimed fire k G (boosted), hidden guerrillas G under area fire c A G:
    # c (A0^2 - A^2) / 2 = k_eff (G0 - G).
    c, k, mult, dt = 2e-4, 0.05, 2.0, 1e-3
    path = integrate(500.0, 200.0, np.ones(2), np.array([False, True]), True, k, c, mult, dt,
                     20_000)
    a, g = path[-1]
    assert c * (500.0**2 - a**2) / 2 == pytest.approx(k * mult * (200.0 - g), rel=5e-3)


def test_expected_casualties_aimed_and_ambush():
    fp, guerrilla = np.array([1.0, 2.0]), np.array([False, True])
    e = combat.expected_casualties(np.array([100.0, 50.0]), HOSTILE, fp, guerrilla, False,
                                   0.01, 1e-4, np.full(2, 3.0))
    assert e[0, 1] == pytest.approx(0.01 * 2 * 50) and e[1, 0] == pytest.approx(0.01 * 100)
    e = combat.expected_casualties(np.array([100.0, 50.0]), HOSTILE, fp, guerrilla, True,
                                   0.01, 1e-4, np.full(2, 3.0))
    assert e[0, 1] == pytest.approx(3.0 * 0.01 * 2 * 50)  # the column, boosted fire
    assert e[1, 0] == pytest.approx(1e-4 * 100 * 50)  # hidden guerrillas, area fire
    assert e[0, 0] == 0 and e[1, 1] == 0


def run_engage(presence, moved, assault, key, day, engage=1.0, evasion=0.0, protected=None,
               supported=None, partner=None, deterrence=0.0, support=(0.0, 0.0), zone=None,
               trapped=(0, 0.3), max_daily_loss=0.5, guerrilla=(False, True)):
    cells_of_units = np.flatnonzero(presence.sum(axis=0))
    cell = np.repeat(cells_of_units, 2)
    faction = np.tile([0, 1], cells_of_units.size)
    strength = presence[faction, cell].copy()
    present = strength > 0
    n = presence.shape[1]
    protected = np.zeros(n) if protected is None else protected
    supported = np.zeros(n) if supported is None else supported
    partner = np.zeros(2, dtype=np.int64) if partner is None else partner
    zone = np.ones(n, dtype=np.int8) if zone is None else zone  # state-held unless told
    result = combat.engage(presence.copy(), assault, moved, cell, present, strength, faction,
                           HOSTILE, ENEMIES, np.ones(2), np.array(guerrilla), protected,
                           supported, partner, engage, evasion, 0.01, 1e-4, 3.0, 0.3,
                           max_daily_loss, deterrence, support[0], support[1], zone,
                           trapped[0], trapped[1], key, day)
    return result, strength, present


def test_stochastic_losses_average_to_expectation_and_split_exactly():
    presence = np.zeros((2, 10))
    presence[:, 3] = [400.0, 300.0]
    key = RandomStreams(np.random.default_rng(5)).get("engage", 0).key
    losses = []
    for day in range(2000):
        (cells, ambush, _, _, rows), strength, _ = run_engage(
            presence, np.zeros(10, bool), np.zeros((2, 10)), key, day)
        assert cells.tolist() == [3] and not ambush[0]
        lost = np.zeros(2)
        np.add.at(lost, rows[:, 1], rows[:, 3] + rows[:, 4])
        assert (lost <= 0.5 * presence[:, 3]).all()
        assert (rows[:, 1] != rows[:, 2]).all()  # nobody shoots their own side
        # The unit rows lost exactly what was booked.
        assert np.allclose(presence[:, 3] - strength, lost)
        losses.append(lost)
    mean = np.mean(losses, axis=0)
    assert mean[0] == pytest.approx(0.01 * 300, rel=0.05)
    assert mean[1] == pytest.approx(0.01 * 400, rel=0.05)


def test_initiator_is_the_attacker_or_the_ambusher():
    presence = np.zeros((2, 10))
    presence[:, 3] = [400.0, 300.0]
    key = RandomStreams(np.random.default_rng(1)).get("engage", 0).key
    assault = np.zeros((2, 10))
    assault[1, 3] = 300.0  # the armed group raids the post
    (_, _, actor1, actor2, _), _, _ = run_engage(presence, np.zeros(10, bool), assault, key, 0)
    assert (actor1[0], actor2[0]) == (1, 0)
    moved = np.zeros(10, bool)
    moved[3] = True  # a state column moved in: the guerrillas ambush it
    assault[:] = 0.0
    assault[0, 3] = 400.0
    (_, ambush, actor1, _, _), _, _ = run_engage(presence, moved, assault, key, 0)
    assert ambush[0] and actor1[0] == 1


def test_no_engagement_between_allies_or_when_evading():
    presence = np.zeros((2, 10))
    presence[:, 3] = [400.0, 300.0]
    key = RandomStreams(np.random.default_rng(1)).get("engage", 0).key
    result, _, _ = run_engage(presence, np.zeros(10, bool), np.zeros((2, 10)), key, 0,
                              engage=1.0, evasion=1.0)  # outnumbered guerrillas slip away
    assert result[0].size == 0
    allies = presence.copy()
    cells = combat.engage(allies, np.zeros((2, 10)), np.zeros(10, bool), np.array([3, 3]),
                          np.ones(2, bool), np.array([400.0, 300.0]), np.array([0, 1]),
                          np.zeros((2, 2)), np.zeros(2, dtype=np.int64), np.ones(2),
                          np.array([False, True]), np.zeros(10), np.zeros(10),
                          np.zeros(2, dtype=bool), 1.0, 0.0, 0.01, 1e-4, 3.0, 0.3, 0.5, 0.0, 0.0,
                          0.0, np.ones(10, dtype=np.int8), 0, 0.3, key, 0)[0]
    assert cells.size == 0
    protected = np.zeros(10)
    protected[3] = 1.0  # a peacekeeping camp with full deterrence: no fight
    result, _, _ = run_engage(presence, np.zeros(10, bool), np.zeros((2, 10)), key, 0,
                              protected=protected, deterrence=1.0)
    assert result[0].size == 0


def test_outnumbered_guerrillas_slip_away_from_a_column_but_ambush_a_smaller_one():
    key = RandomStreams(np.random.default_rng(3)).get("engage", 0).key
    moved = np.zeros(10, bool)
    moved[3] = True  # a state column reaches the cell today
    presence = np.zeros((2, 10))
    presence[:, 3] = [400.0, 300.0]  # the column outnumbers the guerrillas
    fought = [run_engage(presence, moved, np.zeros((2, 10)), key, day, evasion=1.0)[0][0].size
              for day in range(50)]
    assert sum(fought) == 0
    presence[:, 3] = [200.0, 300.0]  # the guerrillas outnumber the column: they ambush it
    for day in range(50):
        (cells, ambush, actor1, _, _), _, _ = run_engage(presence, moved, np.zeros((2, 10)),
                                                         key, day, evasion=1.0)
        assert cells.tolist() == [3] and ambush[0] and actor1[0] == 1
    presence[:, 3] = [300.0, 300.0]  # as many as the column: they always fight
    assert all(run_engage(presence, moved, np.zeros((2, 10)), key, day, evasion=1.0)[0][0].size
               for day in range(50))
    presence[:, 3] = [400.0, 300.0]  # half the time they fail to slip away
    fought = [run_engage(presence, moved, np.zeros((2, 10)), key, day, evasion=0.5)[0][0].size
              for day in range(2000)]
    assert np.mean(fought) == pytest.approx(0.5, abs=0.04)


def test_evasion_is_the_guerrillas_regular_forces_fight_each_other_whatever_it_is():
    key = RandomStreams(np.random.default_rng(4)).get("engage", 0).key
    presence = np.zeros((2, 10))
    presence[:, 3] = [400.0, 300.0]  # two hostile regular forces, no guerrillas
    for day in range(20):
        (cells, _, _, _, _), _, _ = run_engage(presence, np.zeros(10, bool), np.zeros((2, 10)),
                                               key, day, evasion=1.0, guerrilla=(False, False))
        assert cells.tolist() == [3]


def test_western_support_raises_partner_fire_and_blunts_ambushes():
    presence = np.zeros((2, 10))
    presence[:, 3] = [400.0, 300.0]
    key = RandomStreams(np.random.default_rng(2)).get("engage", 0).key
    supported = np.zeros(10)
    supported[3] = 4.0  # support for Niger's forces (bit 2)
    partner = np.array([4, 0])  # faction 0: Niger's army
    moved = np.zeros(10, bool)
    moved[3] = True  # an ambush of the supported column
    plain, backed = np.zeros(2), np.zeros(2)
    for day in range(1500):
        for total, kwargs in ((plain, {}), (backed, {"supported": supported, "partner": partner,
                                                     "support": (1.0, 1.0)})):
            rows = run_engage(presence, moved, np.zeros((2, 10)), key, day, **kwargs)[0][4]
            np.add.at(total, rows[:, 1], rows[:, 3] + rows[:, 4])
    # The column's losses: 3x aimed fire in an ambush, 1x with full warning.
    assert plain[0] / 1500 == pytest.approx(0.01 * 300 * 3.0, rel=0.06)
    assert backed[0] / 1500 == pytest.approx(0.01 * 300 * 1.0, rel=0.06)
    # The guerrillas suffer area fire from a column with twice the firepower.
    assert backed[1] / plain[1] == pytest.approx(2.0, rel=0.08)


def test_support_boosts_only_the_forces_of_the_country_it_is_given_to():
    presence = np.zeros((2, 10))
    presence[:, 3] = [400.0, 300.0]
    key = RandomStreams(np.random.default_rng(2)).get("engage", 0).key
    supported = np.zeros(10)
    supported[3] = 4.0  # Niger's forces are supported in this cell ...
    moved = np.zeros(10, bool)
    moved[3] = True
    for day in range(50):
        plain = run_engage(presence, moved, np.zeros((2, 10)), key, day)[0][4]
        other = run_engage(presence, moved, np.zeros((2, 10)), key, day, supported=supported,
                           partner=np.array([2, 0]), support=(1.0, 1.0))[0][4]
        assert np.array_equal(plain, other)  # ... Burkina Faso's (bit 1) fight unaided


def test_cover_marks_each_supporters_partner_country_and_peacekeepers_reach():
    from sim.mechanics.foreign_forces import cover

    ny = 10
    protected, supported = np.zeros(100), np.zeros(100)
    excluded = np.zeros(100, dtype=bool)
    # Row 0: France supporting Niger (bit 4) at cell (2, 2); row 1: Sabre supporting Burkina
    # Faso (bit 2) at (4, 2); row 2: a peacekeeping camp at (8, 8).
    cover(np.array([0, 1, 2]), np.array([22, 42, 88]), np.ones(3, bool), np.array([2, 2, 1]),
          np.array([4, 2, 0]), ny, protected, supported, excluded, 1, 1, 0)
    assert supported[22] == 4 and supported[42] == 2 and supported[32] == 6
    assert supported[88] == 0 and protected[88] == 1 and protected[77] == 1
    assert protected[22] == 0 and not excluded.any()


def column_losses(zone_code, presence, days, trapped=(2, 0.9), max_daily_loss=0.5):
    """Mean killed and wounded of the column (faction 0) ambushed in cell 3, over `days`."""
    key = RandomStreams(np.random.default_rng(7)).get("engage", 0).key
    moved = np.zeros(10, bool)
    moved[3] = True
    zone = np.ones(10, dtype=np.int8)
    zone[3] = zone_code
    killed = wounded = 0
    for day in range(days):
        (cells, _, _, _, rows), strength, _ = run_engage(
            presence, moved, np.zeros((2, 10)), key, day, zone=zone, trapped=trapped,
            max_daily_loss=max_daily_loss)
        assert cells.tolist() == [3]  # however many rounds, one event
        pairs = [tuple(r) for r in rows[:, 1:3]]
        assert len(pairs) == len(set(pairs))  # one row per victim and perpetrator
        assert np.allclose(presence[0, 3] - strength[0],
                           rows[rows[:, 1] == 0, 3:].sum())  # booked = taken
        killed += rows[rows[:, 1] == 0, 3].sum()
        wounded += rows[rows[:, 1] == 0, 4].sum()
    return killed / days, wounded / days


def test_a_cut_off_column_fights_on_and_its_wounded_die():
    presence = np.zeros((2, 10))
    presence[:, 3] = [100.0, 300.0]  # a column of 100 ambushed by 300
    held_k, held_w = column_losses(1, presence, 1500)  # state-held ground: one day
    # One round: 0.01 x 300 x ambush 3 = 9 casualties, 30% of them killed.
    assert held_k + held_w == pytest.approx(9.0, rel=0.05)
    assert held_k / (held_k + held_w) == pytest.approx(0.3, abs=0.03)
    for cut_off in (5, 4, 0):  # held by an armed group, or by nobody
        k, w = column_losses(cut_off, presence, 1500)
        # Three rounds against ambushers who lose ~3 a round to area fire: ~26.5 in all.
        assert k + w == pytest.approx(9.0 + 0.01 * 297 * 3 + 0.01 * 294 * 3, rel=0.05)
        assert k / (k + w) == pytest.approx(0.9, abs=0.02)
    contested_k, contested_w = column_losses(3, presence, 300)
    assert contested_k + contested_w == pytest.approx(9.0, rel=0.12)  # help can reach it


def test_a_column_that_outnumbers_its_ambushers_is_not_trapped():
    presence = np.zeros((2, 10))
    presence[:, 3] = [400.0, 300.0]
    key = RandomStreams(np.random.default_rng(3)).get("engage", 0).key
    moved = np.zeros(10, bool)
    moved[3] = True
    held, cut_off = np.ones(10, dtype=np.int8), np.full(10, 5, dtype=np.int8)
    for day in range(100):
        plain = run_engage(presence, moved, np.zeros((2, 10)), key, day, zone=held)[0][4]
        there = run_engage(presence, moved, np.zeros((2, 10)), key, day, zone=cut_off,
                           trapped=(2, 0.9))[0][4]
        assert np.array_equal(plain, there)


def test_a_destroyed_column_stops_the_rounds_and_loses_no_more_than_it_had():
    presence = np.zeros((2, 10))
    presence[:, 3] = [50.0, 3000.0]  # overwhelmed: 0.01 x 3000 x 3 = 90 a round
    k, w = column_losses(5, presence, 200, trapped=(5, 0.9), max_daily_loss=1.0)
    assert k + w == pytest.approx(50.0)  # all of it, in the first round, and never more
    k, w = column_losses(5, presence, 200, trapped=(5, 0.9), max_daily_loss=0.5)
    # Six rounds, each at most half of what is left (floored): 25 + 12 + 6 + 3 + 2 + 1.
    assert k + w == pytest.approx(49.0)
