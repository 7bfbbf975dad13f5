"""What a worker is asked to fix on the phone: an entry the server refused, a missing consent,
a full phone. Nothing leaves the outbox unless the server stores it or the worker deletes it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import outbox
from field_app import no_script_errors, open_app, server_count, wait_ready  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def test_rejected_entry_needs_attention_is_kept_and_can_be_corrected(page, live_server, login):
    open_app(page, live_server, login)
    # An entry the server must refuse (as an old app version or a bug could produce).
    outbox.enqueue(page, "encounter", {"occurred_at": now(), "place_type": "street", "outcome": "conversation",
                                       "people_count": 500, "tools": [], "interest": "none", "note": ""})
    outbox.wait_for_state(page, "attention")
    item = page.locator("#outbox-list li[data-state=attention]")
    item.wait_for()
    assert "À revoir" in item.inner_text()
    assert "doit être entre 1 et 200" in item.inner_text()
    page.reload()
    wait_ready(page)
    assert outbox.states(page) == ["attention"]
    assert page.locator("#pending-count").inner_text() == "1"
    assert server_count(live_server, "encounters") == 0

    page.locator("#outbox-list li[data-state=attention]").get_by_role("button", name="Corriger").click()
    page.get_by_label("Nombre de personnes").fill("3")
    page.locator("#encounter-form").get_by_role("button", name="Vraie discussion").click()
    outbox.wait_for_sync(page)
    db = live_server.store.db()
    [row] = list(db.query("select people_count, version from encounters"))
    assert row == {"people_count": 3, "version": 2}


def test_a_refused_entry_leaves_only_when_the_worker_deletes_it(page, live_server, login):
    open_app(page, live_server, login)
    outbox.enqueue(page, "outing", {"zone": "nowhere", "format": "market", "started_at": now(), "members": [],
                                    "tallies": {}, "debrief": ""})
    item = page.locator("#outbox-list li[data-state=attention]")
    item.wait_for()
    assert "code" in item.inner_text() or "doit" in item.inner_text()
    page.once("dialog", lambda dialog: dialog.dismiss())
    item.get_by_role("button", name="Supprimer").click()
    assert outbox.states(page) == ["attention"]
    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Supprimer").click()
    outbox.wait_for_entries(page, 0)
    assert server_count(live_server, "outings") == 0


def test_follow_up_needs_the_consent_box(page, live_server, login):
    open_app(page, live_server, login)
    form = page.locator("#encounter-form")
    form.get_by_text("Plus de détails (facultatif)").click()
    form.get_by_text("La personne souhaite être recontactée").click()
    assert page.locator("#consent-text").inner_text().startswith("J'accepte")
    page.get_by_label("Adresse e-mail ou numéro de téléphone").fill("awa@example.org")
    form.get_by_role("button", name="Vraie discussion").click()
    assert "consentement" in page.locator("#toast-text").inner_text()
    assert outbox.entries(page) == []
    form.get_by_text("J'ai lu ce texte à la personne et elle est d'accord").click()
    form.get_by_role("button", name="Vraie discussion").click()
    outbox.wait_for_entries(page, 1)
    outbox.wait_for_sync(page)
    db = live_server.store.db()
    [contact] = list(db.query("select contact, consent_text_version from contacts"))
    assert contact == {"contact": "awa@example.org", "consent_text_version": "2026-01"}


def test_full_storage_is_reported_at_save_time(page, live_server, login):
    open_app(page, live_server, login)
    page.evaluate(
        """() => { IDBObjectStore.prototype.put = function () { throw new DOMException('full', 'QuotaExceededError'); }; }"""
    )
    page.locator("#encounter-form").get_by_role("button", name="Vraie discussion").click()
    message = page.locator("#toast-text")
    message.get_by_text("Le stockage du téléphone est plein").wait_for()
    assert "Enregistrée" not in message.inner_text()
