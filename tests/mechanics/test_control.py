"""Control (daily zones and controllers) and influence targets (weekly) on known cases."""

import numpy as np
import pytest

from sim.mechanics import control, influence
from sim.scenario import ControlParams


def run_control(influence_values, target=None, rate=0.0):
    n = influence_values.shape[1]
    zone = np.zeros(n, dtype=np.int8)
    controller = np.zeros(n, dtype=np.int8)
    target = influence_values if target is None else target
    control.update_control(influence_values, target, np.arange(n), zone, controller, rate,
                           0.25, 0.15, 0.9)
    return zone, controller


def test_zones_and_controllers_from_the_balance():
    state = np.array([1.0, 0.8, 0.5, 0.2, 0.0, 0.05])
    armed = np.array([0.0, 0.2, 0.5, 0.8, 1.0, 0.05])
    zone, controller = run_control(np.vstack([state, armed]))
    assert zone.tolist() == [1, 2, 3, 4, 5, 0]  # the last: nobody reaches the minimum
    assert controller.tolist() == [0, 0, control.CONTESTED, 1, 1, control.UNGOVERNED]


def test_controller_is_the_strongest_armed_group():
    _, controller = run_control(np.array([[0.0, 0.0], [0.9, 0.2], [0.3, 0.8]]))
    assert controller.tolist() == [1, 2]


def test_influence_relaxes_toward_its_target():
    values = np.zeros((2, 3))
    run_control(values, np.ones((2, 3)), rate=0.25)
    assert np.allclose(values, 0.25)


def test_entrenchment_moves_governance_toward_control():
    governance = np.zeros((3, 3))
    influence.entrench(governance, np.array([1, 2, control.CONTESTED]), steps=2.0)
    assert governance.tolist() == [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0]]


def test_ungoverned_cells_are_not_state_held():
    # A cell nobody reaches is ungoverned, whatever the balance of the little influence there.
    zone, controller = run_control(np.array([[0.1, 0.1, 0.2], [0.0, 0.12, 0.0]]))
    assert zone.tolist() == [0, 0, 1]
    assert controller.tolist() == [control.UNGOVERNED, control.UNGOVERNED, 0]


def targets(strength, cell, faction, static=None, governance=None, admin=None, reach=5):
    """Targets on a 10 x 10 grid of which all cells belong to the three countries."""
    n_units = len(strength)
    idx = np.arange(100)
    static = np.zeros(n_units, bool) if static is None else static
    governance = np.zeros((2, 100)) if governance is None else governance
    admin = np.zeros(100) if admin is None else admin
    p = ControlParams(presence_half=30.0, state_presence_weight=0.1, town_state_floor=0.7,
                      administration_personnel=100.0)
    return influence.influence_targets(
        np.array(faction), np.array(cell), np.array(strength, float), np.ones(n_units, bool),
        static, np.array([True, False]), np.array([0, 1]), idx, idx, governance, admin, 10,
        reach, p.state_presence_weight, p.administration_personnel, p.presence_half,
        p.town_state_floor)


def test_target_is_a_force_share_over_a_box_of_cells():
    t = targets([300.0, 90.0], [0 * 10 + 0, 9 * 10 + 9], [0, 1])
    assert t[0, 0] == pytest.approx(30.0 / 60.0)  # state personnel weigh 0.1
    assert t[1, 99] == pytest.approx(90.0 / 120.0)
    assert t[1, 7 * 10 + 7] == pytest.approx(90.0 / 120.0)  # within the 5 x 5 box
    assert t[1, 6 * 10 + 9] == 0.0  # outside it


def test_governance_garrison_floor_and_administration():
    governance = np.zeros((2, 100))
    governance[1, 99] = 1.0
    t = targets([300.0, 90.0], [0, 99], [0, 1], static=np.array([True, False]),
                governance=governance, admin=np.ones(100))
    assert t[0, 0] >= 0.7  # garrisoned town
    # Full governance adds 100 personnel-equivalents and removes the state's administration.
    assert t[1, 99] == pytest.approx(190.0 / 220.0)
    assert t[0, 50] == pytest.approx(100.0 / 130.0)  # administration alone
