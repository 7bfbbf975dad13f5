"""The field app's pages: the offline shell at /app, the service worker at /sw.js, the web app manifest."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import __version__, refdata, vocab
from ..assets import STATIC_DIR, without_comments
from ..i18n import gettext as _
from ..settings import REPO_ROOT
from ..validation import uuid7, uuid7_time
from ..web import current_user, read_form, render, run_db
from .entries import store_entries

SW_SOURCE = REPO_ROOT / "sw" / "sw.js"
TEMPLATES_DIR = REPO_ROOT / "outreach" / "templates"
# The page the service worker shows for a navigation it cannot answer when the network does not.
OFFLINE_PAGE = "offline_page"
# Pages the service worker keeps for offline use, by route name; those this build lacks are skipped.
PRECACHED_PAGES = ("field_app", "report_form", OFFLINE_PAGE)
# Static files only the office pages use: phones never need them offline, so they stay out of
# the precache (and out of the phone's download budget).
OFFICE_ONLY_STATIC = frozenset({"js/map.js"})
# What the browser itself fetches, online, when it installs the app: the manifest (pages link it at
# /manifest.webmanifest, never at its static URL) and its icons (no page shows one). Installing
# needs the network anyway, and the installed app's icon is kept by the phone, not by us.
INSTALL_ONLY_STATIC = frozenset(
    {"manifest.webmanifest"}
    | {icon["src"].removeprefix("/static/") for icon in json.loads((STATIC_DIR / "manifest.webmanifest").read_bytes())["icons"]}
)
# Code a page imports only where it can never be needed offline: SHA-256 for origins without
# crypto.subtle (plain http, where no service worker runs either), "me too" on nearby reports (online only),
# the tracking page's registration of the service worker (the kept copy of that page loads without it).
ONLINE_ONLY_STATIC = frozenset({"js/sha256.js", "js/nearby.js", "js/track.js"})
NOT_PRECACHED = OFFICE_ONLY_STATIC | INSTALL_ONLY_STATIC | ONLINE_ONLY_STATIC
JS_CALL = re.compile(r"""\bt\(\s*(?P<q>["'`])(?P<msg>(?:\\.|(?!(?P=q)).)*)(?P=q)""")


# `import … from "./x.js"` and `import("./x.js")`: the modules a script brings in (static/js
# imports relatively, no build step).
JS_IMPORT = re.compile(r"""(?:^import\b[^;]*?\bfrom\s*|\bimport\(\s*)["']\./(?P<path>[\w.-]+\.js)["']""", re.M)


@lru_cache(maxsize=8)
def js_msgids(entry: str | None = None) -> tuple[str, ...]:
    """The strings passed to t("…") by `entry` ("js/field.js") and the modules it imports; by every script when None."""
    js_dir = STATIC_DIR / "js"
    if entry is None:
        paths = sorted(js_dir.rglob("*.js"))
    else:
        paths, todo = [], [STATIC_DIR / entry]
        while todo:
            path = todo.pop()
            if path in paths:
                continue
            paths.append(path)
            todo += [js_dir / m.group("path") for m in JS_IMPORT.finditer(path.read_text(encoding="utf-8"))]
        paths.sort()
    found: list[str] = []
    for path in paths:
        for m in JS_CALL.finditer(path.read_text(encoding="utf-8")):
            if m.group("msg") not in found:
                found.append(m.group("msg"))
    return tuple(found)


def js_messages(entry: str | None = None) -> dict[str, str]:
    """The strings of the script `entry` (and its imports) in this request's language.

    A string that reads the same translated is left out: t() falls back to the msgid, and the
    page, which every phone keeps offline, stays small (an English page carries none)."""
    return {msgid: text for msgid in js_msgids(entry) if (text := _(msgid)) != msgid}


def outbox_endpoints(request: Request) -> dict[str, str]:
    """Where the outbox sends (static/js/outbox.js `configure`): the pages and the service worker pass these in."""
    return {
        "sync": request.url_for("api_sync").path,
        # "{sha256}" stands for each photo's hash (the outbox fills it in).
        "attachment": request.url_for("api_attachment", sha256="{sha256}").path,
    }


async def field_app(request: Request):
    """The field app shell: the same for everyone, so the service worker can keep it."""
    return await _render_app(request, saved=request.query_params.get("saved") == "1")


async def _render_app(request: Request, *, saved: bool = False, form_errors: dict | None = None, status_code: int = 200):
    locale = request.scope.get("outreach.locale", "fr")
    ref = await run_db(request, refdata.load, locale)
    # The labels the scripts write (the outbox list, the outing line, tally mode before bootstrap).
    labels = {
        "place_type": vocab.PLACE_TYPES.plain(),
        "outcome": vocab.OUTCOMES.plain(),
        "format": vocab.OUTING_FORMATS.plain(),
        "zone": {z["code"]: z["label"] for z in ref["zones"]},
        "tool": {t["code"]: t["label"] for t in ref["tools"]},
    }
    urls = {
        **outbox_endpoints(request),
        "bootstrap": request.url_for("api_bootstrap").path,
        "session": request.url_for("api_sign_in").path,
        "sw": request.url_for("service_worker").path,
        "report": request.url_for("report_form").path,
    }
    return render(
        request,
        "field.html",
        {
            "ref": ref,
            "place_types": vocab.PLACE_TYPES.pairs(),
            "outcomes": vocab.OUTCOMES.pairs(),
            "interests": vocab.INTERESTS.pairs(),
            "formats": vocab.OUTING_FORMATS.pairs(),
            "age_bands": vocab.AGE_BANDS.pairs(),
            "channels": vocab.CHANNELS.pairs(),
            "languages": vocab.LANGUAGES.pairs(),
            "labels": labels,
            "urls": urls,
            "js_messages": js_messages("js/field.js"),
            # The no-script form's entry: posting it twice stores it once. A UUIDv7 carries the
            # time the form was shown, which becomes the encounter's time (see encounter_from_form).
            "entry_id": uuid7(),
            "saved": saved,
            "form_errors": form_errors,
        },
        status_code=status_code,
    )


async def offline_page(request: Request):
    """GET /offline: "you are offline", with the pages that open without network (precached)."""
    return render(request, "offline.html", {})


def encounter_from_form(form, now: datetime) -> dict:
    """The sync payload of an encounter posted by the no-script form.

    Its time is the one in the form's entry id (a UUIDv7 made when the page was shown), not the
    time of the post: a form posted twice is then the same entry, answered ``unchanged``, even
    when the two posts fall in different seconds. An id of another kind keeps the post's time.
    """
    def one(name: str) -> str | None:
        value = form.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    people = one("people_count") or "1"
    data = {
        "occurred_at": (uuid7_time(form.get("entry_id")) or now).isoformat(timespec="seconds"),
        "place_type": one("place_type"),
        "zone": one("zone"),
        "people_count": int(people) if people.isdigit() and len(people) < 6 else people,
        "outcome": one("outcome"),
        "tools": form.getlist("tools"),
        "interest": one("interest") or "none",
        "note": one("note") or "",
        "audience": None,
        "follow_up": None,
    }
    if one("age_band") or one("language"):
        data["audience"] = {"age_band": one("age_band"), "language": one("language")}
    if one("follow_up"):
        data["follow_up"] = {
            "consent": form.get("consent") == "on",
            "consent_text_version": one("consent_version") or "",
            "channel": one("channel"),
            "contact": one("contact") or "",
            "name": one("contact_name") or "",
            "purposes": form.getlist("purposes"),
        }
    return data


async def encounter_form(request: Request):
    """POST /app/encounters: the encounter form without scripts goes through the same sync checks."""
    form = await read_form(request)
    user = current_user(request)
    now = datetime.now(timezone.utc)
    entry_id = form.get("entry_id")
    entry = {
        "id": entry_id if isinstance(entry_id, str) else "",
        "kind": "encounter",
        "version": 1,
        "created_at": now.isoformat(timespec="seconds"),
        "data": encounter_from_form(form, now),
    }
    result = (await store_entries(request, user, [entry]))["results"][0]
    if result["status"] in ("created", "unchanged"):
        return RedirectResponse(str(request.url_for("field_app").path) + "?saved=1", status_code=303)
    errors = result.get("errors") or {"id": result.get("message", "")}
    return await _render_app(request, form_errors=errors, status_code=400)


def precache_pages(request: Request) -> list[str]:
    """The app-shell pages, from the route table."""
    return [request.url_for(name).path for name in PRECACHED_PAGES]


@lru_cache(maxsize=4)
def _templates_digest(_key: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES_DIR.rglob("*.html")):
        digest.update(path.name.encode() + path.read_bytes())
    for path in sorted((REPO_ROOT / "outreach" / "locale").rglob("*.po")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def service_worker_source(request: Request) -> str:
    """sw/sw.js with its version and precache list: [url, content hash] of every static file."""
    hashes: dict[str, str] = request.app.state.static_hashes
    static_base = request.url_for("static", path="").path.rstrip("/")
    files = [
        [f"{static_base}/{path}?v={digest}", digest]
        for path, digest in sorted(hashes.items())
        if path not in NOT_PRECACHED
    ]
    pages = precache_pages(request)
    written = SW_SOURCE.read_text(encoding="utf-8")  # any change to it is a new version
    source = without_comments(written)
    version = hashlib.sha256(
        json.dumps([__version__, files, pages, written, _templates_digest(__version__)]).encode()
    ).hexdigest()[:16]
    outbox_url = f"{static_base}/js/outbox.js"
    return (
        source.replace('"__VERSION__"', json.dumps(version))
        .replace("__PRECACHE__", json.dumps(files))
        .replace("__PAGES__", json.dumps(pages))
        .replace('"__OFFLINE__"', json.dumps(request.url_for(OFFLINE_PAGE).path))
        # A resident's status page is /track/<token>; "~" stands for the token.
        .replace('"__TRACK__"', json.dumps(request.url_for("track", token="~").path.removesuffix("~")))
        # Signing out (the form, the API) clears what the worker kept of residents' pages.
        .replace("__SIGN_OUT__", json.dumps([["POST", request.url_for("logout").path],
                                             ["DELETE", request.url_for("api_sign_out").path]]))
        .replace('"__OUTBOX__"', json.dumps(outbox_url))
        .replace("__ENDPOINTS__", json.dumps(outbox_endpoints(request)))
        .replace('"__STATIC__"', json.dumps(static_base + "/"))
    )


async def service_worker(request: Request):
    """The service worker, at the root so that its scope is the whole site."""
    return Response(
        service_worker_source(request),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


async def manifest(request: Request):
    """The web app manifest, static/manifest.webmanifest, at the root URL the pages link to."""
    return Response(
        (STATIC_DIR / "manifest.webmanifest").read_bytes(),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )
