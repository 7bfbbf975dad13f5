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


def test_a_first_visit_asks_for_nothing_that_is_not_there(browser, live_server):
    """Every first visit asked for /favicon.ico and got a 404 (a console error, and a request
    wasted on a weak network): the pages name the app's icon."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="fr-FR")
    page = context.new_page()
    failed = []
    page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
    page.on("requestfinished", lambda r: failed.append(r.url) if r.response() and r.response().status >= 400 else None)
    try:
        for path in ("/", "/login", "/report", "/worksites"):
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
        assert failed == []
        icon = page.locator('link[rel="icon"]').get_attribute("href")
        assert page.request.get(live_server.url + icon).headers["content-type"] == "image/png"
    finally:
        context.close()
