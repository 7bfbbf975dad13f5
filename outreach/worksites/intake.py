"""Worksite reports: validate, store idempotently, and everything residents and coordinators do with them.

Domain module: takes the sqlite-utils ``Database`` first and knows nothing of HTTP.
Writes are meant to run inside one transaction (``store.write()``); the unique keys
(report id = entry id, ``entry_versions(entry_id, version)``, me-too ids, volunteer
keys) are what make retries harmless.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

from .. import refdata, vocab
from . import states as rs
from ..i18n import gettext as _
from ..canonical import content_hash
from .photos import is_sha256
from ..validation import echoed_id, hostile_values, printable_errors, is_uuid, parse_time  # noqa: F401 (is_uuid: used by the views through this module)

TRACK_PURPOSE = "report-track"
TRACK_MAX_AGE = 5 * 365 * 24 * 3600  # a tracking link is kept as long as the report matters
NEARBY_METRES = 150
MAX_PHOTOS = vocab.LIMITS["photos"].max
LIMITS = vocab.LIMITS
MAX_ENTRIES_ANONYMOUS = 20  # a phone that queued many offline; the rate limit is the real guard
FIELDS = {"title", "description", "category", "location", "address", "where_detail", "photos",
          "wants_to_help", "reporter", "zone"}
FIELD_ONLY = {"encounter_id"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']+\.[^@\s<>\"']{2,}$")
_PHONE = re.compile(r"^\+?[0-9 .()-]{6,25}$")


class ReportError(ValueError):
    """A refused action on a report; ``errors`` names each field; ``status`` is the HTTP status."""

    def __init__(self, errors: dict[str, str], status: int = 400):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.status = status


# --- validation -------------------------------------------------------------------------


def clean_text(data: dict, key: str, errors: dict, *, low: int = 0, high: int, required: bool = False,
          multiline: bool = False) -> str:
    value = data.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[f"data.{key}"] = _("must be text")
        return ""
    value = value.strip()
    if not multiline:
        value = " ".join(value.split())
    else:
        value = value.replace("\r\n", "\n")
    if _CONTROL.search(value):
        errors[f"data.{key}"] = _("contains control characters")
    elif required and not value:
        errors[f"data.{key}"] = _("is required")
    elif value and not (low <= len(value) <= high):
        errors[f"data.{key}"] = _("must be between %(low)d and %(high)d characters") % {"low": low, "high": high}
    return value


def _number(value: object, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or not (low <= value <= high):
        return None
    return float(value)


def validate_location(value: object, errors: dict, key: str = "data.location") -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= {"lat", "lon", "accuracy_m"}:
        errors[key] = _("must be {lat, lon, accuracy_m}")
        return None
    lat = _number(value.get("lat"), -90, 90)
    lon = _number(value.get("lon"), -180, 180)
    if lat is None or lon is None:
        errors[key] = _("latitude must be between -90 and 90 and longitude between -180 and 180")
        return None
    acc = value.get("accuracy_m")
    accuracy = None
    if acc is not None:
        accuracy = _number(acc, 0, 100_000)
        if accuracy is None:
            errors[key + ".accuracy_m"] = _("must be a number of metres between 0 and 100000")
            return None
    return {"lat": round(lat, 6), "lon": round(lon, 6), "accuracy_m": None if accuracy is None else int(round(accuracy))}


def validate_reporter(db: Database, value: object, errors: dict) -> dict | None:
    if value is None:
        return None
    key = "data.reporter"
    if not isinstance(value, dict):
        errors[key] = _("must be null or an object")
        return None
    unknown = set(value) - {"name", "email", "phone", "consent", "consent_text_version"}
    if unknown:
        errors[key] = _("unknown field: %(f)s") % {"f": ", ".join(sorted(unknown))}
        return None
    if value.get("consent") is not True:
        errors[key + ".consent"] = _("your contact details are kept only if you tick the consent box")
        return None
    sub: dict = {}
    name = clean_text(value, "name", sub, high=LIMITS["name"].max)
    email = clean_text(value, "email", sub, high=254).lower()
    phone = clean_text(value, "phone", sub, high=25)
    if email and "data.email" not in sub and not _EMAIL.match(email):
        sub["data.email"] = _("is not an email address")
    if phone and "data.phone" not in sub and not _PHONE.match(phone):
        sub["data.phone"] = _("is not a phone number")
    if not email and not phone and not sub:
        sub["data.email"] = _("give an email address or a phone number, or no contact at all")
    version = value.get("consent_text_version")
    if not isinstance(version, str) or version not in refdata.consent_versions(db):
        sub["data.consent_text_version"] = _("unknown consent text version")
    for k, v in sub.items():
        errors[key + "." + k.removeprefix("data.")] = v
    if sub:
        return None
    return {"name": name, "email": email, "phone": phone, "consent_text_version": version}


def check_report(db: Database, data: object, *, source: str = "resident") -> tuple[dict, dict]:
    """Check a report's ``data`` (DESIGN.md §4); return (clean data, errors by field)."""
    errors: dict[str, str] = {}
    if not isinstance(data, dict):
        return {}, {"data": _("must be an object")}
    allowed = FIELDS | (FIELD_ONLY if source == "field" else set())
    unknown = set(data) - allowed
    if unknown:
        errors["data"] = _("unknown field: %(f)s") % {"f": ", ".join(sorted(map(str, unknown)))[:200]}
    clean: dict = {}
    clean["title"] = clean_text(data, "title", errors, low=LIMITS["title"].min, high=LIMITS["title"].max, required=True)
    clean["description"] = clean_text(data, "description", errors, high=LIMITS["description"].max, multiline=True)
    category = data.get("category")
    if not isinstance(category, str) or category not in refdata.codes(db, "categories"):
        errors["data.category"] = _("unknown category")
    clean["category"] = category if isinstance(category, str) else ""
    clean["location"] = validate_location(data.get("location"), errors)
    clean["address"] = clean_text(data, "address", errors, high=LIMITS["address"].max)
    clean["where_detail"] = clean_text(data, "where_detail", errors, high=LIMITS["where_detail"].max)
    if clean["location"] is None and not clean["address"] and "data.location" not in errors and "data.address" not in errors:
        errors["data.location"] = _("say where: your position, an address, or both")
    photos = data.get("photos", [])
    if photos is None:
        photos = []
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS or not all(is_sha256(p) for p in photos):
        errors["data.photos"] = _("at most %(n)d photos, each named by its sha256") % {"n": MAX_PHOTOS}
        photos = []
    elif len(set(photos)) != len(photos):
        errors["data.photos"] = _("the same photo is listed twice")
    clean["photos"] = list(photos)
    wants = data.get("wants_to_help", False)
    if not isinstance(wants, bool):
        errors["data.wants_to_help"] = _("must be true or false")
    clean["wants_to_help"] = wants is True
    clean["reporter"] = validate_reporter(db, data.get("reporter"), errors)
    zone = data.get("zone")
    if zone is not None and (not isinstance(zone, str) or zone not in refdata.codes(db, "zones")):
        errors["data.zone"] = _("unknown zone")
    clean["zone"] = zone
    if "encounter_id" in data and source == "field":
        enc = data["encounter_id"]
        if enc is not None and not is_uuid(enc):
            errors["data.encounter_id"] = _("must be a uuid or null")
        clean["encounter_id"] = enc.lower() if isinstance(enc, str) else None
    return clean, errors


def validate_entry(db: Database, entry: object, *, source: str = "resident") -> tuple[dict, dict]:
    """Check the envelope of one entry (id, kind, version, created_at) and its data."""
    if not isinstance(entry, dict):
        return {}, {"entry": _("must be an object")}
    errors: dict[str, str] = {}
    if not is_uuid(entry.get("id")):
        errors["id"] = _("must be a uuid")
    if entry.get("kind") != "report":
        errors["kind"] = _("only reports can be sent here")
    version = entry.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not (1 <= version <= 1_000_000):
        errors["version"] = _("must be a whole number from 1")
    created = parse_time(entry.get("created_at"))
    now = datetime.now(timezone.utc)
    if created is None:
        errors["created_at"] = _("must be a date and time with its offset (ISO 8601)")
    elif created > now + timedelta(hours=24) or created < now - timedelta(days=366):
        errors["created_at"] = _("is too far from now")
    clean, data_errors = check_report(db, entry.get("data"), source=source)
    errors.update(data_errors)
    return clean, errors


# --- storing ------------------------------------------------------------------------------


def nearest_zone(db: Database, lat: float, lon: float, max_km: float = 5.0) -> str | None:
    best, best_d = None, max_km * 1000
    for z in db.query("select code, lat, lon from zones where active = 1 and lat is not null"):
        d = distance_m(lat, lon, z["lat"], z["lon"])
        if d < best_d:
            best, best_d = z["code"], d
    return best


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def open_reports_of_contact(db: Database, email: str, phone: str) -> int:
    marks = ",".join("?" * len(rs.OPEN))
    conditions, params = [], []
    if email:
        conditions.append("c.email = ?")
        params.append(email)
    if phone:
        conditions.append("c.phone = ?")
        params.append(phone)
    if not conditions:
        return 0
    row = db.execute(
        f"select count(*) from report_contacts c join reports r on r.id = c.report_id"
        f" where ({' or '.join(conditions)}) and r.status in ({marks})",
        [*params, *sorted(rs.OPEN)],
    ).fetchone()
    return row[0]


@dataclass
class Checked:
    """The result of checking one report's data (the shape sync.py's kinds return)."""

    clean: dict
    errors: dict


def validate_report(ctx, data: object) -> Checked:
    """Sync kind ``report``: check the data a field worker sent with a resident (ctx is sync's Context)."""
    clean, errors = check_report(ctx.db, data, source="field")
    reporter = clean.get("reporter")
    limit = getattr(ctx, "max_open_reports_per_contact", 5)
    if reporter and not errors and open_reports_of_contact(ctx.db, reporter["email"], reporter["phone"]) >= limit:
        errors["data.reporter"] = _contact_cap_message(limit)
    return Checked(clean, errors)


def store_report(db: Database, ctx, entry: dict, clean: dict, *, update: bool) -> None:
    """Sync kind ``report``: write the report rows (sync.py has stored the entry version already)."""
    write_report(db, entry_id=entry["id"], version=entry["version"], digest=entry["hash"], clean=clean,
                 source="field", user_id=ctx.user["id"], device_id=ctx.device_id,
                 created_at=entry.get("created_at"), received_at=ctx.received_at, update=update)


def may_update_report(db: Database, ctx, entry_id: str, first_author: int | None) -> bool:
    """A worker may send a newer version of a report they filed, until a coordinator looks at it."""
    row = db.execute("select status from reports where id = ?", [entry_id]).fetchone()
    return first_author == ctx.user["id"] and (row is None or row[0] == rs.SUBMITTED)


def _contact_cap_message(n: int) -> str:
    return _("this contact already has %(n)d open reports: wait for them to be dealt with") % {"n": n}


def submit_report(db: Database, entry: object, *, source: str = "resident", device_id: str | None = None,
                  received_at: str | None = None, max_open_per_contact: int = 5, clean: dict | None = None) -> dict:
    """Store one anonymous report entry (resident page, Open311) idempotently; return its result.

    Call inside a write transaction. Nobody can prove authorship of an anonymous entry,
    so a second version is never an update: same id, version and content is
    ``unchanged`` (the phone's retry), anything else under that id is a ``conflict``.
    """
    if clean is None:
        # Values no rule may see (lone surrogates, numbers past 2^53) are refused first.
        errors = {k.replace("entry.", "", 1): v for k, v in hostile_values(entry, "entry").items()}
        if not errors:
            clean, errors = validate_entry(db, entry, source=source)
        if errors:
            return {"id": echoed_id(entry), "status": "rejected", "errors": printable_errors(errors)}
    entry_id = entry["id"].lower()
    version = entry["version"]
    digest = content_hash(entry["data"])
    received_at = received_at or refdata.now_iso()
    existing = db.execute("select version, hash, received_at from entry_versions where entry_id = ?"
                          " order by version desc limit 1", [entry_id]).fetchone()
    if existing:
        if existing[0] == version and existing[1] == digest:
            return {"id": entry_id, "status": "unchanged", "hash": digest, "received_at": existing[2]}
        return {"id": entry_id, "status": "conflict", "current_version": existing[0],
                "errors": {"version": _("the server already has another version of this report")}}
    reporter = clean.get("reporter")
    if reporter and open_reports_of_contact(db, reporter["email"], reporter["phone"]) >= max_open_per_contact:
        return {"id": entry_id, "status": "rejected", "errors": {"data.reporter": _contact_cap_message(max_open_per_contact)}}
    inserted = db.execute(
        "insert or ignore into entry_versions (entry_id, kind, version, hash, data, user_id, device_id,"
        " created_at, received_at) values (?, 'report', ?, ?, ?, null, ?, ?, ?)",
        [entry_id, version, digest, json.dumps(entry["data"], ensure_ascii=False, sort_keys=True, separators=(",", ":")),
         device_id, entry.get("created_at"), received_at],
    ).rowcount
    if not inserted:  # a concurrent replay won the unique key
        return {"id": entry_id, "status": "conflict", "current_version": version,
                "errors": {"version": _("the server already has another version of this report")}}
    write_report(db, entry_id=entry_id, version=version, digest=digest, clean=clean, source=source, user_id=None,
                 device_id=device_id, created_at=entry.get("created_at"), received_at=received_at, update=False)
    return {"id": entry_id, "status": "created", "hash": digest, "received_at": received_at}


def write_report(db: Database, *, entry_id: str, version: int, digest: str, clean: dict, source: str,
                 user_id: int | None, device_id: str | None, created_at: str | None, received_at: str,
                 update: bool) -> None:
    """Write (or rewrite, for a newer version) the rows of one report: report, photos, contact, history."""
    loc = clean.get("location") or {}
    zone = clean.get("zone") or (nearest_zone(db, loc["lat"], loc["lon"]) if loc else None)
    row = {
        "id": entry_id,
        "version": version,
        "hash": digest,
        "source": source,
        "user_id": user_id,
        "device_id": device_id,
        "encounter_id": clean.get("encounter_id"),
        "title": clean["title"],
        "description": clean["description"],
        "category": clean["category"],
        "lat": loc.get("lat"),
        "lon": loc.get("lon"),
        "accuracy_m": loc.get("accuracy_m"),
        "address": clean["address"],
        "where_detail": clean["where_detail"],
        "zone": zone,
        "wants_to_help": int(clean["wants_to_help"]),
        "created_at": created_at,
        "updated_at": received_at,
    }
    if update and db.execute("select 1 from reports where id = ?", [entry_id]).fetchone():
        db["reports"].update(entry_id, row)
        db.execute("delete from report_photos where report_id = ?", [entry_id])
        db.execute("delete from report_contacts where report_id = ?", [entry_id])
        record_event(db, entry_id, user_id, "edit", text="", public=0, at=received_at)
    else:
        row.update(status=rs.SUBMITTED, received_at=received_at, me_too_count=0)
        db["reports"].insert(row)
        record_event(db, entry_id, user_id, "status", to_status=rs.SUBMITTED, public=1, at=received_at)
    db["report_photos"].insert_all(
        [{"report_id": entry_id, "sha256": sha, "position": i} for i, sha in enumerate(clean["photos"])], ignore=True
    )
    reporter = clean.get("reporter")
    if reporter:
        db["report_contacts"].insert({"report_id": entry_id, **reporter, "consented_at": received_at}, replace=True)


def record_event(db: Database, report_id: str, user_id: int | None, kind: str, *, from_status: str | None = None,
           to_status: str | None = None, text: str = "", public: int = 0, at: str | None = None) -> None:
    db["report_events"].insert({
        "report_id": report_id, "at": at or refdata.now_iso(), "user_id": user_id, "kind": kind,
        "from_status": from_status, "to_status": to_status, "text": text, "public": public,
    })


# --- tracking links -----------------------------------------------------------------------


def tracking_token(signer, report_id: str) -> str:
    """A signed, unguessable token naming one report, good for nothing else."""
    return signer.dumps(TRACK_PURPOSE, report_id)


def report_id_for_token(signer, token: str) -> str | None:
    if not isinstance(token, str) or len(token) > 300:
        return None
    value = signer.loads(TRACK_PURPOSE, token, max_age=TRACK_MAX_AGE)
    return value if is_uuid(value) else None


# --- what residents see -------------------------------------------------------------------


PUBLIC_COLUMNS = ("id, title, category, address, where_detail, lat, lon, status, scheduled_for, public_reply,"
                  " decline_reason, duplicate_of, me_too_count, received_at, updated_at")


def public_view(db: Database, report_id: str) -> dict | None:
    """What the holder of the tracking link sees: no internal note, no contact, no author."""
    rows = list(db.query(f"select {PUBLIC_COLUMNS}, description from reports where id = ?", [report_id]))
    if not rows:
        return None
    report = rows[0]
    report["photos"] = photo_states(db, report_id, own_only=True)
    report["history"] = list(db.query(
        "select at, kind, from_status, to_status, text from report_events"
        " where report_id = ? and public = 1 order by at, id", [report_id]))
    return report


def original_public_state(db: Database, original_id: str) -> dict | None:
    """What a merged duplicate's reporter may know of the original: its state and date, and
    its title only once the worksite is listed publicly. Never its token, question or photos."""
    row = db.execute("select status, scheduled_for, title from reports where id = ?", [original_id]).fetchone()
    if not row:
        return None
    listed = row[0] in rs.PUBLIC_WORKSITE
    return {"status": row[0], "scheduled_for": row[1], "title": row[2] if listed else None, "listed": listed}


def photo_states(db: Database, report_id: str, *, own_only: bool = False) -> list[dict]:
    """Photos of a report in order, each with ``arrived`` (False: "photo pending").

    ``own_only`` (what its resident sees): only the photos this report was the first to name.
    A hash is no proof of holding the photo; a later report naming a known hash gets nothing.
    """
    rows = list(db.query(
        "select p.sha256, a.sha256 is not null as arrived, a.width, a.height from report_photos p"
        " left join attachments a on a.sha256 = p.sha256 where p.report_id = ? order by p.position", [report_id]))
    if own_only:
        # The first claim of each hash, in the order claims were written (rowid).
        first = {r["sha256"]: r["report_id"] for r in db.query(
            "select p.sha256, p.report_id from report_photos p"
            " where p.sha256 in (select sha256 from report_photos where report_id = ?)"
            " order by p.rowid desc", [report_id])}  # the last one put in the dict wins: the earliest
        rows = [r for r in rows if first.get(r["sha256"]) == report_id]
    return rows


def nearby_open(db: Database, category: str, lat: float, lon: float, *, radius_m: float = NEARBY_METRES,
                limit: int = 5, exclude: str | None = None, public_only: bool = False) -> list[dict]:
    """Open reports of the same category within ``radius_m``, nearest first (public fields only).

    ``public_only``: only worksites a coordinator has accepted (what anyone may read); the
    triage page, for staff, also sees those not moderated yet.
    """
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    states = rs.PUBLIC_WORKSITE if public_only else rs.OPEN
    marks = ",".join("?" * len(states))
    rows = db.query(
        f"select id, title, address, where_detail, status, lat, lon, me_too_count from reports"
        f" where category = ? and lat between ? and ? and lon between ? and ? and status in ({marks})",
        [category, lat - dlat, lat + dlat, lon - dlon, lon + dlon, *sorted(states)],
    )
    found = []
    for r in rows:
        if r["id"] == exclude:
            continue
        d = distance_m(lat, lon, r["lat"], r["lon"])
        if d <= radius_m:
            found.append({**{k: r[k] for k in ("id", "title", "address", "where_detail", "status", "me_too_count")},
                          "distance_m": int(round(d))})
    found.sort(key=lambda r: r["distance_m"])
    return found[:limit]


def me_too(db: Database, report_id: str, me_too_id: str) -> bool:
    """Count one "me too" on an open report; True if counted now (a retry with the same id is not)."""
    if not is_uuid(me_too_id):
        raise ReportError({"me_too_id": _("must be a uuid")})
    row = db.execute("select status from reports where id = ?", [report_id]).fetchone()
    if not row:
        raise ReportError({"report": _("this report does not exist")}, status=404)
    if not rs.is_open(row[0]):
        raise ReportError({"report": _("this report is closed")}, status=409)
    now = refdata.now_iso()
    added = db.execute("insert or ignore into report_me_toos (id, report_id, created_at) values (?, ?, ?)",
                       [me_too_id.lower(), report_id, now]).rowcount
    if added:
        db.execute("update reports set me_too_count = me_too_count + 1, updated_at = ? where id = ?", [now, report_id])
        record_event(db, report_id, None, "me_too", public=0, at=now)
    return bool(added)


def add_resident_info(db: Database, report_id: str, text: object) -> None:
    """The resident answers a request for information: recorded, and the report goes back to review."""
    errors: dict = {}
    clean = clean_text({"text": text}, "text", errors, low=1, high=LIMITS["reply"].max, required=True, multiline=True)
    if errors:
        raise ReportError({"text": errors["data.text"]})
    row = db.execute("select status from reports where id = ?", [report_id]).fetchone()
    if not row:
        raise ReportError({"report": _("this report does not exist")}, status=404)
    if row[0] != rs.NEEDS_INFO:
        raise ReportError({"text": _("no information was asked for on this report")}, status=409)
    now = refdata.now_iso()
    record_event(db, report_id, None, "resident_info", text=clean, public=1, at=now)
    record_event(db, report_id, None, "status", from_status=rs.NEEDS_INFO, to_status=rs.UNDER_REVIEW, public=1, at=now)
    db.execute("update reports set status = ?, updated_at = ? where id = ?", [rs.UNDER_REVIEW, now, report_id])


def public_worksites(db: Database, *, limit: int = 200) -> list[dict]:
    """Accepted, scheduled and in-progress worksites, soonest first, with their first arrived photo."""
    marks = ",".join("?" * len(rs.PUBLIC_WORKSITE))
    rows = list(db.query(
        f"select {PUBLIC_COLUMNS}, (select count(*) from report_volunteers v where v.report_id = r.id) as volunteers,"
        f" (select p.sha256 from report_photos p join attachments a on a.sha256 = p.sha256"
        f"  where p.report_id = r.id order by p.position limit 1) as photo"
        f" from reports r where status in ({marks})"
        f" order by scheduled_for is null, scheduled_for, received_at desc limit ?",
        [*rs.PUBLIC_WORKSITE, limit]))
    return rows


def sign_up(db: Database, report_id: str, form: dict) -> bool:
    """A resident signs up to take part in a public worksite; True if new (same contact twice is once)."""
    errors: dict = {}
    name = clean_text(form, "name", errors, low=1, high=LIMITS["name"].max, required=True)
    email = clean_text(form, "email", errors, high=254).lower()
    phone = clean_text(form, "phone", errors, high=25)
    if email and "data.email" not in errors and not _EMAIL.match(email):
        errors["data.email"] = _("is not an email address")
    if phone and "data.phone" not in errors and not _PHONE.match(phone):
        errors["data.phone"] = _("is not a phone number")
    if not email and not phone and "data.email" not in errors:
        errors["data.email"] = _("give an email address or a phone number so that we can tell you the date")
    if form.get("consent") is not True:
        errors["data.consent"] = _("tick the box to agree that we keep your contact for this worksite")
    version = form.get("consent_text_version")
    if version not in refdata.consent_versions(db):
        errors["data.consent"] = _("unknown consent text version")
    if errors:
        raise ReportError({k.removeprefix("data."): v for k, v in errors.items()})
    row = db.execute("select status from reports where id = ?", [report_id]).fetchone()
    if not row or row[0] not in rs.PUBLIC_WORKSITE:
        raise ReportError({"report": _("this worksite is not open to volunteers")}, status=404)
    now = refdata.now_iso()
    added = db.execute(
        "insert or ignore into report_volunteers (report_id, name, email, phone, consent_text_version, created_at)"
        " values (?, ?, ?, ?, ?, ?)", [report_id, name, email, phone, version, now]).rowcount
    return bool(added)

