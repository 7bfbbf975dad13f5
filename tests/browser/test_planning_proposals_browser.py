"""A coordinator plans the least-reached zone with one click on its proposal, at the office (1280 px)
and on a phone (360 px): the confirmation is in view when the page comes back."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from outreach import localtime
from tests.browser.test_field_screen import in_viewport
from tests.coord_factories import add_outing

pytestmark = pytest.mark.browser


def screenshot(page, name: str, full_page: bool = False) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        size = page.viewport_size
        page.screenshot(path=os.path.join(folder, f"{name}-{size['width']}x{size['height']}.png"), full_page=full_page)


@pytest.mark.parametrize("width, height", [(1280, 900), (360, 740)])
def test_a_proposal_is_planned_with_one_click_and_the_confirmation_is_in_view(browser, live_server, login, width, height):
    worker = live_server.make_user("field")
    today = localtime.today(localtime.zone("Europe/Paris"))
    with live_server.store.write() as db:
        # The team's past outings in each sector give the proposals their usual plan.
        for n in range(1, 7):
            past = add_outing(db, zone=f"secteur-{n}", status="planned", planned_date=(today - timedelta(days=n)).isoformat(),
                              members=[worker["id"]])
            db["outings"].update(past, {"planned_start": "14:00", "planned_end": "16:30", "meeting_point": f"Place {n}"})
        before = db["outings"].count
    context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login(page, live_server, "coordinator")
        page.goto(live_server.url + "/coordinator/planning")
        screenshot(page, "planning", full_page=True)
        first = page.locator("li.proposal").first
        zone = first.get_attribute("id").removeprefix("proposal-")
        first.get_by_role("button", name="Planifier cette sortie").click()
        page.wait_for_url("**/coordinator/planning?done=planned*")
        confirmation = page.locator("#planned-confirmation")
        expect(confirmation).to_be_in_viewport(ratio=1)
        assert in_viewport(page, confirmation)
        assert "Sortie planifiée" in confirmation.inner_text() and "14:00–16:30" in confirmation.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, "planning-planned")
        db = live_server.store.db()
        assert db["outings"].count == before + 1
        assert db["outings"].count_where("zone = ? and plan_key is not null", [zone]) == 1
        assert page.locator("tr.just-planned").count() == 1
    finally:
        context.close()
