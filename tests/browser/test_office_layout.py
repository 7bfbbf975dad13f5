"""Every coordinator and admin page reads cleanly at 1024 and 1280 px: nothing is cut off.

The walk takes every office page from the route table (GET, no path parameter, allowed to
coordinators or admins) plus one page of each kind with an id, fills the database with long
French labels and wide tables, and fails on any element whose content is clipped without a
scroll container: content hidden by ``overflow: hidden/clip``, content sticking out of the page
while no ancestor scrolls sideways, or an SVG chart label starting outside its chart.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from outreach.access import ADMIN, OFFICE
from tests.coord_factories import add_contact, add_encounter, add_outing, add_report

pytestmark = pytest.mark.browser

CLIPPED = """() => {
  const out = [];
  const vw = document.documentElement.clientWidth;
  const hiddenByDesign = (el) => el.closest('.visually-hidden, [hidden], .skip-link, .leaflet-container, noscript');
  const scrollsSideways = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  for (const el of document.querySelectorAll('body *')) {
    // Text fields scroll their own text as one types: not clipped content.
    if (hiddenByDesign(el) || el.matches('input, textarea, select, option')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    const style = getComputedStyle(el);
    if (['hidden', 'clip'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1 && !(el instanceof SVGElement))
      out.push('content cut by overflow:' + style.overflowX + ': ' + name(el) + ` (${el.clientWidth} of ${el.scrollWidth} px)`);
    if (r.right > vw + 1 && !scrollsSideways(el))
      out.push('sticks out of the page with no scroll container: ' + name(el) + ` (right edge ${Math.round(r.right)} > ${vw})`);
  }
  for (const t of document.querySelectorAll('svg text')) {
    if (hiddenByDesign(t)) continue;
    const box = t.getBBox();
    const vb = t.ownerSVGElement.viewBox.baseVal;
    if (vb && vb.width && (box.x < vb.x - 0.5 || box.x + box.width > vb.x + vb.width + 0.5))
      out.push('chart label cut: "' + t.textContent + `" (${Math.round(box.x)}..${Math.round(box.x + box.width)} in 0..${vb.width})`);
  }
  return out;
}"""

BROKEN_BADGES = """() => [...document.querySelectorAll('.badge')]
  .filter(b => b.getClientRects().length > 1 || b.getBoundingClientRect().height > 2.2 * parseFloat(getComputedStyle(b).fontSize))
  .map(b => b.textContent.trim())"""


def office_paths() -> list[str]:
    """Every office page of the route table that needs no id (GET, for coordinators or admins)."""
    from outreach.routes import routes

    paths = []
    for r in routes():
        methods = getattr(r, "methods", None) or set()
        if getattr(r, "allow", None) in (OFFICE, ADMIN) and "GET" in methods and "{" not in r.path \
                and not r.path.endswith((".geojson", ".json")):
            paths.append(r.path)
    return sorted(set(paths))


def seed(live_server) -> dict:
    with live_server.store.write() as db:
        today = date.today()
        # Long French labels everywhere a label can be long.
        db.execute("update zones set label_fr = label_fr || ' — quartier Berriat-Saint-Bruno-Europole' where code = 'secteur-1'")
        o = add_outing(db, zone="secteur-1", tallies={t: 3 for t in ("petition", "agora", "project_consultation")},
                       debrief="Bon accueil au marché ; beaucoup de questions sur la consultation.")
        planned = add_outing(db, zone="secteur-2", status="planned", planned_date=(today + timedelta(days=3)).isoformat())
        db["outings"].update(planned, {"planned_start": "14:00", "planned_end": "16:30",
                                       "meeting_point": "Devant la halle du marché Saint-Bruno, côté place"})
        tools = [r["code"] for r in db.query("select code from tools")]
        for i in range(40):
            add_encounter(db, occurred_at=f"{today - timedelta(days=i % 20)}T10:00:00+00:00",
                          zone=f"secteur-{1 + i % 6}", tools=tools[i % len(tools):][:3], outing_id=o,
                          lat=45.18 + i / 1000, lon=5.72, note="Très intéressée par la consultation sur un grand projet")
        reports = {}
        for state in ("submitted", "needs_info", "scheduled", "in_progress", "accepted"):
            reports[state] = add_report(db, status=state, received_at=f"{today}T09:00:00+00:00", lat=45.19, lon=5.73,
                                        title="Repeindre le mur de l'école maternelle Anatole-France et planter")
        add_contact(db, contact="habitante.avec.une.adresse.longue@example.org", name="Habitante")
    return {"outing": o, "planned": planned, "report": reports["needs_info"]}


@pytest.mark.parametrize("width", [1024, 1280])
def test_no_office_page_clips_its_content(browser, live_server, login, width):
    ids = seed(live_server)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login(page, live_server, "admin")
        paths = office_paths() + [f"/coordinator/outings/{ids['outing']}", f"/coordinator/reports/{ids['report']}",
                                     f"/coordinator/planning/{ids['planned']}/cancel"]
        assert "/coordinator" in paths and "/admin/users" in paths and len(paths) >= 14
        problems = {}
        for path in paths:
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            found = page.evaluate(CLIPPED) + [f"badge breaks: {b}" for b in page.evaluate(BROKEN_BADGES)]
            if found:
                problems[path] = found[:8]
        assert problems == {}, f"at {width} px: {problems}"
    finally:
        context.close()


def test_planning_times_are_full_size_fields_side_by_side(browser, live_server, login):
    context = browser.new_context(viewport={"width": 1024, "height": 900}, locale="fr-FR")
    page = context.new_page()
    try:
        login(page, live_server, "coordinator")
        page.goto(live_server.url + "/coordinator/planning")
        form = page.locator("#new-outing")
        start, end = (form.get_by_label(name).bounding_box() for name in ("Heure de début", "Heure de fin"))
        assert start["height"] >= 44 and end["height"] >= 44  # a touch target, like every other field
        assert start["y"] == end["y"] and start["x"] + start["width"] < end["x"]
    finally:
        context.close()


@pytest.mark.parametrize("width,height", [(360, 740), (320, 640)])
def test_on_a_phone_the_office_sections_are_one_row_and_the_page_starts_on_the_first_screen(browser, live_server, login,
                                                                                          width, height):
    """The sections' menu wrapped to four rows at 360 px and pushed each page's title to 565 px:
    it is one row that scrolls sideways, every section still reachable, the current one in view."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
    page = context.new_page()
    try:
        login(page, live_server, "admin")
        for path in ("/coordinator/encounters", "/coordinator/privacy", "/coordinator/audit", "/admin/mail", "/admin/users"):
            page.goto(live_server.url + path)
            nav = page.locator("nav.subnav")
            assert nav.bounding_box()["height"] < 60, path
            # The page's own section is in view on arrival, even the last of the row (audit log).
            here = nav.locator('a[aria-current="page"]').bounding_box()
            assert here["x"] >= 0 and here["x"] + here["width"] <= width + 1, (path, here)
            assert page.evaluate("window.scrollY") == 0, path
            assert page.locator("h1").first.bounding_box()["y"] < height / 2, path
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
            links = nav.get_by_role("link")
            assert links.count() >= 3
            for i in range(links.count()):
                link = links.nth(i)
                link.scroll_into_view_if_needed()
                box = link.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1 and box["height"] >= 44, (path, i)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    finally:
        context.close()
