"""Worksite reports as a kind of the sync protocol: check a report's data, write its rows.

Every report arrives through the one intake path (``field/sync.py``): from a worker with a
resident (/api/v1/sync), from a resident alone (/api/v1/reports and the /report form, no
user) or from another civic app (Open311). sync.py keeps each entry's versions and settles
replays and conflicts; this module says what a valid report is and writes the report rows.
What residents do with a report afterwards lives in ``public.py``, what coordinators do in
``triage.py``.

Domain module: takes the sqlite-utils ``Database`` (or sync's ``Context``) first and knows
nothing of HTTP.
"""

from __future__ import annotations

from datetime import timedelta

from sqlite_utils import Database

from .. import geo, refdata, vocab
from . import states as rs
from ..i18n import gettext as _
from .photos import is_sha256
from ..validation import EMAIL_MAX, PHONE_MAX, Check, Refused, is_email, is_phone

LIMITS = vocab.LIMITS
MAX_PHOTOS = LIMITS["photos"].max
MAX_ENTRIES_ANONYMOUS = 20  # a phone that queued many offline; the rate limit is the real guard
# created_at of a report: its phone's clock may be a day ahead; a phone may hold one for a year.
CREATED_AHEAD = timedelta(hours=24)
CREATED_BACK = timedelta(days=366)
FIELDS = {"title", "description", "category", "location", "address", "where_detail", "photos",
          "wants_to_help", "reporter", "zone"}
FIELD_ONLY = {"encounter_id"}  # a worker links the report to the encounter it came from
REPORTER_FIELDS = {"name", "email", "phone", "consent", "consent_text_version"}


class ReportError(ValueError):
    """A refused action on a report; ``errors`` names each field; ``status`` is the HTTP status."""

    def __init__(self, errors: dict[str, str], status: int = 400):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.status = status


# --- checking -----------------------------------------------------------------------------


def validate_report(ctx, data: dict) -> Check:
    """Sync kind ``report``: check its ``data`` (DESIGN.md §4) for sync's ``Context``.

    Only a signed-in worker may link the report to an encounter. The cap on a contact's open
    reports depends on what is stored, so ``store_report`` checks it, after replays are settled.
    """
    c = Check(data)
    from_field = ctx.user is not None
    c.only(FIELDS | FIELD_ONLY if from_field else FIELDS)
    c.text("title", LIMITS["title"].max, min_len=LIMITS["title"].min, required=True, lines="one")
    for name, lines in (("description", "many"), ("address", "one"), ("where_detail", "one")):
        c.text(name, LIMITS[name].max, nullable=True, lines=lines)
        if c.clean.get(name, "") is None:
            c.clean[name] = ""
    category = data.get("category")
    if not isinstance(category, str) or category not in ctx.codes("categories"):
        c.fail("category", _("unknown category"))
    c.clean["category"] = category
    location = c.location("location", decimals=6, min_accuracy=0)  # a worksite needs its doorstep
    if location is None and not c.clean.get("address") and not any(
            k.startswith(("data.location", "data.address")) for k in c.errors):
        c.fail("location", _("say where: your position, an address, or both"))
    _photos(c)
    c.boolean("wants_to_help")
    _reporter(ctx, c)
    zone = data.get("zone")
    if zone is not None and (not isinstance(zone, str) or zone not in ctx.codes("zones")):
        c.fail("zone", _("unknown zone"))
    c.clean["zone"] = zone
    if from_field:
        c.uuid("encounter_id")
    return c


def _photos(c: Check) -> None:
    photos = c.data.get("photos")
    if photos is None:
        photos = []
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS or not all(is_sha256(p) for p in photos):
        c.fail("photos", _("at most %(n)d photos, each named by its sha256") % {"n": MAX_PHOTOS})
    elif len(set(photos)) != len(photos):
        c.fail("photos", _("the same photo is listed twice"))
    else:
        c.clean["photos"] = list(photos)


def _reporter(ctx, c: Check) -> None:
    """null, or the resident's contact with their consent: kept apart from the report."""
    sub = c.nested("reporter")
    if sub is None:
        return
    value = sub.data
    sub.only(REPORTER_FIELDS)
    if not sub.errors and value.get("consent") is not True:
        sub.fail("consent", _("your contact details are kept only if you tick the consent box"))
    if sub.errors:
        c.errors.update(sub.errors)
        return
    name = sub.text("name", LIMITS["name"].max, nullable=True, lines="one") or ""
    email = (sub.text("email", EMAIL_MAX, nullable=True, lines="one") or "").lower()
    phone = sub.text("phone", PHONE_MAX, nullable=True, lines="one") or ""
    if email and not is_email(email):
        sub.fail("email", _("is not an email address"))
    if phone and not is_phone(phone):
        sub.fail("phone", _("is not a phone number"))
    if not email and not phone and not sub.errors:
        sub.fail("email", _("give an email address or a phone number, or no contact at all"))
    version = value.get("consent_text_version")
    if not isinstance(version, str) or version not in ctx.consent_versions("reporter_contact"):
        sub.fail("consent_text_version", _("this consent text is not the one for a reporter's contact: reload the page"))
    c.errors.update(sub.errors)
    if not sub.errors:
        c.clean["reporter"] = {"name": name, "email": email, "phone": phone, "consent_text_version": version}


def message_text(text: object) -> str:
    """A reply, an internal note or a resident's answer: plain text, 1 to LIMITS["reply"] characters."""
    c = Check({"text": text}, prefix="")
    clean = c.text("text", LIMITS["reply"].max, required=True, lines="many")
    if not c.errors and not clean:
        c.fail("text", _("is required"))
    if c.errors:
        raise ReportError(c.errors)
    return clean


# --- storing (sync.py has stored the entry's version already) --------------------------------


def open_reports_of_contact(db: Database, email: str, phone: str, *, besides: str | None = None) -> int:
    """How many open reports this email or phone has given as contact (``besides`` one report)."""
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
        f" where ({' or '.join(conditions)}) and r.status in ({marks}) and r.id is not ?",
        [*params, *sorted(rs.OPEN), besides],
    ).fetchone()
    return row[0]


def store_report(db: Database, ctx, entry: dict, clean: dict, *, update: bool) -> None:
    """Sync kind ``report``: write the report rows; Refused when its contact has too many open reports."""
    reporter = clean.get("reporter")
    limit = ctx.max_open_reports_per_contact
    if reporter and open_reports_of_contact(db, reporter["email"], reporter["phone"], besides=entry["id"]) >= limit:
        raise Refused({"data.reporter": _("this contact already has %(n)d open reports: wait for them to be dealt with")
                                        % {"n": limit}})
    write_report(db, entry_id=entry["id"], version=entry["version"], digest=entry["hash"], clean=clean,
                 source=ctx.source, user_id=ctx.user_id, device_id=ctx.device_id,
                 created_at=entry.get("created_at"), received_at=ctx.received_at, update=update, locale=ctx.locale)


def may_update_report(db: Database, ctx, entry_id: str, first_author: int | None) -> bool:
    """A worker may send a newer version of a report they filed, until a coordinator looks at it."""
    row = db.execute("select status from reports where id = ?", [entry_id]).fetchone()
    return first_author == ctx.user_id and (row is None or row[0] == rs.SUBMITTED)


def write_report(db: Database, *, entry_id: str, version: int, digest: str, clean: dict, source: str,
                 user_id: int | None, device_id: str | None, created_at: str | None, received_at: str,
                 update: bool, locale: str | None = None) -> None:
    """Write (or rewrite, for a newer version) the rows of one report: report, photos, contact, history.
    ``locale``: the language the report was filed in, which its reporter is later written to in."""
    loc = clean.get("location") or {}
    zone = clean.get("zone") or (geo.nearest_zone(db, loc["lat"], loc["lon"]) if loc else None)
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
        db["report_contacts"].insert({"report_id": entry_id, **reporter, "consented_at": received_at, "locale": locale},
                                     replace=True)


def record_event(db: Database, report_id: str, user_id: int | None, kind: str, *, from_status: str | None = None,
                 to_status: str | None = None, text: str = "", public: int = 0, at: str | None = None) -> None:
    """One line of a report's history (who, when, what); ``public`` lines show on its tracking page."""
    db["report_events"].insert({
        "report_id": report_id, "at": at or refdata.now_iso(), "user_id": user_id, "kind": kind,
        "from_status": from_status, "to_status": to_status, "text": text, "public": public,
    })
