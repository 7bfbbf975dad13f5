"""The map's data, read from the database without HTTP (outreach/coordinator/map.py)."""

from datetime import date

from outreach.coordinator import map as coverage_map
from outreach.coordinator.lists import Filters
from tests.coord_factories import add_encounter, add_report

NOV = Filters(start=date(2026, 11, 1), end=date(2026, 11, 30))


def test_encounters_at_one_place_are_one_point_with_their_count_and_people(fresh_db):
    add_encounter(fresh_db, lat=45.19, lon=5.72, people_count=2)
    add_encounter(fresh_db, lat=45.19, lon=5.72, people_count=3)
    add_encounter(fresh_db, lat=45.2, lon=5.73)
    add_encounter(fresh_db)  # no location: not on the map
    found = coverage_map.points(fresh_db, NOV)
    assert found["encounters"] == [{"lat": 45.19, "lon": 5.72, "n": 2, "people": 5}, {"lat": 45.2, "lon": 5.73, "n": 1, "people": 1}]


def test_reports_are_rounded_to_about_100_m_and_kept_to_the_period_and_zone(fresh_db):
    add_report(fresh_db, lat=45.18765, lon=5.72431, zone="secteur-1", title="Banc")
    add_report(fresh_db, lat=45.1, lon=5.7, zone="secteur-2")
    add_report(fresh_db, lat=45.1, lon=5.7, received_at="2026-10-31T10:00:00+00:00")
    found = coverage_map.points(fresh_db, Filters(start=NOV.start, end=NOV.end, zone="secteur-1"))
    assert [(r["title"], r["lat"], r["lon"]) for r in found["reports"]] == [("Banc", 45.188, 5.724)]


def test_geojson_puts_longitude_first_and_labels_states_and_zones(fresh_db):
    found = {"encounters": [{"lat": 45.19, "lon": 5.72, "n": 2, "people": 5}],
             "reports": [{"id": "r", "title": "Banc", "status": "submitted", "lat": 45.188, "lon": 5.724}]}
    zones = [{"code": "secteur-1", "lat": 45.0, "lon": 5.0}]
    doc = coverage_map.feature_collection(found, zones, {"secteur-1": "Centre"}, {"submitted": "Reçu"})
    assert doc["type"] == "FeatureCollection"
    assert [f["geometry"]["coordinates"] for f in doc["features"]] == [[5.72, 45.19], [5.724, 45.188], [5.0, 45.0]]
    assert [f["properties"] for f in doc["features"]] == [
        {"kind": "encounters", "count": 2, "people": 5},
        {"kind": "report", "title": "Banc", "status": "Reçu"},
        {"kind": "zone", "label": "Centre"},
    ]


def test_zone_centres_keep_only_the_chosen_zone(fresh_db):
    every = coverage_map.zone_centres(fresh_db)
    assert every and all(z["lat"] is not None for z in every)
    assert [z["code"] for z in coverage_map.zone_centres(fresh_db, every[0]["code"])] == [every[0]["code"]]
    assert coverage_map.centre(fresh_db)["lat"] is not None
