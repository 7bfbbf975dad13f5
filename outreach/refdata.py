"""Reference data (zones, tools, categories, consent texts): seeded from data/, editable by admins."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

from .settings import REPO_ROOT

DEFAULTS = REPO_ROOT / "data" / "reference.json"
# What a consent is given for: each purpose has its own text and versions, shown where it applies
# (an encounter's follow-up, a worksite reporter's contact, a volunteer's sign-up).
CONSENT_PURPOSES = ("follow_up", "reporter_contact", "volunteer")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def seed(db: Database) -> None:
    """Insert the default reference data where it is missing (never overwrites admin edits)."""
    ref = json.loads(DEFAULTS.read_text(encoding="utf-8"))
    for table in ("zones", "tools", "categories"):
        rows = [dict(row, sort=i) for i, row in enumerate(ref[table])]
        db[table].insert_all(rows, pk="code", ignore=True)
    db["consent_texts"].insert_all(
        [dict(c, created_at=now_iso()) for c in ref["consent_texts"]], pk="version", ignore=True, alter=True
    )


def load(db: Database, locale: str = "fr", include_inactive: bool = False) -> dict:
    """Reference data as the phone and the pages need it: code and label in the locale."""
    label = "label_en" if locale == "en" else "label_fr"
    where = "" if include_inactive else "where active = 1"
    out: dict = {}
    for table in ("zones", "tools", "categories"):
        out[table] = [
            {"code": r["code"], "label": r[label]}
            for r in db.query(f"select code, {label} from [{table}] {where} order by sort, code")
        ]
    out["consents"] = {}
    for purpose in CONSENT_PURPOSES:
        consent = current_consent(db, purpose)
        out["consents"][purpose] = (
            {"version": consent["version"], "text": consent["text_en" if locale == "en" else "text_fr"]}
            if consent
            else None
        )
    # The follow-up text under its old key, for phones that read only that one.
    out["consent"] = out["consents"]["follow_up"]
    return out


def codes(db: Database, table: str) -> set[str]:
    """Active codes of one reference table (zones, tools, categories)."""
    assert table in {"zones", "tools", "categories"}
    # One row holding them all (sqlite3 retakes the interpreter's lock after every row; see sync._rows_at_once).
    (codes,) = db.conn.execute(f"select json_group_array(code) from [{table}] where active = 1").fetchone()
    return set(json.loads(codes))


def current_consent(db: Database, purpose: str = "follow_up") -> dict | None:
    """The text currently shown for one purpose (the latest active version)."""
    rows = list(db.query(
        "select * from consent_texts where active = 1 and purpose = ? order by created_at desc, version desc limit 1",
        [purpose]))
    return rows[0] if rows else None


# Until reporters and volunteers had texts of their own, the phone and the /report page sent the
# follow-up text's version for them too; a phone that has not refetched bootstrap since (or a
# /report page its service worker still holds) keeps doing so. Such a follow-up version stays
# accepted for a reporter's contact or a volunteer's sign-up for this many days after that
# purpose's first own text was put in place, then refused ("reload the page"). Thirty days: a phone
# in use syncs, hence refetches bootstrap, daily, and a cached /report page updates on the next
# visit; a month covers a worker back from leave and an entry left in an outbox for weeks, and
# after it a resident would be agreeing to a text that never spoke of their purpose.
BORROWED_FOLLOW_UP_DAYS = 30


def consent_versions(db: Database, purpose: str, now: datetime | None = None) -> set[str]:
    """The consent text versions a consent given for ``purpose`` may name at ``now``.

    Every version of that purpose, the current one and older ones (the person saw an older text
    when their phone had not refetched bootstrap; the stored version says which). For
    ``reporter_contact`` and ``volunteer``, also the follow-up versions, until
    ``BORROWED_FOLLOW_UP_DAYS`` after the purpose's own first text.
    """
    assert purpose in CONSENT_PURPOSES
    rows = list(db.query("select version, purpose, created_at from consent_texts"))
    own = {r["version"] for r in rows if r["purpose"] == purpose}
    if purpose == "follow_up":
        return own
    since = min((r["created_at"] for r in rows if r["purpose"] == purpose and r["created_at"]), default=None)
    now = now or datetime.now(timezone.utc)
    if since is None or now < datetime.fromisoformat(since) + timedelta(days=BORROWED_FOLLOW_UP_DAYS):
        own |= {r["version"] for r in rows if r["purpose"] == "follow_up"}
    return own
