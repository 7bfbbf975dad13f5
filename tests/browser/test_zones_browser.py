"""Zones as places in a real Chromium: the phone finds the zone of its position offline, and the
coordinator's map draws the zone polygons with no tiles."""

from __future__ import annotations

import pytest

import outbox
from field_app import wait_for_service_worker, wait_ready
from outreach import demo

pytestmark = pytest.mark.browser

SECTEUR_5 = {"latitude": 45.1691, "longitude": 5.7472}  # Teisseire, inside the demo's sector 5


@pytest.fixture
def zoned_server(live_server):
    with live_server.store.write() as db:
        demo.seed_zones(db)
    return live_server


def test_the_phone_gives_the_zone_of_its_position_offline(browser, zoned_server, login, tmp_path):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="fr-FR", service_workers="allow", permissions=["geolocation"],
                                  geolocation=SECTEUR_5)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login(page, zoned_server, "field")
        page.goto(zoned_server.url + "/app")
        wait_ready(page)
        wait_for_service_worker(page)
        assert set(outbox.wait_for_bootstrap(page)["zone_outlines"]) >= {"secteur-1", "secteur-5"}
        context.set_offline(True)
        page.reload()
        wait_ready(page)
        form = page.locator("#encounter-form")
        if not form.locator("#locate").is_visible():
            form.locator("details > summary").first.click()
        form.locator("#locate").click()
        page.wait_for_function("() => document.getElementById('encounter-zone').value === 'secteur-5'")
        form.locator("#tool-toggles").get_by_text("Pétition", exact=True).click()
        form.get_by_role("button", name="Vraie discussion").click()
        item = outbox.wait_for_entries(page, 1)[0]
        assert item["data"]["zone"] == "secteur-5" and item["data"]["location"]["lat"] == 45.169
        page.screenshot(path=str(tmp_path / "phone-zone.png"))
    finally:
        context.close()


def test_zone_geometry_on_the_phone_matches_the_server(page, zoned_server, login):
    from outreach.zones import locate

    login(page, zoned_server, "field")
    page.goto(zoned_server.url + "/app")
    wait_ready(page)
    outlines = page.evaluate("async () => (await (await fetch('/api/v1/bootstrap')).json()).zone_outlines")
    db = zoned_server.store.db()
    # Inside each sector, on the border of 1 and 2 (lon 5.72), at a corner shared by four, and outside the city.
    points = [(45.19, 5.70), (45.19, 5.73), (45.175, 5.70), (45.175, 5.73), (45.16, 5.75), (45.155, 5.70),
              (45.19, 5.72), (45.183, 5.72), (45.3, 5.9)]
    for lat, lon in points:
        phone = page.evaluate("async ([o, lat, lon]) => (await import('/static/js/zones.js')).zoneAt(o, lat, lon)",
                              [outlines, lat, lon])
        assert phone == locate.zone_at(db, lat, lon), (lat, lon)


def test_the_map_page_draws_zone_polygons_with_no_tiles(browser, zoned_server, login, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    try:
        login(page, zoned_server, "coordinator")
        page.route("**/*tile*", lambda route: route.abort())  # no tile server reachable
        page.goto(zoned_server.url + "/coordinator/map")
        shapes = page.locator("svg.choro path")
        assert shapes.count() == 6
        for i in range(6):
            box = shapes.nth(i).bounding_box()
            assert box and box["width"] > 20 and box["height"] > 20
        assert page.locator("table.reach-table tbody tr").count() == 6
        page.screenshot(path=str(tmp_path / "map-zones.png"), full_page=True)
        page.set_viewport_size({"width": 360, "height": 740})
        page.goto(zoned_server.url + "/coordinator")
        assert page.locator("svg.choro path").count() == 6
        page.screenshot(path=str(tmp_path / "dashboard-360.png"), full_page=True)
    finally:
        context.close()
