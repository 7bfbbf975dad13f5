"""A shared phone keeps nothing of the last person: after signing out, no store of any IndexedDB
database, no page of the Cache Storage and nothing in localStorage holds a resident's contact or a
teammate's name. Unsent entries stay (locked to their author), and signing out says how many."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from playwright.sync_api import expect

import outbox
from field_app import no_script_errors, open_outing_menu, wait_for_service_worker, wait_ready  # noqa: F401 (fixtures)
from outreach import users
from outreach.field import sync
from outreach.web import ApiError
from outreach.worksites import public
from tests.coord_factories import add_report

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]

CONTACT = "zephyrin.rappel@example.org"
CONTACT_NAME = "Zéphyrin"
TEAMMATE = "Philomène Quatrebarbes"
PASSWORD = "secret-pass-123"
REPORT_TITLE = "Réparer le banc de la rue Très-Cloîtres"

# Everything this origin keeps on the phone, as text: every IndexedDB database (found with
# indexedDB.databases()) and every object store in it (keys and values), every cached response's
# address and body, and localStorage.
EVERYTHING_ON_THE_PHONE = """async () => {
  const request = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
  const found = {indexedDB: {}, caches: {}, localStorage: {...localStorage}};
  for (const {name} of await indexedDB.databases()) {
    const db = await request(indexedDB.open(name));
    for (const store of db.objectStoreNames) {
      const tx = db.transaction(store);
      found.indexedDB[`${name}/${store}`] = {
        keys: await request(tx.objectStore(store).getAllKeys()),
        values: await request(tx.objectStore(store).getAll()),
      };
    }
    db.close();
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const key of await cache.keys()) found.caches[`${name} ${key.url}`] = await (await cache.match(key)).text();
  }
  return JSON.stringify(found, (k, v) => (v instanceof Blob ? `[${v.type} ${v.size} bytes]` : v));
}"""


def everything_on_the_phone(page) -> str:
    return page.evaluate(EVERYTHING_ON_THE_PHONE)


def resident_report(live_server) -> str:
    with live_server.store.write() as db:
        return add_report(db, title=REPORT_TITLE)


def plan_outing_for(live_server, members: list[dict]) -> str:
    coordinator = live_server.make_user("coordinator")
    planned = str(uuid.uuid4())
    with live_server.store.write() as db:
        db["outings"].insert({"id": planned, "format": "market", "status": "planned", "zone": "secteur-2",
                              "planned_date": date.today().isoformat(), "created_by": coordinator["id"]})
        db["outing_members"].insert_all([{"outing_id": planned, "user_id": u["id"]} for u in members])
    return planned


def log_follow_up(page) -> None:
    """An encounter with a resident who agreed to be contacted again (e-mail and first name)."""
    form = page.locator("#encounter-form")
    form.get_by_text("Plus de détails (facultatif)").click()
    form.get_by_text("La personne souhaite être recontactée").click()
    form.get_by_text("J'ai lu ce texte à la personne et elle est d'accord").click()
    page.get_by_label("Adresse e-mail ou numéro de téléphone").fill(CONTACT)
    page.get_by_label("Prénom (facultatif)").fill(CONTACT_NAME)
    before = len(outbox.entries(page))
    form.get_by_role("button", name="Vraie discussion").click()
    outbox.wait_for_more_entries(page, before)


def sign_out(page, answer: bool) -> list[str]:
    """Tap "Sign out" in the app's panel and answer the question it asks; the questions asked."""
    asked = []

    def on_dialog(dialog):
        asked.append(dialog.message)
        dialog.accept() if answer else dialog.dismiss()

    page.on("dialog", on_dialog)
    page.locator("#sync-status").click()
    with page.expect_event("dialog"):
        page.locator("#sync-panel").get_by_role("button", name="Se déconnecter").click()
    return asked


def test_signing_out_leaves_no_contact_and_no_teammate_on_the_phone(page, browser_context, live_server, login,
                                                                    monkeypatch):
    worker = login(page, live_server, "field")
    with live_server.store.write() as db:
        mate = users.create_user(db, f"mate-{uuid.uuid4().hex[:8]}@example.org", PASSWORD, "field", display_name=TEAMMATE)
    plan_outing_for(live_server, [worker, mate])
    page.goto(live_server.url + "/app")
    wait_ready(page)
    wait_for_service_worker(page)
    outbox.wait_for_bootstrap(page)
    open_outing_menu(page)
    expect(page.locator("#planned-outings")).to_contain_text("Marché")
    assert TEAMMATE in everything_on_the_phone(page)  # the sweep sees the bootstrap copy

    # A follow-up logged offline sits in the outbox with its contact (the sweep sees that too) ...
    browser_context.set_offline(True)
    log_follow_up(page)
    assert CONTACT in everything_on_the_phone(page)
    # ... and once the server has it, the phone's copy loses it.
    browser_context.set_offline(False)
    page.locator("#sync-now").click()
    outbox.wait_for_sync(page)
    [stored] = list(live_server.store.db().query("select contact, name from contacts"))
    assert stored == {"contact": CONTACT, "name": CONTACT_NAME}

    # The worker showed a resident the status of a report filed together: the phone keeps that page.
    track = "/track/" + public.tracking_token(live_server.app.state.signer, resident_report(live_server))
    page.goto(live_server.url + track)
    outbox.wait_for(page, "(async () => (await caches.keys()).includes('outreach-last-track'))()", what="the page kept")
    page.goto(live_server.url + "/app")
    wait_ready(page)

    # One more encounter cannot be sent (the server is down): it will stay, locked to its author.
    monkeypatch.setattr(sync, "write_batch", lambda *a, **k: (_ for _ in ()).throw(ApiError(503, "maintenance")))
    page.locator("#encounter-form").get_by_role("button", name="Vraie discussion").click()
    outbox.wait_for(page, "(await outbox.pendingCount()) === 1", what="one entry left unsent")

    with page.expect_navigation():
        asked = sign_out(page, answer=True)
    assert asked == ["1 saisie n'est pas encore envoyée. Elle reste sur ce téléphone et partira quand vous vous"
                     " reconnecterez. Se déconnecter ?"]
    page.get_by_role("heading", name="Se connecter").wait_for()

    # The service worker forgets the residents' pages as the sign-out goes by.
    outbox.wait_for(page, "(async () => !(await caches.keys()).includes('outreach-last-track'))()",
                    what="the last tracking page to be forgotten")
    kept = everything_on_the_phone(page)
    assert "/track/" not in kept and REPORT_TITLE not in kept
    for personal in (CONTACT, CONTACT_NAME, TEAMMATE, mate["email"], worker["email"]):
        assert personal not in kept, personal
    unsent = outbox.entries(page)
    assert [(i["state"], i["owner"], i["data"]["follow_up"]) for i in unsent] == [("waiting", worker["id"], None)]


def test_signing_out_with_entries_unsent_says_how_many_and_may_be_called_off(page, live_server, login, monkeypatch):
    login(page, live_server, "field")
    page.goto(live_server.url + "/app")
    wait_ready(page)
    outbox.wait_for_bootstrap(page)
    monkeypatch.setattr(sync, "write_batch", lambda *a, **k: (_ for _ in ()).throw(ApiError(503, "maintenance")))
    form = page.locator("#encounter-form")
    for outcome in ("Vraie discussion", "Échange bref"):
        form.get_by_role("button", name=outcome).click()
    outbox.wait_for(page, "(await outbox.pendingCount()) === 2", what="two entries unsent")

    asked = sign_out(page, answer=False)
    assert asked == ["2 saisies ne sont pas encore envoyées. Elles restent sur ce téléphone et partiront quand vous"
                     " vous reconnecterez. Se déconnecter ?"]
    # Called off: still signed in, nothing forgotten.
    assert page.url.endswith("/app")
    assert outbox.kept_bootstrap(page) is not None and outbox.pending_count(page) == 2
