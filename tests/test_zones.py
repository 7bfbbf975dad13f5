"""Zones as places: importing a city's GeoJSON, the zone of a position, filling past entries."""

from __future__ import annotations

import copy
import json
import random

import pytest

from outreach import cli
from outreach.coordinator import stats
from outreach.zones import geojson, importer, locate
from tests.coord_factories import add_encounter, add_report
from tests.zone_files import AREAS, collection, dumps, feature, square

MAPPING = geojson.Mapping("code", "nom", "pop", {"under_18": "pop_u18", "18_29": "pop_18_29", "30_44": "pop_30_44",
                                                  "45_64": "pop_45_64", "65_plus": "pop_65"})


def import_file(db, doc=None, mapping=MAPPING, **kw):
    features = geojson.read(dumps(doc or collection()), mapping, **kw)
    with db.atomic():
        return importer.apply(db, importer.preview(db, features), None)


def test_a_good_file_imports_polygons_multipolygons_and_holes(fresh_db):
    summary = import_file(fresh_db)
    assert summary["new"] == 4
    aa = fresh_db["zones"].get("aa")
    assert aa["label_fr"] == "Quartier AA" and aa["population"] == 2000 and aa["active"] == 1
    assert json.loads(aa["population_ages"]) == {"under_18": 400, "18_29": 600, "30_44": 400, "45_64": 400, "65_plus": 200}
    assert len(json.loads(aa["boundary"])["coordinates"]) == 2  # the outer ring and its hole
    assert json.loads(fresh_db["zones"].get("cc")["boundary"])["type"] == "MultiPolygon"
    assert 45.0 < aa["lat"] < 45.1 and 5.0 < aa["lon"] < 5.1  # a label point inside the zone


def test_preview_says_new_changed_unchanged_and_keeps_zones_the_file_omits(fresh_db):
    import_file(fresh_db)
    doc = collection()
    doc["features"][1]["properties"]["pop"] = 650
    doc["features"] = doc["features"][:3]
    plan = importer.preview(fresh_db, geojson.read(dumps(doc), MAPPING))
    assert [z["code"] for z in plan["changed"]] == ["bb"] and plan["changed"][0]["changes"] == ["population"]
    assert sorted(z["code"] for z in plan["unchanged"]) == ["aa", "cc"] and plan["new"] == []
    assert "dd" in [m["code"] for m in plan["missing"]]


def test_a_zone_used_by_encounters_is_updated_and_can_be_deactivated_never_deleted(fresh_db):
    import_file(fresh_db)
    add_encounter(fresh_db, zone="dd")
    doc = collection()
    doc["features"] = doc["features"][:3]
    with fresh_db.atomic():
        importer.apply(fresh_db, importer.preview(fresh_db, geojson.read(dumps(doc), MAPPING)), None, deactivate_missing=True)
    dd = fresh_db["zones"].get("dd")
    assert dd["active"] == 0 and dd["population"] == 300


def with_feature(i, **changes):
    doc = collection()
    f = doc["features"][i]
    for key, value in changes.items():
        if key == "props":
            f["properties"].update(value)
        else:
            f[key] = value
    return dumps(doc)


BAD_FILES = {
    "not json": (b"{not json", "n'est pas du JSON"),
    "not utf-8": (b"\xff\xfe\x00{", "UTF-8"),
    "not a collection": (dumps({"type": "Feature", "geometry": None}), "FeatureCollection"),
    "no features": (dumps(collection([])), "aucune entité"),
    "a point": (with_feature(1, geometry={"type": "Point", "coordinates": [5.1, 45.0]}), "Entité 2 (code « bb »)"),
    "a line": (with_feature(2, geometry={"type": "LineString", "coordinates": [[5.1, 45.0], [5.2, 45.1]]}), "LineString"),
    "out of range": (with_feature(0, geometry={"type": "Polygon", "coordinates": [square(185, 45, 186, 46)]}), "±180"),
    "lambert-93 metres": (with_feature(0, geometry={"type": "Polygon", "coordinates": [square(913000, 6458000, 914000, 6459000)]}),
                          "Lambert-93"),
    "declared projected crs": (dumps(collection(crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}})),
                               "EPSG::2154"),
    "self-intersecting ring": (with_feature(3, geometry={"type": "Polygon", "coordinates": [
        [[5.7, 45.0], [5.8, 45.1], [5.8, 45.0], [5.7, 45.1], [5.7, 45.0]]]}), "Self-intersection"),
    "malformed coordinates": (with_feature(0, geometry={"type": "Polygon", "coordinates": [["x", "y"]]}), "coordonnées mal formées"),
    "duplicate codes": (with_feature(1, props={"code": "aa"}), "reprend le code de l'entité 1"),
    "missing population": (with_feature(2, props={"pop": None}), "Entité 3 (code « cc ») n'a pas de population"),
    "hostile code": (with_feature(2, props={"code": "<script>"}), "Entité 3"),
    "missing age band": (with_feature(0, props={"pop_65": "beaucoup"}), "tranche d'âge"),
}


@pytest.mark.parametrize("raw, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_each_bad_file_is_refused_with_a_message_naming_the_problem(fresh_db, raw, message):
    with pytest.raises(geojson.ZoneFileError) as e:
        geojson.read(raw, MAPPING)
    assert any(message in p for p in e.value.problems), e.value.problems


def test_a_file_over_the_size_cap_is_refused_before_parsing():
    with pytest.raises(geojson.ZoneFileError) as e:
        geojson.read(b" " * (geojson.MAX_FILE_BYTES + 1), MAPPING)
    assert "la limite est de 20 Mo" in e.value.problems[0]


def test_make_valid_repairs_a_self_intersecting_ring_when_asked(fresh_db):
    bowtie = {"type": "Polygon", "coordinates": [[[5.7, 45.0], [5.8, 45.1], [5.8, 45.0], [5.7, 45.1], [5.7, 45.0]]]}
    features = geojson.read(with_feature(3, geometry=bowtie), MAPPING, repair=True)
    dd = [f for f in features if f.code == "dd"][0]
    assert dd.repaired and dd.geometry.is_valid and dd.geometry.area > 0


def test_population_may_be_a_decimal_or_a_string_as_in_insee_files():
    features = geojson.read(with_feature(0, props={"pop": "2 345,6"}), MAPPING)
    assert features[0].population == 2346


@pytest.fixture
def zoned(fresh_db):
    import_file(fresh_db)
    return fresh_db


@pytest.mark.parametrize("lon, lat, zone", [
    (5.02, 45.02, "aa"),  # inside
    (5.05, 45.05, None),  # in the hole of aa
    (5.15, 45.05, "bb"),  # inside the other square
    (5.1, 45.05, "aa"),  # exactly on the shared border: the smallest code
    (5.55, 45.05, "cc"),  # in the second part of a MultiPolygon
    (5.45, 45.05, None),  # between the two parts
    (6.5, 46.0, None),  # outside every zone
])
def test_point_in_polygon(zoned, lon, lat, zone):
    assert locate.zone_at(zoned, lat, lon) == zone


def test_the_border_choice_does_not_depend_on_the_order_of_the_file(fresh_db):
    doc = collection()
    doc["features"].reverse()
    import_file(fresh_db, doc)
    assert locate.zone_at(fresh_db, 45.05, 5.1) == "aa"


def test_a_deactivated_zone_no_longer_takes_positions(zoned):
    zoned["zones"].update("bb", {"active": 0})
    assert locate.zone_at(zoned, 45.05, 5.15) is None


def test_past_entries_with_a_position_and_no_zone_get_theirs(fresh_db):
    inside = add_encounter(fresh_db, zone=None, lat=45.02, lon=5.02, tools=["petition"], people_count=2)
    outside = add_encounter(fresh_db, zone=None, lat=46.0, lon=6.5)
    chosen = add_encounter(fresh_db, zone="secteur-1", lat=45.02, lon=5.02)  # a zone chosen by hand stays
    report = add_report(fresh_db, zone=None, lat=45.05, lon=5.15)
    summary = import_file(fresh_db)  # the import fills them
    assert summary["assigned"] == {"encounters": 1, "reports": 1}
    zone = {r["id"]: r["zone"] for r in fresh_db.query("select id, zone from encounters")}
    assert zone == {inside: "aa", outside: None, chosen: "secteur-1"}
    assert fresh_db["reports"].get(report)["zone"] == "bb"
    # The aggregates followed the move (people of the encounter now in aa, tools too).
    assert fresh_db.execute("select sum(people) from agg_encounters where dim = 'all' and zone = 'aa'").fetchone()[0] == 2
    assert fresh_db.execute("select sum(n) from agg_tools where zone = 'aa'").fetchone()[0] == 1
    assert locate.assign_past(fresh_db) == {"encounters": 0, "reports": 0}  # nothing left to do



def aggregates(db):
    """The coverage aggregates without their emptied rows (a move leaves zeros where counts were)."""
    return {t: sorted(tuple(r.values()) for r in db[t].rows if r["n"]) for t in ("agg_encounters", "agg_tools", "agg_ages")}


def assert_aggregates_match_a_rebuild(db):
    live = aggregates(db)
    with db.atomic():
        stats.rebuild(db)
    assert aggregates(db) == live


def test_assigning_past_entries_keeps_every_aggregate_equal_to_a_rebuild(fresh_db):
    """Many encounters, several at each position, over days (one near midnight), values and tools:
    after the zones are filled from positions, the moved counts equal counting everything again."""
    import_file(fresh_db)
    rng = random.Random(7)
    positions = [(45.02, 5.02), (45.05, 5.05), (45.05, 5.1), (45.05, 5.15), (45.05, 5.55), (46.0, 6.5), (45.09, 5.01)]
    tools = ["participatory_budget", "petition", "agora", "votation"]
    for i in range(120):
        lat, lon = rng.choice(positions)
        add_encounter(fresh_db, zone=rng.choice([None, None, None, "secteur-1"]), lat=lat, lon=lon,
                      occurred_at=rng.choice(["2026-11-10T10:00:00+00:00", "2026-11-10T23:30:00+00:00",
                                              "2026-11-11T00:15:00+00:00", "2026-12-01T08:00:00+00:00"]),
                      tools=rng.sample(tools, rng.randint(0, 3)), people_count=rng.randint(1, 6),
                      outcome=rng.choice(["conversation", "declined"]), interest=rng.choice(["curious", "none"]),
                      place_type=rng.choice(["street", "market"]), age_band=rng.choice([None, "18_29", "65_plus"]))
    add_encounter(fresh_db, zone=None)  # no position: stays without zone
    before = fresh_db.execute("select count(*) from encounters where zone is null and lat is not null").fetchone()[0]

    counts = locate.assign_past(fresh_db)

    left = fresh_db.execute("select count(*) from encounters where zone is null and lat is not null").fetchone()[0]
    assert counts["encounters"] == before - left > 0
    assert {r[0] for r in fresh_db.execute("select distinct zone from encounters")} == {"aa", "bb", "cc", "secteur-1", None}
    assert_aggregates_match_a_rebuild(fresh_db)
    # The update triggers were set aside for the bulk move only: a correction still moves its counts.
    one = fresh_db.execute("select id from encounters where zone = 'aa' limit 1").fetchone()[0]
    fresh_db["encounters"].update(one, {"zone": "dd", "people_count": 9})
    assert_aggregates_match_a_rebuild(fresh_db)


def test_moving_encounters_between_zones_moves_their_counts(fresh_db):
    """set_zones is not only for entries without a zone: a move from one zone to another, and a
    zone given again, leave the aggregates as a rebuild would."""
    for zone in ("secteur-1", "secteur-1", "secteur-2", None):
        add_encounter(fresh_db, zone=zone, tools=["petition"], people_count=2)
    moved = stats.set_zones(fresh_db, "select rowid, case zone when 'secteur-1' then 'secteur-2' else 'secteur-1' end "
                                      "from encounters where zone is not null")
    assert moved == 3
    assert sorted(r[0] or "" for r in fresh_db.execute("select zone from encounters")) == ["", "secteur-1", "secteur-2", "secteur-2"]
    assert_aggregates_match_a_rebuild(fresh_db)


def cli_args(path, *extra):
    return ["import-zones", str(path), "--code", "code", "--name", "nom", "--population", "pop",
            "--age-band", "18_29=pop_18_29", *extra]


def test_cli_dry_run_writes_nothing_then_the_import_does(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OUTREACH_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "zones.geojson"
    path.write_bytes(dumps(collection()))
    assert cli.main(cli_args(path, "--dry-run")) == 0
    out = capsys.readouterr().out
    assert "4 new, 0 changed, 0 unchanged" in out and "nothing was written" in out
    from outreach.db import connect

    db = connect(tmp_path / "data" / "outreach.db")
    assert db.execute("select count(*) from zones where boundary is not null").fetchone()[0] == 0
    assert db.execute("select count(*) from audit_log where action = 'zones_imported'").fetchone()[0] == 0
    db.close()
    assert cli.main(cli_args(path)) == 0
    db = connect(tmp_path / "data" / "outreach.db")
    assert db.execute("select count(*) from zones where boundary is not null").fetchone()[0] == 4
    db.close()
    assert cli.main(["assign-zones"]) == 0
    assert "zone given to 0 encounters" in capsys.readouterr().out


def test_cli_names_each_bad_feature_and_imports_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OUTREACH_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "zones.geojson"
    path.write_bytes(with_feature(1, geometry={"type": "Point", "coordinates": [5.1, 45.0]}))
    assert cli.main(cli_args(path)) == 1
    err = capsys.readouterr().err
    assert "Entité 2 (code « bb »)" in err and "nothing was imported" in err


def test_outlines_are_simplified_and_small(zoned):
    import shapely
    from shapely.geometry import shape

    row = zoned["zones"].get("aa")
    assert shapely.equals_exact(shape(json.loads(row["outline"])), shape(json.loads(row["boundary"])), 0.001)


def test_the_demo_ships_approximate_grenoble_sectors_that_import_cleanly(fresh_db):
    from outreach import demo

    doc = json.loads(demo.DEMO_ZONES.read_text(encoding="utf-8"))
    assert "APPROXIMATE" in doc["description"] and "IRIS" in doc["description"]
    demo.seed_zones(fresh_db)
    rows = list(fresh_db.query("select code, population, population_ages from zones where boundary is not null"))
    assert len(rows) == 6 and all(r["population"] > 10_000 and r["population_ages"] for r in rows)
    assert locate.zone_at(fresh_db, 45.191, 5.731) == "secteur-2"  # the city centre
