"""A choropleth of the zones drawn on the server: SVG paths from the zones' simplified outlines,
shaded by people reached per 1,000 residents. No map tiles and no script are needed; the
template pairs it with a legend and a ranked data table.

Longitude and latitude are projected equirectangularly around the city's mean latitude
(at a city's scale the distortion is invisible), then scaled into a fixed-width viewBox.
"""

from __future__ import annotations

import json
import math

from sqlite_utils import Database

WIDTH = 560
PAD = 8
LEVELS = 4


def outlines(db: Database, zone: str | None = None) -> list[dict]:
    """Zones that have an outline: code, outline (GeoJSON geometry) and label point (lat, lon)."""
    sql = "select code, outline, lat, lon from zones where outline is not null"
    rows = db.query(sql + (" and code = ?" if zone else "") + " order by code", [zone] if zone else [])
    return [dict(r, outline=json.loads(r["outline"])) for r in rows]


def _rings(geometry: dict):
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    for poly in polys:
        yield from poly


def level(rate: float | None, top: float) -> str:
    """The class of a zone: no population known, nobody reached, or 1..LEVELS by rate."""
    if rate is None:
        return "none"
    if rate <= 0:
        return "0"
    return str(min(LEVELS, 1 + int(LEVELS * rate / top))) if top > 0 else "1"


def draw(zones: list[dict], rates: dict[str, float | None]) -> dict | None:
    """Paths and legend for zones with an outline; None when no zone has one."""
    if not zones:
        return None
    points = [p for z in zones for ring in _rings(z["outline"]) for p in ring]
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    k = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = (max(lons) - min(lons)) * k or 1e-6
    span_y = (max(lats) - min(lats)) or 1e-6
    scale = (WIDTH - 2 * PAD) / span_x
    height = round(span_y * scale + 2 * PAD)

    def xy(lon: float, lat: float) -> str:
        return f"{(lon - min(lons)) * k * scale + PAD:.1f},{(max(lats) - lat) * scale + PAD:.1f}"

    known = [r for r in rates.values() if r is not None]
    top = max(known) if known else 0
    shapes = []
    for z in zones:
        d = " ".join("M" + " L".join(xy(*p[:2]) for p in ring[:-1]) + " Z" for ring in _rings(z["outline"]))
        rate = rates.get(z["code"])
        cx, cy = (xy(z["lon"], z["lat"]).split(",") if z["lat"] is not None else (None, None))
        shapes.append({"code": z["code"], "d": d, "level": level(rate, top), "rate": rate, "x": cx, "y": cy})
    step = top / LEVELS if top else 0
    legend = [{"level": "0", "low": 0, "high": 0}] + [
        {"level": str(i), "low": round(step * (i - 1), 1), "high": round(step * i, 1)} for i in range(1, LEVELS + 1)
    ] if top else [{"level": "0", "low": 0, "high": 0}]
    return {"width": WIDTH, "height": height, "shapes": shapes, "legend": legend,
            "has_unknown": any(s["level"] == "none" for s in shapes)}
