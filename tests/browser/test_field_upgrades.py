"""The app on a phone across releases: a new service worker, an older IndexedDB schema. What is
waiting in the outbox, and what the app keeps for itself, survives every upgrade."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

import outbox
from field_app import (log_encounter, no_script_errors, open_app, server_count,  # noqa: F401 (fixtures)
                       wait_for_service_worker, wait_ready)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]


def an_encounter(place_type="shop") -> dict:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return {"id": str(uuid.uuid4()), "kind": "encounter", "version": 1, "created_at": now,
            "data": {"occurred_at": now, "place_type": place_type, "outcome": "brief", "people_count": 1,
                     "tools": [], "interest": "none", "note": ""}}


def test_new_service_worker_version_keeps_the_outbox(page, browser_context, live_server, login, tmp_path, monkeypatch):
    from outreach.field import sync
    from outreach.views import field
    from outreach.web import ApiError

    open_app(page, live_server, login)
    browser_context.set_offline(True)
    log_encounter(page)
    log_encounter(page, ["Votation"])
    before = outbox.entries(page)
    # The server is down for maintenance while the new release rolls out: entries keep waiting.
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
    states = outbox.states(page)
    assert set(states) <= {"waiting", "sending"} and len(states) == 2  # retried in the background

    with page.expect_navigation():
        page.get_by_role("button", name="Recharger").click()
    wait_ready(page)
    page.wait_for_function("async () => (await caches.keys()).length === 1")  # the old cache is gone
    assert page.evaluate("async () => caches.keys()") != old_caches
    after = outbox.entries(page)
    assert [(i["id"], i["version"], i["data"]) for i in after] == [(i["id"], i["version"], i["data"]) for i in before]
    assert {i["state"] for i in after} <= {"waiting", "sending"}  # the reloaded page may be retrying already

    monkeypatch.setattr(sync, "write_batch", real_write)
    page.locator("#sync-now").click()
    outbox.wait_for_sync(page)
    assert server_count(live_server, "encounters") == 2


def test_schema_upgrade_migrates_pending_entries(page, live_server, login):
    login(page, live_server, "field")
    entry = an_encounter("shop")
    # A phone still holding an entry in the first version of the outbox schema.
    page.goto(live_server.url + "/health")
    outbox.install_v1_outbox(page, entry)
    page.goto(live_server.url + "/app")
    wait_ready(page)
    outbox.wait_for_sync(page)
    [item] = outbox.entries(page)
    assert item["id"] == entry["id"] and item["endpoint"] == "/api/v1/sync" and item["state"] == "sent"
    assert live_server.store.db()["encounters"].get(entry["id"])["place_type"] == "shop"


def test_schema_upgrade_moves_the_app_state_out_of_the_outbox_meta(page, live_server, login):
    user = login(page, live_server, "field")
    kept = page.request.get(live_server.url + "/api/v1/bootstrap").json()
    entry = an_encounter("market")
    outing = {"id": str(uuid.uuid4()), "data": {"zone": None, "format": "stand", "started_at": entry["created_at"],
                                                "ended_at": None, "members": [], "tallies": {}, "debrief": ""}}
    # A phone on the second schema: an entry waiting; the running outing and the bootstrap copy in the meta store.
    page.goto(live_server.url + "/health")
    outbox.install_v2_outbox(page, entry, {"current_outing": outing, "bootstrap": kept, "owner": user["id"]})
    page.route("**/api/v1/bootstrap", lambda route: route.abort())  # only the kept copy can tell who this is
    page.goto(live_server.url + "/app")
    wait_ready(page)
    assert page.locator("#outing-current").is_visible()
    assert outbox.kept_bootstrap(page) == kept
    outbox.wait_for_sync(page)
    assert live_server.store.db()["encounters"].get(entry["id"])["place_type"] == "market"
    assert outbox.owner(page) == user["id"]


def test_chromium_finds_the_app_installable(page, browser_context, live_server):
    page.goto(live_server.url + "/app")
    wait_ready(page)
    wait_for_service_worker(page)
    cdp = browser_context.new_cdp_session(page)
    assert cdp.send("Page.getAppManifest")["errors"] == []
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # A Playwright profile is always "incognito"; any other reason would stop a real install.
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []
