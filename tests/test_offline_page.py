"""The pages the service worker shows with no network: the offline page it precaches, and the
markers on a tracking page that it turns on (the "no network" note) and off (what needs the
network) when it shows the kept copy. The browser tests in tests/browser/test_offline_pages.py
show them offline."""

from __future__ import annotations

import json

from outreach.worksites import public, triage
from tests.coord_factories import add_report


def sw_constant(text: str, name: str):
    return json.loads(text.split(f"const {name} = ", 1)[1].split(";", 1)[0])


def test_the_offline_page_is_precached_and_named_to_the_service_worker(client):
    sw = client.get("/sw.js").text
    assert "/offline" in sw_constant(sw, "PAGES")
    assert sw_constant(sw, "OFFLINE") == "/offline"
    assert sw_constant(sw, "TRACK") == "/track/"
    assert sw_constant(sw, "SIGN_OUT") == [["POST", "/logout"], ["DELETE", "/api/v1/session"]]


def test_the_offline_page_links_only_to_pages_that_open_offline(client):
    r = client.get("/offline", headers={"Accept-Language": "fr"})
    assert r.status_code == 200 and 'lang="fr"' in r.text
    assert "Vous êtes hors ligne" in r.text
    assert 'href="/app"' in r.text and 'href="/report"' in r.text
    assert 'href="/worksites"' not in r.text and 'href="/login"' not in r.text
    assert "You are offline" in client.get("/offline", headers={"Accept-Language": "en-GB,en;q=0.8"}).text


def test_the_offline_page_holds_no_one_s_data_even_for_a_signed_in_worker(field_client):
    text = field_client.get("/offline").text
    assert "csrf_token" not in text and "@example" not in text and "/logout" not in text


def test_a_tracking_page_carries_its_offline_note_hidden_and_marks_what_needs_the_network(client, store):
    with store.write() as db:
        rid = add_report(db, title="Banc à réparer")
        triage.change_status(db, rid, "under_review", None)
        triage.change_status(db, rid, "needs_info", None, message="Où exactement ?")
    page = client.get("/track/" + public.tracking_token(client.app.state.signer, rid)).text
    assert "data-offline-copy hidden" in page  # the worker unhides it on the kept copy only
    assert page.count("data-online-only") == 1 and 'action="/track/' in page.split("data-online-only")[0].rsplit("<form", 1)[1]
    assert "js/track.js" in page


def test_the_service_worker_travels_without_its_comments(client):
    sw = client.get("/sw.js").text
    assert not [line for line in sw.splitlines() if line.lstrip().startswith("//")]
    assert " // " not in sw
    assert 'self.addEventListener("fetch"' in sw
