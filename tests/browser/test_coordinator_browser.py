"""A coordinator at the office, with a real Chromium: accessible pages, the map, and planning an outing
that a field worker then finds on the phone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.coord_factories import add_contact, add_encounter, add_outing, add_report

pytestmark = pytest.mark.browser


@pytest.fixture
def office(browser):
    """A laptop-sized browser profile."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def seed(live_server):
    with live_server.store.write() as db:
        o = add_outing(db, zone="secteur-3", tallies={"petition": 3}, debrief="Bon accueil au marché.")
        today = date.today()
        for i in range(12):
            add_encounter(db, occurred_at=f"{today - timedelta(days=i)}T10:00:00+00:00", zone=f"secteur-{1 + i % 3}",
                          tools=["petition", "agora"][: 1 + i % 2], outing_id=o, lat=45.18 + i / 1000, lon=5.72)
        add_report(db, status="submitted", received_at=f"{today}T09:00:00+00:00", lat=45.19, lon=5.73)
        add_contact(db, contact="habitante@example.org", name="Habitante")


def test_office_pages_have_no_serious_axe_violations(office, live_server, login, assert_no_serious_axe_violations):
    seed(live_server)
    login(office, live_server, "admin")
    pages = ["/coordinator", "/coordinator/encounters", "/coordinator/outings", "/coordinator/planning",
             "/coordinator/followups", "/coordinator/exports", "/coordinator/devices", "/coordinator/audit",
             "/coordinator/privacy", "/coordinator/map", "/admin/users", "/admin/reference", "/coordinator/reports"]
    for path in pages:
        response = office.goto(live_server.url + path)
        assert response.status == 200, path
        assert_no_serious_axe_violations(office)
    # The dashboard links to the triage of worksite reports.
    office.goto(live_server.url + "/coordinator")
    assert office.get_by_role("link", name="Trier les signalements").get_attribute("href") == "/coordinator/reports"


def test_dashboard_charts_need_no_script_and_fit_320px(browser, live_server, login):
    seed(live_server)
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        user = live_server.make_user("coordinator")
        login(page, live_server, user)
        page.goto(live_server.url + "/coordinator")
        assert page.locator("svg.bars").count() >= 4
        assert page.get_by_role("table", name="Personnes touchées par secteur et dispositif").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        context.close()


def test_map_shows_points_without_tiles(office, live_server, login):
    seed(live_server)
    login(office, live_server, "coordinator")
    errors = []
    office.on("pageerror", lambda e: errors.append(str(e)))
    office.goto(live_server.url + "/coordinator/map")
    office.wait_for_selector("path.map-encounters")
    assert office.locator("path.map-encounters").count() == 12
    assert office.locator("path.map-report").count() == 1
    assert office.locator("img.leaflet-tile").count() == 0  # no tile URL configured: plain background
    office.locator("path.map-report").click()
    assert "Signalement de chantier" in office.locator(".leaflet-popup-content").inner_text()
    assert not errors


def test_a_planned_outing_reaches_the_field_workers_phone(office, page, live_server, login):
    worker = live_server.make_user("field")
    with live_server.store.write() as db:
        db["users"].update(worker["id"], {"display_name": "Inès Terrain"})
    login(office, live_server, "coordinator")
    office.goto(live_server.url + "/coordinator/planning")
    new_outing = office.locator("#new-outing")  # the full form (each proposal has its own)
    day = (date.today() + timedelta(days=2)).isoformat()
    new_outing.get_by_label("Secteur").select_option("secteur-5")
    new_outing.get_by_label("Date").fill(day)
    new_outing.get_by_label("Heure de début").fill("14:00")
    new_outing.get_by_label("Heure de fin").fill("16:30")
    new_outing.get_by_label("Lieu de rendez-vous").fill("Devant la halle du marché")
    new_outing.get_by_label("Format").select_option("door_to_door")
    new_outing.get_by_label("Inès Terrain").check()
    new_outing.get_by_role("button", name="Planifier cette sortie").click()
    assert "Sortie planifiée" in office.get_by_role("status").inner_text()
    assert office.get_by_role("cell", name="14:00–16:30", exact=True).is_visible()
    assert office.get_by_role("cell", name="Devant la halle du marché", exact=True).is_visible()

    # On the phone: the worker signs in and opens the field app; bootstrap brings the outing.
    login(page, live_server, worker)
    page.goto(live_server.url + "/app")
    page.wait_for_selector("body[data-ready='1']")
    page.locator("#outing-none > summary").click()
    planned = page.locator("#planned-outings")
    planned.get_by_role("button", name="Rejoindre").wait_for()
    text = planned.inner_text()
    assert "Porte-à-porte" in text and "Secteur 5" in text
    assert "14:00–16:30" in text, "the planned hours reach the phone"
    assert "Rendez-vous : Devant la halle du marché" in text


def test_zone_labels_on_the_map_are_text_never_html(office, live_server, login):
    """A zone name comes from an admin or an imported open-data file: shown as typed, never parsed."""
    seed(live_server)
    with live_server.store.write() as db:
        db.execute("update zones set label_fr = ?, lat = 45.185, lon = 5.725 where code = 'secteur-1'",
                   ['<img src="x" id="pwned">Secteur piégé'])
    login(office, live_server, "coordinator")
    office.goto(live_server.url + "/coordinator/map")
    label = office.locator(".map-zone-label", has_text="Secteur piégé")
    label.wait_for()
    assert '<img src="x" id="pwned">' in label.inner_text()
    assert office.locator("#pwned").count() == 0


def test_an_open_app_gets_a_new_outing_and_a_cancellation_on_sync_without_reload(office, page, live_server, login):
    """Sync is two-way: a coordinator plans one outing and cancels another while the worker's app
    is open; one tap on Sync brings both, with no reload, and the cancellation is said."""
    from outreach.coordinator import planning

    worker = live_server.make_user("field")
    coordinator = live_server.make_user("coordinator")
    day = date.today() + timedelta(days=3)
    with live_server.store.write() as db:
        first = planning.plan(db, planning.validate(db, {"zone": "secteur-2", "planned_date": day.isoformat(),
                                                         "format": "market", "planned_start": "09:00",
                                                         "planned_end": "11:00", "meeting_point": "Place Saint-Bruno"}, [str(worker["id"])], date.today()),
                              coordinator["id"])
    login(page, live_server, worker)
    page.goto(live_server.url + "/app")
    page.wait_for_selector("body[data-ready='1']")
    page.locator("#outing-none > summary").click()
    planned = page.locator("#planned-outings")
    expect(planned.locator(f"li[data-id='{first}']")).to_be_visible()
    page.evaluate("window.__not_reloaded = true")

    login(office, live_server, coordinator)
    office.goto(live_server.url + "/coordinator/planning")
    new_outing = office.locator("#new-outing")  # the full form (each proposal has its own)
    new_outing.get_by_label("Secteur").select_option("secteur-5")
    new_outing.get_by_label("Date").fill(day.isoformat())
    new_outing.get_by_label("Heure de début").fill("14:00")
    new_outing.get_by_label("Heure de fin").fill("16:30")
    new_outing.get_by_label("Lieu de rendez-vous").fill("Devant la halle du marché")
    new_outing.get_by_label("Format").select_option("door_to_door")
    new_outing.get_by_label(worker["display_name"]).check()
    new_outing.get_by_role("button", name="Planifier cette sortie").click()
    office.goto(live_server.url + f"/coordinator/planning/{first}/cancel")
    office.get_by_role("button", name="Oui, annuler cette sortie").click()

    page.locator("#sync-now").click()
    expect(planned.locator(f"li[data-id='{first}']")).to_have_count(0)
    expect(planned).to_contain_text("Porte-à-porte")
    toast = page.locator("#toast")
    expect(toast).to_contain_text("Annulée par la coordination")
    box = toast.bounding_box()
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= page.viewport_size["height"]
    assert page.evaluate("window.__not_reloaded") is True
