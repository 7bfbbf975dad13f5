"""Encounters: one conversation in the street, with no personal data; the follow-up contact lives apart."""

from __future__ import annotations

import functools
import json
import uuid
from datetime import timedelta
from operator import itemgetter
from typing import Annotated, Literal

import msgspec
import orjson
from sqlite_utils import Database

from .. import i18n, vocab
from ..canonical import plain_number
from ..coordinator import stats
from ..db import insert_rows
from ..i18n import gettext as _
from ..validation import CONTROL_RE, LANGUAGE_RE, Check, Valid, is_email, is_phone, is_uuid, iso_utc, parse_time
from ..zones import locate

PLACE_TYPES = vocab.PLACE_TYPES
OUTCOMES = vocab.OUTCOMES
INTERESTS = vocab.INTERESTS
AGE_BANDS = vocab.AGE_BANDS
CHANNELS = vocab.CHANNELS
FIELDS = {
    "occurred_at", "outing_id", "place_type", "zone", "location", "people_count", "outcome",
    "tools", "interest", "audience", "note", "follow_up",
}
NOTE_MAX = vocab.LIMITS["note"].max
PEOPLE = vocab.LIMITS["people_count"]
TOOLS_MAX = vocab.LIMITS["tools"].max
CONTACT = vocab.LIMITS["contact"]
CONTACT_NAME_MAX = vocab.LIMITS["name"].max
AHEAD = timedelta(hours=24)  # a phone's clock may run a little ahead
BACK = timedelta(days=366)  # an entry older than a year is a mistake, not a late sync


def validate(ctx, data: dict) -> Check | Valid:
    """Check an encounter's data; ``check.clean`` holds the values to store, ``check.errors`` the failures."""
    clean = _well_formed(ctx, data)
    if clean is not None:
        # Well-formed data holds no float but its location's: plain when those are.
        location = data.get("location")
        return Valid(clean, plain=location is None or all(map(plain_number, location.values())))
    return _check(ctx, data)


_NO_AUDIENCE = {"age_band": None, "language": None}


class _Location(msgspec.Struct, forbid_unknown_fields=True):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]  # an int is a float here, a bool is not
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None


class _Audience(msgspec.Struct, forbid_unknown_fields=True):
    age_band: Literal[tuple(AGE_BANDS)] | None = None
    language: str | None = None


class _Shape(msgspec.Struct, forbid_unknown_fields=True):
    """What ``_check`` accepts, as far as types, choices and bounds go (msgspec checks it in C)."""

    occurred_at: str
    place_type: Literal[tuple(PLACE_TYPES)]
    outcome: Literal[tuple(OUTCOMES)]
    outing_id: str | None = None
    zone: str | None = None
    location: _Location | None = None
    people_count: Annotated[int, msgspec.Meta(ge=PEOPLE.min, le=PEOPLE.max)] = 1
    tools: Annotated[list[str], msgspec.Meta(max_length=TOOLS_MAX)] = []
    interest: Literal[tuple(INTERESTS)] = "none"
    audience: _Audience | None = None
    note: str = ""
    follow_up: None = None  # a follow-up contact always takes the full check


_shape = functools.partial(msgspec.convert, type=_Shape)


def _well_formed(ctx, data: dict) -> dict | None:
    """The clean values of data that passes every check, or None: then ``_check`` says what is wrong.

    The sync hot path (thousands of entries a second): the same rules as ``_check``, with no
    error bookkeeping, and the same clean values (tests compare the two on valid, broken and
    randomly mutated data). msgspec checks the shape, types, choices and bounds; what depends
    on the request (time window, reference codes) or on the text itself is checked here.
    """
    try:
        shape = _shape(data)
    except (ValueError, RecursionError):  # ValidationError, and UnicodeEncodeError on a lone surrogate
        return None
    occurred = parse_time(shape.occurred_at)
    if occurred is None or not ctx.now - BACK <= occurred <= ctx.now + AHEAD:
        return None
    outing_id = shape.outing_id
    if outing_id is not None:
        if not is_uuid(outing_id):
            return None
        outing_id = outing_id.lower()
    zone = shape.zone
    if zone is not None and zone not in ctx.codes("zones"):
        return None
    tools = shape.tools
    if tools and (len(set(tools)) != len(tools) or not ctx.codes("tools").issuperset(tools)):
        return None
    note = shape.note.strip()
    if len(note) > NOTE_MAX or CONTROL_RE.search(note):
        return None
    location = shape.location
    if location is not None:
        acc = location.accuracy_m
        location = {"lat": round(location.lat, 3), "lon": round(location.lon, 3),
                    "accuracy_m": max(100, int(round(acc))) if acc is not None else None}
    audience = shape.audience
    if audience is None:
        audience = dict(_NO_AUDIENCE)
    else:
        language = audience.language
        if language is not None and not LANGUAGE_RE.match(language):
            return None
        audience = {"age_band": audience.age_band, "language": language}
    return {
        "occurred_at": occurred, "outing_id": outing_id, "place_type": shape.place_type, "zone": zone,
        "location": location, "people_count": shape.people_count, "outcome": shape.outcome, "tools": tools,
        "interest": shape.interest, "note": note, "audience": audience, "follow_up": None,
    }


def _check(ctx, data: dict) -> Check:
    """Every rule, field by field, with a message for each failure."""
    c = Check(data)
    c.only(FIELDS)
    c.time("occurred_at", ctx.now, ahead=AHEAD, back=BACK)
    c.uuid("outing_id")
    c.choice("place_type", PLACE_TYPES)
    c.choice("zone", ctx.codes("zones"), required=False, nullable=True)
    c.location("location")
    c.integer("people_count", PEOPLE.min, PEOPLE.max, required=False, default=1)
    c.choice("outcome", OUTCOMES)
    c.codes("tools", ctx.codes("tools"), max_items=TOOLS_MAX)
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
    sub = c.nested("follow_up")
    if sub is None:
        return
    value = sub.data
    sub.only({"consent", "consent_text_version", "channel", "contact", "name", "purposes"})
    # Consent is only ever the literal JSON true: not "yes", not 1.
    if value.get("consent") is not True:
        sub.fail("consent", _("the person's explicit consent is required (true)"))
    sub.choice("consent_text_version", ctx.consent_versions("follow_up"))
    channel = sub.choice("channel", CHANNELS)
    contact = sub.text("contact", CONTACT.max, min_len=CONTACT.min, required=True)
    sub.text("name", CONTACT_NAME_MAX)
    sub.codes("purposes", ctx.codes("tools"), max_items=TOOLS_MAX)
    if contact and channel == "email" and not is_email(contact):
        sub.fail("contact", _("must be an email address"))
    elif contact and channel in ("phone", "sms") and not is_phone(contact):
        sub.fail("contact", _("must be a phone number"))
    c.errors.update(sub.errors)
    c.clean["follow_up"] = sub.clean


COLUMNS = (
    "id", "version", "hash", "user_id", "device_id", "outing_id", "occurred_at", "place_type", "zone", "lat", "lon",
    "accuracy_m", "people_count", "outcome", "interest", "age_band", "language", "note", "created_at",
    "received_at", "updated_at", "tools",
)
# Plain SQL on the hot path of sync: sqlite-utils' insert() introspects the table on every
# call, which costs more than the write itself at thousands of entries a second.
HEAD = f"insert into encounters ({', '.join(COLUMNS)})"
INSERT = f"{HEAD} values ({', '.join('?' * len(COLUMNS))})"
UPSERT = INSERT + " on conflict(id) do update set " + ", ".join(
    f"{c} = excluded.{c}" for c in COLUMNS if c not in {"id", "received_at", "created_at"}
)  # a newer version keeps the first receipt time; everything else is replaced


def _row(ctx, entry: dict, clean: dict) -> tuple:
    loc = clean["location"] or {}
    audience = clean["audience"]
    return (
        entry["id"], entry["version"], entry["hash"], ctx.user["id"], ctx.device_id, clean["outing_id"],
        iso_utc(clean["occurred_at"]), clean["place_type"], clean["zone"], loc.get("lat"), loc.get("lon"),
        loc.get("accuracy_m"), clean["people_count"], clean["outcome"], clean["interest"], audience["age_band"],
        audience["language"], clean["note"], entry["created_at"], ctx.received_at, ctx.received_at,
        tools_json(clean["tools"]),
    )


def tools_json(tools: list[str]) -> str:
    """An encounter's tools as its row keeps them: a JSON array of codes, sorted (migration m230)."""
    return orjson.dumps(sorted(tools)).decode()


def contact_locale(ctx, clean: dict) -> str | None:
    """The language a follow-up contact is written to in: the conversation's, when the encounter
    names one we write in; else the phone's, in which the person read the consent text."""
    language = (clean["audience"]["language"] or "").split("-")[0].lower()
    return language if language in i18n.LOCALES else ctx.locale


def _contact_row(ctx, entry_id: str, clean: dict, contact_id: str | None = None) -> tuple:
    follow, occurred_at = clean["follow_up"], clean["occurred_at"]
    return (
        contact_id or str(uuid.uuid4()), entry_id, ctx.user["id"], follow["channel"], follow["contact"],
        follow.get("name") or "", json.dumps(follow.get("purposes") or []), follow["consent_text_version"],
        iso_utc(occurred_at), iso_utc(occurred_at + timedelta(days=ctx.contact_retention_days)),
        contact_locale(ctx, clean),
    )


# The columns the aggregates count, in the order stats.add_encounter_rows takes them.
_counted = itemgetter(*(COLUMNS.index(c) for c in ("occurred_at", "zone", "outcome", "interest", "place_type", "people_count")))
# And those stats.add_age_rows takes (people met by age band).
_aged = itemgetter(*(COLUMNS.index(c) for c in ("occurred_at", "zone", "age_band", "people_count")))

INSERT_CONTACT = (
    "insert into contacts (id, encounter_id, user_id, channel, contact, name, purposes, consent_text_version, "
    "consented_at, expires_at, locale) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _fill_zones(db: Database, cleans: list[dict]) -> None:
    """An encounter with a position and no zone gets the zone that contains it (the raw entry keeps none)."""
    fill = None
    for clean in cleans:
        if clean["zone"] is None and clean["location"]:
            fill = fill or locate.Filler(db)
            clean["zone"] = fill(clean["location"])


def _built(ctx, entry: dict, clean: dict) -> tuple[tuple, tuple]:
    """What ``store_many`` writes for one new encounter: its row, and what the aggregates count."""
    row = _row(ctx, entry, clean)
    return row, (*_counted(row), clean["tools"])


def prebuild(db: Database, ctx, batch: list[tuple[dict, dict]]) -> list[tuple]:
    """``_built`` for a checked batch, zones filled first: done before the write lock (``sync.prepare``)
    so that the writer only writes. Read-only; the writer uses it when the entry is new."""
    _fill_zones(db, [clean for entry, clean in batch])
    return [_built(ctx, entry, clean) for entry, clean in batch]


def store_many(db: Database, ctx, batch: list[tuple[dict, dict, bool]]) -> None:
    """Store a batch of encounters: new ones with one statement per table, newer versions one by one.

    An entry may carry ``prebuilt`` (from ``prebuild``): its rows, built outside the write lock.
    """
    fresh = [(entry, clean) for entry, clean, update in batch if not update]
    for entry, clean, update in batch:
        if update:
            store(db, ctx, entry, clean, update=True)
    if not fresh:
        return
    conn = db.conn
    _fill_zones(db, [clean for entry, clean in fresh if entry.get("prebuilt") is None])
    built = [entry.get("prebuilt") or _built(ctx, entry, clean) for entry, clean in fresh]
    insert_rows(conn, HEAD, len(COLUMNS), [b[0] for b in built])
    contacts = [
        _contact_row(ctx, entry["id"], clean)
        for entry, clean in fresh if clean["follow_up"] is not None
    ]
    if contacts:
        conn.executemany(INSERT_CONTACT, contacts)
    # The aggregates, from the very values just inserted.
    stats.add_encounter_rows(db, [b[1] for b in built])
    stats.add_age_rows(db, [_aged(b[0]) for b in built])


def store(db: Database, ctx, entry: dict, clean: dict, *, update: bool) -> None:
    """Write (or rewrite, for a newer version) the encounter with its tools, and its consented contact."""
    entry_id = entry["id"]
    conn = db.conn
    _fill_zones(db, [clean])
    counted = update and conn.execute("select 1 from encounters where id = ?", [entry_id]).fetchone() is not None
    # A counted row's update trigger moves its counts, tools included; a new row is counted here.
    conn.execute(UPSERT if update else INSERT, _row(ctx, entry, clean))
    if not counted:
        stats.add_encounters(db, [entry_id])
    follow = clean["follow_up"]
    existing = conn.execute("select id from contacts where encounter_id = ?", [entry_id]).fetchone() if update else None
    if follow is None:
        if existing:
            # A correction that drops the contact removes it: no consent, no contact kept.
            conn.execute("delete from contacts where encounter_id = ?", [entry_id])
        return
    if existing:
        conn.execute("delete from contacts where encounter_id = ?", [entry_id])
    conn.execute(INSERT_CONTACT, _contact_row(ctx, entry_id, clean, existing[0] if existing else None))


def check_links(ctx, clean: dict) -> dict[str, str]:
    """An encounter may be logged in an outing of the worker's team only (or one the server has
    not received yet: the phone may send the outing after it)."""
    outing_id = clean.get("outing_id")
    if not outing_id:
        return {}
    if ctx.outing_refused(outing_id):
        return {"data.outing_id": _("this outing belongs to another team")}
    return {}


def may_update(db: Database, ctx, entry_id: str, first_author: int | None) -> bool:
    """Only the worker who logged an encounter may send a newer version of it."""
    return first_author == ctx.user["id"]
