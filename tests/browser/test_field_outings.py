"""Outings on the phone: tally mode with undo and a debrief, joining a planned outing, and two
teammates counting one outing offline."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from playwright.sync_api import expect

import outbox
from field_app import end_outing, log_encounter, no_script_errors, open_app, open_outing_menu, wait_ready  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]


def plan_outing(live_server, members: list[dict], format: str) -> str:
    """A coordinator plans an outing for today in zone secteur-6 with these members; its id."""
    coordinator = live_server.make_user("coordinator")
    planned = str(uuid.uuid4())
    with live_server.store.write() as db:
        db["outings"].insert({"id": planned, "format": format, "status": "planned", "zone": "secteur-6",
                              "planned_date": date.today().isoformat(), "created_by": coordinator["id"]})
        db["outing_members"].insert_all([{"outing_id": planned, "user_id": u["id"]} for u in members])
    return planned


def test_outing_tally_with_undo_and_debrief(page, live_server, login):
    open_app(page, live_server, login)
    open_outing_menu(page)
    page.get_by_label("Format", exact=True).select_option("stand")
    page.get_by_role("button", name="Commencer", exact=True).click()
    page.get_by_role("button", name="Comptage", exact=True).click()
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
    end_outing(page, "Beaucoup de passage, bon accueil.")
    outbox.wait_for_sync(page)
    db = live_server.store.db()
    [outing] = list(db.query("select id, status, debrief from outings"))
    assert outing["status"] == "ended" and outing["debrief"] == "Beaucoup de passage, bon accueil."
    tallies = {r["tool"]: r["count"] for r in db.query("select tool, count from outing_tallies")}
    assert tallies.get("petition") == 3 and tallies.get("agora", 0) == 0


def test_joining_a_planned_outing(page, live_server, login):
    user = login(page, live_server, "field")
    planned = plan_outing(live_server, [user], "door_to_door")
    page.goto(live_server.url + "/app")
    wait_ready(page)
    open_outing_menu(page)
    page.locator("#planned-outings").get_by_role("button", name="Rejoindre").click()
    page.wait_for_selector("#outing-current:not([hidden])")
    assert "Porte-à-porte" in page.locator("#outing-summary").inner_text()
    log_encounter(page)
    outbox.wait_for_sync(page)
    db = live_server.store.db()
    assert db["outings"].get(planned)["status"] == "started"
    assert [r["outing_id"] for r in db.query("select outing_id from encounters")] == [planned]


def test_two_teammates_tally_one_planned_outing_offline_and_both_count(browser, live_server, login):
    """Two phones join the same planned outing with no network, each counts at its stand; back
    online the second gets a conflict, sends again by itself, and the outing has both counts."""
    phones = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR", service_workers="block")
        phones.append((context, context.new_page()))
    users = [login(page, live_server, "field") for _, page in phones]
    planned = plan_outing(live_server, users, "stand")
    for (context, page), taps in zip(phones, ({"Pétition": 3}, {"Pétition": 2, "Agora": 1})):
        page.goto(live_server.url + "/app")
        wait_ready(page)
        outbox.wait_for_bootstrap(page)
        context.set_offline(True)
        open_outing_menu(page)
        page.locator("#planned-outings").get_by_role("button", name="Rejoindre").click()
        page.wait_for_selector("#outing-current:not([hidden])")
        page.get_by_role("button", name="Comptage", exact=True).click()
        for tool, n in taps.items():
            for _ in range(n):
                page.locator("#tally-grid").get_by_role("button", name=tool).click()
        expect(page.locator("#tally-grid [data-tool=petition] .tally-count")).to_have_text(str(taps["Pétition"]))
        page.get_by_role("button", name="Retour aux rencontres").click()
    for context, page in phones:
        context.set_offline(False)
        page.get_by_role("button", name="Synchroniser").click()
        outbox.wait_for_nothing_to_fix(page)
    db = live_server.store.db()
    counts = {r["tool"]: r["count"] for r in db.query("select tool, count from outing_tallies where outing_id = ?", [planned])}
    assert counts == {"petition": 5, "agora": 1}
    for context, _ in phones:
        context.close()
