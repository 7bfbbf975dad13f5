"""A resident reports a worksite offline with a photo; a coordinator accepts it; the tracking page follows.

A real uvicorn and a real headless Chromium; offline is ``context.set_offline``.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

import outbox

pytestmark = pytest.mark.browser


def photo_bytes() -> bytes:
    img = Image.new("RGB", (2400, 1800), (90, 140, 60))
    for x in range(0, 2400, 200):
        img.paste((220, 220, 40), (x, 0, x + 100, 1800))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (45.0, 11.0, 22.0), 3: "E", 4: (5.0, 43.0, 10.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()


def test_offline_report_with_photo_is_sent_once_then_triaged(browser, browser_context, page, live_server, login,
                                                             assert_no_serious_axe_violations):
    browser_context.grant_permissions(["geolocation"], origin=live_server.url)
    browser_context.set_geolocation({"latitude": 45.18877, "longitude": 5.72453, "accuracy": 14})
    page.goto(live_server.url + "/report")
    assert page.locator("html").get_attribute("lang") == "fr"
    # The outbox opened on this phone: now the page may promise to keep a report offline.
    page.get_by_text("Le signalement est gardé sur votre téléphone").wait_for()
    assert_no_serious_axe_violations(page)
    # Once visited, the page is kept by the service worker: it opens with no network.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    browser_context.set_offline(True)
    page.reload()
    assert page.get_by_role("heading", name="Signaler un petit chantier").is_visible()

    page.get_by_label("Que faudrait-il faire ?").fill("Réparer le banc du square")
    page.get_by_label("Type de chantier").select_option("street_furniture")
    page.get_by_role("button", name="Utiliser ma position").click()
    page.get_by_text("Position enregistrée (à 14 m près).").wait_for()
    page.get_by_label("Où précisément (facultatif)").fill("près du bac à sable")
    page.get_by_label("Une photo (facultatif)").set_input_files(
        {"name": "banc.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()})
    page.get_by_text("Photo prête (1600 × 1200).").wait_for()
    page.get_by_label("J'aimerais participer à ce chantier").check()
    page.get_by_role("button", name="Envoyer le signalement").click()
    page.get_by_text("Signalement enregistré sur ce téléphone. Il sera envoyé au retour du réseau.").wait_for()

    # Still offline, after a reload: the report waits in the outbox, nothing reached the server.
    page.reload()
    items = outbox.wait_for_entries(page, 1)
    assert [i["state"] for i in items] == ["waiting"] and items[0]["endpoint"] == "/api/v1/reports"
    assert page.locator("#my-reports").get_by_text("En attente du réseau").is_visible()
    db = live_server.store.db()
    assert db["reports"].count == 0

    # Back online: sent once, with its photo, and the page shows the private tracking link.
    browser_context.set_offline(False)
    outbox.wait_for_all_sent(page)
    link = page.locator("#my-reports a.tracking-link")
    link.wait_for()
    tracking_url = link.get_attribute("href")
    assert "/track/" in tracking_url
    outbox.sync_now(page)  # once more: nothing new is written
    assert db["reports"].count == 1 and db["entry_versions"].count == 1
    report = next(db["reports"].rows)
    assert (report["title"], report["wants_to_help"], report["where_detail"]) == ("Réparer le banc du square", 1, "près du bac à sable")
    assert abs(report["lat"] - 45.18877) < 1e-6 and report["accuracy_m"] == 14
    photo = next(db["attachments"].rows)
    assert (photo["width"], photo["height"]) == (1600, 1200)

    link.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Réparer le banc du square").is_visible()
    assert page.locator(".state-badge").inner_text() == "Reçu"
    assert page.locator(".history li").last.inner_text().endswith("Signalement reçu.")
    assert_no_serious_axe_violations(page)

    # A coordinator, signed in elsewhere, sees it with its photo and accepts it.
    office = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    desk = office.new_page()
    try:
        login(desk, live_server, "coordinator")
        desk.goto(live_server.url + "/coordinator/reports")
        assert_no_serious_axe_violations(desk)
        desk.get_by_role("link", name="Réparer le banc du square").click()
        desk.wait_for_load_state()
        img = desk.get_by_role("img", name="Photo 1 du signalement")
        img.wait_for()
        desk.wait_for_function("() => { const i = document.querySelector('.photo-row img'); return i && i.complete && i.naturalWidth === 320; }")
        assert_no_serious_axe_violations(desk)
        for state in ("En cours d'examen", "Accepté"):
            desk.get_by_label("Nouvel état").select_option(label=state)
            desk.get_by_role("button", name="Changer l'état").click()
            desk.wait_for_load_state()
            assert desk.get_by_text("L'état a été modifié.").is_visible()
        assert db["reports"].get(report["id"])["status"] == "accepted"
    finally:
        office.close()

    page.reload()
    assert page.locator(".state-badge").inner_text() == "Accepté"
    assert page.get_by_text("Passé à l'état « Accepté ».").is_visible()
    page.goto(live_server.url + "/worksites")
    assert page.get_by_role("heading", name="Réparer le banc du square").is_visible()
    assert_no_serious_axe_violations(page)


def test_report_page_works_without_script(browser, live_server):
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/report")
        assert not page.get_by_role("button", name="Utiliser ma position").is_visible()
        # No script, no outbox: the page promises nothing about keeping the report offline.
        assert not page.get_by_text("Le signalement est gardé sur votre téléphone").is_visible()
        page.get_by_label("Que faudrait-il faire ?").fill("Fl")
        page.get_by_label("Type de chantier").select_option("planting")
        page.get_by_label("Adresse").fill("Rue Mozart")
        page.get_by_label("Une photo (facultatif)").set_input_files(
            {"name": "fleurs.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()})
        page.get_by_role("button", name="Envoyer le signalement").click()
        page.wait_for_load_state()
        # Back with an error: a French sentence, and the photo (which no page can keep) asked for again.
        assert page.locator("#f-title-error").inner_text() == "Doit compter au moins 3 caractères"
        assert "choisissez-la à nouveau" in page.locator("#photo-error").inner_text()
        assert page.evaluate("document.getElementById('photo').files.length") == 0
        assert live_server.store.db()["reports"].count == 0
        page.get_by_label("Que faudrait-il faire ?").fill("Planter des fleurs")
        page.get_by_label("Une photo (facultatif)").set_input_files(
            {"name": "fleurs.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()})
        page.get_by_role("button", name="Envoyer le signalement").click()
        page.wait_for_load_state()
        assert page.get_by_text("Merci : votre signalement a bien été reçu.").is_visible()
        link = page.locator("a.tracking-link").get_attribute("href")
        assert "/track/" in link
        assert live_server.store.db()["reports"].count == 1 and live_server.store.db()["attachments"].count == 1
    finally:
        context.close()


def test_report_page_fits_320px(browser, live_server):
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-FR")
    page = context.new_page()
    try:
        for path in ("/report", "/worksites"):
            page.goto(live_server.url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
        box = page.get_by_role("link", name="Signaler un petit chantier").last.bounding_box()
        assert box["height"] >= 44
    finally:
        context.close()


def test_photo_hash_on_the_phone_matches_the_server(page, live_server):
    """crypto.subtle and the fallback used on plain-http origins give the server's sha256."""
    import hashlib

    page.goto(live_server.url + "/report")
    data = photo_bytes()[:50_000]
    expected = hashlib.sha256(data).hexdigest()
    got = page.evaluate("""async (bytes) => {
        const m = await import('/static/js/photo.js');
        const fallback = await import('/static/js/sha256.js');
        const arr = new Uint8Array(bytes);
        return [await m.sha256Hex(new Blob([arr])), fallback.sha256Fallback(arr), fallback.sha256Fallback(new Uint8Array(0))];
    }""", list(data))
    assert got == [expected, expected, hashlib.sha256(b"").hexdigest()]


def _submit(live_server, title="Banc cassé square Lionel-Terray", **over):
    import uuid
    from datetime import datetime, timezone

    from outreach.field import sync

    data = {"title": title, "category": "street_furniture", "location": {"lat": 45.18877, "lon": 5.72453, "accuracy_m": 5},
            "address": "Square Lionel-Terray", "photos": [], "wants_to_help": False, "reporter": None}
    data.update(over)
    entry = {"id": str(uuid.uuid4()), "kind": "report", "version": 1,
             "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "data": data}
    with live_server.store.write() as db:
        assert sync.process(db, None, [entry])["results"][0]["status"] == "created"
    return entry["id"]


def test_me_too_on_a_nearby_report_instead_of_a_duplicate(browser_context, page, live_server):
    from outreach.worksites import triage as report_triage

    rid = _submit(live_server)
    # Only accepted worksites are offered nearby (an unmoderated report is nobody's to read).
    with live_server.store.write() as db:
        report_triage.change_status(db, rid, "under_review", None)
        report_triage.change_status(db, rid, "accepted", None)
    browser_context.grant_permissions(["geolocation"], origin=live_server.url)
    browser_context.set_geolocation({"latitude": 45.18880, "longitude": 5.72460, "accuracy": 10})
    page.goto(live_server.url + "/report")
    page.get_by_label("Type de chantier").select_option("street_furniture")
    page.get_by_role("button", name="Utiliser ma position").click()
    page.get_by_role("heading", name="Déjà signalé à proximité").wait_for()
    page.locator("#nearby").get_by_role("button", name="Moi aussi").click()
    page.get_by_role("button", name="Merci : compté").wait_for()
    assert live_server.store.db()["reports"].get(rid)["me_too_count"] == 1


def test_resident_answers_a_request_for_information(page, live_server, assert_no_serious_axe_violations):
    from outreach.worksites import public, triage

    rid = _submit(live_server)
    with live_server.store.write() as db:
        triage.change_status(db, rid, "under_review", None)
        triage.change_status(db, rid, "needs_info", None, message="Le banc est-il côté rue ou côté jeux ?")
    token = public.tracking_token(live_server.app.state.signer, rid)
    page.goto(f"{live_server.url}/track/{token}")
    assert page.get_by_text("Le banc est-il côté rue ou côté jeux ?").first.is_visible()
    assert_no_serious_axe_violations(page)
    page.get_by_label("Votre réponse").fill("Côté jeux, près du toboggan.")
    page.get_by_role("button", name="Envoyer ma réponse").click()
    page.get_by_text("Merci : vos informations ont été ajoutées.").wait_for()
    assert page.locator(".state-badge").inner_text() == "En cours d'examen"
    assert live_server.store.db()["reports"].get(rid)["status"] == "under_review"


def test_worker_files_a_report_with_a_resident_linked_to_the_encounter(page, live_server, login):
    from urllib.parse import parse_qs, urlsplit

    user = login(page, live_server, "field")
    # From the field app: log the encounter, then "report a worksite with this person".
    page.goto(f"{live_server.url}/app")
    page.wait_for_selector("body[data-ready='1']")
    page.locator("#encounter-form").get_by_role("button", name="Vraie discussion").click()
    page.get_by_role("link", name="Signaler un chantier avec cette personne").click()
    page.wait_for_url("**/report?encounter=*")
    encounter = parse_qs(urlsplit(page.url).query)["encounter"][0]
    assert page.locator("#field-mode").is_visible()
    page.get_by_label("Que faudrait-il faire ?").fill("Nettoyer le passage sous le pont")
    page.get_by_label("Type de chantier").select_option("cleanliness")
    page.get_by_label("Adresse").fill("Passage du Pont-Neuf")
    page.get_by_role("button", name="Envoyer le signalement").click()
    outbox.wait_for_all_sent(page)
    row = next(live_server.store.db()["reports"].rows)
    assert (row["source"], row["encounter_id"], row["user_id"]) == ("field", encounter, user["id"])
    # The resident leaves with the private tracking link of the report filed with them.
    link = page.get_by_role("link", name="Suivre ce signalement")
    link.click()
    page.wait_for_url("**/track/*")
    assert page.get_by_text("Nettoyer le passage sous le pont").first.is_visible()
