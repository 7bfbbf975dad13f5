"""Encounters: one conversation in the street, with no personal data; the follow-up contact lives apart."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlite_utils import Database

from .i18n import gettext as _
from .validation import EMAIL_RE, LANGUAGE_RE, PHONE_RE, Check, iso_utc

PLACE_TYPES = ("street", "market", "school_gate", "building_entrance", "transport", "shop", "event", "other")
OUTCOMES = ("conversation", "brief", "flyer_only", "declined", "already_informed")
INTERESTS = ("none", "curious", "wants_to_take_part")
AGE_BANDS = ("under_18", "18_29", "30_44", "45_64", "65_plus")
CHANNELS = ("email", "phone", "sms")
FIELDS = {
    "occurred_at", "outing_id", "place_type", "zone", "location", "people_count", "outcome",
    "tools", "interest", "audience", "note", "follow_up",
}
NOTE_MAX = 500


def validate(ctx, data: dict) -> Check:
    """Check an encounter's data; ``check.clean`` holds the values to store, ``check.errors`` the failures."""
    c = Check(data)
    c.only(FIELDS)
    c.time("occurred_at", ctx.now, ahead=timedelta(hours=24), back=timedelta(days=366))
    c.uuid("outing_id")
    c.choice("place_type", PLACE_TYPES)
    c.choice("zone", ctx.codes("zones"), required=False, nullable=True)
    c.location("location")
    c.integer("people_count", 1, 200, required=False, default=1)
    c.choice("outcome", OUTCOMES)
    c.codes("tools", ctx.codes("tools"))
    c.choice("interest", INTERESTS, required=False, default="none")
    c.text("note", NOTE_MAX)
    _audience(c)
    _follow_up(ctx, c)
    return c


def _audience(c: Check) -> None:
    value = c.data.get("audience")
    c.clean["audience"] = {"age_band": None, "language": None}
    if value is None:
        return
    if not isinstance(value, dict) or set(value) - {"age_band", "language"}:
        c.fail("audience", _("must be an object with age_band and/or language"))
        return
    sub = Check(value, prefix=c.prefix + "audience.")
    sub.choice("age_band", AGE_BANDS, required=False, nullable=True)
    language = value.get("language")
    if language is not None and (not isinstance(language, str) or not LANGUAGE_RE.match(language)):
        sub.fail("language", _("must be a language code such as fr or ar"))
    c.errors.update(sub.errors)
    c.clean["audience"] = {"age_band": sub.clean.get("age_band"), "language": language}


def _follow_up(ctx, c: Check) -> None:
    value = c.data.get("follow_up")
    c.clean["follow_up"] = None
    if value is None:
        return
    if not isinstance(value, dict):
        c.fail("follow_up", _("must be null or an object"))
        return
    sub = Check(value, prefix=c.prefix + "follow_up.")
    sub.only({"consent", "consent_text_version", "channel", "contact", "name", "purposes"})
    # Consent is only ever the literal JSON true: not "yes", not 1.
    if value.get("consent") is not True:
        sub.fail("consent", _("the person's explicit consent is required (true)"))
    sub.choice("consent_text_version", ctx.consent_versions())
    channel = sub.choice("channel", CHANNELS)
    contact = sub.text("contact", 200, min_len=3, required=True)
    sub.text("name", 100)
    sub.codes("purposes", ctx.codes("tools"))
    if contact and channel == "email" and not EMAIL_RE.match(contact):
        sub.fail("contact", _("must be an email address"))
    elif contact and channel in ("phone", "sms") and not PHONE_RE.match(contact):
        sub.fail("contact", _("must be a phone number"))
    c.errors.update(sub.errors)
    c.clean["follow_up"] = sub.clean


def store(db: Database, ctx, entry: dict, clean: dict, *, update: bool) -> None:
    """Write (or rewrite, for a newer version) the encounter, its tools and its consented contact."""
    entry_id = entry["id"]
    loc = clean["location"] or {}
    row = {
        "id": entry_id,
        "version": entry["version"],
        "hash": entry["hash"],
        "user_id": ctx.user["id"],
        "device_id": ctx.device_id,
        "outing_id": clean["outing_id"],
        "occurred_at": iso_utc(clean["occurred_at"]),
        "place_type": clean["place_type"],
        "zone": clean["zone"],
        "lat": loc.get("lat"),
        "lon": loc.get("lon"),
        "accuracy_m": loc.get("accuracy_m"),
        "people_count": clean["people_count"],
        "outcome": clean["outcome"],
        "interest": clean["interest"],
        "age_band": clean["audience"]["age_band"],
        "language": clean["audience"]["language"],
        "note": clean["note"],
        "created_at": entry["created_at"],
        "received_at": ctx.received_at,
        "updated_at": ctx.received_at,
    }
    # Plain SQL on the hot path of sync: sqlite-utils' insert() introspects the table on
    # every call, which costs more than the write itself at thousands of entries a second.
    columns = ", ".join(row)
    marks = ", ".join(":" + k for k in row)
    if update:
        # A newer version keeps the first receipt time; everything else is replaced.
        keep = {"id", "received_at", "created_at"}
        sets = ", ".join(f"{k} = excluded.{k}" for k in row if k not in keep)
        db.execute(f"insert into encounters ({columns}) values ({marks}) on conflict(id) do update set {sets}", row)
        db.execute("delete from encounter_tools where encounter_id = ?", [entry_id])
    else:
        db.execute(f"insert into encounters ({columns}) values ({marks})", row)
    if clean["tools"]:
        db.conn.executemany(
            "insert into encounter_tools (encounter_id, tool) values (?, ?)", [(entry_id, t) for t in clean["tools"]]
        )
    follow = clean["follow_up"]
    if follow is None:
        if update:
            # A correction that drops the contact removes it: no consent, no contact kept.
            db.execute("delete from contacts where encounter_id = ?", [entry_id])
        return
    consented_at = clean["occurred_at"]
    existing = list(db.query("select id from contacts where encounter_id = ?", [entry_id]))
    db["contacts"].upsert(
        {
            "id": existing[0]["id"] if existing else str(uuid.uuid4()),
            "encounter_id": entry_id,
            "user_id": ctx.user["id"],
            "channel": follow["channel"],
            "contact": follow["contact"],
            "name": follow.get("name") or "",
            "purposes": json.dumps(follow.get("purposes") or []),
            "consent_text_version": follow["consent_text_version"],
            "consented_at": iso_utc(consented_at),
            "expires_at": iso_utc(consented_at + timedelta(days=ctx.contact_retention_days)),
        },
        pk="id",
    )


def may_update(db: Database, ctx, entry_id: str, first_author: int | None) -> bool:
    """Only the worker who logged an encounter may send a newer version of it."""
    return first_author == ctx.user["id"]
