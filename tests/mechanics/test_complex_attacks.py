"""Complex attacks: the capital is hit only by its share; tolls grow with the fighters massed."""

import numpy as np
import pytest

import sim
from sim.mechanics import complex_attacks
from sim.mechanics.movement import chebyshev
from sim.model import SahelModel
from sim.scenario import ComplexAttackParams

MALI = 0


def day_one(scenario: sim.Scenario) -> SahelModel:
    """The scenario's model after its first day, its ledger open on day 1."""
    model = SahelModel(scenario, rng=0)
    model.step()
    model.ledger.open_day(1)
    return model


def jnim_attack_deaths(model: SahelModel, params: ComplexAttackParams) -> int:
    """Deaths booked in one JNIM complex attack in Mali today (the attack must happen)."""
    world, ledger = model.world, model.ledger
    before = ledger.events.size
    complex_attacks.attack(world, ledger, params, world.faction_index["jnim"], MALI,
                           model.streams.get("complex_attack", 1))
    assert ledger.events.size == before + 1
    cas = ledger.casualties
    return int(cas["killed"][cas["event"] == before].sum())


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
    model = day_one(baseline)
    world, ledger = model.world, model.ledger
    capital = world.capital_cell[MALI]
    outside = (world.country_bucket == MALI) & (np.arange(world.n_cells) != capital)
    world.presence[np.ix_(world.state_side, outside)] = 0.0
    assert world.presence[world.state_side, capital].sum() > 0
    before, jnim = ledger.events.size, world.faction_index["jnim"]
    stream = model.streams.get("complex_attack", 1)
    complex_attacks.attack(world, ledger, ComplexAttackParams(capital_share=0.0), jnim, MALI,
                           stream)
    assert ledger.events.size == before
    complex_attacks.attack(world, ledger, ComplexAttackParams(capital_share=1.0), jnim, MALI,
                           stream)
    assert ledger.events.size == before + 1 and ledger.events["cell"][before] == capital


def attack_deaths(scenario, params, strength_factor: float) -> tuple[int, float]:
    """Deaths of one JNIM attack on Bamako, JNIM's rows `strength_factor` times as strong, and
    JNIM's strength within `mass_reach_cells` of Bamako."""
    model = day_one(scenario)
    world = model.world
    units = world.forces
    rows = units.present & (units.faction == world.faction_index["jnim"])
    units.strength[rows] *= strength_factor
    distance = chebyshev(units.cell, world.capital_cell[MALI], world.ny)
    massed = units.strength[rows & (distance <= params.mass_reach_cells)].sum()
    return jnim_attack_deaths(model, params), float(massed)


@pytest.mark.parametrize(("elasticity", "reach"), [(0.0, 20), (1.0, 20), (0.5, 20), (1.0, 0)])
def test_an_assault_kills_more_as_its_faction_masses_more_fighters_within_reach(
        baseline, elasticity, reach):
    params = ComplexAttackParams(capital_share=1.0, median_killed=60.0, sigma=0.05,
                                 attacker_elasticity=elasticity, reference_attackers=1000.0,
                                 mass_reach_cells=reach, toll_cap_per_defender=20.0,
                                 civilian_share=0.0)
    (single, massed), (double, massed_double) = (attack_deaths(baseline, params, f)
                                                 for f in (1.0, 2.0))
    assert massed_double == pytest.approx(2 * massed)
    if reach == 0:  # none of JNIM's rows stands in Bamako's cell
        assert massed == 0 and double == single
    else:
        assert massed > 1000
    expected = ((1 + massed_double / 1000) / (1 + massed / 1000)) ** elasticity
    assert single > 50
    assert double == pytest.approx(single * expected, rel=0.03, abs=2)


def test_the_median_toll_grows_with_the_fighters_massed_over_the_reference():
    median_toll = complex_attacks.median_toll
    params = ComplexAttackParams(median_killed=40.0, reference_attackers=500.0)
    assert median_toll(params, 0.0) == median_toll(params, 5000.0) == 40.0
    scaled = params.model_copy(update={"attacker_elasticity": 0.5})
    assert median_toll(scaled, 0.0) == 40.0
    assert median_toll(scaled, 1500.0) == pytest.approx(80.0)
    assert median_toll(scaled.model_copy(update={"attacker_elasticity": 1.0}), 250.0) == 60.0


def test_only_present_fighters_within_reach_are_massed_whatever_their_country(baseline):
    """Four JNIM rows around Bamako, the others away: in reach 4, 500 in Mali and 500 outside
    it count; 2,000 not present one cell away and 2,000 five cells away do not."""
    deaths = []
    for elasticity in (0.0, 1.0):
        model = day_one(baseline)
        world = model.world
        units, jnim, bamako = world.forces, world.faction_index["jnim"], world.capital_cell[MALI]
        distance = chebyshev(np.arange(world.n_cells), bamako, world.ny)
        mali, outside = world.country_bucket == MALI, world.country_bucket == 3
        rows = np.flatnonzero(units.faction == jnim)
        units.present[rows] = False
        placed = {rows[0]: (distance == 2) & mali, rows[1]: (distance == 4) & outside,
                  rows[2]: (distance == 1) & mali, rows[3]: (distance == 5) & mali}
        for row, strength, present in zip(placed, (500, 500, 2000, 2000),
                                          (True, True, False, True), strict=True):
            units.cell[row] = np.flatnonzero(placed[row])[0]
            units.strength[row], units.present[row] = strength, present
        params = ComplexAttackParams(capital_share=1.0, median_killed=60.0, sigma=0.05,
                                     attacker_elasticity=elasticity, reference_attackers=1000.0,
                                     civilian_share=0.0, toll_cap_per_defender=20.0)
        deaths.append(jnim_attack_deaths(model, params))
        assert units.strength[rows[0]] < 500  # the attackers fall from the nearest row in Mali
    one_median, massed = deaths
    assert 50 <= one_median <= 70
    assert massed == pytest.approx(2 * one_median, abs=3)  # 1 + 1,000 / 1,000
