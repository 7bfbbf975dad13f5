"""A worker files a report with a resident through /api/v1/sync (kind ``report``), linked to the encounter."""

import uuid
from datetime import datetime, timezone

from tests.test_report_api import report_data

NOW = datetime.now(timezone.utc).isoformat(timespec="seconds")


def sync(client, *entries):
    return client.post("/api/v1/sync", json={"device_id": "field-phone-0001", "entries": list(entries)})


def test_field_report_is_stored_once_and_linked_to_its_encounter(field_client, store):
    encounter_id = str(uuid.uuid4())
    entry = {"id": str(uuid.uuid4()), "kind": "report", "version": 1, "created_at": NOW,
             "data": report_data(encounter_id=encounter_id, wants_to_help=True,
                                 reporter={"name": "Samia", "phone": "06 12 34 56 78", "consent": True,
                                           "consent_text_version": "2026-01"})}
    r = sync(field_client, entry)
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["status"] == "created"
    # The worker hands the resident the private tracking link, which opens the report's page.
    assert result["tracking_url"].startswith("http://testserver/track/")
    page = field_client.get(result["tracking_url"])
    assert page.status_code == 200 and "Samia" not in page.text and "06 12 34 56 78" not in page.text
    # A replay carries a tracking link too (signed again, so its timestamp may differ).
    replay = sync(field_client, entry).json()["results"][0]
    assert replay["status"] == "unchanged"
    again = field_client.get(replay["tracking_url"])
    assert again.status_code == 200 and "Jardinière à créer" in again.text and "Jardinière à créer" in page.text
    db = store.db()
    row = db["reports"].get(entry["id"])
    assert (row["source"], row["encounter_id"], row["user_id"]) == ("field", encounter_id, field_client.user["id"])
    assert db["report_contacts"].get(entry["id"])["phone"] == "06 12 34 56 78"
    # The worker corrects it before a coordinator looks: a new version, kept in the history.
    v2 = dict(entry, version=2, data=report_data(encounter_id=encounter_id, title="Banc et poubelle"))
    assert sync(field_client, v2).json()["results"][0]["status"] == "updated"
    assert db["reports"].get(entry["id"])["title"] == "Banc et poubelle"
    assert db["report_contacts"].count == 0  # the new version has no contact: none is kept
    assert db["entry_versions"].count == 2


def test_field_report_bad_data_is_rejected_by_field(field_client, store):
    entry = {"id": str(uuid.uuid4()), "kind": "report", "version": 1, "created_at": NOW,
             "data": report_data(category="nope", encounter_id="not-a-uuid")}
    result = sync(field_client, entry).json()["results"][0]
    assert result["status"] == "rejected"
    assert {"data.category", "data.encounter_id"} <= set(result["errors"])
    assert store.db()["reports"].count == 0


def test_another_worker_cannot_overwrite(field_client, app, make_user, store):
    from tests.conftest import signed_in_client

    entry = {"id": str(uuid.uuid4()), "kind": "report", "version": 1, "created_at": NOW, "data": report_data()}
    sync(field_client, entry)
    other = signed_in_client(app, make_user("field"))
    try:
        result = sync(other, dict(entry, version=2, data=report_data(title="Pas à moi"))).json()["results"][0]
    finally:
        other.__exit__(None, None, None)
    assert result["status"] == "conflict"
    assert store.db()["reports"].get(entry["id"])["title"] == "Jardinière à créer"
