"""create_app(settings): builds the whole application; no globals."""

from __future__ import annotations

import asyncio
import contextlib

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.templating import Jinja2Templates

from . import __version__, accesslog, assets, errors, faults, i18n, localtime, migrations, privacy, refdata, vocab
from .mail import sender as mail_sender
from .field import bootstrap as field_bootstrap
from .db import for_settings as db_for_settings
from .bodylimit import BodyLimitMiddleware
from .middleware import HostCheckMiddleware, OriginCheckMiddleware, SecurityHeadersMiddleware, SessionMiddleware
from .ratelimit import Limits
from .security import Signer
from .settings import Settings
from .web import CSRF_FIELD


def make_templates(settings: Settings, hashes: dict[str, str]) -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(str(settings_templates_dir())),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    # `|tojson` fills <script type="application/json"> blocks of pages phones keep offline: UTF-8
    # as is ("é", not "\u00e9") and no spaces. Jinja still escapes < > & ' (the block stays inert).
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":")}
    templates = Jinja2Templates(env=env)

    from markupsafe import Markup, escape
    from jinja2 import pass_context

    @pass_context
    def static(context, path: str) -> str:
        request = context["request"]
        url = request.url_for("static", path=path).path
        digest = hashes.get(path)
        return f"{url}?v={digest}" if digest else url

    @pass_context
    def csrf_field(context) -> Markup:
        token = context["request"].scope.get("outreach.csrf", "")
        return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')

    @pass_context
    def current_user(context):
        return context["request"].scope.get("outreach.user")

    @pass_context
    def locale(context) -> str:
        return context["request"].scope.get("outreach.locale", "fr")

    tz = settings.tz

    @pass_context
    def when(context, value) -> str:
        """A stored time, local and in words in the page's language (``1 déc. 2026 à 14 h 05``)."""
        return localtime.in_words(value, tz, context["request"].scope.get("outreach.locale", "fr"))

    @pass_context
    def day(context, value) -> str:
        """The local day of a stored time or day, in words (``1 déc. 2026``)."""
        return localtime.day_in_words(value, tz, context["request"].scope.get("outreach.locale", "fr"))

    env.filters.update(when=when, day=day)
    def format_number(value, digits: int = 1) -> str:
        """A number as people read it in the request's language (27 800 ; 12,5)."""
        from babel.numbers import format_decimal

        from .i18n import get_locale

        return format_decimal(value, format="#,##0." + "#" * digits if digits else "#,##0", locale=get_locale())

    env.filters.update(format_number=lambda v: format_number(v, 0), format_decimal=format_number)
    env.globals.update(
        static=static,
        csrf_field=csrf_field,
        current_user=current_user,
        locale=locale,
        app_version=__version__,
        settings=settings,
        limits=vocab.LIMITS,  # {{ limits.note.max }}: bounds of fields come from the vocabulary
    )
    return templates


def check_mail_settings(settings: Settings) -> None:
    """Refuse to start with an SMTP host but no usable sender or security mode (say which)."""
    if not settings.mail_enabled:
        return
    from email.utils import parseaddr

    from .mail.messages import AddressError, check_address

    if settings.smtp_security not in ("starttls", "tls", "none"):
        raise SystemExit("OUTREACH_SMTP_SECURITY must be starttls, tls or none")
    try:
        check_address(parseaddr(settings.mail_from)[1])
    except AddressError:
        raise SystemExit("OUTREACH_MAIL_FROM must be a sender address when OUTREACH_SMTP_HOST is set")


def settings_templates_dir():
    from pathlib import Path

    return Path(__file__).parent / "templates"


_GC_SETTLED = False


def settle_garbage_collector() -> None:
    """Once per process, when the server starts: what exists by then (modules, templates, routes,
    reference data) lives as long as the process, so it leaves the collector's view (``gc.freeze``)
    and each full collection no longer walks it again; young objects are looked at every 5,000
    new ones rather than 700 (a sync batch of 100 creates a few thousand, freed by reference
    counting long before). Together: the collector's share of a sync went from about 5% to under 1%."""
    global _GC_SETTLED
    if _GC_SETTLED:
        return
    _GC_SETTLED = True
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(5000, 10, 10)


def create_app(settings: Settings | None = None) -> Starlette:
    """The Outreach ASGI application, with its database migrated and reference data seeded."""
    from .routes import routes

    settings = (settings or Settings.from_env()).with_secret()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    check_mail_settings(settings)
    faults.remove_temp_files(settings.data_dir)
    store = db_for_settings(settings)
    migrations.apply(store.db())
    with store.write() as db:
        refdata.seed(db)
        # The summaries count in the city's days: rebuilt here if the zone setting changed.
        localtime.configure(db, settings.timezone)
    store.zone_changed()
    signer = Signer(settings.secret_key)
    accesslog.install()  # uvicorn's access log must not keep tracking, invitation or reset tokens
    hashes = assets.file_hashes()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        settle_garbage_collector()
        # Retention rules run shortly after start and then daily (privacy.purge_daily).
        tasks = [asyncio.create_task(privacy.purge_daily(store, settings))]
        if settings.mail_enabled:
            # Mail is queued by the requests that cause it and sent from here, never in a request.
            tasks.append(asyncio.create_task(mail_sender.run(store, settings)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            store.close()

    middleware = [
        # Outermost first: headers on every answer, even refusals and errors.
        Middleware(SecurityHeadersMiddleware, settings=settings),
        # Before anything builds a link from the Host header.
        Middleware(HostCheckMiddleware, settings=settings),
        # Before anything reads a body: counts every byte received, on every route.
        Middleware(BodyLimitMiddleware, settings=settings),
        Middleware(faults.StorageGuard),  # disk full, database locked, read-only: 503, never 500
        # Level 6, zlib's own default: a sync answer of 100 results (19 KB) compresses to the same
        # 6.5 KB as at Starlette's level 9, in 220 µs of the event loop instead of 273.
        Middleware(GZipMiddleware, minimum_size=500, compresslevel=6),
        Middleware(OriginCheckMiddleware),
        Middleware(SessionMiddleware, settings=settings, store=store, signer=signer),
    ]
    from .access import share_allowed_methods

    app = Starlette(
        routes=share_allowed_methods(routes()),
        middleware=middleware,
        exception_handlers=errors.handlers(),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.signer = signer
    app.state.limits = Limits.from_settings(settings)
    app.state.static_hashes = hashes
    app.state.bootstrap_versions = field_bootstrap.Versions()
    app.state.templates = make_templates(settings, hashes)
    return app
