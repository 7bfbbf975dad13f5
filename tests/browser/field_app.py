"""The field app as its browser tests drive it: open it, log an encounter, sign in, count rows on the server."""

from __future__ import annotations

import pytest

import outbox


@pytest.fixture
def no_script_errors(page):
    """The test also checks that the page threw no uncaught error."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield
    assert not errors, errors


@pytest.fixture
def plain_page(browser):
    """A phone-sized page with no service worker: page.route() sees every request it makes.

    (Requests of a page controlled by a service worker bypass page.route in Playwright.)
    """
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="fr-FR", service_workers="block")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def wait_ready(page) -> None:
    page.wait_for_selector("body[data-ready='1']")


def wait_for_service_worker(page) -> None:
    """The service worker has installed and controls the page: the app now opens offline.
    Installing fetches the whole precache first: on a loaded 2-core machine that has taken over
    the 10 s every other wait gets, so this one waits up to 30 s."""
    try:
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)
    except Exception as exc:
        state = page.evaluate("""async () => {
          const reg = await navigator.serviceWorker.getRegistration();
          if (!reg) return "no registration";
          return ["installing", "waiting", "active"].map((k) => `${k}: ${reg[k] ? reg[k].state : "-"}`).join(", ");
        }""")
        raise AssertionError(f"the service worker never took the page ({state})") from exc


def open_app(page, live_server, login, who="field") -> dict:
    """Sign in, open /app, and wait until it works offline (service worker and bootstrap kept)."""
    user = login(page, live_server, who)
    page.goto(live_server.url + "/app")
    wait_ready(page)
    wait_for_service_worker(page)
    outbox.wait_for_bootstrap(page)
    return user


def open_plain_app(page, live_server, login) -> dict:
    """Sign in and open /app on a page without service worker (see `plain_page`)."""
    user = login(page, live_server, "field")
    page.goto(live_server.url + "/app")
    wait_ready(page)
    outbox.wait_for_bootstrap(page)
    return user


def log_encounter(page, tools=("Pétition",), outcome="Vraie discussion") -> None:
    """Tap the tools, then the outcome (which saves); wait until the entry is in the outbox."""
    form = page.locator("#encounter-form")
    for tool in tools:
        form.locator("#tool-toggles").get_by_text(tool, exact=True).click()
    before = len(outbox.entries(page))
    form.get_by_role("button", name=outcome).click()
    outbox.wait_for_more_entries(page, before)


def sign_in_again(page, user: dict, password: str = "secret-pass-123") -> None:
    """Fill the app's own sign-in card (shown when the session is gone) and wait until it closes."""
    signin = page.locator("#signin")
    signin.wait_for(state="visible")
    signin.get_by_label("E-mail").fill(user["email"])
    signin.get_by_label("Mot de passe").fill(password)
    signin.get_by_role("button", name="Se connecter").click()
    signin.wait_for(state="hidden")


def server_count(live_server, table: str) -> int:
    return live_server.store.db()[table].count


def open_outing_menu(page) -> None:
    """Unfold the outing line (planned outings, "Start an outing") when no outing is in progress."""
    if not page.locator("#outing-none").evaluate("(d) => d.open"):
        page.locator("#outing-none > summary").click()


def end_outing(page, debrief: str = "") -> None:
    """Tap "End", write the debrief in the confirmation, and confirm."""
    page.get_by_role("button", name="Terminer", exact=True).click()
    dialog = page.get_by_role("dialog")
    if debrief:
        dialog.get_by_label("Bilan (facultatif)").fill(debrief)
    dialog.get_by_role("button", name="Terminer la sortie").click()
