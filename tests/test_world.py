"""The world a run acts on: set-up invariants, presence bookkeeping, the grid built on demand."""

import numpy as np
import pytest

import sim
from sim.geography import ABROAD
from sim.model import SahelModel


def test_world_setup_invariants(baseline_at_setup):
    model = SahelModel(baseline_at_setup, rng=3)
    w = model.world
    units = w.forces
    # Presence is the sum of present unit rows per faction and cell.
    expected = np.zeros_like(w.presence)
    np.add.at(expected, (units.faction[units.present], units.cell[units.present]),
              units.strength[units.present])
    assert np.allclose(w.presence, expected)
    # State-side rows may only use their base country's cells; every unit starts where allowed.
    assert w.allowed[w.allowed_row, units.cell].all()
    state_rows = w.unit_state_side
    assert (w.country_bucket[units.cell[state_rows]]
            == w.country_bucket[units.base[state_rows]]).all()
    # Nobody lives outside the three countries; capitals are cells of their own country.
    assert w.residents[:, w.country_bucket == ABROAD].sum() == 0
    for c, cell in enumerate(w.capital_cell):
        assert cell < 0 or w.country_bucket[cell] == c
    assert w.people_by_country().sum() == pytest.approx(w.community_members().sum())
    # Initial control: every cell of the three countries has a zone and a controller.
    assert set(np.unique(w.zone[w.sahel_idx])) <= {0, 1, 2, 3, 4, 5}  # 0: ungoverned
    assert ((w.zone == 0) == (w.controller == -2))[w.sahel_idx].all()
    assert (w.zone[w.country_bucket == ABROAD] == 0).all()


def test_presence_is_current_when_processes_read_it(short_path, monkeypatch):
    from sim.mechanics import combat, influence

    checked = []

    def current(world):
        units = world.forces
        live = units.present
        expected = np.zeros_like(world.presence)
        np.add.at(expected, (units.faction[live], units.cell[live]), units.strength[live])
        assert np.allclose(world.presence, expected, rtol=0, atol=1e-6)
        checked.append(True)

    for module in (combat, influence):
        original = module.act

        def wrapped(world, *args, _original=original):
            current(world)
            return _original(world, *args)

        monkeypatch.setattr(module, "act", wrapped)
    model = SahelModel(sim.load_scenario(short_path), rng=5)
    for _ in range(30):
        model.step()
    assert len(checked) >= 30


def test_grid_is_built_on_first_use_and_shares_the_layers(baseline):
    model = SahelModel(baseline, rng=0)
    assert model._grid is None  # no process needs Mesa's cells
    grid = model.grid
    assert grid is model.grid and len(grid._celllist) == model.world.n_cells
    model.step()
    assert np.shares_memory(grid.controller.data, model.world.controller)
    assert (grid.controller.data.reshape(-1) == model.world.controller).all()


def test_decisions_and_blockades_share_their_days_including_the_spin_ups_first(baseline,
                                                                                monkeypatch):
    from sim.mechanics import blockades, decisions

    days = {"decisions": [], "blockades": []}
    monkeypatch.setattr(decisions, "act", lambda world, ledger, params, rng:
                        days["decisions"].append(rng.day))
    original = blockades.besiege

    def besiege(*args):
        days["blockades"].append(len(days["blockades"]))
        return original(*args)

    monkeypatch.setattr(blockades, "besiege", besiege)
    period = baseline.parameters.decisions.interval_days
    model = SahelModel(baseline.model_copy(update={"spin_up_days": period + 3}), rng=2)
    assert days["decisions"] == [-period - 3, -period]
    assert len(days["blockades"]) == 2
    assert model.world.is_decision_day(0) and not model.world.is_decision_day(1)
