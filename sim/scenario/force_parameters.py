"""Parameter groups of UN and Western forces, Russian protection, blockades and drones.

One group per process, as in `sim.scenario.parameters`, which gathers them all.
"""

from __future__ import annotations

from sim.scenario.fields import Strict, param


class ForeignParams(Strict):
    """What UN and Western forces change around them (sim.mechanics.foreign_forces).

    Each channel can be switched off for an experiment by setting it to 0.
    """

    peacekeeping_radius: float = param(
        2.0, 0.0, 20.0, "cells", "Reach of a peacekeeping camp's patrols (protection, deterrence)",
        "assumption: about 50 km at 0.25 degree")
    protection: float = param(
        0.5, 0.0, 1.0, "share", "Share of violence against civilians prevented within reach of "
        "a peacekeeping camp", "assumption (MINUSMA mandate: protection of civilians)")
    deterrence: float = param(
        0.5, 0.0, 1.0, "share", "Share of engagements prevented within reach of a peacekeeping "
        "camp", "assumption")
    camp_exclusion: int = param(
        1, 0, 10, "cells", "Cells around an occupied peacekeeping camp that state forces do not "
        "enter (the army took Kidal after the handover; 0 = off)",
        "FACTS F: Kidal camp handed over 31 Oct 2023, army and Wagner took Kidal 14 Nov 2023")
    support_reach: float = param(
        20.0, 0.0, 80.0, "cells", "Reach of Western intelligence, air support and warning from "
        "their bases", "assumption: ISR drones from Niamey and Agadez (FACTS F)")
    support_firepower: float = param(
        0.5, 0.0, 5.0, "x", "Extra firepower of supported partner forces within reach "
        "(intelligence, air support): firepower x (1 + this)", "assumption")
    support_warning: float = param(
        0.5, 0.0, 1.0, "share", "Share of the ambush advantage removed for supported partner "
        "columns within reach (warning)", "assumption")


class RussianSupportParams(Strict):
    """Channels of Russian regime protection (sim.mechanics.juntas, scenario events).

    Regime protection itself (coup success) is `junta.protection_reference`; each channel here
    can be switched off by setting it to 0.
    """

    garrison_release: float = param(
        0.5, 0.0, 1.0, "share", "Share of the capital's own garrison freed for operations while "
        "Russian guards protect the junta", "assumption (source article: regime protection)")
    guards_needed: float = param(
        50.0, 1.0, 5000.0, "personnel",
        "Russian regime-protection personnel at the capital that free the garrison", "assumption")
    arrival_credibility: float = param(
        0.05, 0.0, 0.5, "credibility", "Junta credibility gained when a Russian unit arrives",
        "assumption; source article: juntas' credibility rests on Russian-backed success")
    departure_credibility: float = param(
        0.05, 0.0, 0.5, "credibility", "Junta credibility lost when a Russian unit leaves",
        "assumption; source article")


class BlockadeParams(Strict):
    """Sieges and blockades of towns (sim.mechanics.blockades)."""

    min_population: float = param(
        10000.0, 1000.0, 1e6, "persons", "Towns of at least this size can be blockaded",
        "assumption; Djibo ~60,000 under blockade (ACLED fact sheet, Sep 2023)")
    ring_cells: int = param(
        2, 1, 10, "cells", "Radius of the ring of cells around a town whose control decides a "
        "blockade", "assumption")
    ring_share: float = param(
        0.35, 0.05, 1.0, "share", "Share of the ring dominated by one armed group (held cells "
        "count 1, contested cells 1/2) that blockades a town the state holds or contests",
        "assumption; Djibo, Timbuktu blockaded by JNIM in 2023 (ACLED fact sheet, Sep 2023)")
    death_rate: float = param(
        0.3, 0.0, 50.0, "deaths/(100,000 people*day)",
        "Civilians killed around a blockaded town (attacks on convoys, on people leaving, on "
        "supply runs), by the blockading group",
        "assumption; JNIM blockades of Djibo and Timbuktu, boat attack of Sep 2023 (ACLED)")
    flight_block: float = param(
        0.5, 0.0, 1.0, "share", "Share of flight out of a blockaded town prevented",
        "assumption")
    displaced_exposure: float = param(
        1.0, 0.0, 1.0, "share", "Exposure of the displaced people sheltering in a blockaded "
        "town to the blockade's killings, relative to its residents (0: spared)",
        "ACAPS, 19 Oct 2022: besieged Djibo held over 89,000 residents and at least 285,000 "
        "displaced, all dependent on convoys that the armed groups attack and on mined roads; "
        "the same exposure as residents an assumption")


class DroneParams(Strict):
    """Drone strikes by state fleets and armed groups' drones (sim.mechanics.drones)."""

    min_concentration: float = param(
        20.0, 1.0, 1000.0, "personnel",
        "Fewest armed-group fighters in a cell that state drones look for (a concentration)")
    detection_personnel: float = param(
        60.0, 0.0, 10000.0, "personnel",
        "Fighters in the chosen cell at which a sortie finds and strikes them half the time")
    casualties_per_strike: float = param(
        5.0, 0.0, 50.0, "persons/strike",
        "Mean fighter casualties (killed and wounded) of a state drone strike",
        "TB2: up to four MAM-L guided bombs per sortie (HRW, 25 Jan 2024); number an assumption")
    group_casualties_per_strike: float = param(
        2.5, 0.0, 50.0, "persons/strike",
        "Mean casualties of an armed group's bomb-carrying drone strike on a post")
    killed_fraction: float = param(
        0.6, 0.05, 0.95, "share", "Share of drone-strike casualties killed (rest wounded)")
    max_loss_share: float = param(
        0.3, 0.01, 1.0, "share", "Largest share of the personnel in a cell hit by one strike")
    collateral_rate: float = param(
        0.6, 0.0, 1.0, "probability",
        "Chance a strike kills civilians in a fully populated cell at restraint 0",
        "HRW 2024: markets at Bouro and Boulkessi, a funeral at Bidi, 60+ civilians killed "
        "in three TB2 strikes; rate an assumption")
    populated_half: float = param(
        5000.0, 1.0, 1e6, "residents",
        "Residents of a cell at which civilians are half as exposed as in a crowded cell")
    gathering_share: float = param(
        0.15, 0.0, 1.0, "probability",
        "Chance a strike that harms civilians hits a gathering (funeral, wedding, market crowd)",
        "Bidi funeral 21 Sep 2023, Konokassi wedding Feb 2024 (HRW; press); rate an assumption")
    market_multiplier: float = param(
        3.0, 1.0, 7.0, "x",
        "Gathering chance multiplier on a cell's weekly market day",
        "Bouro market 3 Aug 2023 (28 killed), Boulkessi market 18 Nov 2023 (HRW)")
    bystanders_killed: float = param(
        2.0, 0.0, 50.0, "persons", "Mean civilians killed by a strike that harms civilians "
        "outside a gathering (at least 1)",
        "Amasrakad 17 Mar 2024: 13 killed in two strikes (Amnesty); Tangatta, 13 Nov 2024: 7 (HRW)")
    gathering_killed: float = param(
        20.0, 1.0, 300.0, "persons", "Mean civilians killed when a strike hits a gathering",
        "Bouro 28, Bidi 24 (HRW 2024); Tinzaouaten 25 Aug 2024: 21 (CSP-DPA claim, L)")
    max_resident_share: float = param(
        0.05, 0.0, 1.0, "share", "Largest share of a cell's residents killed by one strike")
    base_destroyed_share: float = param(
        0.2, 0.0, 1.0, "share",
        "Share of a fleet destroyed when a complex attack hits its air base",
        "Senou air base 101, Bamako, 17 Sep 2024 (source article); share an assumption")
    grounded_days: float = param(
        14.0, 0.0, 365.0, "days", "Days a fleet flies no sorties after its air base is hit")
