"""What a resident reads: the plain /report form's messages (no script), the tracking page's history
in French typography, and one word for a new report on both sides of the desk."""

from __future__ import annotations

import html
import re

import pytest

from outreach.worksites import public, triage
from tests.test_photos import jpeg_with_gps
from tests.test_report_api import csrf_of, envelope, post, report_data

NBSP = "\u00a0"


def blank_form(client) -> dict:
    page = client.get("/report").text
    return {"csrf_token": csrf_of(page), "entry_id": re.search(r'name="entry_id" value="([^"]+)"', page).group(1)}


def messages(page: str) -> list[str]:
    """The error texts and alerts of a page, as read (tags dropped, entities decoded)."""
    found = re.findall(r'<(?:p|div) class="(?:error-text|alert alert-error)"[^>]*>(.*?)</(?:p|div)>', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in found]


def read_text(fragment: str) -> str:
    """Text as a browser lays it out: tags dropped, runs of ordinary white space made one space."""
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", "", fragment))).strip()


# --- /report without script -------------------------------------------------------------------


def test_plain_form_messages_start_with_a_capital_letter(client):
    form = dict(blank_form(client), title="ab", category="nope", address="", description="x" * 5000,
                reporter_email="not-an-email", lat="x", lon="1")
    r = client.post("/report", data=form)
    assert r.status_code == 400
    shown = messages(r.text)
    assert len(shown) >= 5, shown
    assert all(m[0].isupper() for m in shown), shown
    # The API keeps the bare phrase that the page turns into a sentence.
    api = post(client, envelope(report_data(title="ab"))).json()["results"][0]
    assert api["errors"]["data.title"][0].islower()


def test_a_bad_photo_is_named_in_a_sentence(client):
    r = client.post("/report", data=dict(blank_form(client), title="Un banc", category="street_furniture",
                                         address="Rue Mozart"), files={"photo": ("a.jpg", b"not an image", "image/jpeg")})
    assert r.status_code == 415
    photo_error = re.search(r'<p class="error-text" id="photo-error">(.*?)</p>', r.text).group(1)
    assert photo_error[0].isupper()


def test_a_chosen_photo_is_asked_for_again_when_the_form_comes_back(client, store):
    form = dict(blank_form(client), title="ab", category="street_furniture", address="Rue Mozart")
    r = client.post("/report", data=form, files={"photo": ("banc.jpg", jpeg_with_gps(), "image/jpeg")})
    assert r.status_code == 400
    assert "Votre photo n'a pas été gardée" in html.unescape(r.text)  # in the alert at the top
    notice = re.search(r'<p class="error-text" id="photo-error">(.*?)</p>', r.text).group(1)
    assert "choisissez-la à nouveau" in html.unescape(notice)
    assert re.search(r'<input id="photo"[^>]*aria-describedby="photo-hint photo-error"', r.text)
    assert store.db()["reports"].count == 0
    # With no photo chosen, nothing is said about one.
    r = client.post("/report", data=form)
    assert r.status_code == 400 and 'id="photo-error"' not in r.text and "photo n'a pas" not in html.unescape(r.text)


def test_the_page_promises_to_keep_the_report_only_when_its_script_shows_it(client):
    page = client.get("/report").text
    note = re.search(r'<p class="hint" id="offline-note"( hidden)?>(.*?)</p>', page, re.S)
    assert note and note.group(1) == " hidden"  # report.js unhides it once the phone's outbox opens
    assert "gardé sur votre téléphone" in html.unescape(note.group(2))
    assert page.count("gardé sur votre téléphone") == 1


# --- the tracking page's history ----------------------------------------------------------------


def tracked(client, store, *moves) -> str:
    rid = post(client, envelope(report_data(title="Banc du square"))).json()["results"][0]["id"]
    with store.write() as db:
        for target, fields in moves:
            triage.change_status(db, rid, target, None, **fields)
    token = public.tracking_token(client.app.state.signer, rid)
    return client.get(f"/track/{token}", headers={"Accept-Language": "fr"}).text


def history(page: str) -> list[str]:
    items = re.search(r'<ol class="history">(.*?)</ol>', page, re.S).group(1)
    return [read_text(li) for li in re.findall(r"<li>(.*?)</li>", items, re.S)]


def test_history_quotes_a_state_with_no_break_spaces_and_a_space_before_the_question(client, store):
    page = tracked(client, store, ("under_review", {}),
                   ("needs_info", {"message": "Le banc est-il côté rue ?"}))
    line = next(h for h in history(page) if "Informations demandées" in h)
    # « and » hold to the words they quote (no lone » at a line's start), and the question is a new sentence.
    assert f"«{NBSP}Informations demandées{NBSP}». Le banc est-il côté rue ?" in line


def test_history_gives_a_planned_date_in_words(client, store):
    page = tracked(client, store, ("under_review", {}), ("accepted", {}),
                   ("scheduled", {"scheduled_for": "2026-12-12"}))
    line = next(h for h in history(page) if "Programmé" in h)
    assert f"». Date{NBSP}: 12 déc. 2026" in line


# --- a new report: one word for its state and its first history line ---------------------------


@pytest.mark.parametrize("locale,state,received", [("fr", "Reçu", "Signalement reçu."), ("en", "Received", "Report received.")])
def test_a_new_report_reads_received_for_residents_and_coordinators(client, coordinator_client, store,
                                                                   locale, state, received):
    rid = post(client, envelope(report_data(title="Banc du square"))).json()["results"][0]["id"]
    headers = {"Accept-Language": locale}
    token = public.tracking_token(client.app.state.signer, rid)
    resident = client.get(f"/track/{token}", headers=headers).text
    desk = coordinator_client.get(f"/coordinator/reports/{rid}", headers=headers).text
    queue = coordinator_client.get("/coordinator/reports", headers=headers).text
    for page in (resident, desk, queue):
        badge = re.search(r'<span class="badge state-badge state-submitted">(.*?)</span>', page).group(1)
        assert html.unescape(badge) == state
        assert "Envoyé" not in html.unescape(page) and "Submitted" not in page
    assert history(resident)[-1].endswith(received)
    first_event = re.findall(r'<li class="event-status">(.*?)</li>', desk, re.S)[-1]
    assert read_text(first_event).endswith(received)
