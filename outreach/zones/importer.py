"""Importing zones from a checked file: what would change (preview), then the change itself.

Zones are matched by code. A zone in the file is new, changed (name, boundary, population or
age bands differ) or unchanged. Zones of the database missing from the file are never deleted
(encounters, outings and reports refer to them); the admin may deactivate them. After the
import, stored entries with a position and no zone get the zone that contains them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from shapely.geometry import mapping
from sqlite_utils import Database

from .. import audit
from ..refdata import now_iso
from . import locate
from .geojson import ZoneFeature

PRECISION = 6  # about 0.1 m: the stored boundary, as published
OUTLINE_TOLERANCE = 0.0002  # degrees, about 20 m: enough for a phone and a city map
OUTLINE_PRECISION = 5  # about 1 m


def _geojson(geom, digits: int) -> str:
    g = mapping(geom)

    def r(c):
        return [r(x) for x in c] if isinstance(c[0], (list, tuple)) else [round(c[0], digits), round(c[1], digits)]

    return json.dumps({"type": g["type"], "coordinates": r(g["coordinates"])}, separators=(",", ":"))


def outline(geom) -> str:
    """A simplified outline that keeps the shape (no ring collapses or crosses itself)."""
    simple = geom.simplify(OUTLINE_TOLERANCE, preserve_topology=True)
    return _geojson(simple if not simple.is_empty else geom, OUTLINE_PRECISION)


@dataclass
class Row:
    code: str
    name: str
    population: int
    ages: dict
    boundary: str
    outline: str
    lat: float
    lon: float

    @property
    def shape_hash(self) -> str:
        return hashlib.sha256((self.boundary + self.outline).encode()).hexdigest()[:16]


def _row(f: ZoneFeature) -> Row:
    centre = f.geometry.representative_point()  # inside the zone, even a crescent-shaped one
    return Row(f.code, f.name, f.population, dict(sorted(f.ages.items())), _geojson(f.geometry, PRECISION),
               outline(f.geometry), round(centre.y, 5), round(centre.x, 5))


def preview(db: Database, features: list[ZoneFeature]) -> dict:
    """What an import would do: new, changed (with the fields that change) and unchanged zones,
    and the zones the file does not name (kept as they are)."""
    existing = {r["code"]: r for r in db.query(
        "select code, label_fr, boundary, population, population_ages, active from zones")}
    plan = {"new": [], "changed": [], "unchanged": [], "missing": [], "repaired": []}
    for f in features:
        row = _row(f)
        item = {"code": f.code, "name": f.name, "population": f.population, "ages": row.ages, "row": row}
        if f.repaired:
            plan["repaired"].append(f.code)
        old = existing.get(f.code)
        if old is None:
            plan["new"].append(item)
            continue
        changes = []
        if old["label_fr"] != f.name:
            changes.append("name")
        if old["boundary"] != row.boundary:
            changes.append("boundary")
        if old["population"] != f.population:
            changes.append("population")
        if json.loads(old["population_ages"] or "{}") != row.ages:
            changes.append("age_bands")
        if not old["active"]:
            changes.append("active")
        item["changes"] = changes
        plan["changed" if changes else "unchanged"].append(item)
    named = {f.code for f in features}
    used = _used_codes(db)
    plan["missing"] = [
        {"code": code, "name": r["label_fr"], "active": bool(r["active"]), "used": code in used}
        for code, r in sorted(existing.items()) if code not in named
    ]
    return plan


def _used_codes(db: Database) -> set[str]:
    return {r[0] for r in db.execute(
        "select zone from agg_encounters where dim = 'all' and zone != '' group by zone "
        "union select zone from outings where zone is not null group by zone "
        "union select zone from reports where zone is not null group by zone")}


def apply(db: Database, plan: dict, by: int | None, *, deactivate_missing: bool = False, via: str = "web") -> dict:
    """Write a previewed import (inside the caller's transaction), then zone the stored entries."""
    now = now_iso()
    sort_base = (db.execute("select coalesce(max(sort), 0) from zones").fetchone()[0] or 0) + 1
    for i, item in enumerate(plan["new"]):
        r: Row = item["row"]
        db["zones"].insert({
            "code": r.code, "label_fr": r.name, "label_en": r.name, "sort": sort_base + i, "active": 1,
            "lat": r.lat, "lon": r.lon, **_geo(r, now)})
    for item in plan["changed"]:
        r = item["row"]
        old = db["zones"].get(r.code)
        values = {"label_fr": r.name, "active": 1, "lat": r.lat, "lon": r.lon, **_geo(r, now)}
        if old["label_en"] == old["label_fr"]:  # an English label an admin never set follows the name
            values["label_en"] = r.name
        db["zones"].update(r.code, values)
    deactivated = []
    if deactivate_missing:
        deactivated = [m["code"] for m in plan["missing"] if m["active"]]
        for code in deactivated:
            db["zones"].update(code, {"active": 0})
    assigned = locate.assign_past(db)
    summary = {"new": len(plan["new"]), "changed": len(plan["changed"]), "unchanged": len(plan["unchanged"]),
               "deactivated": len(deactivated), "assigned": assigned}
    audit.record(db, by, "zones_imported", "zones", "", via=via, **{k: v for k, v in summary.items()})
    return summary


def _geo(r: Row, now: str) -> dict:
    return {"boundary": r.boundary, "outline": r.outline, "shape_hash": r.shape_hash, "population": r.population,
            "population_ages": json.dumps(r.ages) if r.ages else None, "boundary_updated_at": now}
