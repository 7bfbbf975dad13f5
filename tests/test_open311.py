"""Open311 GeoReport v2: discovery, services, requests (GET/POST), one request, tokens; JSON and XML."""

import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET

import pytest

from outreach.worksites import open311, triage
from outreach.settings import REPO_ROOT
from tests.test_report_api import envelope, post, report_data


@pytest.fixture
def api_key(store):
    with store.write() as db:
        return open311.create_api_key(db, "Appli Quartiers")


def test_discovery_and_services(client):
    d = client.get("/open311/v2/discovery.json").json()
    assert d["endpoints"][0]["specification"] == open311.SPEC
    services = client.get("/open311/v2/services.json").json()
    codes = [s["service_code"] for s in services]
    assert "planting" in codes and services[0]["metadata"] is False
    xml = ET.fromstring(client.get("/open311/v2/services.xml").content)
    assert xml.tag == "services" and xml.find("service/service_code").text == codes[0]
    assert client.get("/open311/v2/services/planting.json").json() == {"service_code": "planting", "attributes": []}
    r = client.get("/open311/v2/services/nuclear.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    r = client.get("/open311/v2/services.yaml")
    assert r.status_code == 404 and r.json()[0]["description"]


def post_request(client, **params):
    return client.post("/open311/v2/requests.json", data=params)


def test_post_needs_a_valid_key(client, store, api_key):
    base = {"service_code": "street_furniture", "lat": "45.19", "long": "5.72",
            "description": "Banc renversé\nDepuis hier soir.", "email": "someone@example.org"}
    r = post_request(client, **base)
    assert r.status_code == 403 and r.json()[0]["code"] == 403
    r = post_request(client, **base, api_key="o311_wrong-key-123456")
    assert r.status_code == 403
    assert store.db()["reports"].count == 0
    r = post_request(client, **base, api_key=api_key)
    assert r.status_code == 201, r.text
    request_id = r.json()[0]["service_request_id"]
    row = store.db()["reports"].get(request_id)
    assert row["source"] == "open311" and row["title"] == "Banc renversé" and row["status"] == "submitted"
    assert store.db()["report_contacts"].count == 0  # no contact is kept from Open311
    # Read it back, in JSON and XML; no contact detail anywhere.
    one = client.get(f"/open311/v2/requests/{request_id}.json").json()[0]
    assert one["status"] == "open" and one["service_code"] == "street_furniture" and one["lat"] == 45.19
    assert "someone@example.org" not in str(one)
    xml = ET.fromstring(client.get(f"/open311/v2/requests/{request_id}.xml").content)
    assert xml.tag == "service_requests" and xml.find("request/service_request_id").text == request_id
    assert client.get(f"/open311/v2/tokens/{request_id}.json").json()[0]["service_request_id"] == request_id
    assert client.get(f"/open311/v2/tokens/{uuid.uuid4()}.json").status_code == 404


@pytest.mark.parametrize("params,fragment", [
    ({"service_code": "unknown", "address_string": "1 rue A"}, "service_code"),
    ({"service_code": "planting"}, "lat/long/address_string"),
    ({"service_code": "planting", "lat": "north", "long": "5"}, "lat"),
    ({"service_code": "planting", "lat": "45"}, "long"),
    ({"service_code": "planting", "lat": "95", "long": "5"}, "lat/long"),
    ({"service_code": "planting", "address_string": "x" * 301}, "address_string"),
    ({"service_code": "planting", "address_string": "1 rue A", "description": "x" * 4001}, "description"),
    ({"service_code": "planting", "address_string": "1 rue A", "admin": "1"}, "admin"),
])
def test_bad_posts_get_open311_errors(client, store, api_key, params, fragment):
    r = post_request(client, api_key=api_key, **params)
    assert r.status_code == 400
    body = r.json()
    assert body[0]["code"] == 400 and fragment in body[0]["description"]
    assert store.db()["reports"].count == 0
    r = client.post("/open311/v2/requests.xml", data=dict(params, api_key=api_key))
    err = ET.fromstring(r.content)
    assert err.tag == "errors" and err.find("error/code").text == "400"


def test_json_post_is_refused(client, api_key):
    r = client.post("/open311/v2/requests.json", json={"api_key": api_key})
    assert r.status_code == 415


def test_only_accepted_onward_reports_are_listed(client, store):
    resident = post(client, envelope(report_data(
        title="Fresque", reporter={"email": "r@example.org", "consent": True, "consent_text_version": "2026-01"})))
    rid = resident.json()["results"][0]["id"]
    assert client.get("/open311/v2/requests.json").json() == []
    assert client.get(f"/open311/v2/requests/{rid}.json").status_code == 404
    with store.write() as db:
        triage.change_status(db, rid, "under_review", None)
        triage.change_status(db, rid, "accepted", None)
    listed = client.get("/open311/v2/requests.json").json()
    assert [r["service_request_id"] for r in listed] == [rid]
    assert "r@example.org" not in client.get("/open311/v2/requests.json").text
    assert listed[0]["description"] == "Fresque"  # the resident's own text stays private
    assert client.get("/open311/v2/requests.json", params={"status": "closed"}).json() == []
    assert len(client.get("/open311/v2/requests.json", params={"service_code": "planting"}).json()) == 1
    assert client.get("/open311/v2/requests.json", params={"service_code": "street_furniture"}).json() == []
    with store.write() as db:
        triage.change_status(db, rid, "declined", None, reason="Finalement non")
    closed = client.get("/open311/v2/requests.json", params={"status": "closed"}).json()
    assert [(c["service_request_id"], c["status"], c["status_notes"]) for c in closed] == [(rid, "closed", "Finalement non")]
    xml = ET.fromstring(client.get("/open311/v2/requests.xml").content)
    assert xml.tag == "service_requests"


@pytest.mark.parametrize("params", [{"start_date": "yesterday"}, {"status": "maybe"}, {"service_code": "x"},
                                    {"service_request_id": "1,2"}])
def test_bad_list_filters(client, params):
    r = client.get("/open311/v2/requests.json", params=params)
    assert r.status_code == 400 and r.json()[0]["code"] == 400


def test_key_is_stored_hashed_and_cli_makes_one(tmp_path):
    env = {"OUTREACH_DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "outreach", "create-api-key", "Appli Vélo"], env=env,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1].strip()
    assert key.startswith("o311_")
    import sqlite3

    rows = sqlite3.connect(tmp_path / "outreach.db").execute("select name, key_hash from api_keys").fetchall()
    assert rows[0][0] == "Appli Vélo" and key not in rows[0][1] and len(rows[0][1]) == 64
    r = subprocess.run([sys.executable, "-m", "outreach", "create-api-key", ""], env=env, capture_output=True,
                       text=True, stdin=subprocess.DEVNULL)
    assert r.returncode != 0


def test_a_revoked_key_no_longer_posts(client, store, api_key):
    from outreach.worksites import open311 as o

    keys = o.list_api_keys(store.db())
    assert [k["name"] for k in keys] == ["Appli Quartiers"] and "key_hash" not in keys[0]
    with store.write() as db:
        assert o.revoke_api_key(db, keys[0]["id"], None) is True
        assert o.revoke_api_key(db, keys[0]["id"], None) is False
    r = post_request(client, api_key=api_key, service_code="planting", address_string="1 rue A")
    assert r.status_code == 403
    actions = [a["action"] for a in store.db()["audit_log"].rows]
    assert actions == ["api_key.create", "api_key.revoke"]
