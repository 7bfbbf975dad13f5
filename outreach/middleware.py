"""Pure ASGI middleware: security headers, cross-site checks, and who is asking (session, language)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser

from . import i18n, users
from .i18n import gettext as _
from .security import new_csrf_token, valid_csrf_token
from .web import CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def content_security_policy(tile_url: str) -> str:
    img = "'self' data: blob:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a").replace("{z}", "0").replace("{x}", "0").replace("{y}", "0"))
        if parts.scheme in ("http", "https") and parts.netloc:
            host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
            img += f" {parts.scheme}://{host}"
    return (
        "default-src 'self'; "
        f"img-src {img}; "
        "script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'; connect-src 'self'; "
        "worker-src 'self'; manifest-src 'self'"
    )


# Office pages show residents' contacts and staff accounts; invitation and reset pages carry a
# secret link. None may stay in a browser's or a proxy's cache (a shared computer, a back button).
NO_STORE_PREFIXES = ("/coordinator", "/admin", "/invite/", "/reset/")


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (and no-store on pages with personal data)."""

    def __init__(self, app, settings):
        self.app = app
        self.headers = {
            "Content-Security-Policy": content_security_policy(settings.tile_url),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
            "Permissions-Policy": "camera=(self), geolocation=(self), microphone=()",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if settings.https:
            self.headers["Strict-Transport-Security"] = "max-age=31536000"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        private = scope["path"].startswith(NO_STORE_PREFIXES)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in self.headers.items():
                    if key not in headers:
                        headers[key] = value
                if private:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def allowed_hosts(settings) -> frozenset[str] | None:
    """The host names this site answers to (None: any), from ALLOWED_HOSTS, else BASE_URL, else local names."""
    names = [h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip()]
    if "*" in names:
        return None
    if settings.base_url:
        host = urlsplit(settings.base_url).hostname
        if host:
            names.append(host.lower())
    if not names:
        names = list(LOCAL_HOSTS)
    return frozenset(names)


def host_name(host_header: str) -> str:
    """The name of a Host header, without its port ('[::1]:8000' -> '::1')."""
    try:
        return (urlsplit("//" + host_header).hostname or "").lower()
    except ValueError:
        return ""


class HostCheckMiddleware:
    """Refuses requests whose Host header the site does not own: pages and links are built from
    it when BASE_URL is empty, and a tracking link must never point at someone else's site."""

    def __init__(self, app, settings):
        self.app = app
        self.allowed = allowed_hosts(settings)

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and self.allowed is not None:
            if host_name(Headers(scope=scope).get("host", "")) not in self.allowed:
                return await _refuse(scope, send, 400, _("Unknown host name. The administrator can add it to OUTREACH_ALLOWED_HOSTS."))
        await self.app(scope, receive, send)


class OriginCheckMiddleware:
    """Refuses state-changing requests sent by another site's page (the Origin header says so).

    Open311 is exempt: other civic apps call it server to server with an API key, no cookie.
    """

    EXEMPT_PREFIXES = ("/open311/",)

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in UNSAFE and not scope["path"].startswith(self.EXEMPT_PREFIXES):
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None:
                host = headers.get("host", "")
                scheme = scope.get("scheme", "http")
                if origin == "null" or origin.rstrip("/") != f"{scheme}://{host}":
                    return await _refuse(scope, send, 403, _("Request refused: it comes from another site."))
        await self.app(scope, receive, send)


async def _refuse(scope, send, status: int, message: str):
    if scope["path"].startswith("/api/"):
        body = json.dumps({"error": message, "detail": None}).encode()
        ctype = b"application/json"
    else:
        body = message.encode()
        ctype = b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _sets_cookie(message, name: str) -> bool:
    """True when the response itself already sets this cookie (a sign-in sets the session's token)."""
    prefix = (name + "=").encode("latin-1")
    return any(k.lower() == b"set-cookie" and v.startswith(prefix) for k, v in message.get("headers", []))


def _cookies(headers: Headers) -> dict[str, str]:
    """The request's cookies as browsers send them (Starlette's parser, as ``Request.cookies``):
    one malformed cookie of another site on the same domain does not hide ours, and it reads a
    header ten times faster than ``http.cookies`` (1.4 against 13 µs, on every request)."""
    return cookie_parser(headers.get("cookie", ""))


class SessionMiddleware:
    """Finds who is asking: the user from the signed session cookie, the CSRF cookie, the language.

    A tampered, expired or foreign-key cookie, a deactivated account or a session older
    than the account's last password change or deactivation all count as signed out.
    """

    def __init__(self, app, settings, store, signer):
        self.app = app
        self.settings = settings
        self.store = store
        self.signer = signer

    def load_user(self, token: str | None) -> tuple[dict | None, str | None]:
        """(user, session id) of a live session, else (None, None)."""
        value = self.signer.loads("session", token, max_age=self.settings.session_max_age, remember=True)
        if not isinstance(value, dict) or not isinstance(value.get("uid"), int) or not isinstance(value.get("sid"), str):
            return None, None
        user = users.session_user(self.store.db(), value["uid"], value["sid"])
        if not user or not user["active"] or user["session_epoch"] != value.get("epoch"):
            return None, None
        return user, value["sid"]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        cookies = _cookies(headers)
        user, sid = self.load_user(cookies.get(SESSION_COOKIE))
        scope["outreach.user"] = user
        scope["outreach.session_id"] = sid
        csrf = cookies.get(CSRF_COOKIE, "")
        new_csrf = None
        # Only a token this server signed for this session counts: a value set by anyone else
        # (a sibling site can write cookies for the domain) is replaced, never trusted.
        if not valid_csrf_token(self.signer, csrf, sid):
            csrf = new_csrf = new_csrf_token(self.signer, sid)
        scope["outreach.csrf"] = csrf
        preferred = cookies.get(LANG_COOKIE) or (user or {}).get("locale")
        locale = i18n.negotiate(headers.get("accept-language"), preferred, self.settings.default_locale)
        scope["outreach.locale"] = locale
        token = i18n.set_locale(locale)

        async def send_with_cookie(message):
            if message["type"] == "http.response.start" and new_csrf and not _sets_cookie(message, CSRF_COOKIE):
                secure = "; Secure" if self.settings.https else ""
                MutableHeaders(scope=message).append(
                    "set-cookie", f"{CSRF_COOKIE}={new_csrf}; Path=/; HttpOnly; SameSite=Lax{secure}"
                )
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.add_vary_header("Cookie")
                # The language the answer is written in: the service worker keeps the app's pages
                # in the one the person chose (sw/sw.js, shellLanguage).
                if "content-language" not in headers:
                    headers["Content-Language"] = locale
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            i18n._current.reset(token)
