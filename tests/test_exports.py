import csv
import io
import json
from datetime import date

import pytest

from outreach.coordinator import exports
from outreach.coordinator.lists import Filters
from tests.coord_factories import add_contact, add_encounter, add_outing, add_report


def run(db, kind, fmt, f=Filters()):
    return "".join(exports.chunks(db, kind, fmt, f))


def read_csv(text):
    assert text.startswith("\ufeff"), "a BOM so spreadsheets read UTF-8"
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def test_encounter_csv_reads_back_as_the_database(fresh_db):
    o = add_outing(fresh_db)
    add_encounter(fresh_db, tools=["petition", "agora"], people_count=3, outing_id=o, lat=45.19, lon=5.72,
                  note="Très intéressée, « budget » ; revient jeudi")
    add_encounter(fresh_db, occurred_at="2026-11-11T16:30:00+00:00", zone=None, note="=HYPERLINK(\"http://x\")")
    rows = read_csv(run(fresh_db, "encounters", "csv"))
    db_rows = list(fresh_db.query("select * from encounters order by occurred_at, id"))
    assert [r["id"] for r in rows] == [r["id"] for r in db_rows]
    for got, want in zip(rows, db_rows):
        assert got["occurred_at"] == want["occurred_at"]
        assert got["people_count"] == str(want["people_count"])
        assert got["zone"] == (want["zone"] or "")
        tools = {t["tool"] for t in fresh_db.query("select tool from encounter_tools where encounter_id = ?", [want["id"]])}
        assert set(filter(None, got["tools"].split(";"))) == tools
    assert rows[0]["note"] == "Très intéressée, « budget » ; revient jeudi"
    assert rows[0]["lat"] == "45.19" and rows[0]["lon"] == "5.72"
    assert rows[1]["note"].startswith("'="), "formula injection neutralised"


def test_csv_filters_by_period_and_zone(fresh_db):
    add_encounter(fresh_db, occurred_at="2026-10-31T22:59:59+00:00")  # 23:59:59 in Paris
    inside = add_encounter(fresh_db, occurred_at="2026-11-30T22:59:59+00:00")
    add_encounter(fresh_db, occurred_at="2026-11-15T10:00:00+00:00", zone="secteur-2")
    f = Filters(start=date(2026, 11, 1), end=date(2026, 11, 30), zone="secteur-1")
    assert [r["id"] for r in read_csv(run(fresh_db, "encounters", "csv", f))] == [inside]


def test_reports_and_outings_csv_never_carry_contacts(fresh_db):
    add_report(fresh_db, reporter={"name": "Bob Martin", "email": "bob@example.org", "phone": "0612345678"})
    add_contact(fresh_db, contact="carol@example.org", name="Carol")
    add_outing(fresh_db, tallies={"petition": 4, "agora": 1}, debrief="Bon accueil")
    text = run(fresh_db, "reports", "csv") + run(fresh_db, "outings", "csv") + run(fresh_db, "encounters", "csv")
    for needle in ("bob@example.org", "0612345678", "Bob Martin", "carol@example.org", "Carol"):
        assert needle not in text
    outing = read_csv(run(fresh_db, "outings", "csv"))[0]
    assert set(outing["tallies"].split(";")) == {"petition:4", "agora:1"}
    assert outing["debrief"] == "Bon accueil"


@pytest.mark.parametrize("kind", exports.KINDS)
def test_geojson_is_a_feature_collection_with_lon_lat(fresh_db, kind):
    add_encounter(fresh_db, lat=45.1912, lon=5.7123, tools=["votation"])
    add_encounter(fresh_db)
    add_report(fresh_db, lat=45.18, lon=5.73)
    add_outing(fresh_db)
    doc = json.loads(run(fresh_db, kind, "geojson"))
    assert doc["type"] == "FeatureCollection"
    assert doc["features"]
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        assert set(feature) == {"type", "id", "geometry", "properties"}
        g = feature["geometry"]
        if g is not None:
            assert g["type"] == "Point"
            lon, lat = g["coordinates"]
            assert 5 < lon < 6 and 45 < lat < 46, "RFC 7946: [longitude, latitude]"
        assert "lat" not in feature["properties"] and "lon" not in feature["properties"]
    if kind == "encounters":
        located = [f for f in doc["features"] if f["geometry"]]
        assert located[0]["geometry"]["coordinates"] == [5.7123, 45.1912]
        assert located[0]["properties"]["tools"] == ["votation"]


def test_empty_geojson_is_valid(fresh_db):
    assert json.loads(run(fresh_db, "encounters", "geojson")) == {"type": "FeatureCollection", "features": []}


def test_export_is_recorded_in_the_audit_log(fresh_db):
    exports.record(fresh_db, None, "encounters", "csv", Filters(zone="secteur-1"), via="cli")
    row = list(fresh_db.query("select * from audit_log"))[0]
    assert row["action"] == "export" and row["target_type"] == "encounters"
    assert json.loads(row["detail"]) == {"filters": {"zone": "secteur-1"}, "format": "csv", "via": "cli"}


def test_cli_export_writes_the_file_and_records_it(tmp_path, monkeypatch, capsys):
    from outreach import migrations, refdata
    from outreach.cli import main
    from outreach.db import connect

    monkeypatch.setenv("OUTREACH_DATA_DIR", str(tmp_path))
    db = connect(tmp_path / "outreach.db")
    migrations.apply(db)
    refdata.seed(db)
    add_encounter(db, lat=45.2, lon=5.7, tools=["agora"])
    add_encounter(db, occurred_at="2026-09-01T10:00:00+00:00")
    db.close()
    out = tmp_path / "enc.csv"
    assert main(["export", "encounters", "--format", "csv", "--start", "2026-11-01", "-o", str(out)]) == 0
    rows = read_csv(out.read_text(encoding="utf-8"))
    assert len(rows) == 1 and rows[0]["tools"] == "agora"
    assert main(["export", "encounters", "--format", "geojson"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["features"]) == 2
    assert main(["export", "outings", "--start", "01/11/2026"]) == 2
    assert "AAAA-MM-JJ" in capsys.readouterr().err
    db = connect(tmp_path / "outreach.db")
    assert [json.loads(r["detail"])["via"] for r in db.query("select detail from audit_log where action = 'export'")] == ["cli", "cli"]
    db.close()


