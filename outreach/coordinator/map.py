"""The coordinators' map: encounter and report points for a set of filters, zone centres, and
the GeoJSON the map page draws.

Encounter locations are already rounded on the way in (about 100 m); reports are rounded here
to the same grain, so the map never shows a resident's doorstep.
"""

from __future__ import annotations

from sqlite_utils import Database

from .. import localtime
from .lists import Filters, encounter_where, where_period

MAX_POINTS = 5000


def points(db: Database, f: Filters) -> dict:
    """Encounters grouped by place (count, people) and the latest reports, each capped at MAX_POINTS."""
    tz = localtime.zone_of(db)
    where, params = encounter_where(f, tz=tz)
    where.append("e.lat is not null and e.lon is not null")
    encounters = list(
        db.query(
            "select e.lat, e.lon, count(*) as n, sum(e.people_count) as people from encounters e where "
            + " and ".join(where) + " group by e.lat, e.lon order by n desc limit ?",
            params + [MAX_POINTS],
        )
    )
    rwhere, rparams = ["r.lat is not null", "r.lon is not null"], []
    where_period(rwhere, rparams, f, "r.received_at", tz)
    if f.zone:
        rwhere.append("r.zone = ?")
        rparams.append(f.zone)
    reports = list(
        db.query(
            "select r.id, r.title, r.status, round(r.lat, 3) as lat, round(r.lon, 3) as lon from reports r where "
            + " and ".join(rwhere) + " order by r.received_at desc limit ?",
            rparams + [MAX_POINTS],
        )
    )
    return {"encounters": encounters, "reports": reports}


def zone_centres(db: Database, zone: str | None = None) -> list[dict]:
    """Active zones that have a centre (code, lat, lon); only ``zone`` when one is chosen."""
    rows = list(db.query("select code, lat, lon from zones where active = 1 and lat is not null and lon is not null"))
    return [z for z in rows if z["code"] == zone] if zone else rows


def centre(db: Database) -> dict | None:
    """Where the map opens: the mean of the zones' centres (lat and lon are None when no zone has one)."""
    return next(iter(db.query("select avg(lat) as lat, avg(lon) as lon from zones where lat is not null")), None)


def _point(lat, lon, **properties) -> dict:
    # RFC 7946 puts longitude first.
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}


def feature_collection(found: dict, zones: list[dict], zone_labels: dict, state_labels: dict) -> dict:
    """The map's points as RFC 7946 GeoJSON: encounter places, reports, and zone names at their centres."""
    features = [_point(p["lat"], p["lon"], kind="encounters", count=p["n"], people=p["people"]) for p in found["encounters"]]
    features += [
        _point(p["lat"], p["lon"], kind="report", title=p["title"], status=state_labels.get(p["status"], p["status"]))
        for p in found["reports"]
    ]
    # Zone names at their centres: something to read the map by when there are no tiles.
    features += [_point(z["lat"], z["lon"], kind="zone", label=zone_labels.get(z["code"], z["code"])) for z in zones]
    return {"type": "FeatureCollection", "features": features}
