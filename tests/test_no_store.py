"""Pages that show residents' or staff's personal data are never kept by a browser or proxy cache."""

import pytest

from tests.coord_factories import add_contact, add_report


@pytest.mark.parametrize("path", ["/coordinator/followups", "/coordinator/privacy", "/coordinator/reports",
                                  "/coordinator/encounters", "/admin/users", "/admin/api-keys", "/coordinator"])
def test_office_pages_answer_no_store(admin_client, path):
    r = admin_client.get(path)
    assert r.status_code == 200
    assert "no-store" in r.headers["cache-control"]


def test_triage_detail_with_a_reporters_contact_answers_no_store(coordinator_client, store):
    report_id = add_report(store.db(), reporter={"name": "Léa", "email": "lea@example.org"})
    add_contact(store.db())
    r = coordinator_client.get(f"/coordinator/reports/{report_id}")
    assert r.status_code == 200 and "lea@example.org" in r.text
    assert "no-store" in r.headers["cache-control"]


def test_public_pages_stay_cacheable(client):
    r = client.get("/worksites")
    assert "no-store" not in r.headers.get("cache-control", "")
