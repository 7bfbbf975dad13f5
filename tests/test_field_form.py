"""The encounter form works before any script runs: posted to the server, through the same sync checks."""

from __future__ import annotations

import re

import pytest


def form_page(client) -> tuple[str, str]:
    html = client.get("/app").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    entry_id = re.search(r'name="entry_id" value="([^"]+)"', html).group(1)
    return token, entry_id


def test_posting_the_form_stores_one_encounter(field_client, store):
    token, entry_id = form_page(field_client)
    form = {"csrf_token": token, "entry_id": entry_id, "place_type": "market", "tools": ["petition", "agora"],
            "people_count": "2", "interest": "curious", "zone": "secteur-2", "note": "<b>ok</b>", "outcome": "conversation"}
    r = field_client.post("/app/encounters", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/app?saved=1"
    # Posting the same page twice (a double tap, a retried request) stores it once.
    assert field_client.post("/app/encounters", data=form, follow_redirects=False).status_code == 303
    db = store.db()
    row = db["encounters"].get(entry_id)
    assert (row["place_type"], row["people_count"], row["note"], row["user_id"]) == ("market", 2, "<b>ok</b>", field_client.user["id"])
    assert db["entry_versions"].count == 1
    assert "Rencontre enregistrée." in field_client.get("/app?saved=1").text


def test_follow_up_from_the_form_needs_the_consent_box(field_client, store):
    token, entry_id = form_page(field_client)
    form = {"csrf_token": token, "entry_id": entry_id, "place_type": "street", "outcome": "conversation",
            "follow_up": "on", "consent_version": "2026-01", "channel": "email", "contact": "awa@example.org"}
    r = field_client.post("/app/encounters", data=form)
    assert r.status_code == 400
    assert "data.follow_up.consent" in r.text and "consentement" in r.text
    assert store.db()["contacts"].count == 0 and store.db()["encounters"].count == 0
    r = field_client.post("/app/encounters", data=dict(form, consent="on"), follow_redirects=False)
    assert r.status_code == 303
    assert store.db()["contacts"].count == 1


@pytest.mark.parametrize("field,value", [("people_count", "0"), ("people_count", "9" * 40), ("place_type", "castle"),
                                         ("outcome", ""), ("tools", "nope"), ("note", "x" * 600),
                                         ("entry_id", "../../etc/passwd")])
def test_bad_form_input_is_a_400_that_names_the_field(field_client, store, field, value):
    token, entry_id = form_page(field_client)
    form = {"csrf_token": token, "entry_id": entry_id, "place_type": "street", "outcome": "brief", field: value}
    r = field_client.post("/app/encounters", data=form)
    assert r.status_code == 400
    assert 'role="alert"' in r.text
    assert store.db()["encounters"].count == 0


def test_form_without_csrf_token_is_refused(field_client, store):
    _token, entry_id = form_page(field_client)
    r = field_client.post("/app/encounters", data={"entry_id": entry_id, "place_type": "street", "outcome": "brief"})
    assert r.status_code == 403
    assert store.db()["encounters"].count == 0


def test_signed_out_form_goes_to_sign_in(client):
    token, entry_id = form_page(client)
    r = client.post("/app/encounters", data={"csrf_token": token, "entry_id": entry_id}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
