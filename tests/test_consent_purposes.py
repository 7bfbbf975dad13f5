"""Consent texts per purpose: each shown where it applies, each versioned; given consents keep their version."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from outreach import migrations, refdata
from outreach.db import connect
from outreach.field import sync
from outreach.worksites import intake, public
from tests.coord_factories import add_report, add_user


def test_each_form_shows_its_own_purpose_text(client, app, store):
    report_form = client.get("/report").text
    assert "au sujet de ce signalement" in report_form.replace("\u2019", "'") or "informé·e de ce signalement" in report_form
    assert 'value="reporter-2026-01"' in report_form
    assert "dispositifs de participation choisis" not in report_form


def test_bootstrap_carries_every_purpose(field_client):
    boot = field_client.get("/api/v1/bootstrap").json()
    assert set(boot["consents"]) == set(refdata.CONSENT_PURPOSES)
    assert boot["consent"] == boot["consents"]["follow_up"]  # phones that read only the old key
    assert boot["consents"]["volunteer"]["version"] == "volunteer-2026-01"


def test_consents_given_before_keep_their_version(tmp_path):
    """A database from before purposes: its texts become follow-up texts, stored consents untouched."""
    db = connect(tmp_path / "old.db")
    migrations.migrations.apply(db, stop_before="m122_consent_purposes")
    db["consent_texts"].insert({"version": "2026-01", "text_fr": "x" * 30, "text_en": "y" * 30, "active": 1,
                                "created_at": "2026-01-01T00:00:00+00:00"})
    db["contacts"].insert({"id": "c1", "channel": "email", "contact": "a@example.org", "consent_text_version": "2026-01",
                           "consented_at": "2026-02-01T00:00:00+00:00", "expires_at": "2027-02-01T00:00:00+00:00"})
    migrations.apply(db)
    refdata.seed(db)
    assert db["consent_texts"].get("2026-01")["purpose"] == "follow_up"
    assert db["contacts"].get("c1")["consent_text_version"] == "2026-01"
    assert refdata.current_consent(db, "follow_up")["version"] == "2026-01"
    assert refdata.current_consent(db, "reporter_contact")["version"] == "reporter-2026-01"
    db.close()


# --- which version a consent may name -------------------------------------------------------------

FOLLOW_UP, REPORTER, VOLUNTEER = "2026-01", "reporter-2026-01", "volunteer-2026-01"


def report_with_contact(db, version: str, *, now: datetime | None = None) -> dict:
    data = {"title": "Banc à réparer", "category": "street_furniture", "address": "Rue Mozart", "photos": [],
            "wants_to_help": False, "reporter": {"email": "zoe@example.org", "consent": True,
                                                 "consent_text_version": version}}
    entry = {"id": str(uuid.uuid4()), "kind": "report", "version": 1,
             "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "data": data}
    return sync.process(db, None, [entry], now=now)["results"][0]


def encounter_with_follow_up(db, user: dict, version: str) -> dict:
    data = {"occurred_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "outing_id": None,
            "place_type": "market", "zone": None, "location": None, "people_count": 1, "outcome": "conversation",
            "tools": [], "interest": "curious", "note": "",
            "follow_up": {"consent": True, "consent_text_version": version, "channel": "email",
                          "contact": "awa@example.org", "purposes": []}}
    entry = {"id": str(uuid.uuid4()), "kind": "encounter", "version": 1, "created_at": data["occurred_at"], "data": data}
    return sync.process(db, user, [entry])["results"][0]


def volunteer(db, version: str) -> bool:
    rid = add_report(db, status="accepted")
    return public.sign_up(db, rid, {"name": "Zoé", "email": "zoe@example.org", "consent": True,
                                    "consent_text_version": version})


def texts_put_in_place(db, days_ago: int) -> None:
    """As if reporters' and volunteers' own texts had arrived ``days_ago`` days ago."""
    then = (datetime.now(timezone.utc) - timedelta(days=days_ago)).isoformat(timespec="seconds")
    db.execute("update consent_texts set created_at = ? where purpose in ('reporter_contact', 'volunteer')", [then])


def test_each_consent_names_a_text_of_its_own_purpose(fresh_db):
    user = next(fresh_db.query("select * from users where id = ?", [add_user(fresh_db)]))
    assert report_with_contact(fresh_db, REPORTER)["status"] == "created"
    assert volunteer(fresh_db, VOLUNTEER) is True
    assert encounter_with_follow_up(fresh_db, user, FOLLOW_UP)["status"] == "created"

    wrong = report_with_contact(fresh_db, VOLUNTEER)
    assert wrong["status"] == "rejected" and "rechargez la page" in wrong["errors"]["data.reporter.consent_text_version"]
    with pytest.raises(intake.ReportError) as refused:
        volunteer(fresh_db, REPORTER)
    assert "rechargez la page" in refused.value.errors["consent"]
    for version in (REPORTER, VOLUNTEER, "no-such-version"):
        result = encounter_with_follow_up(fresh_db, user, version)
        assert result["status"] == "rejected" and "data.follow_up.consent_text_version" in result["errors"]
    assert fresh_db["report_contacts"].count == 1 and fresh_db["report_volunteers"].count == 1
    assert fresh_db["contacts"].count == 1


@pytest.mark.parametrize("days_ago,accepted", [(0, True), (29, True), (31, False), (400, False)])
def test_a_phone_with_an_old_bootstrap_may_send_the_follow_up_version_for_thirty_days(fresh_db, days_ago, accepted):
    """Until its purposes had texts of their own, the phone sent the follow-up version for everything."""
    assert refdata.BORROWED_FOLLOW_UP_DAYS == 30
    texts_put_in_place(fresh_db, days_ago)
    assert (report_with_contact(fresh_db, FOLLOW_UP)["status"] == "created") is accepted
    if accepted:
        assert volunteer(fresh_db, FOLLOW_UP) is True
        stored = next(fresh_db.query("select consent_text_version from report_contacts"))
        assert stored == {"consent_text_version": FOLLOW_UP}  # the text the person actually saw
    else:
        with pytest.raises(intake.ReportError):
            volunteer(fresh_db, FOLLOW_UP)
        assert fresh_db["report_contacts"].count == 0 and fresh_db["report_volunteers"].count == 0


def test_the_thirty_days_are_counted_at_the_server_s_receipt(fresh_db):
    texts_put_in_place(fresh_db, 0)
    later = datetime.now(timezone.utc) + timedelta(days=31)
    assert report_with_contact(fresh_db, FOLLOW_UP, now=later)["status"] == "rejected"
    assert report_with_contact(fresh_db, REPORTER, now=later)["status"] == "created"


def test_an_older_text_of_the_same_purpose_stays_accepted(fresh_db):
    """An admin publishes a new reporter text: a phone that still shows the old one is not refused."""
    texts_put_in_place(fresh_db, 400)
    fresh_db.execute("update consent_texts set active = 0 where purpose = 'reporter_contact'")
    fresh_db["consent_texts"].insert({"version": "reporter-2027-01", "purpose": "reporter_contact", "text_fr": "x" * 30,
                                      "text_en": "y" * 30, "active": 1, "created_at": refdata.now_iso()})
    assert refdata.current_consent(fresh_db, "reporter_contact")["version"] == "reporter-2027-01"
    for version in (REPORTER, "reporter-2027-01"):
        assert report_with_contact(fresh_db, version)["status"] == "created"
    assert report_with_contact(fresh_db, FOLLOW_UP)["status"] == "rejected"
