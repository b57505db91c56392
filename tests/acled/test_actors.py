"""The actor mapping: ACLED's names to the model's factions, coverage, and bad mapping files."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.acled import AcledError, load_actor_map, map_events, read_events
from sim.acled.evaluation import baseline_factions

from .files import acled_rows, write_csv


@pytest.fixture(scope="module")
def actors():
    return load_actor_map(None, baseline_factions())


@pytest.mark.parametrize(("name", "country", "faction"), [
    ("Military Forces of Mali (2021-)", "MLI", "mali_army"),
    ("Police Forces of Mali (2021-) Gendarmerie", "MLI", "mali_army"),
    ("Military Forces of Burkina Faso (2022-)", "BFA", "burkina_army"),
    ("VDP: Homeland Defense Volunteers", "BFA", "vdp"),
    ("Military Forces of Niger (2023-)", "NER", "niger_army"),
    ("Military Forces of Nigeria (2015-)", "NER", None),  # Niger's regex keeps Nigeria out
    ("Wagner Group", "MLI", "africa_corps"),
    ("Africa Corps", "MLI", "africa_corps"),
    ("Bear Brigade", "BFA", "bear_brigade"),
    ("JNIM: Group for Support of Islam and Muslims", "BFA", "jnim"),
    ("Katiba Macina", "MLI", "jnim"),
    ("Islamic State (Sahel)", "NER", "is_sahel"),
    ("Islamic State (Greater Sahara)", "NER", "is_sahel"),
    ("IS", "NER", "is_sahel"),  # UCDP GED
    ("CSP-DPA: Permanent Strategic Framework for the Defense of the People of Azawad", "MLI",
     "csp_dpa"),
    ("FLA: Azawad Liberation Front", "MLI", "csp_dpa"),
    ("MINUSMA: United Nations Multidimensional Integrated Stabilization Mission in Mali "
     "(2013-2023)", "MLI", "minusma"),
    ("Military Forces of France", "BFA", "france_burkina"),
    ("Military Forces of France", "NER", "france"),
    ("Military Forces of the United States", "NER", "us"),
    ("Civilians (Mali)", "MLI", "civilians"),
    ("Civilians", "BFA", "civilians"),
    ("Unidentified Armed Group (Mali)", "MLI", None),
    ("Dozo Communal Militia (Mali)", "MLI", None),
    ("Dan Na Ambassagou", "MLI", "dan_na_ambassagou"),
    ("Dan Na Ambassagou", "BFA", None),  # a Malian militia only
    ("Dan Nan Amassagou", "MLI", "dan_na_ambassagou"),
    ("Dogon Ethnic Militia (Mali)", "MLI", None),
])
def test_bundled_names_map_to_the_baseline_factions(actors, name, country, faction) -> None:
    assert actors.faction_of(name, country) == faction


def test_inter_code_seven_is_civilians_when_no_rule_names_the_actor(actors) -> None:
    assert actors.faction_of("Fulani Ethnic Group (Mali)", "MLI", "7") == "civilians"
    assert actors.faction_of("Fulani Ethnic Group (Mali)", "MLI", "Civilians") == "civilians"
    assert actors.faction_of("Fulani Ethnic Group (Mali)", "MLI", "4") is None
    assert actors.faction_of("", "MLI", "7") is None


def test_the_share_of_fatalities_not_mapped(tmp_path: Path, actors) -> None:
    events = read_events(write_csv(tmp_path / "a.csv", acled_rows())).events
    mapped, report = map_events(events, actors)
    # 88 deaths in the three countries; the unidentified armed group's 7 are unmapped.
    assert (report.fatalities, report.unmapped_actor1, report.unmapped_actor2) == (88, 7, 0)
    assert report.share_unmapped == pytest.approx(7 / 88)
    assert report.top_unmapped == (("Unidentified Armed Group (Mali)", 7),)
    assert report.text() == ("actor mapping: 8.0% of 88 fatalities have an unmapped actor1, "
                             "0.0% an unmapped actor2; largest unmapped: Unidentified Armed "
                             "Group (Mali) (7)")
    assert mapped["perpetrator"].tolist()[:3] == ["jnim", "mali_army", "jnim"]
    assert mapped.loc[mapped["actor2"] == "Civilians (Mali)", "victim"].eq("civilians").all()


def write_map(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "message"), [
    ('[[rules]]\nfaction = "jnim"\ncontains = ["JNIM"]\n\n[[rules]]\nfaction = "wagner"\n'
     'contains = ["Wagner"]\n',
     "line 5: faction 'wagner' is not a faction of the scenario; allowed: mali_army, "),
    ('[[rules]]\nfaction = "jnim"\nmatches = ["(unclosed"]\n',
     "line 1: matches: '(unclosed' is not a regular expression"),
    ('[[rules]]\nfaction = "jnim"\ncontain = ["JNIM"]\n',
     "line 1: unknown key 'contain'; a rule takes contains, country, faction, matches, note"),
    ('[[rules]]\nfaction = "jnim"\ncontains = ["JNIM"]\ncountry = "SEN"\n',
     "line 1: country 'SEN' is not one of MLI, BFA, NER"),
    ('[[rules]]\nfaction = "jnim"\n', "line 1: rule for 'jnim' has neither contains nor matches"),
    ('[[rules]]\nfaction = "jnim"\ncontains = "JNIM', "not valid TOML"),
    ('title = "x"\n', "unknown key 'title' at the top"),
])
def test_bad_mapping_files_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write_map(tmp_path / "map.toml", text)
    with pytest.raises(AcledError) as info:
        load_actor_map(path, baseline_factions())
    assert str(info.value).startswith(f"{path}")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_the_first_matching_rule_wins_and_a_rule_may_be_per_country(tmp_path: Path) -> None:
    path = write_map(tmp_path / "map.toml",
                     '[[rules]]\nfaction = "vdp"\ncontains = ["militia"]\ncountry = "BFA"\n\n'
                     '[[rules]]\nfaction = "jnim"\ncontains = ["militia"]\n')
    actors = load_actor_map(path)
    assert actors.faction_of("Communal Militia", "BFA") == "vdp"
    assert actors.faction_of("Communal Militia", "MLI") == "jnim"
    assert actors.factions == ["vdp", "jnim"]
