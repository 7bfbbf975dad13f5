"""Pages opened with no network: a resident's last tracking page reads offline with the time of its
copy, and any page the phone does not keep shows "you are offline" with the pages that do open.

The service worker keeps one tracking page (the last opened): these tests open pages online, go
offline with ``context.set_offline`` and open them again. (SCREENSHOTS=dir keeps a picture of each.)
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

import outbox
from field_app import log_encounter, no_script_errors, open_app, wait_for_service_worker, wait_ready  # noqa: F401
from outreach.views import public as public_views
from outreach.web import ApiError
from outreach.worksites import public
from tests.coord_factories import add_report

pytestmark = pytest.mark.browser

LAST_TRACK = "outreach-last-track"
OFFLINE_NOTE = "Pas de réseau\u00a0: voici la dernière copie gardée sur ce téléphone."
SIZES = [pytest.param((360, 740), id="360x740"), pytest.param((320, 640), id="320x640")]


class LaterClock(datetime):
    """The server's clock on 2 January 2030 at 8:30 UTC (9:30 in Paris)."""

    @classmethod
    def now(cls, tz=None):
        return datetime(2030, 1, 2, 8, 30, tzinfo=timezone.utc).astimezone(tz)


class FrozenClock(datetime):
    """The server's clock stopped when the test starts: the page kept on a first visit is fetched
    a second time by the service worker, and a minute may turn in between."""

    at = datetime.now(timezone.utc)

    @classmethod
    def now(cls, tz=None):
        return cls.at.astimezone(tz)


def tracked_report(live_server, title: str, status: str = "submitted") -> tuple[str, str]:
    """A resident's report received just now: (its id, the path of its private tracking page)."""
    with live_server.store.write() as db:
        rid = add_report(db, title=title, status=status,
                         received_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    return rid, "/track/" + public.tracking_token(live_server.app.state.signer, rid)


def kept_tracking_pages(page) -> list[str]:
    """The paths the service worker keeps in its last-tracking-page cache ([] when it has none)."""
    return page.evaluate(
        """async (name) => {
             if (!(await caches.has(name))) return [];
             const cache = await caches.open(name);
             return (await cache.keys()).map((r) => new URL(r.url).pathname);
           }""",
        LAST_TRACK,
    )


def wait_until_kept(page, path: str) -> None:
    """Wait until the service worker keeps `path`, and nothing else, as the last tracking page."""
    outbox.wait_for(
        page,
        "(async () => { if (!(await caches.has('%s'))) return false; const keys = await (await caches.open('%s')).keys();"
        " return keys.length === 1 && new URL(keys[0].url).pathname === arg; })()" % (LAST_TRACK, LAST_TRACK),
        path, what=f"{path} kept as the last tracking page",
    )


def shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        size = page.viewport_size
        page.screenshot(path=os.path.join(folder, f"{name}-{size['width']}x{size['height']}.png"), full_page=True)


@pytest.fixture
def phone(browser, request):
    """A phone of this size, with its own profile (service worker, caches)."""
    def make(size=(360, 740), locale="fr-FR"):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True, locale=locale)
        context.set_default_timeout(10_000)
        request.addfinalizer(context.close)
        return context.new_page()
    return make


def test_the_last_tracking_page_reads_offline_with_the_time_of_its_copy(page, browser_context, live_server,
                                                                        no_script_errors, monkeypatch):
    # The team asked the resident a question: online, the page has a form to answer it.
    _, track = tracked_report(live_server, "Repeindre le mur de l'école", status="needs_info")
    monkeypatch.setattr(public_views, "datetime", FrozenClock)
    answer = page.get_by_role("button", name="Envoyer ma réponse")
    # A link opened from a message: the phone's first visit. The page installs the service worker
    # and hands it this page to keep.
    page.goto(live_server.url + track)
    fresh = page.locator(".track-fresh").inner_text()
    assert re.fullmatch(r"Mis à jour le \d{1,2} \S+ \d{4} à \d{1,2} h \d{2}", fresh), fresh
    expect(page.locator(".offline-note")).to_be_hidden()
    expect(answer).to_be_visible()
    wait_until_kept(page, track)

    # From now on the server would write another time: the offline page must not show it.
    monkeypatch.setattr(public_views, "datetime", LaterClock)
    browser_context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="Repeindre le mur de l'école")).to_be_visible()
    expect(page.locator(".offline-note")).to_have_text(OFFLINE_NOTE)
    # The time the copy was made (written by the server then), not the time it is read.
    expect(page.locator(".track-fresh")).to_have_text(fresh)
    expect(answer).to_be_hidden()  # it could not be sent from here
    # The page's look comes from the phone too.
    assert page.locator("header.site-header").evaluate("(h) => getComputedStyle(h).backgroundColor") != "rgba(0, 0, 0, 0)"

    # Back online: a fresh page, which becomes the copy read offline next time.
    browser_context.set_offline(False)
    page.reload()
    expect(page.locator(".track-fresh")).to_have_text("Mis à jour le 2 janv. 2030 à 9 h 30")
    expect(page.locator(".offline-note")).to_be_hidden()
    browser_context.set_offline(True)
    page.reload()
    expect(page.locator(".offline-note")).to_have_text(OFFLINE_NOTE)
    expect(page.locator(".track-fresh")).to_have_text("Mis à jour le 2 janv. 2030 à 9 h 30")


def test_only_the_last_tracking_page_is_kept_and_never_shown_for_another(page, browser_context, live_server,
                                                                         no_script_errors):
    _, first = tracked_report(live_server, "Banc du square à réparer")
    _, second = tracked_report(live_server, "Bac à fleurs devant l'école")
    page.goto(live_server.url + first)
    wait_until_kept(page, first)
    wait_for_service_worker(page)
    # Opened through the service worker now: the second page replaces the first.
    page.goto(live_server.url + second)
    wait_until_kept(page, second)

    browser_context.set_offline(True)
    page.goto(live_server.url + second)
    expect(page.get_by_role("heading", name="Bac à fleurs devant l'école")).to_be_visible()
    page.goto(live_server.url + first)
    expect(page.get_by_role("heading", name="Vous êtes hors ligne")).to_be_visible()
    assert "Banc du square" not in page.content()


def test_an_error_answer_never_becomes_the_last_copy(page, browser_context, live_server, monkeypatch):
    rid, track = tracked_report(live_server, "Fresque du passage")
    page.goto(live_server.url + track)
    wait_until_kept(page, track)
    wait_for_service_worker(page)

    # A link that opens nothing (404) leaves the kept page alone.
    page.goto(live_server.url + "/track/not-a-token")
    expect(page.get_by_role("heading", name="Cette page n'existe pas (ou plus).")).to_be_visible()
    assert kept_tracking_pages(page) == [track]

    # The server fails (5xx): the phone shows the copy it has, and keeps it as it was.
    real_view = public.public_view

    def broken(db, report_id):
        raise ApiError(503, "maintenance")

    monkeypatch.setattr(public, "public_view", broken)
    page.goto(live_server.url + track)
    expect(page.locator(".offline-note")).to_have_text(OFFLINE_NOTE)
    expect(page.get_by_role("heading", name="Fresque du passage")).to_be_visible()
    assert kept_tracking_pages(page) == [track]

    # The report is gone (a 404 for this very page: erased on the resident's request): so is its copy.
    monkeypatch.setattr(public, "public_view", lambda db, report_id: None if report_id == rid else real_view(db, report_id))
    page.goto(live_server.url + track)
    expect(page.get_by_role("heading", name="Cette page n'existe pas (ou plus).")).to_be_visible()
    assert kept_tracking_pages(page) == []
    browser_context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="Vous êtes hors ligne")).to_be_visible()


def test_a_page_the_phone_does_not_keep_opens_as_the_offline_page_whose_links_work(page, browser_context, live_server,
                                                                                   login, no_script_errors):
    open_app(page, live_server, login)
    browser_context.set_offline(True)
    page.goto(live_server.url + "/worksites")
    expect(page.get_by_role("heading", name="Vous êtes hors ligne")).to_be_visible()
    assert page.url == live_server.url + "/worksites"  # "Réessayer" opens this address again

    page.get_by_role("link", name="Ouvrir l'application terrain").click()
    wait_ready(page)
    log_encounter(page)  # the app works offline: the encounter waits in the outbox
    assert outbox.states(page) == ["waiting"]

    page.goto(live_server.url + "/coordinator")
    page.get_by_role("link", name="Signaler un chantier").click()
    expect(page.get_by_role("heading", name="Signaler un petit chantier")).to_be_visible()


def test_the_offline_page_speaks_the_browsers_language(phone, live_server):
    page = phone(locale="en-GB")
    page.goto(live_server.url + "/report")
    wait_for_service_worker(page)
    page.context.set_offline(True)
    page.goto(live_server.url + "/worksites")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page.get_by_role("link", name="Open the field app")).to_be_visible()


# The language (Content-Language) of the service worker's kept copy of a path, or null.
KEPT_LANGUAGE = """async (path) => {
  for (const name of await caches.keys()) {
    if (!name.startsWith('outreach-precache-')) continue;
    const hit = await (await caches.open(name)).match(path);
    if (hit) return hit.headers.get('Content-Language');
  }
  return null;
}"""


def kept_language(page, path: str) -> str | None:
    """The language (Content-Language) of the service worker's kept copy of `path`, or None."""
    return page.evaluate(KEPT_LANGUAGE, path)


def test_the_kept_pages_follow_the_language_the_worker_chose_not_the_phones(phone, live_server, login, tmp_path,
                                                                         monkeypatch):
    """A phone set to English, a worker who reads French: offline, the app stayed in English
    (its pages were kept in the browser's language). They follow the choice, through a new
    release of the app, and the next choice."""
    from outreach.views import field

    page = phone(locale="en-GB")
    page.context.add_cookies([{"name": "outreach_lang", "value": "fr", "url": live_server.url}])
    open_app(page, live_server, login)
    assert page.locator("html").get_attribute("lang") == "fr"
    # (The pages are fetched again one after another, /offline last.)
    outbox.wait_for(page, "(async () => (await (%s)(arg)) === 'fr')()" % KEPT_LANGUAGE, "/offline",
                    what="the kept /offline in French")
    assert kept_language(page, "/app") == "fr" and kept_language(page, "/report") == "fr"
    page.context.set_offline(True)
    page.goto(live_server.url + "/app")
    wait_ready(page)
    assert page.locator("html").get_attribute("lang") == "fr"
    page.goto(live_server.url + "/worksites")
    expect(page.get_by_role("heading", name="Vous êtes hors ligne")).to_be_visible()

    # A new release installs beside the running one: it keeps its pages in French from the start.
    page.context.set_offline(False)
    newer = tmp_path / "sw.js"
    newer.write_text(field.SW_SOURCE.read_text(encoding="utf-8") + "\n// release 2\n", encoding="utf-8")
    monkeypatch.setattr(field, "SW_SOURCE", newer)
    page.goto(live_server.url + "/app")
    wait_ready(page)
    page.evaluate("async () => { await window.outreachServiceWorker.update(); }")
    page.locator("#update-banner").wait_for(state="visible")
    assert page.evaluate("""async () => Promise.all((await caches.keys()).filter((n) => n.startsWith('outreach-precache-'))
        .map(async (n) => (await (await caches.open(n)).match('/app')).headers.get('Content-Language')))""") == ["fr", "fr"]
    with page.expect_navigation():
        page.get_by_role("button", name="Recharger").click()
    wait_ready(page)

    # The worker switches to English: the kept pages follow.
    page.goto(live_server.url + "/lang/en?next=/app")
    wait_ready(page)
    assert page.locator("html").get_attribute("lang") == "en"
    outbox.wait_for(page, "(async () => (await (%s)(arg)) === 'en')()" % KEPT_LANGUAGE, "/offline",
                    what="the kept /offline in English")
    page.context.set_offline(True)
    page.goto(live_server.url + "/worksites")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()


def test_a_page_loaded_past_the_service_worker_is_taken_at_once(phone, live_server, login):
    """A page whose load began while the worker was still installing, or a forced reload (which
    skips the worker), was not controlled until the next page: offline, it was lost. It asks the
    worker to take it, and opens offline at once."""
    page = phone()
    open_app(page, live_server, login)
    cdp = page.context.new_cdp_session(page)
    with page.expect_navigation():
        cdp.send("Page.reload", {"ignoreCache": True})  # what a forced reload (Ctrl+Shift+R) does
    wait_ready(page)
    wait_for_service_worker(page)  # taken without another load
    page.context.set_offline(True)
    page.reload()
    wait_ready(page)
    expect(page.locator("#encounter-form")).to_be_attached()


# Every kept copy, by cache: {cache name: {path: Content-Language}}.
KEPT = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    out[name] = {};
    for (const request of await cache.keys()) {
      out[name][new URL(request.url).pathname + new URL(request.url).search] =
        (await cache.match(request)).headers.get('Content-Language');
    }
  }
  return out;
}"""

HOSTILE_MESSAGES = [
    {"type": "language", "language": "<script>alert(1)</script>"}, {"type": "language", "language": "../fr"},
    {"type": "language", "language": "fr\nX-Evil: 1"}, {"type": "language", "language": "FR"},
    {"type": "language", "language": "fr-FR"}, {"type": "language", "language": "f" * 10_000},
    {"type": "language", "language": 42}, {"type": "language", "language": ["fr"]},
    {"type": "language", "language": {"toString": "fr"}}, {"type": "language"}, {"type": "language", "language": None},
    {"type": "language", "language": "xx"},  # well formed, but no language the server speaks
    {"type": "keep-track", "path": "/admin/users"}, {"type": "keep-track", "path": "/track/a/../../admin/users"},
    {"type": "keep-track", "path": "https://evil.example/track/x"}, {"type": "keep-track", "path": ["/track/x"]},
    {"type": "keep-track", "path": "/track/not-a-token"},
    {"type": "claim", "path": "/admin/users"}, {"type": "claim", "language": "fr"},  # claims, and nothing else
    {"type": "skip-waiting-now"}, {"type": None}, "language", 12, None, [],
]


def test_hostile_messages_to_the_service_worker_change_nothing_it_keeps(phone, live_server):
    """Any script of the site's origin can post to the service worker: a language that is not a
    plain code, a path that is not a tracking page, any other value, and nothing kept changes."""
    page = phone(locale="en-GB")
    page.goto(live_server.url + "/report")
    wait_for_service_worker(page)
    outbox.wait_for(page, "(async () => (await (%s)(arg)) === 'en')()" % KEPT_LANGUAGE, "/offline",
                    what="the kept /offline")
    before = page.evaluate(KEPT)
    assert any("/app" in kept for kept in before.values())
    answer = page.evaluate("""async (messages) => {
        const worker = (await navigator.serviceWorker.ready).active;
        for (const message of messages) worker.postMessage(message);
        // Messages arrive in order: once the worker answers this one, it has seen every other.
        const channel = new MessageChannel();
        const version = new Promise((resolve) => { channel.port1.onmessage = (e) => resolve(e.data); });
        worker.postMessage({ type: "version" }, [channel.port2]);
        return await version;
    }""", HOSTILE_MESSAGES)
    assert answer  # the worker's version: it is alive and answering
    page.wait_for_timeout(1000)  # anything a message started (a fetch, a write) has had time to land
    after = page.evaluate(KEPT)
    changed = {(name, path, before.get(name, {}).get(path), after.get(name, {}).get(path))
               for name in set(before) | set(after) for path in set(before.get(name, {})) | set(after.get(name, {}))
               if before.get(name, {}).get(path, "-") != after.get(name, {}).get(path, "-")}
    assert after == before, changed
    page.context.set_offline(True)
    page.goto(live_server.url + "/worksites")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
def test_offline_pages_are_accessible_and_fit_the_screen(phone, live_server, size, assert_no_serious_axe_violations):
    page = phone(size)
    _, track = tracked_report(live_server, "Réparer la fontaine de la place Notre-Dame et ses abords")
    page.goto(live_server.url + track)
    wait_until_kept(page, track)
    page.context.set_offline(True)
    page.reload()
    expect(page.locator(".offline-note")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= size[0]
    assert_no_serious_axe_violations(page)
    shoot(page, "offline-track")

    page.goto(live_server.url + "/worksites")
    expect(page.get_by_role("heading", name="Vous êtes hors ligne")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= size[0]
    assert_no_serious_axe_violations(page)
    shoot(page, "offline-page")
    # Every link is a thumb-sized target.
    for link in page.locator("main a").all():
        assert link.bounding_box()["height"] >= 44, link.inner_text()


def test_office_pages_pass_through_and_are_never_kept(page, browser_context, live_server, login, no_script_errors):
    login(page, live_server, "coordinator")
    page.goto(live_server.url + "/app")
    wait_for_service_worker(page)
    page.goto(live_server.url + "/coordinator")  # through the service worker, from the network
    expect(page.get_by_role("heading", name="Vue d'ensemble de la couverture")).to_be_visible()
    kept = page.evaluate("""async () => {
      const urls = [];
      for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(r.url);
      return urls; }""")
    assert kept and not [url for url in kept if "/coordinator" in url]

    browser_context.set_offline(True)
    page.goto(live_server.url + "/coordinator")
    expect(page.get_by_role("heading", name="Vous êtes hors ligne")).to_be_visible()
    assert "couverture" not in page.content()
