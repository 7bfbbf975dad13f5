"""Interface languages: French by default, English on request. Messages live in .po catalogs.

msgids are English (the code's language); ``locale/fr/LC_MESSAGES/*.po`` hold the French.
Every catalog file of a language is read and merged at start: no compile step.
"""

from __future__ import annotations

import contextlib
import contextvars
from pathlib import Path

from babel.messages.pofile import read_po
from babel.support import LazyProxy

LOCALES = ("fr", "en")
LOCALE_DIR = Path(__file__).parent / "locale"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("outreach_locale", default="fr")
_catalogs: dict[str, dict] = {}


def _load(locale: str) -> dict:
    """msgid (or (singular, plural)) -> translation, from every .po file of a locale."""
    table: dict = {}
    for path in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as f:
            catalog = read_po(f, locale=locale)
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, (list, tuple)):
                if all(message.string):
                    table[tuple(message.id)] = tuple(message.string)
            elif message.string:
                table[message.id] = message.string
    return table


def catalog(locale: str) -> dict:
    if locale not in _catalogs:
        _catalogs[locale] = {} if locale == "en" else _load(locale)
    return _catalogs[locale]


def reload() -> None:
    _catalogs.clear()


def set_locale(locale: str) -> contextvars.Token:
    return _current.set(locale if locale in LOCALES else "fr")


@contextlib.contextmanager
def in_locale(locale: str):
    """Messages in ``locale`` for the duration of the block (a French file made for anyone)."""
    token = set_locale(locale)
    try:
        yield
    finally:
        _current.reset(token)


def get_locale() -> str:
    return _current.get()


def gettext(message: str) -> str:
    """The message in the current request's language."""
    return catalog(_current.get()).get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    locale = _current.get()
    forms = catalog(locale).get((singular, plural))
    many = n > 1 if locale == "fr" else n != 1
    if forms:
        return forms[1] if many and len(forms) > 1 else forms[0]
    return plural if many else singular


def lazy_gettext(message: str) -> LazyProxy:
    """A message translated when it is used (for module-level constants)."""
    return LazyProxy(gettext, message, enable_cache=False)


_ = gettext


def negotiate(accept_language: str | None, preferred: str | None = None, default: str = "fr") -> str:
    """Pick fr or en: an explicit choice first, then the browser's Accept-Language, then the default."""
    if preferred in LOCALES:
        return preferred
    choices: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "")[:500].split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        q = 1.0
        for p in pieces[1:]:
            p = p.strip()
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        lang = tag.split("-")[0]
        if lang in LOCALES and q > 0:
            choices.append((-q, i, lang))
    if choices:
        return sorted(choices)[0][2]
    return default if default in LOCALES else "fr"
