import numpy as np
import pytest

from sim.geography import (
    LAT_MAX,
    LAT_MIN,
    LON_MAX,
    LON_MIN,
    POPULATION_2023,
    SAHARAN,
    SUDANIAN,
    build_geography,
    make_grid,
    prio_gid,
)


@pytest.fixture(scope="module")
def geo():
    return build_geography(0.25)


def country_at(geo, town):
    return geo.country_codes[geo.country[geo.town(town).cell]]


@pytest.mark.parametrize("town, iso", [("Bamako", "MLI"), ("Ouagadougou", "BFA"),
                                       ("Niamey", "NER"), ("Kidal", "MLI"),
                                       ("Tinzaouaten", "MLI"), ("Barsalogho", "BFA"),
                                       ("Agadez", "NER"), ("Timbuktu", "MLI")])
def test_towns_fall_in_their_country(geo, town, iso):
    assert country_at(geo, town) == iso


def test_default_grid_dimensions(geo):
    assert geo.shape == (114, 64)
    assert 3_500 < geo.in_sahel().sum() < 3_900


def test_saharan_and_sudanian_towns(geo):
    for town in ("Kidal", "Tinzaouaten", "Arlit"):
        assert geo.terrain[geo.town(town).cell] == SAHARAN
    for town in ("Bamako", "Ouagadougou", "Bobo-Dioulasso"):
        assert geo.terrain[geo.town(town).cell] == SUDANIAN


def test_every_cell_nests_in_one_prio_grid_cell(geo):
    # PRIO-GRID gid of the cell's four corners (shrunk inward) must equal the centre's.
    half = geo.resolution / 2 - 1e-9
    for dx in (-half, half):
        for dy in (-half, half):
            assert np.array_equal(prio_gid(geo.lat + dy, geo.lon + dx), geo.prio_gid)
    # 4 cells of 0.25 degrees per PRIO-GRID cell.
    _, counts = np.unique(geo.prio_gid, return_counts=True)
    assert set(counts) == {4}


def test_prio_gid_formula_known_values():
    # PRIO-GRID gid 1 is the cell at the south-west corner (-180, -90).
    assert prio_gid(np.array([-89.9]), np.array([-179.9]))[0] == 1
    # Bamako (12.61 N, -7.98 E): row 205, column 344 (0-based) -> 205 * 720 + 344 + 1.
    assert prio_gid(np.array([12.61]), np.array([-7.98]))[0] == 205 * 720 + 344 + 1


@pytest.mark.parametrize("resolution", [0.5, 0.125, 0.1])
def test_other_resolutions_nest_in_prio_grid(resolution):
    geo = build_geography(resolution)
    assert geo.nx == round((LON_MAX - LON_MIN) / resolution)
    assert geo.ny == round((LAT_MAX - LAT_MIN) / resolution)
    _, counts = np.unique(geo.prio_gid, return_counts=True)
    assert set(counts) == {round((0.5 / resolution) ** 2)}


def test_population_totals_within_15_percent(geo):
    totals = geo.population_by_country()
    for iso, people in POPULATION_2023.items():
        assert abs(totals[iso] / people - 1) < 0.15


def test_population_concentrated_in_south_and_towns(geo):
    people = geo.population.sum(axis=0)
    mli = geo.country == geo.country_index("MLI")
    north = mli & (geo.lat > 17)
    assert people[north].sum() < 0.05 * people[mli].sum()
    bamako = geo.town("Bamako").cell
    assert people[bamako] > 2_000_000
    assert people[bamako] > 50 * np.median(people[mli])


def test_population_by_community_and_regions(geo):
    assert geo.population.shape[0] == 5
    inside = geo.in_sahel()
    assert (geo.region[inside] >= 0).all()
    assert (geo.region[~inside] == -1).all()
    mopti = geo.town("Mopti").cell
    fulani, mossi = geo.population[0][mopti], geo.population[3][mopti]
    assert fulani > 0 and mossi == 0
    assert geo.regions[geo.region[geo.town("Bamako").cell]].name == "Bamako"
    assert geo.regions[geo.region[geo.town("Dori").cell]].name == "Sahel"


def test_grid_is_mesa_discrete_space_with_layers(geo):
    import random

    from mesa.discrete_space import OrthogonalMooreGrid

    grid = make_grid(geo, random=random.Random(0))
    assert isinstance(grid, OrthogonalMooreGrid)
    assert grid.dimensions == geo.shape
    cell = grid._cells[geo.town("Niamey").cell]
    assert cell.country == geo.country_index("NER")
    assert len(cell.connections) == 8


def test_town_lookup_ignores_accents_and_case(geo):
    assert geo.town("segou").name == "Ségou"
    assert geo.town("Tombouctou").name == "Timbuktu"
    assert geo.town("Gao").country == "MLI"
    assert geo.town("Gao, BFA").country == "BFA"
    with pytest.raises(KeyError):
        geo.town("Atlantis")
