"""POST /api/v1/sync, GET /api/v1/bootstrap and the OpenAPI document, through HTTP."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
from starlette.testclient import TestClient

from outreach import openapi
from outreach.app import create_app
from tests.conftest import make_settings
from tests.test_sync import encounter, outing

SYNC = "/api/v1/sync"


def post(client, entries, **extra):
    return client.post(SYNC, json={"device_id": "phone-test-01", "app_version": "1.0", "entries": entries, **extra})


def test_every_status_through_http(field_client, store):
    e = encounter()
    assert post(field_client, [e]).json()["results"][0]["status"] == "created"
    assert post(field_client, [e]).json()["results"][0]["status"] == "unchanged"
    e2 = dict(e, version=2, data=dict(e["data"], people_count=4))
    assert post(field_client, [e2]).json()["results"][0]["status"] == "updated"
    clash = dict(e2, data=dict(e2["data"], people_count=6))
    result = post(field_client, [clash]).json()["results"][0]
    assert result["status"] == "conflict" and result["current_version"] == 2
    bad = post(field_client, [encounter(people_count=500)]).json()["results"][0]
    assert bad["status"] == "rejected" and bad["errors"] == {"data.people_count": "doit être entre 1 et 200"}
    db = store.db()
    assert db["encounters"].count == 1 and db["entry_versions"].count == 2
    device = db["devices"].get("phone-test-01")
    assert device["user_id"] == field_client.user["id"] and device["app_version"] == "1.0"


def test_a_null_device_id_or_app_version_is_one_not_given(field_client, store):
    """As the API document says (schemathesis found null accepted while the document said text)."""
    r = post(field_client, [encounter()], device_id=None, app_version=None)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "created"
    assert store.db()["devices"].count == 0
    schema = openapi.document(field_client.app)["components"]["schemas"]["SyncRequest"]["properties"]
    assert schema["device_id"]["type"] == schema["app_version"]["type"] == ["string", "null"]


def test_results_follow_the_order_of_entries(field_client):
    entries = [encounter(), outing(), encounter(outcome="nope"), encounter()]
    body = post(field_client, entries).json()
    assert [r["id"] for r in body["results"]] == [e["id"] for e in entries]
    assert [r["status"] for r in body["results"]] == ["created", "created", "rejected", "created"]
    assert body["server_time"]


def test_signed_out_is_401_json(client):
    r = post(client, [encounter()])
    assert r.status_code == 401
    assert r.json()["error"].startswith("Vous êtes déconnecté")


@pytest.mark.parametrize("who", ["coordinator_client", "admin_client"])
def test_office_staff_may_sync_too(request, who):
    c = request.getfixturevalue(who)
    assert post(c, [encounter()]).json()["results"][0]["status"] == "created"


def test_request_from_another_site_is_403(field_client, store):
    r = field_client.post(SYNC, json={"entries": [encounter()]}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["error"]
    assert store.db()["encounters"].count == 0


def test_not_json_is_415(field_client):
    r = field_client.post(SYNC, content=b"entries=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and r.json()["error"]


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[1,2]", b'"text"', b'{"entries": 5}',
                                  b'{"entries": [], "device_id": "<script>"}', b'{"entries": [{"a": NaN}]}',
                                  b'{"entries": [], "device_id": "phone-0001", "app_version": "\\ud800"}'])
def test_malformed_body_is_400(field_client, store, body):
    r = field_client.post(SYNC, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]
    assert store.db()["entry_versions"].count == 0


def test_more_than_500_entries_is_413(field_client, store):
    r = post(field_client, [encounter() for _ in range(501)])
    assert r.status_code == 413 and r.json()["error"]
    assert store.db()["entry_versions"].count == 0


def test_more_than_a_mebibyte_is_413(field_client):
    r = field_client.post(SYNC, content=b'{"entries": [' + b" " * (1024 * 1024) + b"]}",
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_too_many_syncs_is_429_with_retry_after(tmp_path, make_user):
    app = create_app(make_settings(tmp_path / "limited", sync_rate_limit=2))
    with TestClient(app, base_url="http://testserver") as c:
        from outreach import users

        with app.state.store.write() as db:
            user = users.create_user(db, "limited@example.org", "secret-pass-123", "field")
        assert c.post("/api/v1/session", json={"email": user["email"], "password": "secret-pass-123"}).status_code == 200
        assert post(c, []).status_code == 200
        assert post(c, []).status_code == 200
        r = post(c, [encounter()])
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and r.json()["error"]
        assert app.state.store.db()["encounters"].count == 0
    app.state.store.close()


def test_hostile_strings_never_cause_a_500(field_client):
    hostile = ["<img src=x onerror=alert(1)>", "'; DROP TABLE encounters; --", "../../etc/passwd", "\u202e", "😀" * 100]
    entries = [encounter(note=h) for h in hostile]
    entries += [encounter(zone=h) for h in hostile] + [outing(debrief=h) for h in hostile]
    r = post(field_client, entries)
    assert r.status_code == 200
    statuses = [x["status"] for x in r.json()["results"]]
    assert statuses[:5] == ["created"] * 5 and statuses[5:10] == ["rejected"] * 5 and statuses[10:] == ["created"] * 5


def test_follow_up_contact_is_not_in_the_encounter_row(field_client, store):
    e = encounter(follow_up={"consent": True, "consent_text_version": "2026-01", "channel": "sms",
                             "contact": "+33 6 12 34 56 78", "purposes": []})
    assert post(field_client, [e]).json()["results"][0]["status"] == "created"
    db = store.db()
    assert "+33 6 12 34 56 78" not in json.dumps(dict(db["encounters"].get(e["id"])))
    assert db["contacts"].count == 1


def test_bootstrap_lists_outings_planned_for_me(field_client, store, make_user):
    coordinator = make_user("coordinator")
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    other = make_user("field")
    with store.write() as db:
        for oid, member in ((mine, field_client.user["id"]), (theirs, other["id"])):
            db["outings"].insert({"id": oid, "format": "market", "status": "planned", "zone": "secteur-4",
                                  "planned_date": date.today().isoformat(), "created_by": coordinator["id"]})
            db["outing_members"].insert({"outing_id": oid, "user_id": member})
    r = field_client.get("/api/v1/bootstrap")
    assert r.status_code == 200
    body = r.json()
    assert [o["id"] for o in body["outings"]] == [mine]
    assert {t["code"] for t in body["tools"]} >= {"participatory_budget", "petition", "open_worksite"}
    assert body["consent"]["version"] == "2026-01" and body["consent"]["text"]
    assert body["user"]["id"] == field_client.user["id"] and "password_hash" not in json.dumps(body)
    assert body["limits"]["max_entries"] == 500 and body["app_version"]


def test_bootstrap_needs_sign_in(client):
    assert client.get("/api/v1/bootstrap").status_code == 401


# --- the OpenAPI document stays true --------------------------------------------------------------


def test_openapi_lists_exactly_the_api_routes(client, app):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == openapi.api_operations(app)
    for (path, method) in documented:
        assert doc["paths"][path][method]["summary"] != "Undocumented", (path, method)


def _check(schema: dict, value, doc: dict, where: str = "$") -> None:
    """A small JSON Schema check (type, required, properties, items, enum) against real answers."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _check(doc["components"]["schemas"][name], value, doc, where)
    types = schema.get("type")
    if types:
        allowed = types if isinstance(types, list) else [types]
        pytypes = {"object": dict, "array": list, "string": str, "integer": int, "number": (int, float),
                   "boolean": bool, "null": type(None)}
        assert any(isinstance(value, pytypes[t]) for t in allowed), f"{where}: {value!r} is not {allowed}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing {key}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                _check(sub, value[key], doc, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check(schema["items"], item, doc, f"{where}[{i}]")


def test_real_answers_match_the_openapi_schemas(field_client):
    doc = field_client.get("/api/v1/openapi.json").json()
    e = encounter()
    request_body = {"device_id": "phone-test-01", "entries": [e, outing(), encounter(tools=["bad"])]}
    _check(doc["components"]["schemas"]["SyncRequest"], request_body, doc)
    answer = field_client.post(SYNC, json=request_body).json()
    sync_schema = doc["paths"]["/api/v1/sync"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    _check(sync_schema, answer, doc)
    conflict = post(field_client, [dict(e, data=dict(e["data"], note="other"))]).json()
    _check(sync_schema, conflict, doc)
    boot_schema = doc["paths"]["/api/v1/bootstrap"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    _check(boot_schema, field_client.get("/api/v1/bootstrap").json(), doc)
    error = field_client.post(SYNC, content=b"{", headers={"Content-Type": "application/json"}).json()
    _check({"$ref": "#/components/schemas/Error"}, error, doc)
    # Every documented encounter field is one the server accepts, and the other way round.
    from outreach.field import encounters, outings

    assert set(doc["components"]["schemas"]["EncounterData"]["properties"]) == encounters.FIELDS
    assert set(doc["components"]["schemas"]["OutingData"]["properties"]) == outings.FIELDS


# --- the field pages, the service worker, the manifest ---------------------------------------------


def test_field_page_holds_no_personal_data(field_client):
    r = field_client.get("/app")
    assert r.status_code == 200
    assert field_client.user["email"] not in r.text.split("<main", 1)[1]
    assert 'id="i18n"' in r.text and "Synchroniser" in r.text


def test_anonymous_gets_the_same_shell(client):
    r = client.get("/app")
    assert r.status_code == 200 and 'id="encounter-form"' in r.text


def test_service_worker_lists_every_phone_static_file_with_its_hash(client, app):
    from outreach.views.field import NOT_PRECACHED

    r = client.get("/sw.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "no-cache"
    text = r.text
    assert "__PRECACHE__" not in text and "__VERSION__" not in text and "__PAGES__" not in text
    precache = json.loads(text.split("const PRECACHE = ", 1)[1].split(";\n", 1)[0])
    listed = {url.split("?")[0].removeprefix("/static/") for url, _ in precache}
    assert listed == set(app.state.static_hashes) - NOT_PRECACHED
    assert "js/map.js" not in listed and "js/outbox.js" in listed and "app.css" in listed
    # The browser fetches the manifest and its icons itself, online, when it installs the app.
    assert not any(path.startswith("icons/") or path.endswith(".webmanifest") for path in listed)
    for url, digest in precache:
        assert url.endswith("?v=" + digest)
        assert client.get(url).status_code == 200
    pages = json.loads(text.split("const PAGES = ", 1)[1].split(";\n", 1)[0])
    assert "/app" in pages
    assert all(client.get(p).status_code == 200 for p in pages)


def test_service_worker_version_changes_with_the_files(client, app):
    first = client.get("/sw.js").text
    app.state.static_hashes = dict(app.state.static_hashes, **{"app.css": "000000000000"})
    second = client.get("/sw.js").text
    version = lambda s: s.split('const VERSION = "', 1)[1].split('"', 1)[0]  # noqa: E731
    assert version(first) != version(second)


def test_manifest_is_installable(client):
    r = client.get("/manifest.webmanifest")
    assert r.headers["content-type"].startswith("application/manifest+json")
    m = r.json()
    assert m["start_url"] == "/app" and m["display"] == "standalone" and m["short_name"] and m["theme_color"]
    sizes = {(i["sizes"], i["purpose"]) for i in m["icons"]}
    assert {("192x192", "maskable"), ("512x512", "maskable"), ("192x192", "any"), ("512x512", "any")} <= sizes
    from PIL import Image
    import io

    for icon in m["icons"]:
        img = Image.open(io.BytesIO(client.get(icon["src"]).content))
        assert f"{img.width}x{img.height}" == icon["sizes"]


def test_sixteen_devices_over_http_leave_one_row_per_id(live_server):
    """16 threads post overlapping batches to a real server at once: exactly one row per id."""
    import http.client
    import threading

    users_ = [live_server.make_user("field") for _ in range(4)]
    pool = [encounter() for _ in range(80)]
    cookies = []
    for user in users_:
        c = http.client.HTTPConnection(live_server.url.removeprefix("http://"))
        c.request("POST", "/api/v1/session", json.dumps({"email": user["email"], "password": "secret-pass-123"}),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        cookies.append(r.getheader("set-cookie").split(";")[0])
        c.close()
    failures = []

    def device(i: int):
        try:
            c = http.client.HTTPConnection(live_server.url.removeprefix("http://"))
            # Four threads share each account (the same worker's entries replayed by several tabs).
            batch = pool[(i % 4) * 20: (i % 4) * 20 + 40]
            c.request("POST", SYNC, json.dumps({"device_id": f"device-{i:04d}", "entries": batch}),
                      {"Content-Type": "application/json", "Cookie": cookies[i % 4]})
            r = c.getresponse()
            body = json.loads(r.read())
            c.close()
            assert r.status == 200
            for result in body["results"]:
                assert result["status"] in ("created", "unchanged", "conflict"), result
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=device, args=(i,)) for i in range(16)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not failures, failures
    db = live_server.store.db()
    assert db.execute("select count(*), count(distinct entry_id) from entry_versions").fetchone() == (80, 80)
    assert db["encounters"].count == 80


def test_a_sync_answer_travels_compressed_to_a_phone_that_accepts_it(field_client):
    entries = [encounter() for _ in range(20)]
    r = field_client.post(SYNC, json={"device_id": "phone-test-01", "entries": entries},
                          headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < len(r.content) / 2  # 20 receipts: hashes and ids, still halved
    assert [x["status"] for x in r.json()["results"]] == ["created"] * 20
    plain = field_client.post(SYNC, json={"device_id": "phone-test-01", "entries": entries},
                              headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json()["results"][0]["status"] == "unchanged"
