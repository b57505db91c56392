"""The world's set-up: the Saharan administration and its fall with the distance from towns."""

import math

import numpy as np
import pytest

from sim.geography import COUNTRIES, SAHARAN
from sim.model import SahelModel
from sim.world_setup import town_distance_km


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def test_the_distance_to_the_nearest_town_is_the_great_circle_one(baseline_at_setup):
    geo = SahelModel(baseline_at_setup, rng=0).world.geo
    distance = town_distance_km(geo).reshape(geo.lat.shape)
    towns = [t for t in geo.towns if t.country in COUNTRIES]
    rng = np.random.default_rng(1)
    for x, y in zip(rng.integers(0, geo.lat.shape[0], 25), rng.integers(0, geo.lat.shape[1], 25),
                    strict=True):
        lat, lon = geo.lat[x, y], geo.lon[x, y]
        expected = min(haversine_km(lat, lon, t.lat, t.lon) for t in towns)
        assert distance[x, y] == pytest.approx(expected, rel=1e-6)
    kidal = geo.town("Kidal")
    assert distance[kidal.cell] < 20  # a quarter-degree cell: its centre within 20 km


def test_saharan_administration_is_uniform_at_reach_zero_and_falls_off_from_towns(
        baseline_at_setup):
    scenario = baseline_at_setup.model_copy(deep=True)
    control = scenario.parameters.control
    control.administration_saharan, control.saharan_reach_km = 0.4, 0.0
    world = SahelModel(scenario, rng=0).world
    sahara = (world.geo.terrain.reshape(-1) == SAHARAN) & (world.country_bucket < len(COUNTRIES))
    assert sahara.sum() > 1000 and np.all(world.administration[sahara] == 0.4)
    control.saharan_reach_km = 100.0
    world = SahelModel(scenario, rng=0).world
    distance = town_distance_km(world.geo)[sahara]
    assert world.administration[sahara] == pytest.approx(0.4 * np.exp(-distance / 100.0))
    assert np.all(world.administration[~sahara] == SahelModel(baseline_at_setup, rng=0)
                  .world.administration[~sahara])  # only the Sahara's cells change
    assert (world.administration[sahara] < 0.4 / math.e).mean() > 0.2  # deserts far from towns
