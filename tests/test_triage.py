"""The coordinator's triage pages: filters, detail, state changes with their rules, replies, merge, bulk, access."""

import re
import uuid
from datetime import date, datetime, timedelta

from outreach.field import sync
from tests.test_report_api import envelope, post, report_data


def csrf_of(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def new_report(client, **over):
    return post(client, envelope(report_data(**over))).json()["results"][0]["id"]


def test_only_coordinators_and_admins_see_triage(client, field_client, coordinator_client, admin_client):
    r = client.get("/coordinator/reports", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert field_client.get("/coordinator/reports").status_code == 403
    assert coordinator_client.get("/coordinator/reports").status_code == 200
    assert admin_client.get("/coordinator/reports").status_code == 200
    rid = new_report(client)
    assert field_client.post(f"/coordinator/reports/{rid}/status", data={"status": "under_review"}).status_code == 403


def test_queue_filters(client, coordinator_client):
    a = new_report(client, title="Banc avec photo", photos=["c" * 64], wants_to_help=True)
    b = new_report(client, title="Peinture du mur", category="painting")
    html = coordinator_client.get("/coordinator/reports").text
    assert "Banc avec photo" in html
    assert "Peinture du mur" in html
    html = coordinator_client.get("/coordinator/reports", params={"category": "painting"}).text
    assert "Peinture du mur" in html and "Jardinière" not in html
    html = coordinator_client.get("/coordinator/reports", params={"with_photo": "1"}).text
    assert "Banc avec photo" in html and "Peinture du mur" not in html
    html = coordinator_client.get("/coordinator/reports", params={"wants_to_help": "1"}).text
    assert "Banc avec photo" in html and "Peinture du mur" not in html
    html = coordinator_client.get("/coordinator/reports", params={"zone": "secteur-1"}).text
    assert "Banc avec photo" in html
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    html = coordinator_client.get("/coordinator/reports", params={"date_from": tomorrow}).text
    assert "Banc avec photo" not in html
    html = coordinator_client.get("/coordinator/reports", params={"status": "accepted"}).text
    assert "Banc avec photo" not in html
    # Hostile filter values are answered, never a 500.
    for params in ({"status": "<script>"}, {"category": "' or 1=1 --"}, {"date_from": "99999-99-99"},
                   {"after": "garbage~" + "x" * 200}, {"q": "%_\\"}):
        r = coordinator_client.get("/coordinator/reports", params=params)
        assert r.status_code == 200 and "<script>" not in r.text.split("<main")[1].replace("&lt;script&gt;", "")
    assert a and b


def test_detail_and_every_change_recorded(client, coordinator_client, store):
    rid = new_report(client, photos=["d" * 64])
    page = coordinator_client.get(f"/coordinator/reports/{rid}")
    assert page.status_code == 200 and "Jardinière à créer" in page.text and "photo-pending" in page.text
    csrf = csrf_of(page.text)

    def status(target, **extra):
        return coordinator_client.post(f"/coordinator/reports/{rid}/status",
                                       data={"csrf_token": csrf, "status": target, **extra}, follow_redirects=False)

    assert status("accepted").status_code == 400  # submitted cannot jump to accepted
    assert status("under_review").status_code == 303
    assert status("accepted", expected="submitted").status_code == 409  # changed meanwhile
    assert status("accepted").status_code == 303
    r = status("scheduled")
    assert r.status_code == 400 and "date" in r.text.lower()
    assert status("scheduled", scheduled_for="2020-01-01").status_code == 400
    later = (date.today() + timedelta(days=10)).isoformat()
    assert status("scheduled", scheduled_for=later).status_code == 303
    r = status("declined", reason="")
    assert r.status_code == 400
    assert status("in_progress").status_code == 303
    assert status("done").status_code == 303
    db = store.db()
    row = db["reports"].get(rid)
    assert row["status"] == "done" and row["scheduled_for"] == later and row["closed_at"]
    changes = [(e["from_status"], e["to_status"]) for e in db.query(
        "select * from report_events where report_id = ? and kind = 'status' order by id", [rid])]
    assert changes == [(None, "submitted"), ("submitted", "under_review"), ("under_review", "accepted"),
                       ("accepted", "scheduled"), ("scheduled", "in_progress"), ("in_progress", "done")]
    audit = list(db.query("select action, user_id from audit_log where target_id = ?", [rid]))
    assert len(audit) == 5 and all(a["user_id"] == coordinator_client.user["id"] for a in audit)
    assert status("under_review").status_code == 400  # closed: nowhere to go
    assert coordinator_client.post(f"/coordinator/reports/{uuid.uuid4()}/status",
                                   data={"csrf_token": csrf, "status": "under_review"}).status_code == 404
    assert coordinator_client.post(f"/coordinator/reports/{rid}/status", data={"status": "done"}).status_code == 403


def test_decline_with_reason_shown_to_resident(client, coordinator_client):
    result = post(client, envelope(report_data())).json()["results"][0]
    rid = result["id"]
    csrf = csrf_of(coordinator_client.get(f"/coordinator/reports/{rid}").text)
    r = coordinator_client.post(f"/coordinator/reports/{rid}/status",
                                data={"csrf_token": csrf, "status": "declined", "reason": "Terrain privé <i>"},
                                follow_redirects=False)
    assert r.status_code == 303
    page = client.get(result["tracking_url"]).text
    assert "Terrain privé &lt;i&gt;" in page


def test_merge_duplicate(client, coordinator_client, store):
    original = new_report(client, title="Banc cassé place Notre-Dame")
    dup = new_report(client, title="Banc abîmé place Notre-Dame", wants_to_help=True)
    page = coordinator_client.get(f"/coordinator/reports/{dup}")
    assert "Banc cassé place Notre-Dame" in page.text  # offered as a possible duplicate nearby
    csrf = csrf_of(page.text)
    r = coordinator_client.post(f"/coordinator/reports/{dup}/merge", data={"csrf_token": csrf, "original": dup})
    assert r.status_code == 400
    r = coordinator_client.post(f"/coordinator/reports/{dup}/merge", data={"csrf_token": csrf, "original": "nope"})
    assert r.status_code == 400
    r = coordinator_client.post(f"/coordinator/reports/{dup}/merge", data={"csrf_token": csrf, "original": original},
                                follow_redirects=False)
    assert r.status_code == 303
    db = store.db()
    assert db["reports"].get(dup)["status"] == "duplicate" and db["reports"].get(dup)["duplicate_of"] == original
    orig = db["reports"].get(original)
    assert orig["me_too_count"] == 1 and orig["wants_to_help"] == 1
    assert "Banc abîmé place Notre-Dame" in coordinator_client.get(f"/coordinator/reports/{original}").text


def test_bulk_actions(client, coordinator_client, store):
    ids = [new_report(client, title=f"Rapport groupé {i}") for i in range(3)]
    page = coordinator_client.get("/coordinator/reports")
    csrf = csrf_of(page.text)
    r = coordinator_client.post("/coordinator/reports/bulk",
                                data={"csrf_token": csrf, "ids": ids[:2], "status": "under_review"})
    assert r.status_code == 200
    db = store.db()
    assert [db["reports"].get(i)["status"] for i in ids] == ["under_review", "under_review", "submitted"]
    r = coordinator_client.post("/coordinator/reports/bulk",
                                data={"csrf_token": csrf, "ids": ids, "status": "declined", "reason": ""})
    assert r.status_code == 200 and "3" in r.text
    assert all(db["reports"].get(i)["status"] != "declined" for i in ids)
    r = coordinator_client.post("/coordinator/reports/bulk",
                                data={"csrf_token": csrf, "ids": ids + ["<bad>"], "status": "declined",
                                      "reason": "Hors du domaine public"})
    assert r.status_code == 200
    assert all(db["reports"].get(i)["status"] == "declined" for i in ids)
    assert coordinator_client.post("/coordinator/reports/bulk", data={"csrf_token": csrf, "status": "x"}).status_code == 400
    assert coordinator_client.post("/coordinator/reports/bulk",
                                   data={"csrf_token": csrf, "ids": ids, "status": "nope"}).status_code == 400


def test_reply_validation(client, coordinator_client, store):
    rid = new_report(client)
    csrf = csrf_of(coordinator_client.get(f"/coordinator/reports/{rid}").text)
    r = coordinator_client.post(f"/coordinator/reports/{rid}/reply", data={"csrf_token": csrf, "text": "  ",
                                                                          "visibility": "public"})
    assert r.status_code == 400
    r = coordinator_client.post(f"/coordinator/reports/{rid}/reply", data={"csrf_token": csrf, "text": "x" * 4001,
                                                                          "visibility": "internal"})
    assert r.status_code == 400
    assert store.db()["report_events"].count == 1


def test_pagination_links(client, coordinator_client, store):
    with store.write() as db:
        for i in range(55):
            received = datetime.fromisoformat(f"2026-11-01T10:{i:02d}:00+00:00")
            e = {"id": str(uuid.uuid4()), "kind": "report", "version": 1, "created_at": received.isoformat(),
                 "data": report_data(title=f"Numéro {i:03d}")}
            sync.process(db, None, [e], now=received)
    page = coordinator_client.get("/coordinator/reports").text
    assert "Numéro 054" in page and "Numéro 004" not in page
    next_url = re.search(r'href="([^"]*after=[^"]+)"', page).group(1).replace("&amp;", "&")
    page2 = coordinator_client.get(next_url).text
    assert "Numéro 004" in page2 and "Numéro 054" not in page2


def test_duplicate_reporter_sees_the_originals_public_state_through_no_token_of_its_own(client, coordinator_client, store):
    """After a merge, the duplicate's page says how the original stands, and nothing more: no link
    to the original's private page (its question, its photos, its answer form belong to its reporter)."""
    original = post(client, envelope(report_data(title="Le premier signalement"))).json()["results"][0]
    dup = post(client, envelope(report_data(title="Le second signalement"))).json()["results"][0]
    csrf = csrf_of(coordinator_client.get(f"/coordinator/reports/{dup['id']}").text)
    coordinator_client.post(f"/coordinator/reports/{dup['id']}/merge", data={"csrf_token": csrf, "original": original["id"]})
    for target in ("under_review", "needs_info"):
        coordinator_client.post(f"/coordinator/reports/{original['id']}/status",
                                data={"csrf_token": csrf, "status": target, "message": "Quel numéro exactement ?"})
    assert store.db()["reports"].get(original["id"])["status"] == "needs_info"
    page = client.get(dup["tracking_url"]).text
    own = dup["tracking_url"].split("/track/")[1]
    assert set(re.findall(r"/track/([^/\"?]+)", page)) == {own}
    assert "Quel numéro exactement" not in page and "Le premier signalement" not in page
    assert "déjà été signalé" in page and "Informations demandées" in page
