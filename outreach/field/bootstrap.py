"""What the phone keeps to work offline (GET /api/v1/bootstrap): reference data, the user's
outings and teammates, the choices and limits its forms need."""

from __future__ import annotations

from datetime import date, timedelta

from sqlite_utils import Database

from .. import refdata, vocab
from ..coordinator import planning
from . import outings
from ..zones import locate
from .sync import MAX_ENTRIES


def for_user(db: Database, user: dict, locale: str = "fr") -> dict:
    """What the phone needs to work offline: reference data, the user's outings, choices, labels, limits."""
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
        "outings": outings.for_user(db, user["id"]),
        # Planned outings a coordinator cancelled: the phone drops them from its plan and says so.
        "cancelled_outings": planning.cancelled_for_user(db, user["id"], date.today() - timedelta(days=1)),
        "teammates": [t for t in outings.teammates(db) if t["id"] != user["id"]],
        "choices": phone["choices"],
        "labels": phone["labels"],
        "limits": {"max_entries": MAX_ENTRIES, **phone["limits"]},
    }
