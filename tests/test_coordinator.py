"""Coordinator pages: what a coordinator sees and does, end to end through the app."""

import csv
import io
import json
import re

import pytest

from tests.coord_factories import add_contact, add_encounter, add_outing, add_report


def csrf(client):
    client.get("/login")
    return client.cookies.get("outreach_csrf")


@pytest.fixture
def data(store):
    with store.write() as db:
        o = add_outing(db, zone="secteur-2", tallies={"petition": 7}, debrief="Beaucoup d'intérêt <b>ici</b>")
        for i in range(3):
            add_encounter(db, occurred_at=f"2026-11-1{i}T10:00:00+00:00", zone="secteur-2", tools=["petition"],
                          outing_id=o, lat=45.19, lon=5.72, note="<script>alert(1)</script>")
        add_report(db, status="accepted", lat=45.18, lon=5.73)
        c = add_contact(db, contact="resident@example.org", name="Résident")
    return {"outing": o, "contact": c}


def test_dashboard_shows_coverage_with_gaps_and_chart_tables(coordinator_client, data):
    r = coordinator_client.get("/coordinator?start=2026-11-01&end=2026-11-30")
    assert r.status_code == 200
    assert "<svg" in r.text and 'class="visually-hidden"' in r.text
    assert "Personnes touchées par secteur et dispositif" in r.text
    assert "heat-0" in r.text  # zones and tools nobody reached stand out
    assert "<script>alert" not in r.text


def test_lists_filters_and_pagination(coordinator_client, data, store):
    r = coordinator_client.get("/coordinator/encounters?zone=secteur-2&tool=petition")
    assert r.status_code == 200 and r.text.count("<time") == 3
    assert "&lt;script&gt;" in r.text and "<script>alert" not in r.text
    with store.write() as db:
        for i in range(60):
            add_encounter(db, occurred_at=f"2026-10-01T10:{i:02d}:00+00:00", zone="secteur-5")
    r = coordinator_client.get("/coordinator/encounters?zone=secteur-5")
    assert r.text.count("<time") == 50
    nxt = re.search(r'rel="next" href="([^"]+)"', r.text).group(1).replace("&amp;", "&")
    r2 = coordinator_client.get(nxt)
    assert r2.status_code == 200 and r2.text.count("<time") == 10
    assert coordinator_client.get("/coordinator/outings?status=ended").status_code == 200


def test_outing_report_page(coordinator_client, data):
    r = coordinator_client.get(f"/coordinator/outings/{data['outing']}")
    assert r.status_code == 200
    assert "Beaucoup d&#39;intérêt &lt;b&gt;ici&lt;/b&gt;" in r.text
    assert coordinator_client.get("/coordinator/outings/00000000-0000-4000-8000-000000000000").status_code == 404


def test_map_page_and_geojson(coordinator_client, data):
    r = coordinator_client.get("/coordinator/map?start=2026-11-01&end=2026-11-30")
    assert r.status_code == 200 and "/vendor/leaflet/leaflet-src.esm.js" in r.text
    doc = coordinator_client.get("/coordinator/map.geojson?start=2026-11-01&end=2026-11-30").json()
    kinds = sorted(f["properties"]["kind"] for f in doc["features"])
    assert kinds == ["encounters", "report"] + ["zone"] * 6  # zone names help read a map without tiles
    enc = next(f for f in doc["features"] if f["properties"]["kind"] == "encounters")
    assert enc["geometry"]["coordinates"] == [5.72, 45.19] and enc["properties"]["count"] == 3
    assert coordinator_client.get("/vendor/leaflet/leaflet-src.esm.js").status_code == 200


def test_export_download_matches_db_and_is_audited(coordinator_client, data, store):
    token = csrf(coordinator_client)
    r = coordinator_client.post("/coordinator/exports/encounters.csv",
                                data={"csrf_token": token, "start": "2026-11-01", "end": "2026-11-30", "zone": "secteur-2"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert len(rows) == 3 and all(row["note"] == "<script>alert(1)</script>" for row in rows)
    gj = coordinator_client.post("/coordinator/exports/reports.geojson", data={"csrf_token": token}).json()
    assert gj["features"][0]["geometry"]["coordinates"] == [5.73, 45.18]
    audit = list(store.db().query("select * from audit_log where action = 'export' order by id"))
    assert [a["target_type"] for a in audit] == ["encounters", "reports"]
    assert coordinator_client.post("/coordinator/exports/users.csv", data={"csrf_token": token}).status_code == 404
    assert coordinator_client.post("/coordinator/exports/encounters.xlsx", data={"csrf_token": token}).status_code == 404
    assert coordinator_client.post("/coordinator/exports/encounters.decidim", data={"csrf_token": token}).status_code == 404


def test_followups_listed_and_marked_done(coordinator_client, data, store):
    r = coordinator_client.get("/coordinator/followups?purpose=petition")
    assert "resident@example.org" in r.text
    r = coordinator_client.post(f"/coordinator/followups/{data['contact']}/done", data={"csrf_token": csrf(coordinator_client)})
    assert r.status_code == 200  # redirected back to the list
    assert "resident@example.org" not in coordinator_client.get("/coordinator/followups").text
    assert store.db()["contacts"].get(data["contact"])["done_at"]


def test_field_workers_never_read_contacts(field_client, data):
    for url in ("/coordinator/followups", "/coordinator/exports", "/coordinator/privacy"):
        r = field_client.get(url)
        assert r.status_code == 403 and "resident@example.org" not in r.text


def test_planning_an_outing_for_members(coordinator_client, make_user, store):
    worker = make_user("field", name="Nadia")
    token = csrf(coordinator_client)
    when = {"planned_start": "14:00", "planned_end": "16:30", "meeting_point": "Devant la halle du marché Saint-Bruno",
            "meeting_lat": "45,1893", "meeting_lon": "5.7162"}
    r = coordinator_client.post("/coordinator/planning", data={
        "csrf_token": token, "zone": "secteur-6", "planned_date": "2099-01-15", "format": "market",
        "members": [str(worker["id"])], **when})
    assert r.status_code == 400 and "un an" in r.text  # more than a year ahead
    from datetime import date, timedelta

    day = (date.today() + timedelta(days=3)).isoformat()
    r = coordinator_client.post("/coordinator/planning", data={
        "csrf_token": token, "zone": "secteur-6", "planned_date": day, "format": "market", "members": [str(worker["id"])], **when})
    assert r.status_code == 200 and "Nadia" in r.text and "14:00–16:30" in r.text and "halle du marché" in r.text
    from outreach.field import outings

    # What the worker's phone gets at its next bootstrap.
    mine = outings.for_user(store.db(), worker["id"], date.today())
    assert [(p["zone"], p["planned_date"], [m["id"] for m in p["members"]]) for p in mine] == [("secteur-6", day, [worker["id"]])]
    assert (mine[0]["planned_start"], mine[0]["planned_end"], mine[0]["meeting_point"]) == ("14:00", "16:30", when["meeting_point"])
    assert mine[0]["meeting_location"] == {"lat": 45.1893, "lon": 5.7162}
    # Cancelling asks first; a POST without the confirmation changes nothing.
    r = coordinator_client.post(f"/coordinator/planning/{mine[0]['id']}/cancel", data={"csrf_token": token})
    assert r.status_code == 200 and "Annuler cette sortie ?" in r.text
    assert len(outings.for_user(store.db(), worker["id"], date.today())) == 1
    r = coordinator_client.post(f"/coordinator/planning/{mine[0]['id']}/cancel", data={"csrf_token": token, "confirm": "yes"})
    assert r.status_code == 200 and outings.for_user(store.db(), worker["id"], date.today()) == []


def test_planned_time_and_meeting_point_reach_the_phone_and_a_cancellation_too(app, coordinator_client, make_user, store):
    """Through the API the phone uses: bootstrap carries the plan, then says the outing was cancelled."""
    from datetime import date, timedelta

    from tests.conftest import signed_in_client

    worker = make_user("field", name="Nadia")
    phone = signed_in_client(app, worker)
    token = csrf(coordinator_client)
    day = (date.today() + timedelta(days=2)).isoformat()
    coordinator_client.post("/coordinator/planning", data={
        "csrf_token": token, "zone": "secteur-3", "planned_date": day, "format": "stand", "members": [str(worker["id"])],
        "planned_start": "09:30", "planned_end": "12:00", "meeting_point": "Arrêt de tram Chavant"})
    plan = phone.get("/api/v1/bootstrap").json()["outings"]
    assert [(o["planned_date"], o["planned_start"], o["planned_end"], o["meeting_point"], o["meeting_location"]) for o in plan] == [
        (day, "09:30", "12:00", "Arrêt de tram Chavant", None)]
    coordinator_client.post(f"/coordinator/planning/{plan[0]['id']}/cancel", data={"csrf_token": token, "confirm": "yes"})
    boot = phone.get("/api/v1/bootstrap").json()
    assert boot["outings"] == []
    assert [(c["id"], c["planned_date"], c["planned_start"]) for c in boot["cancelled_outings"]] == [(plan[0]["id"], day, "09:30")]
    other = signed_in_client(app, make_user("field", name="Autre"))
    assert other.get("/api/v1/bootstrap").json()["cancelled_outings"] == []


def test_devices_page_flags_silent_phones(coordinator_client, make_user, store):
    worker = make_user("field", name="Yanis")
    with store.write() as db:
        db["devices"].insert({"id": "phone-old", "user_id": worker["id"], "first_seen": "2026-01-01T00:00:00+00:00",
                              "last_seen": "2026-01-02T00:00:00+00:00", "app_version": "0.9"})
    r = coordinator_client.get("/coordinator/devices")
    assert r.status_code == 200 and "row-warn" in r.text and "Yanis" in r.text


def test_audit_log_page(coordinator_client, store):
    from outreach import audit

    with store.write() as db:
        audit.record(db, None, "export", "encounters", "", format="csv")
    r = coordinator_client.get("/coordinator/audit?action=export")
    assert r.status_code == 200 and "format: csv" in r.text


def test_privacy_request_through_the_pages(coordinator_client, data, store):
    token = csrf(coordinator_client)
    r = coordinator_client.post("/coordinator/privacy", data={"csrf_token": token, "identifier": "resident@example.org"})
    assert r.status_code == 200
    r = coordinator_client.post("/coordinator/privacy/export", data={"csrf_token": token, "identifier": "resident@example.org", "reference": "DPO-7"})
    assert r.status_code == 200 and r.json()["follow_up_contacts"][0]["contact"] == "resident@example.org"
    r = coordinator_client.post("/coordinator/privacy/erase", data={"csrf_token": token, "identifier": "resident@example.org"})
    assert r.status_code == 400  # not confirmed: nothing erased
    assert store.db()["contacts"].count == 1
    r = coordinator_client.post("/coordinator/privacy/erase", data={"csrf_token": token, "identifier": "resident@example.org", "confirm": "yes"})
    assert r.status_code == 200 and store.db()["contacts"].count == 0
    actions = [a["action"] for a in store.db().query("select action from audit_log order by id")]
    assert actions[-2:] == ["access_request", "erasure"]
    assert "resident@example.org" not in json.dumps(list(store.db()["audit_log"].rows))


def test_french_spreadsheet_export_through_the_page(coordinator_client, data):
    token = csrf(coordinator_client)
    r = coordinator_client.post("/coordinator/exports/encounters.csv-fr", data={"csrf_token": token, "zone": "secteur-2"})
    assert r.status_code == 200
    assert r.content.decode("utf-8").splitlines()[0].startswith("\ufeffIdentifiant;Date et heure;Code secteur;Secteur")
    assert "tableur-fr.csv" in r.headers["content-disposition"]
    page = coordinator_client.get("/coordinator/exports").text
    assert 'action="/coordinator/exports/encounters.csv-fr"' in page and 'action="/coordinator/exports/reports.decidim"' in page


def test_an_export_cannot_be_forged_by_a_link_or_another_site(coordinator_client, store):
    """A download writes the audit log: a GET (a link, an image) or a form without the token is refused."""
    assert coordinator_client.get("/coordinator/exports/encounters.csv").status_code == 405
    assert coordinator_client.post("/coordinator/exports/encounters.csv", data={"start": "2026-01-01"}).status_code == 403
    r = coordinator_client.post("/coordinator/exports/encounters.csv", data={"csrf_token": csrf(coordinator_client)},
                                headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert store.db()["audit_log"].count == 0


def test_a_long_followup_list_says_it_shows_the_oldest_first(coordinator_client, store, monkeypatch):
    from outreach.coordinator import followups

    monkeypatch.setattr(followups, "MAX_ROWS", 3)
    db = store.db()
    for i in range(4):
        add_contact(db, contact=f"person{i}@example.org", consented_at=f"2026-11-1{i}T10:00:00+00:00")
    text = coordinator_client.get("/coordinator/followups").text
    assert "Seuls les 3 plus anciens sont affichés" in text
    assert "person0@example.org" in text and "person3@example.org" not in text
