"""The field app fits the street: on a 360 × 740 and a 320 × 640 phone, the encounter's three
taps are on the first screen whatever the outing's state, nothing moves while the page loads,
and tally mode shows every tool at once. (SCREENSHOTS=dir keeps a picture of each state.)"""

from __future__ import annotations

import os
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

import outbox
from field_app import log_encounter, no_script_errors, open_app, wait_for_service_worker, wait_ready  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]

SIZES = [pytest.param((360, 740), id="360x740"), pytest.param((320, 640), id="320x640")]

# Every layout-shift entry, from the first paint on (added before any page script runs).
CLS_OBSERVER = """
window.__shifts = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__shifts.push(e.value); })
  .observe({ type: "layout-shift", buffered: true });
"""


def plan_outings(live_server, user: dict, days: list[int]) -> list[str]:
    """Outings planned by a coordinator for this worker, `days` from today."""
    coordinator = live_server.make_user("coordinator")
    ids = []
    with live_server.store.write() as db:
        for n, day in enumerate(days):
            oid = str(uuid.uuid4())
            db["outings"].insert({"id": oid, "format": "market", "status": "planned", "zone": f"secteur-{n + 1}",
                                  "planned_date": (date.today() + timedelta(days=day)).isoformat(),
                                  "created_by": coordinator["id"]})
            db["outing_members"].insert({"outing_id": oid, "user_id": user["id"]})
            ids.append(oid)
    return ids


def shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        size = page.viewport_size
        page.screenshot(path=os.path.join(folder, f"{name}-{size['width']}x{size['height']}.png"))


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] \
        and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]


def first_outcome(page):
    return page.locator(".outcome-button").first


def all_quick_entry_visible(page) -> bool:
    """Zone chip, every place, every tool and every outcome button inside the first screen."""
    controls = page.locator("#encounter-zone, .place-grid .toggle span, #tool-toggles .toggle span, .outcome-button")
    return all(in_viewport(page, controls.nth(i)) for i in range(controls.count()))


@pytest.fixture
def phone(browser, request):
    def make(size):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, is_mobile=True, has_touch=True,
                                      locale="fr-FR")
        context.set_default_timeout(10_000)
        request.addfinalizer(context.close)
        return context.new_page()
    return make


@pytest.mark.parametrize("size", SIZES)
def test_no_outing_the_three_taps_are_on_the_first_screen(phone, live_server, login, size):
    page = phone(size)
    open_app(page, live_server, login)
    shoot(page, "no-outing")
    assert in_viewport(page, first_outcome(page))
    if size == (360, 740):
        assert all_quick_entry_visible(page)


# Controls whose text is wider than their box (it spills over the border, or is cut off).
SPILLING = """() => [...document.querySelectorAll('button, .toggle span, .chip, a.button, .sync-line > span:not(.sync-time)')]
  .filter((e) => e.offsetParent && e.scrollWidth > e.clientWidth + 1)
  .map((e) => `"${e.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40)}" ${e.scrollWidth} px in ${e.clientWidth}`)"""


@pytest.mark.parametrize("size", SIZES)
def test_no_label_spills_out_of_its_button(phone, live_server, login, size):
    """At 320 px "Pied d'immeuble", "Événement" and "Commerce" ran over their buttons' borders and
    the header's "0 saisie en attente" lost its last letters (Chromium here has no French
    hyphenation dictionary: a phone that has one breaks the words at a hyphen instead)."""
    page = phone(size)
    open_app(page, live_server, login)
    assert page.evaluate(SPILLING) == []
    page.context.set_offline(True)  # "10 saisies en attente": the widest the header says
    for _ in range(10):
        log_encounter(page, tools=())
    expect(page.locator("#pending-count")).to_have_text("10")
    assert page.evaluate(SPILLING) == []


@pytest.mark.parametrize("size", SIZES)
def test_four_planned_outings_fold_into_one_line(phone, live_server, login, size):
    page = phone(size)
    user = login(page, live_server, "field")
    plan_outings(live_server, user, [0, 1, 2, 3])
    page.goto(live_server.url + "/app")
    wait_ready(page)
    wait_for_service_worker(page)
    outbox.wait_for_bootstrap(page)
    expect(page.locator("#outing-none-text")).to_have_text("Pas de sortie en cours · 4 prévues")
    assert in_viewport(page, first_outcome(page))
    if size == (360, 740):
        assert all_quick_entry_visible(page)
    shoot(page, "four-planned")
    page.locator("#outing-none > summary").click()
    expect(page.locator("#planned-outings li")).to_have_count(4)
    shoot(page, "planned-open")


@pytest.mark.parametrize("size", SIZES)
def test_outing_in_progress_keeps_the_three_taps_on_the_first_screen(phone, live_server, login, size):
    page = phone(size)
    open_app(page, live_server, login)
    page.locator("#outing-none > summary").click()
    page.get_by_role("button", name="Commencer", exact=True).click()
    toast = page.locator("#toast")
    expect(toast).to_contain_text("Sortie commencée")
    shoot(page, "outing-toast")
    assert in_viewport(page, toast), (toast.bounding_box(), page.viewport_size)
    assert in_viewport(page, first_outcome(page))
    if size == (360, 740):
        assert all_quick_entry_visible(page)
    shoot(page, "outing")


@pytest.mark.parametrize("size", SIZES)
def test_tally_mode_shows_every_tool_without_scrolling(phone, live_server, login, size):
    page = phone(size)
    open_app(page, live_server, login)
    page.locator("#outing-none > summary").click()
    page.get_by_role("button", name="Commencer", exact=True).click()
    page.get_by_role("button", name="Comptage", exact=True).click()
    buttons = page.locator("#tally-grid .tally-button")
    expect(buttons).to_have_count(9)
    shoot(page, "tally")
    for i in range(9):  # waits for the panel to settle (a loaded machine draws it late)
        expect(buttons.nth(i)).to_be_in_viewport(ratio=1)
    assert in_viewport(page, page.get_by_role("button", name="Annuler le dernier"))
    # Two columns, even at 320 px.
    assert len({round(buttons.nth(i).bounding_box()["x"]) for i in range(9)}) == 2
    buttons.nth(0).click()
    expect(buttons.nth(0).locator(".tally-count")).to_have_text("1")
    shoot(page, "tally")


@pytest.mark.parametrize("size", SIZES)
def test_the_saved_toast_is_on_screen_and_undo_takes_the_entry_back(phone, live_server, login, size):
    page = phone(size)
    open_app(page, live_server, login)
    page.locator("#tool-toggles").get_by_text("Pétition", exact=True).click()
    first_outcome(page).click()
    toast = page.locator("#toast")
    expect(toast).to_contain_text("Rencontre enregistrée")
    assert in_viewport(page, toast)
    assert page.evaluate("window.scrollY") == 0
    shoot(page, "toast")
    assert len(outbox.entries(page)) == 1
    toast.get_by_role("button", name="Annuler").click()
    outbox.wait_for(page, "(await outbox.list()).length === 0", what="the entry taken back")
    expect(toast).to_contain_text("Rencontre supprimée")


@pytest.mark.parametrize("size", SIZES)
def test_consent_error_and_follow_up_are_on_screen(phone, live_server, login, size):
    page = phone(size)
    open_app(page, live_server, login)
    page.get_by_text("Plus de détails").click()
    page.get_by_text("La personne souhaite être recontactée").click()
    shoot(page, "follow-up")
    first_outcome(page).click()
    toast = page.locator("#toast")
    expect(toast).to_contain_text("consentement")
    assert in_viewport(page, toast)
    assert page.evaluate("document.activeElement.id") == "consent"


@pytest.mark.parametrize("online", [True, False], ids=["online", "offline"])
def test_app_loads_without_layout_shift(page, live_server, login, online):
    open_app(page, live_server, login)
    page.add_init_script(CLS_OBSERVER)
    page.context.set_offline(not online)
    page.reload()
    wait_ready(page)
    if online:
        page.wait_for_load_state("networkidle")  # bootstrap fetched and applied
    shifts = page.evaluate("window.__shifts")
    page.context.set_offline(False)
    assert sum(shifts) <= 0.05, shifts
