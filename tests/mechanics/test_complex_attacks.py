"""Complex attacks: the capital is a target only by the `capital_share` draw."""

import numpy as np
import pytest

import sim
from sim.model import SahelModel


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_the_capital_is_attacked_only_by_its_share(tmp_path, share):
    from ..conftest import write_short_scenario

    path = write_short_scenario(tmp_path, extra=(
        f"[parameters.complex_attacks]\nrate = 24\ncapital_share = {share}\n"))
    model = SahelModel(sim.load_scenario(path), rng=3).run()
    events = model.events()
    attacks = events[events["mechanism"] == "complex_attack"]
    world = model.world
    capitals = world.capital_cell[world.capital_cell >= 0]
    cells = attacks["cell_x"].to_numpy() * world.ny + attacks["cell_y"].to_numpy()
    in_capital = np.isin(cells, capitals)
    counted = model.timeseries().groupby("country")["capital_attacks"].max().sum()
    assert len(attacks) >= 4
    assert counted == in_capital.sum()
    if share == 0.0:  # the capitals' garrisons are the largest, yet never the fallback target
        assert not in_capital.any()
    else:  # every attack in a country with a junta and a capital hits the capital
        assert in_capital.all()


def test_no_attack_when_the_capital_holds_every_soldier_and_the_draw_spares_it(baseline):
    from sim.mechanics import complex_attacks
    from sim.scenario import ComplexAttackParams

    model = SahelModel(baseline, rng=0)
    world, ledger = model.world, model.ledger
    model.step()
    ledger.open_day(1)
    mali = 0
    capital = world.capital_cell[mali]
    outside = (world.country_bucket == mali) & (np.arange(world.n_cells) != capital)
    world.presence[np.ix_(world.state_side, outside)] = 0.0
    assert world.presence[world.state_side, capital].sum() > 0
    before, jnim = ledger.events.size, world.faction_index["jnim"]
    stream = model.streams.get("complex_attack", 1)
    complex_attacks.attack(world, ledger, ComplexAttackParams(capital_share=0.0), jnim, mali,
                           stream)
    assert ledger.events.size == before
    complex_attacks.attack(world, ledger, ComplexAttackParams(capital_share=1.0), jnim, mali,
                           stream)
    assert ledger.events.size == before + 1 and ledger.events["cell"][before] == capital
