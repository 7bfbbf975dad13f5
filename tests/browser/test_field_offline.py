"""An outreach worker's day with a real Chromium on a phone-sized screen: offline, flaky servers, expired sessions.

Failures are simulated with ``context.set_offline`` and ``page.route``; the server is a real uvicorn.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from conftest import OUTBOX, wait_until

pytestmark = pytest.mark.browser



@pytest.fixture(autouse=True)
def no_script_errors(page):
    """Every test here also checks that the page threw no uncaught error."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield
    assert not errors, errors




def outbox_items(page) -> list[dict]:
    return page.evaluate(f"async () => (await import('{OUTBOX}')).list()")


def states(page) -> list[str]:
    return [item["state"] for item in outbox_items(page)]


def open_app(page, live_server, login, who="field") -> dict:
    user = login(page, live_server, who)
    page.goto(live_server.url + "/app")
    wait_ready(page)
    # The service worker has installed and controls the page: the app now opens offline.
    wait_until(page, "() => navigator.serviceWorker.controller !== null")
    wait_until(page, f"async () => Boolean(await (await import('{OUTBOX}')).getMeta('bootstrap'))")
    return user


def wait_ready(page):
    page.wait_for_selector("body[data-ready='1']")


def log_encounter(page, tools=("Pétition",), outcome="Vraie discussion"):
    form = page.locator("#encounter-form")
    for tool in tools:
        form.locator("#tool-toggles").get_by_text(tool, exact=True).click()
    before = page.evaluate(f"async () => (await (await import('{OUTBOX}')).list()).length")
    form.get_by_role("button", name=outcome).click()
    wait_until(page, f"async (n) => (await (await import('{OUTBOX}')).list()).length > n", before)


def pending_count(page) -> str:
    return page.locator("#pending-count").inner_text()


def server_count(live_server, table: str) -> int:
    return live_server.store.db()[table].count


def test_a_day_offline_survives_reloads_and_syncs_exactly_once(page, browser_context, live_server, login):
    open_app(page, live_server, login)
    browser_context.set_offline(True)
    page.reload()
    wait_ready(page)
    assert page.get_by_role("heading", name="Nouvelle rencontre").is_visible()

    page.get_by_text("Commencer une sortie").click()
    page.get_by_label("Format", exact=True).select_option("market")
    page.get_by_role("button", name="Commencer", exact=True).click()
    page.wait_for_selector("#outing-current:not([hidden])")
    log_encounter(page, ["Pétition", "Votation"], "Vraie discussion")
    page.locator("#encounter-form").get_by_text("Marché", exact=True).click()
    log_encounter(page, ["Budget participatif"], "Échange bref")
    log_encounter(page, [], "Refus")

    page.reload()
    wait_ready(page)
    assert states(page) == ["waiting"] * 4
    assert page.locator("#pending-count").inner_text() == "4"
    assert page.locator("#outbox-list li").count() == 4
    assert page.locator("#outbox-list").get_by_text("En attente").count() == 4
    # The place type is remembered from the last entry; the outing is still running.
    assert page.locator("input[name=place_type][value=market]").is_checked()
    assert page.locator("#outing-current").is_visible()
    assert server_count(live_server, "encounters") == 0

    browser_context.set_offline(False)
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0")
    wait_until(page, "() => document.getElementById('pending-count').textContent === '0'")
    assert page.locator("#last-sync").inner_text() != "jamais"
    items = outbox_items(page)
    db = live_server.store.db()
    assert {r["id"] for r in db.query("select id from encounters")} == {i["id"] for i in items if i["kind"] == "encounter"}
    assert [r["id"] for r in db.query("select id from outings")] == [i["id"] for i in items if i["kind"] == "outing"]
    assert db["entry_versions"].count == 4
    outing_id = next(i["id"] for i in items if i["kind"] == "outing")
    assert {r["outing_id"] for r in db.query("select outing_id from encounters")} == {outing_id}
    tools = {r["tool"] for r in db.query("select tool from encounter_tools")}
    assert tools == {"petition", "votation", "participatory_budget"}
    page.locator("#sync-now").click()
    time.sleep(1)
    assert db["entry_versions"].count == 4  # syncing again writes nothing


@pytest.fixture
def plain_page(browser):
    """A phone-sized page with no service worker: page.route() sees every request it makes.

    (Requests of a page controlled by a service worker bypass page.route in Playwright.)
    """
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="fr-FR", service_workers="block")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def open_plain_app(page, live_server, login) -> dict:
    user = login(page, live_server, "field")
    page.goto(live_server.url + "/app")
    wait_ready(page)
    wait_until(page, f"async () => Boolean(await (await import('{OUTBOX}')).getMeta('bootstrap'))")
    return user


def test_server_errors_then_recovery_store_once(plain_page, live_server, login):
    page = plain_page
    open_plain_app(page, live_server, login)
    calls = []

    def flaky(route):
        calls.append(1)
        if len(calls) <= 3:
            route.fulfill(status=500, content_type="application/json", body='{"error": "boom", "detail": null}')
        else:
            route.continue_()

    page.route("**/api/v1/sync", flaky)
    log_encounter(page)
    log_encounter(page, ["Agora"], "Tract seulement")
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0", timeout=40)
    assert len(calls) >= 4
    assert server_count(live_server, "encounters") == 2
    assert server_count(live_server, "entry_versions") == 2


def test_lost_answer_then_retry_creates_no_duplicate(plain_page, live_server, login):
    page = plain_page
    open_plain_app(page, live_server, login)
    answers = []

    def lose_first_answer(route):
        response = route.fetch()  # the server stores the batch...
        answers.append(response.json())
        if len(answers) == 1:
            route.abort("connectionreset")  # ...but the phone never hears back
        else:
            route.fulfill(response=response)

    page.route("**/api/v1/sync", lose_first_answer)
    log_encounter(page)
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0", timeout=30)
    assert answers[0]["results"][0]["status"] == "created"
    assert answers[-1]["results"][0]["status"] == "unchanged"
    assert server_count(live_server, "encounters") == 1
    assert server_count(live_server, "entry_versions") == 1


def test_rejected_entry_needs_attention_is_kept_and_can_be_corrected(page, live_server, login):
    open_app(page, live_server, login)
    # An entry the server must refuse (as an old app version or a bug could produce).
    page.evaluate(
        """async () => {
          const outbox = await import('/static/js/outbox.js');
          await outbox.enqueue({id: outbox.newId(), kind: 'encounter', version: 1, created_at: new Date().toISOString(),
            data: {occurred_at: new Date().toISOString(), place_type: 'street', outcome: 'conversation', people_count: 500,
                   tools: [], interest: 'none', note: ''}});
        }"""
    )
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).list()).some(i => i.state === 'attention')")
    item = page.locator("#outbox-list li[data-state=attention]")
    item.wait_for()
    assert "À revoir" in item.inner_text()
    assert "doit être entre 1 et 200" in item.inner_text()
    page.reload()
    wait_ready(page)
    assert states(page) == ["attention"]
    assert pending_count(page) == "1"
    assert server_count(live_server, "encounters") == 0

    page.locator("#outbox-list li[data-state=attention]").get_by_role("button", name="Corriger").click()
    page.get_by_label("Nombre de personnes").fill("3")
    page.locator("#encounter-form").get_by_role("button", name="Vraie discussion").click()
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0")
    db = live_server.store.db()
    [row] = list(db.query("select people_count, version from encounters"))
    assert row == {"people_count": 3, "version": 2}


def test_session_expiry_while_offline_keeps_entries_until_signed_in_again(page, browser_context, live_server, login):
    user = open_app(page, live_server, login)
    browser_context.set_offline(True)
    log_encounter(page)
    log_encounter(page, ["Agora"])
    # Meanwhile the session ends on the server (as when it expires or the password changes).
    with live_server.store.write() as db:
        db.execute("update users set session_epoch = session_epoch + 1 where id = ?", [user["id"]])
    browser_context.set_offline(False)
    page.locator("#signin").wait_for(state="visible")
    assert states(page) == ["waiting", "waiting"]
    assert server_count(live_server, "encounters") == 0

    page.reload()
    wait_ready(page)
    page.locator("#signin").wait_for(state="visible")
    page.locator("#signin").get_by_label("E-mail").fill(user["email"])
    page.locator("#signin").get_by_label("Mot de passe").fill("secret-pass-123")
    page.locator("#signin").get_by_role("button", name="Se connecter").click()
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0")
    assert page.locator("#signin").is_hidden()
    assert server_count(live_server, "encounters") == 2


def test_new_service_worker_version_keeps_the_outbox(page, browser_context, live_server, login, tmp_path, monkeypatch):
    from outreach.views import field

    open_app(page, live_server, login)
    browser_context.set_offline(True)
    log_encounter(page)
    log_encounter(page, ["Votation"])
    before = outbox_items(page)
    # The server is down for maintenance while the new release rolls out: entries keep waiting.
    from outreach.field import sync
    from outreach.web import ApiError

    real_write = sync.write_batch

    def down(*args, **kwargs):
        raise ApiError(503, "maintenance")

    monkeypatch.setattr(sync, "write_batch", down)
    browser_context.set_offline(False)
    old_caches = page.evaluate("async () => caches.keys()")

    # A new release: the service worker's source changes, so its version does.
    newer = tmp_path / "sw.js"
    newer.write_text(field.SW_SOURCE.read_text(encoding="utf-8") + "\n// release 2\n", encoding="utf-8")
    monkeypatch.setattr(field, "SW_SOURCE", newer)
    page.evaluate("async () => { await window.outreachServiceWorker.update(); }")
    page.locator("#update-banner").wait_for(state="visible")
    assert set(states(page)) <= {"waiting", "sending"} and len(states(page)) == 2  # retried in the background

    with page.expect_navigation():
        page.get_by_role("button", name="Recharger").click()
    wait_ready(page)
    new_caches = wait_until(page, "async () => { const k = await caches.keys(); return k.length === 1 && k; }")
    assert new_caches != old_caches
    after = outbox_items(page)
    assert [(i["id"], i["version"], i["data"]) for i in after] == [(i["id"], i["version"], i["data"]) for i in before]
    assert {i["state"] for i in after} <= {"waiting", "sending"}  # the reloaded page may be retrying already

    monkeypatch.setattr(sync, "write_batch", real_write)
    page.locator("#sync-now").click()
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0")
    assert server_count(live_server, "encounters") == 2


def test_outing_tally_with_undo_and_debrief(page, live_server, login):
    open_app(page, live_server, login)
    page.get_by_text("Commencer une sortie").click()
    page.get_by_label("Format", exact=True).select_option("stand")
    page.get_by_role("button", name="Commencer", exact=True).click()
    page.get_by_role("button", name="Mode comptage").click()
    grid = page.locator("#tally-grid")
    petition = grid.locator("[data-tool=petition] .tally-count")
    agora = grid.locator("[data-tool=agora] .tally-count")
    # Each tap is checked on screen before the next, so a loaded machine cannot merge two taps.
    for n in range(1, 4):
        grid.get_by_role("button", name="Pétition").click()
        expect(petition).to_have_text(str(n))
    grid.get_by_role("button", name="Agora").click()
    expect(agora).to_have_text("1")
    page.get_by_role("button", name="Annuler le dernier").click()
    expect(agora).to_have_text("0")
    expect(petition).to_have_text("3")
    page.get_by_role("button", name="Retour aux rencontres").click()
    page.get_by_label("Bilan (facultatif)").fill("Beaucoup de passage, bon accueil.")
    page.get_by_role("button", name="Terminer la sortie").click()
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0")
    db = live_server.store.db()
    [outing] = list(db.query("select id, status, debrief from outings"))
    assert outing["status"] == "ended" and outing["debrief"] == "Beaucoup de passage, bon accueil."
    tallies = {r["tool"]: r["count"] for r in db.query("select tool, count from outing_tallies")}
    assert tallies.get("petition") == 3 and tallies.get("agora", 0) == 0


def test_follow_up_needs_the_consent_box(page, live_server, login):
    open_app(page, live_server, login)
    form = page.locator("#encounter-form")
    form.get_by_text("Plus de détails (facultatif)").click()
    form.get_by_text("La personne souhaite être recontactée").click()
    assert page.locator("#consent-text").inner_text().startswith("J'accepte")
    page.get_by_label("Adresse e-mail ou numéro de téléphone").fill("awa@example.org")
    form.get_by_role("button", name="Vraie discussion").click()
    assert "consentement" in page.locator("#form-message").inner_text()
    assert outbox_items(page) == []
    form.get_by_text("J'ai lu ce texte à la personne et elle est d'accord").click()
    form.get_by_role("button", name="Vraie discussion").click()
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0 && (await (await import('{OUTBOX}')).list()).length === 1")
    db = live_server.store.db()
    [contact] = list(db.query("select contact, consent_text_version from contacts"))
    assert contact == {"contact": "awa@example.org", "consent_text_version": "2026-01"}


def test_joining_a_planned_outing(page, live_server, login):
    import uuid
    from datetime import date

    user = login(page, live_server, "field")
    coordinator = live_server.make_user("coordinator")
    planned = str(uuid.uuid4())
    with live_server.store.write() as db:
        db["outings"].insert({"id": planned, "format": "door_to_door", "status": "planned", "zone": "secteur-6",
                              "planned_date": date.today().isoformat(), "created_by": coordinator["id"]})
        db["outing_members"].insert({"outing_id": planned, "user_id": user["id"]})
    page.goto(live_server.url + "/app")
    wait_ready(page)
    page.locator("#planned-outings").get_by_role("button", name="Rejoindre").click()
    page.wait_for_selector("#outing-current:not([hidden])")
    assert "Porte-à-porte" in page.locator("#outing-summary").inner_text()
    log_encounter(page)
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0")
    db = live_server.store.db()
    assert db["outings"].get(planned)["status"] == "started"
    assert [r["outing_id"] for r in db.query("select outing_id from encounters")] == [planned]


def test_field_pages_are_accessible_and_fit_320px(browser, page, live_server, login, assert_no_serious_axe_violations):
    open_app(page, live_server, login)
    page.locator("#encounter-form").get_by_text("Plus de détails (facultatif)").click()
    page.locator("#encounter-form").get_by_text("La personne souhaite être recontactée").click()
    assert_no_serious_axe_violations(page)
    page.get_by_text("Commencer une sortie").click()
    page.get_by_role("button", name="Commencer", exact=True).click()
    page.get_by_role("button", name="Mode comptage").click()
    assert_no_serious_axe_violations(page)

    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-FR", service_workers="block")
    small = context.new_page()
    small.goto(live_server.url + "/app")
    small.wait_for_selector("body[data-ready='1']")
    assert small.evaluate("() => document.documentElement.scrollWidth") <= 320
    for button in small.locator(".outcome-button").all():
        assert button.bounding_box()["height"] >= 44
    assert_no_serious_axe_violations(small)
    context.close()


def test_schema_upgrade_migrates_pending_entries(page, live_server, login):
    import uuid
    from datetime import datetime, timezone

    login(page, live_server, "field")
    entry_id = str(uuid.uuid4())
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    # A phone still holding an entry in the first version of the outbox schema.
    page.goto(live_server.url + "/health")
    page.evaluate(
        """([id, now]) => new Promise((resolve, reject) => {
          indexedDB.deleteDatabase('outreach-outbox');
          const open = indexedDB.open('outreach-outbox', 1);
          open.onupgradeneeded = () => open.result.createObjectStore('outbox', {keyPath: 'id'});
          open.onsuccess = () => {
            const tx = open.result.transaction('outbox', 'readwrite');
            tx.objectStore('outbox').put({id, kind: 'encounter', version: 1, created_at: now,
              data: {occurred_at: now, place_type: 'shop', outcome: 'brief', people_count: 1, tools: [], interest: 'none', note: ''}});
            tx.oncomplete = () => { open.result.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
          };
          open.onerror = () => reject(open.error);
        })""",
        [entry_id, now],
    )
    page.goto(live_server.url + "/app")
    wait_ready(page)
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0")
    [item] = outbox_items(page)
    assert item["id"] == entry_id and item["endpoint"] == "/api/v1/sync" and item["state"] == "sent"
    assert live_server.store.db()["encounters"].get(entry_id)["place_type"] == "shop"


def test_full_storage_is_reported_at_save_time(page, live_server, login):
    open_app(page, live_server, login)
    page.evaluate(
        """() => { IDBObjectStore.prototype.put = function () { throw new DOMException('full', 'QuotaExceededError'); }; }"""
    )
    page.locator("#encounter-form").get_by_role("button", name="Vraie discussion").click()
    message = page.locator("#form-message")
    message.get_by_text("Le stockage du téléphone est plein").wait_for()
    assert "Enregistrée" not in message.inner_text()


def test_two_tabs_sync_one_at_a_time(page, browser_context, live_server, login, monkeypatch):
    from outreach.field import sync

    open_app(page, live_server, login)
    other = browser_context.new_page()
    other.goto(live_server.url + "/app")
    wait_ready(other)
    browser_context.set_offline(True)
    for _ in range(3):
        log_encounter(page)
    batches = []
    real_prepare = sync.prepare

    def counting(db, user, entries, **kw):
        batches.append(len(entries))
        return real_prepare(db, user, entries, **kw)

    monkeypatch.setattr(sync, "prepare", counting)
    # Both tabs hear "online" at once and both try to sync: the Web Lock lets one through.
    browser_context.set_offline(False)
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0")
    wait_until(other, "() => document.getElementById('pending-count').textContent === '0'")
    time.sleep(1)
    assert batches == [3]
    assert server_count(live_server, "entry_versions") == 3
    other.close()


def test_first_sign_in_from_the_app(page, live_server, assert_no_serious_axe_violations):
    user = live_server.make_user("field")
    page.goto(live_server.url + "/app")
    wait_ready(page)
    signin = page.locator("#signin")
    signin.wait_for(state="visible")
    assert signin.get_by_role("heading").inner_text() == "Se connecter"
    assert_no_serious_axe_violations(page)
    signin.get_by_label("E-mail").fill(user["email"])
    signin.get_by_label("Mot de passe").fill("wrong-password")
    signin.get_by_role("button", name="Se connecter").click()
    page.locator("#signin-error").get_by_text("incorrect").wait_for()
    signin.get_by_label("Mot de passe").fill("secret-pass-123")
    signin.get_by_role("button", name="Se connecter").click()
    signin.wait_for(state="hidden")
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).getMeta('bootstrap'))?.user?.id === {user['id']}")


def test_photos_are_uploaded_before_their_entry(plain_page, live_server, login):
    page = plain_page
    open_plain_app(page, live_server, login)
    order = []

    def attachment(route):
        request = route.request
        order.append(("photo", request.url.rsplit("/", 1)[1], request.headers["content-type"], len(request.post_data_buffer)))
        route.fulfill(status=201, content_type="application/json", body='{"stored": true}')

    def sync_(route):
        order.append(("entries", len(route.request.post_data_json["entries"])))
        route.continue_()

    page.route("**/api/v1/attachments/*", attachment)
    page.route("**/api/v1/sync", sync_)
    sha = "ab" * 32
    page.evaluate(
        """async (sha) => {
          const outbox = await import('/static/js/outbox.js');
          const blob = new Blob([new Uint8Array([255, 216, 255, 224, 1, 2, 3])], {type: 'image/jpeg'});
          const now = new Date().toISOString();
          await outbox.enqueue({id: outbox.newId(), kind: 'encounter', version: 1, created_at: now,
            data: {occurred_at: now, place_type: 'street', outcome: 'brief', people_count: 1, tools: [], interest: 'none', note: ''}},
            {photos: [{sha256: sha, blob, type: 'image/jpeg'}]});
        }""",
        sha,
    )
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0")
    assert order[0] == ("photo", sha, "image/jpeg", 7)
    assert order[1] == ("entries", 1)
    # Once its entry is stored and the photo uploaded, the photo's bytes leave the phone.
    left = page.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open('outreach-outbox');
          open.onsuccess = () => {
            const r = open.result.transaction('photos').objectStore('photos').count();
            r.onsuccess = () => { open.result.close(); resolve(r.result); };
          };
        })"""
    )
    assert left == 0


def test_the_form_works_before_any_script_runs(browser, live_server):
    user = live_server.make_user("field")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/login?next=/app")
    page.get_by_label("Adresse e-mail").fill(user["email"])
    page.get_by_label("Mot de passe").fill("secret-pass-123")
    page.get_by_role("button", name="Se connecter").click()
    page.goto(live_server.url + "/app")
    form = page.locator("#encounter-form")
    form.get_by_text("Marché", exact=True).click()
    form.locator("#tool-toggles").get_by_text("Votation", exact=True).click()
    form.get_by_role("button", name="Échange bref").click()
    page.get_by_text("Rencontre enregistrée.").wait_for()
    [row] = list(live_server.store.db().query("select place_type, outcome from encounters"))
    assert row == {"place_type": "market", "outcome": "brief"}
    context.close()


def test_a_shared_phone_sends_each_entry_under_its_author(page, browser_context, live_server, login):
    first = open_app(page, live_server, login)
    second = live_server.make_user("field")
    browser_context.set_offline(True)
    log_encounter(page)
    # The first worker hands the phone over: their session is gone, the next one signs in.
    browser_context.clear_cookies()
    browser_context.set_offline(False)

    def sign_in(user):
        page.locator("#signin").wait_for(state="visible")
        page.locator("#signin").get_by_label("E-mail").fill(user["email"])
        page.locator("#signin").get_by_label("Mot de passe").fill("secret-pass-123")
        page.locator("#signin").get_by_role("button", name="Se connecter").click()
        page.locator("#signin").wait_for(state="hidden")

    sign_in(second)
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).getMeta('owner')) === {second['id']}")
    log_encounter(page, ["Agora"])
    wait_until(page, "() => document.querySelectorAll('#outbox-list li[data-state=sent]').length === 1")
    assert page.locator("#outbox-list").get_by_text("Saisie sous un autre compte").is_visible()
    db = live_server.store.db()
    assert [r["user_id"] for r in db.query("select user_id from encounters")] == [second["id"]]

    browser_context.clear_cookies()
    page.reload()
    wait_ready(page)
    sign_in(first)
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0")
    assert sorted(r["user_id"] for r in db.query("select user_id from encounters")) == sorted([first["id"], second["id"]])


def test_chromium_finds_the_app_installable(page, browser_context, live_server):
    page.goto(live_server.url + "/app")
    wait_ready(page)
    wait_until(page, "() => navigator.serviceWorker.controller !== null")
    cdp = browser_context.new_cdp_session(page)
    assert cdp.send("Page.getAppManifest")["errors"] == []
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # A Playwright profile is always "incognito"; any other reason would stop a real install.
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []


def test_a_refused_entry_leaves_only_when_the_worker_deletes_it(page, live_server, login):
    open_app(page, live_server, login)
    page.evaluate(
        """async () => {
          const outbox = await import('/static/js/outbox.js');
          await outbox.enqueue({id: outbox.newId(), kind: 'outing', version: 1, created_at: new Date().toISOString(),
            data: {zone: 'nowhere', format: 'market', started_at: new Date().toISOString(), members: [], tallies: {}, debrief: ''}});
        }"""
    )
    item = page.locator("#outbox-list li[data-state=attention]")
    item.wait_for()
    assert "code" in item.inner_text() or "doit" in item.inner_text()
    page.once("dialog", lambda dialog: dialog.dismiss())
    item.get_by_role("button", name="Supprimer").click()
    assert states(page) == ["attention"]
    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Supprimer").click()
    wait_until(page, f"async () => (await (await import('{OUTBOX}')).list()).length === 0")
    assert server_count(live_server, "outings") == 0


def test_two_teammates_tally_one_planned_outing_offline_and_both_count(browser, live_server, login):
    """Two phones join the same planned outing with no network, each counts at its stand; back
    online the second gets a conflict, sends again by itself, and the outing has both counts."""
    import uuid
    from datetime import date

    coordinator = live_server.make_user("coordinator")
    planned = str(uuid.uuid4())
    phones = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR", service_workers="block")
        phones.append((context, context.new_page()))
    users = [login(page, live_server, "field") for _, page in phones]
    with live_server.store.write() as db:
        db["outings"].insert({"id": planned, "format": "stand", "status": "planned", "zone": "secteur-6",
                              "planned_date": date.today().isoformat(), "created_by": coordinator["id"]})
        db["outing_members"].insert_all([{"outing_id": planned, "user_id": u["id"]} for u in users])
    for (context, page), taps in zip(phones, ({"Pétition": 3}, {"Pétition": 2, "Agora": 1})):
        page.goto(live_server.url + "/app")
        wait_ready(page)
        wait_until(page, f"async () => Boolean(await (await import('{OUTBOX}')).getMeta('bootstrap'))")
        context.set_offline(True)
        page.locator("#planned-outings").get_by_role("button", name="Rejoindre").click()
        page.wait_for_selector("#outing-current:not([hidden])")
        page.get_by_role("button", name="Mode comptage").click()
        for tool, n in taps.items():
            for _ in range(n):
                page.locator("#tally-grid").get_by_role("button", name=tool).click()
        expect(page.locator("#tally-grid [data-tool=petition] .tally-count")).to_have_text(str(taps["Pétition"]))
    for context, page in phones:
        context.set_offline(False)
        page.get_by_role("button", name="Synchroniser").click()
        wait_until(page, f"async () => (await (await import('{OUTBOX}')).pendingCount()) === 0"
                         f" && (await (await import('{OUTBOX}')).needingAttention()).length === 0")
    db = live_server.store.db()
    counts = {r["tool"]: r["count"] for r in db.query("select tool, count from outing_tallies where outing_id = ?", [planned])}
    assert counts == {"petition": 5, "agora": 1}
    for context, _ in phones:
        context.close()
