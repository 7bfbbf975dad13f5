"""The resident's API and pages: POST /api/v1/reports, attachments, /report without script, tracking, worksites."""

import hashlib
import io
import re
import uuid
from datetime import datetime, timezone

import pytest
from PIL import Image

from outreach.worksites import public, triage
from tests.conftest import make_settings
from tests.test_photos import jpeg_with_gps, png_bomb

NOW = datetime.now(timezone.utc).isoformat(timespec="seconds")


def report_data(**over):
    data = {"title": "Jardinière à créer", "description": "Au pied de l'arbre.", "category": "planting",
            "location": {"lat": 45.1890, "lon": 5.7100, "accuracy_m": 8}, "address": "12 rue Très-Cloîtres",
            "where_detail": "", "photos": [], "wants_to_help": False, "reporter": None}
    data.update(over)
    return data


def envelope(*datas, **extra):
    entries = [{"id": str(uuid.uuid4()), "kind": "report", "version": 1, "created_at": NOW, "data": d} for d in datas]
    return dict({"device_id": "resident-phone-1", "entries": entries}, **extra)


def post(client, body):
    return client.post("/api/v1/reports", json=body)


def test_anonymous_report_is_created_once_with_a_tracking_url(client, store):
    body = envelope(report_data())
    r = post(client, body)
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["status"] == "created" and result["tracking_url"].startswith("http://testserver/track/")
    again = post(client, body).json()["results"][0]
    assert again["status"] == "unchanged" and again["tracking_url"] == result["tracking_url"]
    assert store.db()["reports"].count == 1
    page = client.get(result["tracking_url"])
    assert page.status_code == 200 and "Jardinière à créer" in page.text


@pytest.mark.parametrize("change,field", [
    ({"title": "<b>x</b>" * 30}, "data.title"),
    ({"category": "unknown"}, "data.category"),
    ({"location": None, "address": ""}, "data.location"),
    ({"reporter": {"email": "a@b.org", "consent": False, "consent_text_version": "2026-01"}}, "data.reporter.consent"),
    ({"photos": ["../../../etc/passwd"]}, "data.photos"),
    ({"wants_to_help": "true"}, "data.wants_to_help"),
    ({"description": 10 ** 400}, "data.description"),
])
def test_bad_fields_are_rejected_by_name_in_french(client, store, change, field):
    r = post(client, envelope(report_data(**change), report_data()))
    assert r.status_code == 200
    bad, good = r.json()["results"]
    assert bad["status"] == "rejected" and field in bad["errors"]
    assert good["status"] == "created"  # one bad entry never blocks the others
    assert store.db()["reports"].count == 1


@pytest.mark.parametrize("body,status", [
    ("not json", 400),
    ([], 400),
    ({"entries": "x"}, 400),
    ({"entries": [{}] * 21}, 413),
    ({"entries": [], "admin": 1}, 400),
])
def test_malformed_requests_get_a_clear_4xx(client, body, status):
    if isinstance(body, str):
        r = client.post("/api/v1/reports", content=body, headers={"Content-Type": "application/json"})
    else:
        r = post(client, body)
    assert r.status_code == status
    assert r.json()["error"]


def test_form_encoded_body_is_refused(client):
    assert client.post("/api/v1/reports", data={"entries": "[]"}).status_code == 415


@pytest.mark.parametrize("website", ["http://spam.example", " ", 0, False, None, [], {}])
def test_honeypot_stores_nothing(client, store, website):
    """Anything but the empty text the documentation asks for (schemathesis sent 0, and it was taken)."""
    r = post(client, envelope(report_data(), website=website))
    assert r.status_code == 400 and r.json()["error"]
    assert store.db()["reports"].count == 0


def test_an_empty_honeypot_is_a_person(client, store):
    assert post(client, envelope(report_data(), website="")).status_code == 200
    assert store.db()["reports"].count == 1


def test_rate_limit_refuses_the_next_report_and_stores_nothing(tmp_path):
    from starlette.testclient import TestClient

    from outreach.app import create_app

    app = create_app(make_settings(tmp_path / "d", report_rate_limit=3))
    with TestClient(app) as c:
        for i in range(3):
            assert post(c, envelope(report_data(title=f"Banc numéro {i}"))).status_code == 200
        r = post(c, envelope(report_data(title="Le quatrième")))
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        assert app.state.store.db()["reports"].count == 3
    app.state.store.close()


def jpeg(size=(640, 480), color=(10, 120, 200)):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def put(client, data, name=None, ctype="image/jpeg"):
    name = name or hashlib.sha256(data).hexdigest()
    return client.put(f"/api/v1/attachments/{name}", content=data, headers={"Content-Type": ctype})


def test_attachment_upload_statuses(client, store):
    data = jpeg_with_gps()
    assert put(client, data).status_code == 201
    assert put(client, data).status_code == 200
    with Image.open(photo_path(store, data)) as img:
        assert len(img.getexif()) == 0


def photo_path(store, data):
    sha = hashlib.sha256(data).hexdigest()
    row = store.db()["attachments"].get(sha)
    return store.path.parent / "uploads" / row["path"]


@pytest.mark.parametrize("data,name,ctype,status", [
    (jpeg(), "0" * 64, "image/jpeg", 400),  # wrong hash
    (b"just some text, named photo.jpg", None, "image/jpeg", 415),  # text as .jpg
    (jpeg(), None, "text/html", 415),  # wrong type
    (png_bomb(), None, "image/png", 415),  # decompression bomb
    (b"\xff" * (11 * 1024 * 1024), None, "image/jpeg", 413),  # 11 MiB
    (jpeg(), "ABCDEF" + "0" * 58, "image/jpeg", 400),  # uppercase is not our name
])
def test_bad_attachments(client, store, data, name, ctype, status):
    r = put(client, data, name, ctype)
    assert r.status_code == status, r.text
    assert r.json()["error"]
    assert store.db()["attachments"].count == 0


@pytest.mark.parametrize("path", ["/api/v1/attachments/..%2f..%2fetc%2fpasswd", "/api/v1/attachments/../../etc/passwd",
                                  "/api/v1/attachments/" + "a" * 64 + "%2F..", "/photos/..%2fsecret_key"])
def test_paths_in_the_hash_go_nowhere(client, path):
    r = client.put(path, content=jpeg(), headers={"Content-Type": "image/jpeg"}) if "attachments" in path else client.get(path)
    assert r.status_code in (400, 404, 405)


def test_photo_pending_then_arrived_and_served_only_when_public(client, coordinator_client, store):
    data = jpeg()
    sha = hashlib.sha256(data).hexdigest()
    result = post(client, envelope(report_data(photos=[sha]))).json()["results"][0]
    rid = result["id"]
    assert public.photo_states(store.db(), rid)[0]["arrived"] == 0
    assert put(client, data).status_code == 201
    assert public.photo_states(store.db(), rid)[0]["arrived"] == 1
    assert client.get(f"/photos/{sha}").status_code == 404  # not public yet
    assert coordinator_client.get(f"/photos/{sha}").headers["content-type"] == "image/jpeg"
    token_path = result["tracking_url"].replace("http://testserver", "")
    assert client.get(f"{token_path}/photos/{sha}?size=thumb").status_code == 200  # the resident sees their own


def test_upload_rate_limit(tmp_path):
    from starlette.testclient import TestClient

    from outreach.app import create_app

    app = create_app(make_settings(tmp_path / "d", upload_rate_limit=2))
    with TestClient(app) as c:
        assert put(c, jpeg(color=(1, 1, 1))).status_code == 201
        assert put(c, jpeg(color=(2, 2, 2))).status_code == 201
        r = put(c, jpeg(color=(3, 3, 3)))
        assert r.status_code == 429 and r.headers["Retry-After"]
    app.state.store.close()


def test_tampered_or_foreign_token_is_404(client, app):
    result = post(client, envelope(report_data())).json()["results"][0]
    path = result["tracking_url"].replace("http://testserver", "")
    token = path.rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert client.get(f"/track/{tampered}").status_code == 404
    foreign = app.state.signer.dumps("session", result["id"])  # signed, but for another purpose
    assert client.get(f"/track/{foreign}").status_code == 404
    unknown = public.tracking_token(app.state.signer, str(uuid.uuid4()))
    assert client.get(f"/track/{unknown}").status_code == 404
    assert client.get("/track/" + "x" * 5000).status_code == 404


def test_tracking_page_hides_internal_notes_and_contacts(client, coordinator_client, store):
    reporter = {"name": "Zoé Secrète", "email": "zoe@example.org", "phone": "0611223344", "consent": True,
                "consent_text_version": "2026-01"}
    result = post(client, envelope(report_data(reporter=reporter))).json()["results"][0]
    rid = result["id"]
    detail = coordinator_client.get(f"/coordinator/reports/{rid}")
    assert "zoe@example.org" in detail.text
    csrf = csrf_of(detail.text)
    coordinator_client.post(f"/coordinator/reports/{rid}/reply",
                            data={"csrf_token": csrf, "text": "NOTE-INTERNE-42", "visibility": "internal"})
    coordinator_client.post(f"/coordinator/reports/{rid}/reply",
                            data={"csrf_token": csrf, "text": "Nous passerons voir.", "visibility": "public"})
    page = client.get(result["tracking_url"]).text
    for secret in ("NOTE-INTERNE-42", "zoe@example.org", "Zoé Secrète", "0611223344"):
        assert secret not in page
    assert "Nous passerons voir." in page


def csrf_of(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_needs_info_lets_the_resident_answer(client, coordinator_client, store):
    result = post(client, envelope(report_data())).json()["results"][0]
    rid = result["id"]
    csrf = csrf_of(coordinator_client.get(f"/coordinator/reports/{rid}").text)
    for target, extra in (("under_review", {}), ("needs_info", {"message": "Quel numéro de rue ?"})):
        r = coordinator_client.post(f"/coordinator/reports/{rid}/status",
                                    data={"csrf_token": csrf, "status": target, **extra}, follow_redirects=False)
        assert r.status_code == 303
    page = client.get(result["tracking_url"])
    assert "Quel numéro de rue ?" in page.text and 'name="text"' in page.text
    path = result["tracking_url"].replace("http://testserver", "")
    r = client.post(f"{path}/info", data={"csrf_token": csrf_of(page.text), "text": "<b>Le 12</b>"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(result["tracking_url"]).text
    assert "&lt;b&gt;Le 12&lt;/b&gt;" in page and "<b>Le 12</b>" not in page
    assert store.db()["reports"].get(rid)["status"] == "under_review"
    # Without the CSRF token, nothing is added.
    assert client.post(f"{path}/info", data={"text": "x"}).status_code == 403


def test_plain_html_form_without_script(client, store):
    page = client.get("/report")
    assert page.status_code == 200
    csrf, entry_id = csrf_of(page.text), re.search(r'name="entry_id" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": csrf, "entry_id": entry_id, "title": "Peindre le mur du préau", "category": "painting",
            "address": "Place Saint-Bruno", "wants_to_help": "yes", "website": ""}
    files = {"photo": ("mur.jpg", jpeg_with_gps(), "image/jpeg")}
    r = client.post("/report", data=form, files=files, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "/track/" in r.headers["location"]
    shown = client.get(r.headers["location"])
    assert "Peindre le mur du préau" in shown.text
    link = r.headers["location"].split("?")[0]
    assert f'class="tracking-link" href="{link}"' in shown.text
    # The same form sent twice is one report.
    r2 = client.post("/report", data=form, files={"photo": ("mur.jpg", jpeg_with_gps(), "image/jpeg")}, follow_redirects=False)
    assert r2.status_code == 303
    db = store.db()
    assert db["reports"].count == 1 and db["attachments"].count == 1
    row = next(db["reports"].rows)
    assert row["wants_to_help"] == 1 and row["source"] == "resident"


def test_plain_form_errors_are_shown_and_nothing_stored(client, store):
    page = client.get("/report")
    csrf, entry_id = csrf_of(page.text), re.search(r'name="entry_id" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": csrf, "entry_id": entry_id, "title": "ab", "category": "nope", "address": "",
            "reporter_email": "x@example.org"}
    r = client.post("/report", data=form, files={"photo": ("a.jpg", b"not an image", "image/jpeg")})
    assert r.status_code == 415 and "photo" in r.text
    r = client.post("/report", data=form)
    assert r.status_code == 400
    assert r.text.count('class="error-text"') >= 3
    assert store.db()["reports"].count == 0
    assert client.post("/report", data=dict(form, csrf_token="forged")).status_code == 403


def test_worksites_list_and_sign_up(client, coordinator_client, store):
    result = post(client, envelope(report_data(title="Fresque de la cour"))).json()["results"][0]
    rid = result["id"]
    assert "Fresque de la cour" not in client.get("/worksites").text
    with store.write() as db:
        triage.change_status(db, rid, "under_review", None)
        triage.change_status(db, rid, "accepted", None)
    page = client.get("/worksites")
    assert "Fresque de la cour" in page.text
    csrf = csrf_of(page.text)
    r = client.post(f"/worksites/{rid}/volunteer", data={"csrf_token": csrf, "name": "Léo", "email": "leo@example.org",
                                                       "consent": "yes", "consent_text_version": "2026-01"},
                    follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/worksites/{rid}/volunteer", data={"csrf_token": csrf, "name": "Léo", "email": "leo@example.org"})
    assert r.status_code == 400
    assert store.db()["report_volunteers"].count == 1
    assert client.post(f"/worksites/{uuid.uuid4()}/volunteer",
                       data={"csrf_token": csrf, "name": "A", "email": "a@example.org", "consent": "yes",
                             "consent_text_version": "2026-01"}).status_code == 404
    # The contact never shows on the public page.
    assert "leo@example.org" not in client.get("/worksites").text


def test_nearby_and_me_too(client, store):
    first = post(client, envelope(report_data())).json()["results"][0]
    where = {"category": "planting", "lat": 45.18905, "lon": 5.71005}
    # Not moderated yet: its title and address are nobody's to read (Open311 hides it too).
    assert client.get("/api/v1/reports/nearby", params=where).json()["reports"] == []
    with store.write() as db:
        triage.change_status(db, first["id"], "under_review", None)
        triage.change_status(db, first["id"], "accepted", None)
    found = client.get("/api/v1/reports/nearby", params=where).json()["reports"]
    assert [f["id"] for f in found] == [first["id"]] and "description" not in found[0]
    assert client.get("/api/v1/reports/nearby", params={"category": "x", "lat": 1, "lon": 1}).status_code == 400
    assert client.get("/api/v1/reports/nearby", params={"category": "planting", "lat": "nan", "lon": 1}).status_code == 400
    tap = {"id": str(uuid.uuid4())}
    assert client.post(f"/api/v1/reports/{first['id']}/me-too", json=tap).status_code == 201
    assert client.post(f"/api/v1/reports/{first['id']}/me-too", json=tap).status_code == 200
    assert client.post(f"/api/v1/reports/{uuid.uuid4()}/me-too", json=tap).status_code == 404
    assert client.post(f"/api/v1/reports/{first['id']}/me-too", json={"id": "x"}).status_code == 400
    assert store.db()["reports"].get(first["id"])["me_too_count"] == 1


def test_nearby_is_rate_limited_per_address(tmp_path):
    from starlette.testclient import TestClient
    from outreach.app import create_app

    app = create_app(make_settings(tmp_path / "d", nearby_rate_limit=3))
    with TestClient(app) as c:
        where = {"category": "planting", "lat": 45.18905, "lon": 5.71005}
        codes = [c.get("/api/v1/reports/nearby", params=where).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_html_in_the_title_is_shown_as_text(client, coordinator_client):
    title = '<img src=x onerror="alert(1)">'
    result = post(client, envelope(report_data(title=title))).json()["results"][0]
    assert result["status"] == "created"
    for html in (client.get(result["tracking_url"]).text,
                 coordinator_client.get("/coordinator/reports").text,
                 coordinator_client.get(f"/coordinator/reports/{result['id']}").text):
        assert title not in html
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
