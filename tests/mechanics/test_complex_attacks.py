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
