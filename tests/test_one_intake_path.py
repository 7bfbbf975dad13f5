"""One intake path: a resident's report (/api/v1/reports) and a worker's (/api/v1/sync) are checked
and stored by the same code, under the same settings, with one e-mail, phone and device-id rule."""

import uuid
from datetime import datetime, timezone

import pytest

from outreach import admin, privacy
from outreach.field import sync
from outreach.validation import is_device_id, is_email, is_phone
from outreach.worksites import intake, public
from tests.conftest import make_settings
from tests.test_report_api import report_data

NOW = datetime.now(timezone.utc).isoformat(timespec="seconds")
ZOE = {"name": "Zoé", "email": "zoe@example.org", "consent": True, "consent_text_version": "2026-01"}


@pytest.fixture
def settings(tmp_path):
    """A city that allows one open report per contact at a time."""
    return make_settings(tmp_path / "data", max_open_reports_per_contact=1)


def report(**data):
    return {"id": str(uuid.uuid4()), "kind": "report", "version": 1, "created_at": NOW, "data": report_data(**data)}


@pytest.fixture(params=["sync", "reports"])
def send(request, client, field_client):
    """send(*entries) -> results, through /api/v1/sync as a field worker or /api/v1/reports anonymously."""
    route, who = ("/api/v1/sync", field_client) if request.param == "sync" else ("/api/v1/reports", client)

    def send(*entries):
        r = who.post(route, json={"device_id": "phone-00000001", "entries": list(entries)})
        assert r.status_code == 200, r.text
        return r.json()["results"]

    send.route = request.param
    return send


def test_the_open_reports_cap_holds_on_both_routes(send, store):
    first, second = report(reporter=ZOE, title="Banc cassé"), report(reporter=ZOE, title="Mur à repeindre")
    results = send(first, second)
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert "data.reporter" in results[1]["errors"] and results[1]["message"]
    # Sent again later: the first is a replay (not refused by the cap it fills), the second still waits.
    again = send(first, second)
    assert [r["status"] for r in again] == ["unchanged", "rejected"]
    assert store.db()["reports"].count == 1 and store.db()["report_contacts"].count == 1


def test_a_worker_may_correct_a_report_without_counting_it_against_its_contact(field_client, store):
    entry = report(reporter=ZOE)
    post = lambda e: field_client.post("/api/v1/sync", json={"entries": [e]}).json()["results"][0]  # noqa: E731
    assert post(entry)["status"] == "created"
    assert post(dict(entry, version=2, data=report_data(reporter=ZOE, title="Banc et poubelle")))["status"] == "updated"
    assert store.db()["reports"].get(entry["id"])["title"] == "Banc et poubelle"


def test_the_same_bad_report_gets_the_same_answer_on_both_routes(client, field_client):
    entry = report(title="ab", category="nope", location={"lat": 91, "lon": 5}, photos=["x"],
                   reporter=dict(ZOE, email="not-an-email"))
    answers = []
    for route, who in (("/api/v1/sync", field_client), ("/api/v1/reports", client)):
        result = who.post(route, json={"entries": [entry]}).json()["results"][0]
        answers.append({k: result[k] for k in ("id", "status", "errors", "message")})
    assert answers[0] == answers[1]
    assert set(answers[0]["errors"]) == {"data.title", "data.category", "data.location.lat", "data.photos",
                                         "data.reporter.email"}


@pytest.mark.parametrize("device_id", ["short", "a" * 65, "phone 0001", "phone-0001\n", 12345678])
def test_one_device_id_rule_on_both_routes(client, field_client, device_id):
    for route, who in (("/api/v1/sync", field_client), ("/api/v1/reports", client)):
        r = who.post(route, json={"device_id": device_id, "entries": [report()]})
        assert r.status_code == 400 and r.json()["detail"] == {"device_id": "invalide"}, (route, r.text)


def test_anonymous_senders_may_send_reports_only(client, store):
    encounter = {"id": str(uuid.uuid4()), "kind": "encounter", "version": 1, "created_at": NOW, "data": {}}
    [result] = client.post("/api/v1/reports", json={"entries": [encounter]}).json()["results"]
    assert result["status"] == "rejected" and "kind" in result["errors"]
    assert store.db()["entry_versions"].count == 0


def test_a_resident_cannot_overwrite_a_report(client, store):
    entry = report()
    client.post("/api/v1/reports", json={"entries": [entry]})
    newer = dict(entry, version=2, data=report_data(title="Autre chose"))
    [result] = client.post("/api/v1/reports", json={"entries": [newer]}).json()["results"]
    assert result["status"] == "conflict" and result["current_version"] == 1
    assert store.db()["reports"].get(entry["id"])["title"] == "Jardinière à créer"


@pytest.mark.parametrize("address,ok", [
    ("ana@example.org", True), ("Ana.Dupont+chantier@ville-grenoble.fr", True),
    ("ana@exämple.org", False), ("ana@example", False), ("<ana>@example.org", False),
    ("a" * 65 + "@example.org", False), ("ana@" + "b" * 250 + ".org", False),
])
def test_one_email_rule_everywhere(fresh_db, address, ok):
    assert is_email(address) is ok
    # An invitation, a reporter's contact, a volunteer, a follow-up and a privacy look-up agree.
    invitation_ok = True
    try:
        admin.validate_invitation(fresh_db, {"email": address, "role": "field"})
    except admin.AdminError as error:
        invitation_ok = "email" not in error.errors
    check = intake.validate_report(sync.Context(fresh_db, None), report_data(reporter=dict(ZOE, email=address)))
    volunteer_ok = True
    try:
        public.sign_up(fresh_db, str(uuid.uuid4()), {"name": "Léa", "email": address, "consent": True,
                                                     "consent_text_version": "2026-01"})
    except intake.ReportError as error:
        volunteer_ok = "email" not in error.errors
    try:
        kind, _value = privacy.identify(address)
        lookup_ok = kind == "email"
    except privacy.IdentifierError:
        lookup_ok = False
    assert (invitation_ok, "data.reporter.email" not in check.errors, volunteer_ok, lookup_ok) == (ok, ok, ok, ok)


@pytest.mark.parametrize("number,ok", [
    ("06 12 34 56 78", True), ("+33 6 12 34 56 78", True), ("(0)6.12.34.56.78", True),
    ("call me", False), ("12345", False), ("0" * 25, False),
])
def test_one_phone_rule_everywhere(fresh_db, number, ok):
    assert is_phone(number) is ok
    check = intake.validate_report(sync.Context(fresh_db, None),
                                   report_data(reporter=dict(ZOE, email="", phone=number)))
    assert ("data.reporter.phone" not in check.errors) is ok


def test_device_id_rule():
    assert is_device_id(str(uuid.uuid4())) and is_device_id("phone-0001")
    assert not any(is_device_id(v) for v in ("short", "x" * 65, "a/b-cdefgh", None, 12345678))


def test_the_rules_match_whole_strings():
    # Callers strip what people type; a rule on its own still refuses a trailing newline.
    assert not is_email("ana@example.org\n") and not is_phone("06 12 34 56 78\n")
    assert not is_device_id("phone-0001\n")
