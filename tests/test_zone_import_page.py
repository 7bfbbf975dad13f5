"""The admin's zone import page: upload → preview (nothing written) → confirm; and zones given on sync."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

import pytest

from outreach.zones import geojson
from tests.test_admin import csrf
from tests.zone_files import collection, dumps, feature, square

FIELDS = {"code": "code", "name": "nom", "population": "pop", "age_18_29": "pop_18_29"}


def upload(client, raw: bytes, **fields):
    data = {"csrf_token": csrf(client), **FIELDS, **fields}
    return client.post("/admin/zones/import", data=data, files={"file": ("quartiers.geojson", raw, "application/geo+json")})


def zones_with_boundary(store) -> int:
    return store.db().execute("select count(*) from zones where boundary is not null").fetchone()[0]


def test_upload_previews_then_confirm_imports(admin_client, store):
    r = upload(admin_client, dumps(collection()))
    assert r.status_code == 200 and "4 nouveaux, 0 modifiés, 0 inchangés" in r.text
    assert zones_with_boundary(store) == 0  # the preview writes nothing
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', r.text).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_0-9]+)" value="([^"]*)">', r.text))
    r = admin_client.post("/admin/zones/import/confirm", data={**hidden, "digest": digest}, follow_redirects=False)
    assert r.status_code == 303
    assert zones_with_boundary(store) == 4
    page = admin_client.get(r.headers["location"]).text
    assert "Secteurs importés : 4 nouveaux" in page


def test_a_bad_file_shows_every_problem_and_writes_nothing(admin_client, store):
    doc = collection()
    doc["features"][1]["geometry"] = {"type": "Point", "coordinates": [5.1, 45.0]}
    doc["features"][2]["properties"]["pop"] = None
    r = upload(admin_client, dumps(doc))
    assert r.status_code == 400
    assert "Entité 2 (code « bb »)" in r.text and "Entité 3 (code « cc ») n&#39;a pas de population" in r.text
    assert zones_with_boundary(store) == 0


@pytest.mark.parametrize("fields, raw, status", [
    ({"code": ""}, dumps(collection()), 400),  # no property named
    ({"code": "x\x01"}, dumps(collection()), 400),  # control character
    ({}, b"", 400),  # no file
    ({}, b"<html>hostile</html>", 400),  # not JSON
])
def test_bad_form_values_are_refused(admin_client, store, fields, raw, status):
    assert upload(admin_client, raw, **fields).status_code == status
    assert zones_with_boundary(store) == 0


def test_an_oversized_upload_is_refused_before_it_is_read(admin_client):
    big = b" " * (geojson.MAX_FILE_BYTES + 200_000)
    assert upload(admin_client, big).status_code == 413


def test_confirm_needs_the_csrf_token_and_a_known_preview(admin_client, store):
    r = admin_client.post("/admin/zones/import/confirm", data={**FIELDS, "digest": "0" * 64})
    assert r.status_code == 403
    r = admin_client.post("/admin/zones/import/confirm", data={"csrf_token": csrf(admin_client), **FIELDS,
                                                                 "digest": "../../etc/passwd"})
    assert r.status_code == 400 and "Cet aperçu a expiré" in r.text


def test_upload_without_csrf_is_refused(admin_client):
    r = admin_client.post("/admin/zones/import", data=FIELDS, files={"file": ("z.geojson", dumps(collection()), "application/json")})
    assert r.status_code == 403


def test_field_and_coordinator_cannot_import(field_client, coordinator_client):
    for client in (field_client, coordinator_client):
        assert client.get("/admin/zones/import").status_code == 403


def test_sync_gives_an_encounter_with_a_position_the_zone_that_contains_it(admin_client, field_client, store):
    r = upload(admin_client, dumps(collection()))
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', r.text).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_0-9]+)" value="([^"]*)">', r.text))
    admin_client.post("/admin/zones/import/confirm", data={**hidden, "digest": digest})
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def enc(location, zone=None):
        return {"id": str(uuid.uuid4()), "kind": "encounter", "version": 1, "created_at": now, "data": {
            "occurred_at": now, "place_type": "street", "zone": zone, "people_count": 1, "outcome": "conversation",
            "tools": [], "interest": "curious", "note": "", "location": location}}

    entries = [enc({"lat": 45.02, "lon": 5.02, "accuracy_m": 20}), enc({"lat": 46.5, "lon": 7.0, "accuracy_m": 20}),
               enc({"lat": 45.02, "lon": 5.02, "accuracy_m": 20}, zone="secteur-3"), enc(None)]
    r = field_client.post("/api/v1/sync", json={"device_id": "dev-zones", "app_version": "t", "entries": entries})
    assert [x["status"] for x in r.json()["results"]] == ["created"] * 4
    zones = [store.db()["encounters"].get(e["id"])["zone"] for e in entries]
    assert zones == ["aa", None, "secteur-3", None]
    boot = field_client.get("/api/v1/bootstrap").json()
    assert set(boot["zone_outlines"]) == {"aa", "bb", "cc", "dd"} and boot["zone_outlines"]["cc"]["type"] == "MultiPolygon"
