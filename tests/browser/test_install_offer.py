"""Installing the app: "Install the app" where the browser offers it (beforeinstallprompt), the way
to do it on an iPhone, and nothing once the app runs installed (display-mode: standalone).

The browser's offer is a synthetic `beforeinstallprompt` event with a stub prompt() and userChoice."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from field_app import no_script_errors, wait_ready  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
          " Version/17.5 Mobile/15E148 Safari/604.1")
IOS_HINT = "Pour l'installer sur un iPhone : Partager, puis Sur l'écran d'accueil."

# What Chromium does when the app may be installed; the test counts the calls to prompt().
OFFER_INSTALL = """() => {
  window.promptCalls = 0;
  const offer = new Event("beforeinstallprompt", {cancelable: true});
  offer.prompt = () => { window.promptCalls += 1; return Promise.resolve(); };
  offer.userChoice = Promise.resolve({outcome: "accepted", platform: "web"});
  window.dispatchEvent(offer);
  return offer.defaultPrevented;
}"""

# The app opened from the home screen: the page matches (display-mode: standalone).
STANDALONE = """
const realMatchMedia = window.matchMedia.bind(window);
window.matchMedia = (query) => query.includes("display-mode: standalone")
  ? {matches: true, media: query, onchange: null, addListener() {}, removeListener() {},
     addEventListener() {}, removeEventListener() {}, dispatchEvent() { return false; }}
  : realMatchMedia(query);
"""


@pytest.fixture
def phone(browser, request):
    def make(user_agent=None, init_script=None):
        options = {"user_agent": user_agent} if user_agent else {}
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                      locale="fr-FR", service_workers="block", **options)
        context.set_default_timeout(10_000)
        request.addfinalizer(context.close)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        return page
    return make


def open_app_panel(page, live_server) -> None:
    page.goto(live_server.url + "/app")
    wait_ready(page)
    page.locator("#sync-status").click()
    expect(page.locator("#sync-panel")).to_be_visible()


def test_the_browsers_offer_shows_install_and_a_tap_prompts(phone, live_server):
    page = phone()
    open_app_panel(page, live_server)
    install = page.get_by_role("button", name="Installer l'application")
    expect(install).to_be_hidden()  # until the browser says the app may be installed
    assert page.evaluate(OFFER_INSTALL) is True  # the app keeps the offer for its own button
    expect(install).to_be_visible()
    expect(page.get_by_text(IOS_HINT)).to_be_hidden()
    install.click()
    assert page.evaluate("() => window.promptCalls") == 1
    expect(install).to_be_hidden()  # an offer is good for one prompt


def test_an_iphone_is_told_how_to_install(phone, live_server):
    page = phone(user_agent=IPHONE)
    open_app_panel(page, live_server)
    expect(page.get_by_text(IOS_HINT)).to_be_visible()
    expect(page.get_by_role("button", name="Installer l'application")).to_be_hidden()


@pytest.mark.parametrize("user_agent", [None, IPHONE], ids=["android", "iphone"])
def test_nothing_is_offered_once_installed(phone, live_server, user_agent):
    page = phone(user_agent=user_agent, init_script=STANDALONE)
    open_app_panel(page, live_server)
    assert page.evaluate("() => matchMedia('(display-mode: standalone)').matches") is True
    page.evaluate(OFFER_INSTALL)
    expect(page.get_by_role("button", name="Installer l'application")).to_be_hidden()
    expect(page.get_by_text(IOS_HINT)).to_be_hidden()
