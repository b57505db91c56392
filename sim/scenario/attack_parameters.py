"""Parameter group of complex attacks on high-value targets (sim.mechanics.complex_attacks).

One group per process, as in `sim.scenario.parameters`, which gathers them all.
"""

from __future__ import annotations

from sim.scenario.fields import Strict, param


class ComplexAttackParams(Strict):
    """Complex attacks on high-value targets (sim.mechanics.complex_attacks)."""

    rate: float = param(
        1.0, 0.0, 24.0, "1/year", "Complex attacks on high-value targets per jihadist faction-year",
        "Bamako, Barsalogho, Niakatire, Tinzaouaten in 2024 across JNIM (FACTS A)")
    median_killed: float = param(
        40.0, 1.0, 500.0, "persons",
        "Median deaths in a complex attack with none of its faction's fighters within reach "
        "(Bamako: 77)", "Bamako 77, Niakatire 27+, Tinzaouaten 70+ (FACTS A)")
    attacker_elasticity: float = param(
        0.0, 0.0, 2.0, "1", "Elasticity of a complex attack's median deaths in 1 + the "
        "attacking faction's fighters within reach / reference_attackers (0: one median for all)",
        "assumption; attackers differ by a factor of tens: 'a small number' in Bamako, 17 Sep "
        "2024, 77 killed (source article); about 100 at Dargo, 28 Jul 2025, about 50 soldiers "
        "killed (residents to AP, Africanews 30 Jul 2025); 'nearly 3,000' at Djibo, 26 Nov 2023 "
        "(the army's claim, Agence d'Information du Burkina)")
    reference_attackers: float = param(
        1000.0, 1.0, 100000.0, "fighters", "Fighters within reach that double a complex "
        "attack's median deaths at elasticity 1 (the scale of a massed assault)", "assumption")
    mass_reach_cells: int = param(
        4, 0, 20, "cells", "Chebyshev distance within which a faction's present fighters, in "
        "any country, join an assault (4 cells: about 110 km at 0.25 degree)", "assumption")
    sigma: float = param(
        0.8, 0.05, 3.0, "log-units", "Log-normal spread of complex-attack deaths")
    capital_share: float = param(
        0.35, 0.0, 1.0, "probability", "Chance a complex attack targets the junta's capital")
    civilian_share: float = param(
        0.2, 0.0, 1.0, "share", "Share of a complex attack's deaths who are bystanders")
    civilian_cap_share: float = param(
        0.01, 0.0, 0.2, "share", "Most bystanders killed, as a share of the cell's residents")
    attacker_loss_share: float = param(
        0.3, 0.0, 1.0, "share", "Share of a complex attack's deaths among the attackers")
    toll_cap_per_defender: float = param(
        2.0, 0.1, 20.0, "deaths/defender", "Most deaths in an attack per defender present")
    killed_fraction: float = param(
        0.3, 0.05, 0.95, "share", "Share of defenders' casualties killed (rest wounded)",
        "Bamako 17 Sep 2024: 77 killed, 255 wounded (FACTS A)")
