"""The schema's building blocks: a parameter's bounds, unit and source as the CLI lists them."""

from __future__ import annotations

from sim.scenario.fields import ASSUMPTION, Strict, field_bounds, limits, param
from sim.scenario.parameters import Parameters
from sim.scenario.schema import Event


class Example(Strict):
    rate: float = param(0.25, 0.0, 2.0, "1/day", "How often", source="a report")
    share: float = param(0.5, 0.1, 0.9, "share", "How much")
    count: int = 3


def test_limits_are_the_fields_inclusive_bounds_or_none():
    assert limits(Example.model_fields["rate"]) == (0.0, 2.0)
    assert limits(Example.model_fields["count"]) == (None, None)


def test_field_bounds_carry_unit_description_default_and_source():
    assert field_bounds(Example.model_fields["rate"]) == {
        "low": 0.0, "high": 2.0, "unit": "1/day", "description": "How often", "default": 0.25,
        "integer": False, "source": "a report"}
    share = field_bounds(Example.model_fields["share"])
    assert (share["low"], share["high"], share["source"]) == (0.1, 0.9, ASSUMPTION)
    assert field_bounds(Example.model_fields["count"])["integer"] is True


def test_the_real_schema_reads_the_same_way():
    engage = field_bounds(type(Parameters().combat).model_fields["engage_probability"])
    assert 0.0 <= engage["low"] < engage["default"] <= engage["high"] <= 1.0
    assert engage["unit"]
    assert limits(Event.model_fields["restraint"]) == (0.0, 1.0)
