"""A person signs in with a real browser."""

import pytest

pytestmark = pytest.mark.browser


def test_sign_in_page_is_french_accessible_and_works(page, live_server, assert_no_serious_axe_violations):
    user = live_server.make_user("coordinator")
    page.goto(live_server.url + "/login")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Se connecter").is_visible()
    assert_no_serious_axe_violations(page)
    page.get_by_label("Adresse e-mail").fill(user["email"])
    page.get_by_label("Mot de passe").fill("wrong-password")
    page.get_by_role("button", name="Se connecter").click()
    assert page.get_by_role("alert").inner_text() == "Adresse e-mail ou mot de passe incorrect."
    page.get_by_label("Mot de passe").fill("secret-pass-123")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Se déconnecter").is_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["outreach_session"]["httpOnly"] is True


def test_sign_in_page_fits_a_320px_screen(browser, live_server):
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="fr-FR")
    page = context.new_page()
    page.goto(live_server.url + "/login")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320
    button = page.get_by_role("button", name="Se connecter").bounding_box()
    assert button["height"] >= 44
    context.close()
