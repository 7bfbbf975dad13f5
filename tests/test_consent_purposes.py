"""Consent texts per purpose: each shown where it applies, each versioned; given consents keep their version."""

from outreach import migrations, refdata
from outreach.db import connect


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
