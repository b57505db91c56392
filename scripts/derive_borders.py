"""Derive ``sim/data/borders.geojson`` from Natural Earth 1:110m Admin 0 countries.

Source: Natural Earth ``ne_110m_admin_0_countries`` (public domain), as shipped in the PyPI
package geopandas 0.14.x at ``geopandas/datasets/naturalearth_lowres/naturalearth_lowres.shp``.
The shapefile is read with pyshp only; geopandas is located but never imported.

A country is kept if the bounding box of at least one of its polygons intersects the study box
(lon -13.5..17.0, lat 8.0..26.0). Testing per polygon rather than per country avoids pulling in
France, whose whole-country bounding box (French Guiana to Europe) spans the Sahel. Rings are
kept whole (no clipping) and coordinates are rounded to 3 decimals.

Run: ``.venv/bin/python scripts/derive_borders.py``
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import shapefile

BOX = (-13.5, 8.0, 17.0, 26.0)  # lon_min, lat_min, lon_max, lat_max
NDIGITS = 3
OUT = Path(__file__).resolve().parents[1] / "sim" / "data" / "borders.geojson"
# Fallback codes for features whose iso_a3 is '-99' (geopandas already patches most of them).
ISO_FALLBACK = {"Kosovo": "XKX", "N. Cyprus": "CYN", "Somaliland": "SOL"}

Ring = list[tuple[float, float]]


def source_path() -> Path:
    """Return the path of the Natural Earth shapefile inside the installed geopandas."""
    spec = importlib.util.find_spec("geopandas")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("geopandas 0.14.x must be installed (its data file is the source)")
    pkg = Path(next(iter(spec.submodule_search_locations)))
    path = pkg / "datasets" / "naturalearth_lowres" / "naturalearth_lowres.shp"
    if not path.exists():
        raise SystemExit(f"{path} not found (geopandas >= 1.0 no longer ships it)")
    return path


def intersects_box(ring: Ring) -> bool:
    """Return True if the bounding box of ``ring`` intersects ``BOX``."""
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    return min(xs) <= BOX[2] and max(xs) >= BOX[0] and min(ys) <= BOX[3] and max(ys) >= BOX[1]


def round_ring(ring: Ring) -> Ring:
    """Round a ring's coordinates and drop consecutive duplicates created by rounding."""
    out: Ring = []
    for x, y in ring:
        p = (round(x, NDIGITS), round(y, NDIGITS))
        if not out or p != out[-1]:
            out.append(p)
    if out[0] != out[-1]:
        out.append(out[0])
    return out


def main() -> None:
    """Read the shapefile, select countries in the box and write the GeoJSON."""
    reader = shapefile.Reader(str(source_path()))  # encoding taken from the .cpg file
    features: list[dict[str, Any]] = []
    for sr in reader.iterShapeRecords():
        geom = sr.shape.__geo_interface__
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        if not any(intersects_box(poly[0]) for poly in polys):
            continue
        name: str = sr.record["name"]
        iso = sr.record["iso_a3"]
        if iso == "-99":
            iso = ISO_FALLBACK[name]
            print(f"  iso_a3 '-99' for {name}: using {iso}")
        rounded = [[round_ring(r) for r in poly] for poly in polys]
        rounded = [[r for r in poly if len(r) >= 4] for poly in rounded]
        if len(rounded) == 1:
            geometry = {"type": "Polygon", "coordinates": rounded[0]}
        else:
            geometry = {"type": "MultiPolygon", "coordinates": rounded}
        features.append(
            {
                "type": "Feature",
                "properties": {"iso_a3": iso, "name": name},
                "geometry": geometry,
            }
        )
    features.sort(key=lambda f: f["properties"]["iso_a3"])
    collection = {
        "type": "FeatureCollection",
        "name": "sahel_borders_ne110m",
        "features": features,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n",
        encoding="utf-8",
    )
    names = ", ".join(f"{f['properties']['iso_a3']} {f['properties']['name']}" for f in features)
    print(f"{len(features)} countries: {names}")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.1f} kB)")


if __name__ == "__main__":
    main()
