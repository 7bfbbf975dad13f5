"""Small GeoJSON files for zone tests: two squares sharing a border (one with a hole), a MultiPolygon."""

from __future__ import annotations

import json


def square(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def feature(props, geometry):
    return {"type": "Feature", "properties": props, "geometry": geometry}


# Zone "aa": lon 5.0-5.1 with a hole at 5.04-5.06; "bb": lon 5.1-5.2, sharing the border x = 5.1;
# "cc": two separate squares (MultiPolygon); "dd": a square far from the others.
AREAS = {
    "aa": {"type": "Polygon", "coordinates": [square(5.0, 45.0, 5.1, 45.1), square(5.04, 45.04, 5.06, 45.06)[::-1]]},
    "bb": {"type": "Polygon", "coordinates": [square(5.1, 45.0, 5.2, 45.1)]},
    "cc": {"type": "MultiPolygon", "coordinates": [[square(5.3, 45.0, 5.4, 45.1)], [square(5.5, 45.0, 5.6, 45.1)]]},
    "dd": {"type": "Polygon", "coordinates": [square(5.7, 45.0, 5.8, 45.1)]},
}
POPULATIONS = {"aa": 2000, "bb": 500, "cc": 1000, "dd": 300}
AGES_AA = {"pop_u18": 400, "pop_18_29": 600, "pop_30_44": 400, "pop_45_64": 400, "pop_65": 200}


def collection(features=None, **extra) -> dict:
    if features is None:
        features = [
            feature({"code": code, "nom": f"Quartier {code.upper()}", "pop": POPULATIONS[code],
                     **(AGES_AA if code == "aa" else {k: 0 for k in AGES_AA})}, geom)
            for code, geom in AREAS.items()
        ]
    return {"type": "FeatureCollection", "features": features, **extra}


def dumps(doc) -> bytes:
    return json.dumps(doc).encode()
