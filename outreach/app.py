"""create_app(settings): builds the whole application; no globals."""

from __future__ import annotations

import asyncio
import contextlib

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.templating import Jinja2Templates

from . import __version__, accesslog, assets, errors, i18n, migrations, privacy, refdata, vocab
from .db import Store
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


def settings_templates_dir():
    from pathlib import Path

    return Path(__file__).parent / "templates"


def create_app(settings: Settings | None = None) -> Starlette:
    """The Outreach ASGI application, with its database migrated and reference data seeded."""
    from .routes import routes

    settings = (settings or Settings.from_env()).with_secret()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.db_path)
    migrations.apply(store.db())
    with store.write() as db:
        refdata.seed(db)
    signer = Signer(settings.secret_key)
    accesslog.install()  # uvicorn's access log must not keep tracking, invitation or reset tokens
    hashes = assets.file_hashes()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # Retention rules run shortly after start and then daily (privacy.purge_daily).
        purge_task = asyncio.create_task(privacy.purge_daily(store, settings))
        try:
            yield
        finally:
            purge_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purge_task
            store.close()

    middleware = [
        # Outermost first: headers on every answer, even refusals and errors.
        Middleware(SecurityHeadersMiddleware, settings=settings),
        # Before anything builds a link from the Host header.
        Middleware(HostCheckMiddleware, settings=settings),
        # Before anything reads a body: counts every byte received, on every route.
        Middleware(BodyLimitMiddleware, settings=settings),
        Middleware(GZipMiddleware, minimum_size=500),
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
    app.state.templates = make_templates(settings, hashes)
    return app
