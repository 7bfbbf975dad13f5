"""The field page itself: it works before any script runs, fits 320 px, and is accessible."""

from __future__ import annotations

import pytest

from field_app import no_script_errors, open_app, open_outing_menu  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]


def test_field_pages_are_accessible_and_fit_320px(browser, page, live_server, login, assert_no_serious_axe_violations):
    open_app(page, live_server, login)
    page.locator("#encounter-form").get_by_text("Plus de détails (facultatif)").click()
    page.locator("#encounter-form").get_by_text("La personne souhaite être recontactée").click()
    assert_no_serious_axe_violations(page)
    open_outing_menu(page)
    page.get_by_role("button", name="Commencer", exact=True).click()
    page.get_by_role("button", name="Comptage", exact=True).click()
    assert_no_serious_axe_violations(page)  # tally mode
    page.get_by_role("button", name="Retour aux rencontres").click()
    assert_no_serious_axe_violations(page)  # an outing in progress, the toast shown
    page.locator("#sync-status").click()
    assert_no_serious_axe_violations(page)  # the sync details open
    page.get_by_role("button", name="Terminer", exact=True).click()
    assert_no_serious_axe_violations(page)  # ending: the confirmation

    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-FR", service_workers="block")
    small = context.new_page()
    small.goto(live_server.url + "/app")
    small.wait_for_selector("body[data-ready='1']")
    assert small.evaluate("() => document.documentElement.scrollWidth") <= 320
    for button in small.locator(".outcome-button").all():
        assert button.bounding_box()["height"] >= 44
    assert_no_serious_axe_violations(small)
    context.close()


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
