"""The `[targets.compare]` table: parsed into a Comparison, or the first bad field named."""

import datetime as dt

import pytest

from sim.calibration.comparisons import (
    CIVILIAN_TARGETING,
    Comparison,
    FieldProblem,
    countries_in,
    parse_comparison,
)

WINDOW = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 9, 9)}


def test_a_table_becomes_a_comparison_with_kinds_expanded():
    parsed = parse_comparison({"statistic": "deaths", "country": "MLI+NER",
                               "victims": ["civilians", "state_side"], **WINDOW})
    assert parsed == Comparison(statistic="deaths", country="MLI+NER",
                                victims=("civilians", "state", "militia", "russian"), **WINDOW)
    assert parsed.window() == (dt.date(2024, 1, 1), dt.date(2024, 9, 9))
    assert countries_in("all") == ["MLI", "BFA", "NER"]
    assert countries_in("MLI+NER") == ["MLI", "NER"]


def test_acled_civilian_fatalities_as_victims():
    share = parse_comparison({"statistic": "civilian_death_share", "country": "BFA",
                              "perpetrators": ["jihadist"], "victims": CIVILIAN_TARGETING,
                              **WINDOW})
    assert share.victims == ("civilian_targeting",)
    assert share.describe() == ("civilian_death_share BFA 2024-01-01..2024-09-09 victims "
                                "civilian_targeting perpetrators jihadist")
    largest = parse_comparison({"statistic": "max_event_deaths", "country": "BFA",
                                "victims": CIVILIAN_TARGETING, "mechanism": "blockade",
                                **WINDOW})
    assert largest.mechanism == "blockade"


@pytest.mark.parametrize(("table", "field", "allowed"), [
    ({"statistic": "max_event_deaths", "country": "BFA", "victims": CIVILIAN_TARGETING,
      "mechanism": "drone_strike"}, "compare.mechanism", "violence_against_civilians, blockade"),
    ({"statistic": "civilian_death_share", "country": "BFA", "perpetrators": ["jihadist"],
      "victims": "all"}, "compare.victims", '"civilians" or "civilian_targeting"'),
    ({"statistic": "deaths", "country": "BFA", "victims": [CIVILIAN_TARGETING, "state"]},
     "compare.victims", "'civilian_targeting' alone, or a list of kinds"),
])
def test_the_first_bad_field_is_named_with_what_is_allowed(table, field, allowed):
    with pytest.raises(FieldProblem) as info:
        parse_comparison({**table, **WINDOW})
    assert (info.value.field, info.value.allowed) == (field, allowed)
