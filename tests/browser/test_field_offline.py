"""An outreach worker's day with a real Chromium on a phone-sized screen: offline, flaky servers,
expired sessions, shared phones. Every entry reaches the server exactly once.

Failures are simulated with ``context.set_offline`` and ``page.route``; the server is a real uvicorn.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

import outbox
from field_app import (no_script_errors, open_app, open_plain_app, plain_page, log_encounter,  # noqa: F401 (fixtures)
                       server_count, sign_in_again, wait_ready)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]


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
    assert outbox.states(page) == ["waiting"] * 4
    assert page.locator("#pending-count").inner_text() == "4"
    assert page.locator("#outbox-list li").count() == 4
    assert page.locator("#outbox-list").get_by_text("En attente").count() == 4
    # The place type is remembered from the last entry; the outing is still running.
    assert page.locator("input[name=place_type][value=market]").is_checked()
    assert page.locator("#outing-current").is_visible()
    assert server_count(live_server, "encounters") == 0

    browser_context.set_offline(False)
    outbox.wait_for_sync(page)
    page.wait_for_function("() => document.getElementById('pending-count').textContent === '0'")
    assert page.locator("#last-sync").inner_text() != "jamais"
    items = outbox.entries(page)
    db = live_server.store.db()
    assert {r["id"] for r in db.query("select id from encounters")} == {i["id"] for i in items if i["kind"] == "encounter"}
    assert [r["id"] for r in db.query("select id from outings")] == [i["id"] for i in items if i["kind"] == "outing"]
    assert db["entry_versions"].count == 4
    outing_id = next(i["id"] for i in items if i["kind"] == "outing")
    assert {r["outing_id"] for r in db.query("select outing_id from encounters")} == {outing_id}
    tools = {r["tool"] for r in db.query("select tool from encounter_tools")}
    assert tools == {"petition", "votation", "participatory_budget"}
    page.locator("#sync-now").click()
    outbox.sync_now(page)  # waits for the sync the button started
    assert db["entry_versions"].count == 4  # syncing again writes nothing


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
    outbox.wait_for_sync(page, timeout=40)
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
    outbox.wait_for_sync(page, timeout=30)
    assert answers[0]["results"][0]["status"] == "created"
    assert answers[-1]["results"][0]["status"] == "unchanged"
    assert server_count(live_server, "encounters") == 1
    assert server_count(live_server, "entry_versions") == 1


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
    assert outbox.states(page) == ["waiting", "waiting"]
    assert server_count(live_server, "encounters") == 0

    page.reload()
    wait_ready(page)
    sign_in_again(page, user)
    outbox.wait_for_sync(page)
    assert page.locator("#signin").is_hidden()
    assert server_count(live_server, "encounters") == 2


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
    outbox.wait_for_sync(page)
    other.wait_for_function("() => document.getElementById('pending-count').textContent === '0'")
    for tab in (page, other):
        outbox.sync_now(tab)  # each tab's sync under way (if any) is over
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
    outbox.wait_for_bootstrap(page, user_id=user["id"])


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
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    outbox.enqueue(page, "encounter", {"occurred_at": now,
                                       "place_type": "street", "outcome": "brief", "people_count": 1, "tools": [],
                                       "interest": "none", "note": ""},
                   photos=[{"sha256": sha, "bytes": bytes([255, 216, 255, 224, 1, 2, 3]), "type": "image/jpeg"}])
    outbox.wait_for_sync(page)
    assert order[0] == ("photo", sha, "image/jpeg", 7)
    assert order[1] == ("entries", 1)
    # Once its entry is stored and the photo uploaded, the photo's bytes leave the phone.
    assert outbox.photos_on_phone(page) == 0


def test_a_shared_phone_sends_each_entry_under_its_author(page, browser_context, live_server, login):
    first = open_app(page, live_server, login)
    second = live_server.make_user("field")
    browser_context.set_offline(True)
    log_encounter(page)
    # The first worker hands the phone over: their session is gone, the next one signs in.
    browser_context.clear_cookies()
    browser_context.set_offline(False)

    sign_in_again(page, second)
    outbox.wait_for_owner(page, second["id"])
    log_encounter(page, ["Agora"])
    page.wait_for_function("() => document.querySelectorAll('#outbox-list li[data-state=sent]').length === 1")
    # The list is redrawn after the receipt: wait for it rather than read it at once.
    expect(page.locator("#outbox-list").get_by_text("Saisie sous un autre compte")).to_be_visible()
    db = live_server.store.db()
    assert [r["user_id"] for r in db.query("select user_id from encounters")] == [second["id"]]

    browser_context.clear_cookies()
    page.reload()
    wait_ready(page)
    sign_in_again(page, first)
    outbox.wait_for_sync(page)
    assert sorted(r["user_id"] for r in db.query("select user_id from encounters")) == sorted([first["id"], second["id"]])
