"""Write ``sim/data/communities.csv``: approximate community-group shares per admin1 region.

This is a documented APPROXIMATION, not census data. National ethnic compositions come from
census and DHS figures (Mali RGPH 2009 / EDSM 2018; Burkina Faso RGPH 2006 / EDS 2021; Niger
RGPH 2012 / EDSN 2012); the regional split is a judgement based on the well-known geography of
each group, tuned so that population-weighted regional shares stay close to the national figures.
Groups: fulani (Fulani/Peul), tuareg_arab (Tuareg/Kel Tamasheq incl. Bella, and Arab/Moor),
bambara, mossi, other (everyone else). Rows use GeoNames admin1 codes (see admin1.csv).

Run: ``.venv/bin/python scripts/derive_communities.py``
"""

from __future__ import annotations

import csv
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sim" / "data" / "communities.csv"
GROUPS = ("fulani", "tuareg_arab", "bambara", "mossi", "other")

# (country_iso3, admin1_code) -> (fulani, tuareg_arab, bambara, mossi, other)
SHARES: dict[tuple[str, str], tuple[float, float, float, float, float]] = {
    # Mali: Bambara ~33% nationally, mostly Koulikoro/Ségou/Bamako and the south; Fulani ~13-15%,
    # concentrated in Mopti (Inner Niger Delta, Seno) and present across the Sahel belt; Tuareg
    # and Arab (~4%) in Kidal, Tombouctou, Gao, Ménaka, Taoudénit. Other = Soninke, Malinke,
    # Senufo/Minianka, Dogon, Songhai, Bozo, Bobo, Khassonke, etc.
    ("MLI", "01"): (0.10, 0.01, 0.50, 0.00, 0.39),  # Bamako: mixed capital, Bambara plurality
    ("MLI", "03"): (0.15, 0.02, 0.20, 0.00, 0.63),  # Kayes: Soninke, Khassonke, Malinke, Fulbe
    ("MLI", "04"): (0.35, 0.03, 0.05, 0.00, 0.57),  # Mopti: Fulani and Dogon, Bozo, Songhai
    ("MLI", "05"): (0.13, 0.00, 0.60, 0.00, 0.27),  # Ségou: Bambara core; Marka, Bozo, Minianka
    ("MLI", "06"): (0.07, 0.00, 0.30, 0.00, 0.63),  # Sikasso: Senufo, Minianka, Bambara
    ("MLI", "07"): (0.10, 0.02, 0.55, 0.00, 0.33),  # Koulikoro: Bambara; Malinke, Soninke, Moors
    ("MLI", "08"): (0.15, 0.35, 0.03, 0.00, 0.47),  # Tombouctou: Songhai, Tuareg, Arab, Fulani
    ("MLI", "09"): (0.10, 0.27, 0.02, 0.00, 0.61),  # Gao: Songhai majority, Tuareg, Arab
    ("MLI", "10"): (0.01, 0.85, 0.00, 0.00, 0.14),  # Kidal: Tuareg (Ifoghas, Imghad), Arab
    ("MLI", "12070575"): (0.02, 0.85, 0.00, 0.00, 0.13),  # Taoudénit: Arab (Berabiche), Tuareg
    ("MLI", "12070577"): (0.15, 0.60, 0.00, 0.00, 0.25),  # Ménaka: Tuareg, Daoussahak, Fulani
    # Burkina Faso: Mossi ~50% nationally, dominant on the central plateau (Centre, Nord,
    # Centre-Nord, Plateau-Central, Centre-Est, Centre-Sud) and large migrant share in the west;
    # Fulani ~8-10%, dominant in Sahel region (with Tuareg/Bella, Songhai, Fulse); Gourmantché
    # in Est; Bwa, Bobo, Senufo, Gurunsi, Bissa, Lobi, Dagara etc. = other. Bambara marginal.
    ("BFA", "01"): (0.08, 0.00, 0.02, 0.25, 0.65),  # Boucle du Mouhoun: Bwa, Marka, Samo
    ("BFA", "02"): (0.05, 0.00, 0.02, 0.15, 0.78),  # Cascades: Senufo, Gouin, Turka
    ("BFA", "03"): (0.04, 0.00, 0.00, 0.85, 0.11),  # Centre: Ouagadougou, Mossi
    ("BFA", "04"): (0.05, 0.00, 0.00, 0.55, 0.40),  # Centre-Est: Mossi, Bissa, Yaana
    ("BFA", "05"): (0.12, 0.00, 0.00, 0.82, 0.06),  # Centre-Nord: Mossi, Fulani minority
    ("BFA", "06"): (0.05, 0.00, 0.00, 0.45, 0.50),  # Centre-Ouest: Gurunsi (Lela, Nuna), Mossi
    ("BFA", "07"): (0.05, 0.00, 0.00, 0.75, 0.20),  # Centre-Sud: Mossi, Gurunsi, Bissa
    ("BFA", "08"): (0.17, 0.00, 0.00, 0.08, 0.75),  # Est: Gourmantché, Fulani
    ("BFA", "09"): (0.07, 0.00, 0.02, 0.28, 0.63),  # Hauts-Bassins: Bobo, Senufo, Dioula
    ("BFA", "10"): (0.10, 0.00, 0.00, 0.88, 0.02),  # Nord: Yatenga Mossi, Fulani
    ("BFA", "11"): (0.06, 0.00, 0.00, 0.92, 0.02),  # Plateau-Central: Mossi
    ("BFA", "12"): (0.55, 0.15, 0.00, 0.10, 0.20),  # Sahel: Fulani, Tuareg/Bella, Songhai, Fulse
    ("BFA", "13"): (0.04, 0.00, 0.00, 0.10, 0.86),  # Sud-Ouest: Lobi, Dagara, Birifor
    # Niger: Hausa ~50% and Zarma-Songhai ~20% are "other" (no Bambara or Mossi); Tuareg ~10%,
    # concentrated in Agadez and north Tahoua/Tillabéri; Fulani ~7-9% across the Sahel belt;
    # Kanuri (Diffa, Zinder), Toubou, Gourmantché = other.
    ("NER", "01"): (0.03, 0.65, 0.00, 0.00, 0.32),  # Agadez: Tuareg, Arab; Hausa, Toubou
    ("NER", "02"): (0.20, 0.05, 0.00, 0.00, 0.75),  # Diffa: Kanuri, Fulani, Arab, Toubou, Buduma
    ("NER", "03"): (0.07, 0.01, 0.00, 0.00, 0.92),  # Dosso: Zarma, Hausa
    ("NER", "04"): (0.06, 0.04, 0.00, 0.00, 0.90),  # Maradi: Hausa
    ("NER", "06"): (0.07, 0.20, 0.00, 0.00, 0.73),  # Tahoua: Hausa; Tuareg in the north
    ("NER", "07"): (0.06, 0.05, 0.00, 0.00, 0.89),  # Zinder: Hausa, Kanuri
    ("NER", "08"): (0.06, 0.04, 0.00, 0.00, 0.90),  # Niamey: Zarma, Hausa
    ("NER", "09"): (0.12, 0.10, 0.00, 0.00, 0.78),  # Tillabéri: Zarma-Songhai, Fulani, Tuareg
}


def main() -> None:
    """Check each row sums to 1 and write the CSV."""
    bad = {k: round(sum(v), 6) for k, v in SHARES.items() if abs(sum(v) - 1.0) > 1e-9}
    if bad:
        raise SystemExit(f"rows not summing to 1: {bad}")
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["country_iso3", "admin1_code", *GROUPS])
        for (iso3, code), shares in SHARES.items():
            writer.writerow([iso3, code, *(f"{s:.2f}" for s in shares)])
    print(f"wrote {OUT} ({len(SHARES)} rows, {OUT.stat().st_size / 1024:.1f} kB)")


if __name__ == "__main__":
    main()
