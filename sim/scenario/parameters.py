"""Behavioural parameters, grouped by process: names, types, bounds, units and documentation.

Each group is the parameter object of one process (a module in `sim/mechanics`); `Parameters`
holds them all. `tunable_parameters` (in `sim.scenario.tunable`) lists them for sweeps, the CLI
and the dashboard.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field, model_validator

from sim.scenario.attack_parameters import ComplexAttackParams
from sim.scenario.errors import did_you_mean
from sim.scenario.fields import ASSUMPTION, Strict, param
from sim.scenario.force_parameters import (
    BlockadeParams,
    DroneParams,
    ForeignParams,
    RussianSupportParams,
)

__all__ = ["ASSUMPTION", "BlockadeParams", "CivilianParams", "CombatParams",
           "ComplexAttackParams", "ControlParams", "DecisionParams", "DroneParams",
           "ForeignParams", "JuntaParams", "MovementParams", "Parameters", "RussianSupportParams",
           "Strict", "iter_parameter_names", "param"]

class CombatParams(Strict):
    """Engagements between hostile forces (sim.mechanics.combat)."""

    engage_probability: float = param(
        0.25, 0.0, 1.0, "1/day", "Chance that hostile forces in one cell fight on a given day")
    aimed_fire_rate: float = param(
        0.015, 0.0, 1.0, "casualties/(fighter*day)",
        "Lanchester aimed-fire coefficient: casualties one effective fighter inflicts per day")
    area_fire_rate: float = param(
        2e-4, 0.0, 0.05, "casualties/(fighter^2*day)",
        "Deitchman area-fire coefficient of a column against hidden guerrillas")
    evasion: float = param(
        0.8, 0.0, 1.0, "probability",
        "Chance outnumbered guerrillas slip away instead of fighting, also from a column")
    ambush_multiplier: float = param(
        2.0, 1.0, 20.0, "x", "Guerrilla fire multiplier when ambushing a moving column")
    killed_fraction: float = param(
        0.3, 0.05, 0.95, "share", "Share of casualties killed (rest wounded); Bamako 77/277")
    max_daily_loss: float = param(
        0.5, 0.05, 1.0, "share", "Largest share of a force that can fall in one day")
    trapped_rounds: int = param(
        2, 0, 10, "days",
        "Extra days of fighting, booked as one event, of a column ambushed where the state "
        "holds no ground (Kalyvas zones 4-5, or ungoverned) while its ambushers outnumber it: "
        "cut off, it cannot withdraw until it is no longer outnumbered",
        "Tinzaouaten, 25-27 Jul 2024: a FAMa-Wagner column ambushed by CSP-DPA (and JNIM) "
        "fought three days before the survivors withdrew or surrendered (Wikipedia, Battle "
        "of Tinzaouaten (2024), from the Malian army's and Wagner's communiques; The Cipher "
        "Brief); that other cut-off columns fight as long is an assumption")
    trapped_killed_fraction: float = param(
        0.9, 0.05, 1.0, "share",
        "Share of a cut-off column's casualties killed (its wounded are not evacuated)",
        "Tinzaouaten, Jul 2024: of 75+ Wagner fighters at least 46 killed and 2 captured (New "
        "York Times, reported by Wikipedia); Wagner's last radio message: 'only three "
        "remained' (TASS, 29 Jul 2024)")
    raid_civilians_per_death: float = param(
        0.5, 0.0, 10.0, "civilians/death",
        "Civilians killed per fighter killed when an armed group attacks in a populated cell "
        "(raids on villages and towns, trench diggers, militia families)",
        "assumption; Barsalogho 24 Aug 2024: mostly civilians digging trenches (FACTS A)")
    wounded_return_share: float = param(
        0.5, 0.0, 1.0, "share",
        "Share of an armed group's wounded fighters who recover and rejoin it",
        "assumption (no published figure for Sahelian armed groups; the whole range is open)")
    wounded_return_days: float = param(
        60.0, 1.0, 365.0, "days", "Mean time for a wounded armed-group fighter to rejoin")


class DecisionParams(Strict):
    """Periodic decisions: offensives, raids, attraction fields, reinforcements.

    Read by sim.mechanics.decisions and sim.mechanics.reinforcement.
    """

    interval_days: int = param(
        7, 1, 30, "days",
        "Days between commands' decisions (also recruitment, reinforcement and influence)")
    offensive_share: float = param(
        0.5, 0.0, 1.0, "share", "Share of mobile state units on offensives at credibility 1/2")
    credibility_urgency: float = param(
        0.4, 0.0, 2.0, "1/credibility",
        "Rise of the offensive share per unit of credibility below 1/2 (juntas need victories)")
    posture_defensive: float = param(
        0.4, 0.0, 1.0, "x", "Offensive share multiplier of state factions in defensive posture")
    posture_offensive: float = param(
        1.6, 1.0, 5.0, "x", "Offensive share multiplier of state factions in offensive posture")
    raid_share_defensive: float = param(
        0.2, 0.0, 1.0, "share", "Share of an armed group's units raiding in defensive posture")
    raid_share_balanced: float = param(
        0.5, 0.0, 1.0, "share", "Share of an armed group's units raiding in balanced posture")
    raid_share_offensive: float = param(
        0.8, 0.0, 1.0, "share", "Share of an armed group's units raiding in offensive posture")
    regroup_below: float = param(
        0.3, 0.0, 1.0, "share", "Strength (share of initial) under which a group stops attacking")
    raid_target_limit: float = param(
        400.0, 1.0, 100000.0, "personnel",
        "Largest enemy force in a cell that raiding armed groups are drawn to")
    field_box_cells: int = param(
        5, 1, 15, "cells", "Width of the box filter (three passes) that spreads attraction")
    post_coup_pull: float = param(
        0.0, 0.0, 20.0, "x",
        "From a junta's dated coup during the run on, jihadist groups' attraction to that "
        "country's cells is multiplied by 1 + this: they move in to exploit the upheaval",
        "JNIM and IS Sahel carried out deadlier attacks and took more territory in Niger after "
        "the coup of 26 Jul 2023, exploiting the security forces' limits (Critical Threats, "
        "'One Year After Niger's Coup', 23 Jul 2024, from ACLED; Jamestown Terrorism Monitor "
        "21(21), 2023: the coup as a window of opportunity for jihadist groups); the size of "
        "the pull an assumption")
    reinforcement_rate: float = param(
        0.0, 0.0, 1.0, "1/day",
        "Share per day of the gap between an armed group's unit and its allotted share of the "
        "group's fighters (its order-of-battle share) that the group's command closes by "
        "moving fighters between its units",
        "mechanism: JNIM's katibas act under the effective command of Iyad Ag Ghali in a "
        "division of labour between theatres (The Standard, Banjul, 'From the Sahel to Gulf of "
        "Guinea: the communalisation of jihad'); Ansaroul Islam received considerable support "
        "and training from Katiba Macina (Long War Journal, Jun 2018); the rate an assumption")


class ViolenceParams(Strict):
    """Violence against civilians (sim.mechanics.violence)."""

    base_rate: float = param(
        0.002, 0.0, 1.0, "1/(100 personnel*day)",
        "Chance per 100 personnel-day of a violent event against civilians at restraint 0")
    strength_cap: float = param(
        3.0, 0.01, 100.0, "hundreds of personnel",
        "Unit size beyond which more personnel add no more events (in hundreds)")
    contested_multiplier: float = param(
        3.0, 1.0, 20.0, "x", "Rate multiplier in contested cells (Kalyvas zones 2-4)")
    size_scale: float = param(
        2.0, 0.5, 100.0, "persons", "Scale (minimum) of event deaths, Pareto-distributed")
    size_tail: float = param(
        1.4, 1.01, 5.0, "-", "Pareto tail exponent of event deaths (smaller: heavier tail)")
    size_cap: float = param(
        800.0, 10.0, 5000.0, "persons", "Largest single event against civilians")
    indiscriminate_multiplier: float = param(
        2.0, 1.0, 20.0, "x", "Size multiplier where the perpetrator's control is weak (Kalyvas)")
    collaboration_multiplier: float = param(
        5.0, 0.0, 50.0, "x per unit of state influence",
        "Armed groups' rate of violence rises by this factor times the state's influence in "
        "the cell (punishment of communities that collaborate or supply militia)",
        "assumption; JNIM attacks on VDP and trench diggers (FACTS F; ACAPS Sep 2024)")
    suspicion_multiplier: float = param(
        0.0, 0.0, 50.0, "x per unit of armed groups' influence",
        "The state side's rate of violence rises by this factor times the armed groups' "
        "(jihadist and separatist) influence in the cell (collective punishment of communities "
        "suspected of supporting them)",
        "HRW, 24 Jul 2023: Malian soldiers and apparent Wagner fighters executed civilians "
        "during operations in response to the presence of Islamist armed groups in central "
        "Mali; HRW, 25 Apr 2024: the killings at Nondin and Soro appear to be part of a "
        "military campaign against civilians accused of collaborating with Islamist armed "
        "groups; size not sourced: fitted to Mali's perpetrator shares (calibration/)")
    weak_control: float = param(
        0.5, 0.0, 1.0, "influence",
        "Perpetrator's influence below which violence is indiscriminate")
    max_resident_share: float = param(
        0.2, 0.0, 1.0, "share", "Largest share of a cell's residents killed in one event")
    reprisal_multiplier: float = param(
        0.0, 0.0, 10.0, "x per 100 own dead",
        "A faction's rate of violence in a region rises by this factor per 100 of its fighters "
        "killed there by others, a memory that fades with reprisal_half_life (reprisals)",
        "assumption; Soro and Nondin, 25 Feb 2024: 223 civilians killed by the army in an "
        "apparent reprisal for an attack near Ouahigouya (HRW, 25 Apr 2024)")
    reprisal_half_life: float = param(
        30.0, 1.0, 365.0, "days", "Half-life of the losses a faction avenges")
    dialogue_restraint: float = param(
        0.49, 0.0, 0.9, "share",
        "Share of armed groups' violence against civilians prevented in a country whose "
        "elected government negotiates with them (local peace accords, talks with armed "
        "groups' leaders), until its junta's coup",
        "AFP, 21 Aug 2023, from ACLED: under President Bazoum's local dialogue, attacks on "
        "civilians in Niger fell 49% (H1 2023 on H1 2022); that the fall is the policy's is an "
        "assumption")
    monitoring_restraint: float = param(
        0.0, 0.0, 0.9, "share",
        "Share of the state side's violence against civilians prevented in a country while a "
        "UN mission with a mandate is present there (its human-rights monitoring and public "
        "reporting); the mandate's end ends it",
        "HRW, 12 Dec 2024: since MINUSMA's withdrawal Mali's army and the Wagner Group "
        "committed serious abuses against civilians, and the authorities' failure to hold "
        "them to account eased the way for further atrocities; size not sourced: a mechanism "
        "prior of the calibration (calibration/priors.toml), 0 (off) until a fit draws it")


class CivilianParams(Strict):
    """Communities respond: grievance, recruitment, flight (sim.mechanics, three modules)."""

    grievance_per_death: float = param(
        20.0, 0.0, 1000.0, "1/(death per 1,000 people)",
        "Grievance added per civilian killed per 1,000 members of the community")
    grievance_half_life: float = param(
        540.0, 7.0, 3650.0, "days", "Half-life of grievance (revenge memory)")
    recruitment_rate: float = param(
        0.004, 0.0, 1.0, "recruits/(1,000 people*day)",
        "Recruits per 1,000 fully aggrieved people per day where a group is present")
    governed_recruitment_rate: float = param(
        0.002, 0.0, 0.1, "recruits/(1,000 people*day)",
        "Recruits per 1,000 residents of the cells a group controls per day (taxes, mines, "
        "local bargains), whatever their grievance",
        "mechanism: JNIM's governance and illicit economies fund and bind its fighters where it "
        "holds ground (Nsaibia, Beevor and Berger, GI-TOC/ACLED, Oct 2023); rate an assumption")
    strength_ceiling: float = param(
        0.0, 0.0, 10.0, "x personnel at the start",
        "Most fighters an armed group can arm, pay and command, as a multiple of its personnel "
        "at the start (its order of battle): its recruitment falls in proportion to the room "
        "left below the ceiling, so it replaces losses rather than grows without bound "
        "(0: no ceiling)",
        "assumption, a mechanism prior of the calibration (calibration/priors.toml): weapons, "
        "pay and commanders limit how many recruits a group can absorb; without a ceiling "
        "recruitment from grievance either fails to replace the losses the sourced fighting "
        "implies or grows the groups without bound (docs/CALIBRATION.md, Limits); 0 (off) "
        "until a fit draws it")
    rival_support: float = param(
        1.0, 0.0, 1.0, "share",
        "Weight of a community's grievance toward an armed group in its support for the armed "
        "groups hostile to it (1: in full, as grievance toward the state side and foreign "
        "forces always counts; 0: not at all)",
        "assumption, a mechanism prior of the calibration (calibration/priors.toml): "
        "communities one armed group brutalises may turn to its armed rivals (JNIM and IS "
        "Sahel at war since 2020; IS Sahel and CSP-DPA in Menaka); 1 keeps the enemy of my "
        "enemy as a friend")
    recruitment_reach_personnel: float = param(
        200.0, 1.0, 100000.0, "personnel",
        "A group's personnel in a region at which it reaches all of the region's communities")
    max_recruit_share: float = param(
        0.5, 0.0, 1.0, "share", "Largest share of a community recruited in one draw")
    flight_per_death: float = param(
        60.0, 0.0, 2000.0, "persons/death",
        "People who flee per death in a cell (civilians or fighters)")
    contested_flight_rate: float = param(
        6e-5, 0.0, 0.05, "1/day", "Share of a contested cell's residents who flee each day")
    max_flight_share: float = param(
        0.5, 0.0, 1.0, "share", "Largest share of a cell's residents who flee in one day")
    refuge_min_population: float = param(
        50000.0, 1000.0, 5e6, "persons", "Towns of at least this size receive the displaced")


class ControlParams(Strict):
    """Territorial control (sim.mechanics.influence weekly, sim.mechanics.control daily)."""

    presence_half: float = param(
        30.0, 1.0, 10000.0, "personnel", "Personnel in reach that give half of full influence")
    state_presence_weight: float = param(
        0.1, 0.0, 1.0, "x", "Weight of state personnel in influence relative to armed groups'")
    adjustment_days: float = param(
        45.0, 1.0, 730.0, "days", "Time constant of influence toward its target")
    contested_margin: float = param(
        0.25, 0.0, 0.8, "share", "Lead in influence needed to hold a cell rather than contest it")
    minimum_influence: float = param(
        0.15, 0.0, 1.0, "share", "Influence below which no one controls a cell")
    governance_days: float = param(
        180.0, 7.0, 3650.0, "days",
        "Time constant for an actor to entrench where it controls (or lose hold elsewhere)")
    town_state_floor: float = param(
        0.7, 0.0, 1.0, "share", "State influence kept in garrisoned towns")
    administration_sudanian: float = param(
        0.6, 0.0, 1.0, "share", "State administrative influence in Sudanian cells, unopposed")
    administration_sahelian: float = param(
        0.4, 0.0, 1.0, "share", "State administrative influence in Sahelian cells, unopposed")
    administration_saharan: float = param(
        0.05, 0.0, 1.0, "share", "State administrative influence in Saharan cells (at a town "
        "if saharan_reach_km > 0), unopposed", "assumption: the state is absent from most of "
        "the Sahara outside its towns, so cells there without forces are ungoverned")
    saharan_reach_km: float = param(
        0.0, 0.0, 2000.0, "km", "Distance from the nearest town over which the state's "
        "Saharan administration falls by a factor e (0: the same in every Saharan cell)")
    administration_personnel: float = param(
        100.0, 0.0, 10000.0, "personnel",
        "Personnel-equivalent of full administration or governance in a cell's reach")
    reach_cells: int = param(
        5, 1, 15, "cells", "Width of the square of cells over which presence gives influence")
    firm_control: float = param(
        0.9, 0.5, 1.0, "share", "State share of influence from which control is firm (zone 1)")


class JuntaParams(Strict):
    """Junta credibility, coups and replacements (sim.mechanics.juntas, replacement)."""

    credibility_gain_per_kill: float = param(
        1e-4, 0.0, 0.05, "1/death", "Credibility gained per enemy fighter killed by state side")
    credibility_loss_per_death: float = param(
        2e-4, 0.0, 0.05, "1/death", "Credibility lost per state or Russian fighter killed")
    capital_attack_shock: float = param(
        0.08, 0.0, 1.0, "share", "Credibility lost when the capital is attacked")
    credibility_recovery: float = param(
        5e-3, 0.0, 0.1, "1/day", "Daily drift of credibility back toward its baseline")
    coup_rate: float = param(
        25.0, 0.0, 100.0, "1/year", "Coup attempts per year at zero credibility",
        "set with coup_threshold so that Burkina Faso's junta faces about two attempts in "
        "2023-24 and Mali's none (four attempts Sep 2022-Sep 2024; none in Mali; FACTS F, M)")
    coup_threshold: float = param(
        0.6, 0.05, 1.0, "credibility",
        "Credibility above which no coup is attempted; the hazard grows as "
        "(1 - credibility / threshold)^2 below it")
    coup_success: float = param(
        0.2, 0.0, 1.0, "probability", "Chance an attempt succeeds with no regime protection",
        "four attempts against Traore, none succeeded (source article; FACTS F, M)")
    protection_reference: float = param(
        300.0, 1.0, 10000.0, "personnel",
        "Regime-protection personnel that halve a coup's chance of success")
    replacement_days: float = param(
        120.0, 1.0, 3650.0, "days", "Time constant of replacing state forces' losses")
    post_coup_recall: float = param(
        0.25, 0.0, 0.9, "share",
        "Share of its country's mobile state-side rows that a junta taking power on its "
        "scenario date pulls back to guard the capital",
        "assumption (no source gives numbers); Niger, Aug 2023: a convoy of about 40 pick-ups "
        "of troops reached Niamey (CNN, 7 Aug 2023); 'so many of the armed forces have been "
        "pulled into Niamey ... leaving these areas wide open' (B. Williams, Al Jazeera, "
        "Aug 2023); the BBC linked the attacks of early Oct 2023 to soldiers recalled to the "
        "capital")
    post_coup_recall_days: float = param(
        213.0, 1.0, 730.0, "days",
        "How long the recalled rows guard the capital before they return to their sectors",
        "assumption: to 24 Feb 2024, when ECOWAS lifted its sanctions on Niger and its "
        "threat of intervention had lapsed; no source dates the troops' return")


class MovementParams(Strict):
    """Movement of force units (sim.mechanics.movement)."""

    state_speed: float = param(
        0.6, 0.0, 1.0, "cells/day", "Chance per day that a state unit moves one cell")
    insurgent_speed: float = param(
        0.8, 0.0, 1.0, "cells/day", "Chance per day that an armed-group unit moves one cell")
    state_reach: float = param(
        6.0, 0.0, 60.0, "cells", "How far state units operate from their base (supply)")
    home_weight: float = param(
        0.1, 0.0, 10.0, "1/cell", "Pull toward base per cell of distance for units not attacking")
    wander: float = param(
        0.3, 0.0, 1.0, "share", "Random component of movement choices")


class Parameters(Strict):
    """All behavioural parameters, by process; `sources` gives each one's basis."""

    decisions: DecisionParams = Field(default_factory=DecisionParams)
    combat: CombatParams = Field(default_factory=CombatParams)
    complex_attacks: ComplexAttackParams = Field(default_factory=ComplexAttackParams)
    violence: ViolenceParams = Field(default_factory=ViolenceParams)
    civilians: CivilianParams = Field(default_factory=CivilianParams)
    control: ControlParams = Field(default_factory=ControlParams)
    junta: JuntaParams = Field(default_factory=JuntaParams)
    movement: MovementParams = Field(default_factory=MovementParams)
    foreign: ForeignParams = Field(default_factory=ForeignParams)
    russian_support: RussianSupportParams = Field(default_factory=RussianSupportParams)
    blockades: BlockadeParams = Field(default_factory=BlockadeParams)
    drones: DroneParams = Field(default_factory=DroneParams)
    sources: dict[str, str] = Field(
        default_factory=dict, description="Dotted parameter name -> source of its value")

    @model_validator(mode="after")
    def _sources_name_parameters(self) -> Parameters:
        known = {f"{g}.{p}" for g, p in iter_parameter_names(type(self))}
        for key in self.sources:
            if key not in known:
                raise ValueError(
                    f"sources names unknown parameter '{key}'{did_you_mean(key, known)}")
        return self


def iter_parameter_names(params: type[Parameters] = Parameters) -> Iterator[tuple[str, str]]:
    """Yield (group, name) for every behavioural parameter."""
    for group, field in params.model_fields.items():
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            for name in sub.model_fields:
                yield group, name
