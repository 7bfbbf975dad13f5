"""What the phone keeps to work offline (GET /api/v1/bootstrap): reference data, the user's
outings and teammates, the choices and limits its forms need."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from sqlite_utils import Database

from .. import __version__, localtime, refdata, vocab
from ..canonical import content_hash
from ..coordinator import planning
from . import outings
from ..zones import locate
from .sync import MAX_ENTRIES


def for_user(db: Database, user: dict, locale: str = "fr", today: date | None = None) -> dict:
    """What the phone needs to work offline: reference data, the user's outings, choices, labels, limits.

    ``today``: the city's day the plan is drawn for (``localtime.city_today``, the default).
    """
    today = today or localtime.city_today(db)
    ref = refdata.load(db, locale)
    phone = vocab.for_phone(locale)
    return {
        "user": {"id": user["id"], "display_name": user["display_name"], "role": user["role"]},
        "zones": ref["zones"],
        # Simplified boundaries by zone code: the phone finds the zone of a position offline.
        "zone_outlines": locate.outlines(db),
        "tools": ref["tools"],
        "categories": ref["categories"],
        "consent": ref["consent"],
        "consents": ref["consents"],  # per purpose: follow_up, reporter_contact, volunteer
        "outings": outings.for_user(db, user["id"], today),
        # Planned outings a coordinator cancelled: the phone drops them from its plan and says so.
        "cancelled_outings": planning.cancelled_for_user(db, user["id"], today - timedelta(days=1)),
        "teammates": [t for t in outings.teammates(db) if t["id"] != user["id"]],
        "choices": phone["choices"],
        "labels": phone["labels"],
        "limits": {"max_entries": MAX_ENTRIES, **phone["limits"]},
        "app_version": __version__,
    }


def version(data: dict) -> str:
    """Bootstrap's version, its strong ETag: a hash of what it holds (the same content, the same tag).

    Every sync answer carries it too (``bootstrap_version``), so a phone refetches bootstrap only
    when it changed: sync is two-way.
    """
    return '"' + content_hash(data)[:32] + '"'



class Versions:
    """Each user's bootstrap version, kept until something bootstrap shows changes.

    Every sync answer carries it, and building bootstrap to hash it costs about 1 ms a request.
    Every write to the tables bootstrap reads moves a counter (``bootstrap_generation``, kept by
    triggers: migration m210), so a version is kept under (user, language, counter, day): exact,
    a coordinator's new or cancelled outing changes it at once, and the day rolls plans over.
    One per application (the counter is one database's).
    """

    LIMIT = 10_000  # users x languages: forgotten all at once past this

    def __init__(self):
        self._known: dict[tuple, str] = {}
        self._lock = threading.Lock()

    def get(self, db: Database, user: dict, locale: str = "fr") -> str:
        (generation,) = db.execute("select n from bootstrap_generation").fetchone()
        today = localtime.city_today(db)
        key = (user["id"], user["display_name"], user["role"], locale, generation, today)
        found = self._known.get(key)
        if found is None:
            found = version(for_user(db, user, locale, today))
            with self._lock:
                if len(self._known) >= self.LIMIT:
                    self._known.clear()
                self._known[key] = found
        return found
