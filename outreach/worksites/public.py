"""What residents see and do with reports once filed: the private tracking link and page,
"me too" on an open report nearby, an answer to a coordinator's question, the public list of
accepted worksites and signing up to take part.

Domain module: takes the sqlite-utils ``Database`` first and knows nothing of HTTP. Only public
fields leave it: never an internal note, a contact or an author.
"""

from __future__ import annotations

from sqlite_utils import Database

from .. import geo, refdata, vocab
from ..mail import events as mail_events
from . import states as rs
from ..i18n import gettext as _
from .intake import ReportError, message_text, record_event
from ..validation import EMAIL_MAX, PHONE_MAX, Check, is_email, is_phone, is_uuid

TRACK_PURPOSE = "report-track"
TRACK_MAX_AGE = 5 * 365 * 24 * 3600  # a tracking link is kept as long as the report matters
NEARBY_METRES = 150
PUBLIC_COLUMNS = ("id, title, category, address, where_detail, lat, lon, status, scheduled_for, public_reply,"
                  " decline_reason, duplicate_of, me_too_count, received_at, updated_at")


# --- tracking links -------------------------------------------------------------------------


def tracking_token(signer, report_id: str) -> str:
    """A signed, unguessable token naming one report, good for nothing else."""
    return signer.dumps(TRACK_PURPOSE, report_id)


def report_id_for_token(signer, token: str) -> str | None:
    """The report a tracking token names; None when it is tampered, too old or made for another purpose."""
    if not isinstance(token, str) or len(token) > 300:
        return None
    value = signer.loads(TRACK_PURPOSE, token, max_age=TRACK_MAX_AGE)
    return value if is_uuid(value) else None


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


def add_resident_info(db: Database, report_id: str, text: object) -> None:
    """The resident answers a request for information: recorded, and the report goes back to review."""
    clean = message_text(text)
    row = db.execute("select status from reports where id = ?", [report_id]).fetchone()
    if not row:
        raise ReportError({"report": _("this report does not exist")}, status=404)
    if row[0] != rs.NEEDS_INFO:
        raise ReportError({"text": _("no information was asked for on this report")}, status=409)
    now = refdata.now_iso()
    record_event(db, report_id, None, "resident_info", text=clean, public=1, at=now)
    record_event(db, report_id, None, "status", from_status=rs.NEEDS_INFO, to_status=rs.UNDER_REVIEW, public=1, at=now)
    db.execute("update reports set status = ?, updated_at = ? where id = ?", [rs.UNDER_REVIEW, now, report_id])


# --- before filing: the same need nearby ----------------------------------------------------


def nearby_open(db: Database, category: str, lat: float, lon: float, *, radius_m: float = NEARBY_METRES,
                limit: int = 5, exclude: str | None = None, public_only: bool = False) -> list[dict]:
    """Open reports of the same category within ``radius_m``, nearest first (public fields only).

    ``public_only``: only worksites a coordinator has accepted (what anyone may read); the
    triage page, for staff, also sees those not moderated yet.
    """
    lat_min, lat_max, lon_min, lon_max = geo.box(lat, lon, radius_m)
    states = rs.PUBLIC_WORKSITE if public_only else rs.OPEN
    marks = ",".join("?" * len(states))
    rows = db.query(
        f"select id, title, address, where_detail, status, lat, lon, me_too_count from reports"
        f" where category = ? and lat between ? and ? and lon between ? and ? and status in ({marks})",
        [category, lat_min, lat_max, lon_min, lon_max, *sorted(states)],
    )
    found = []
    for r in rows:
        if r["id"] == exclude:
            continue
        d = geo.distance_m(lat, lon, r["lat"], r["lon"])
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


# --- accepted worksites and their volunteers --------------------------------------------------


def public_worksites(db: Database, *, limit: int = 200) -> list[dict]:
    """Accepted, scheduled and in-progress worksites, soonest first, with their first arrived photo."""
    marks = ",".join("?" * len(rs.PUBLIC_WORKSITE))
    return list(db.query(
        f"select {PUBLIC_COLUMNS}, (select count(*) from report_volunteers v where v.report_id = r.id) as volunteers,"
        f" (select p.sha256 from report_photos p join attachments a on a.sha256 = p.sha256"
        f"  where p.report_id = r.id order by p.position limit 1) as photo"
        f" from reports r where status in ({marks})"
        f" order by scheduled_for is null, scheduled_for, received_at desc limit ?",
        [*rs.PUBLIC_WORKSITE, limit]))


def sign_up(db: Database, report_id: str, form: dict, *, locale: str | None = None, outbox=None) -> bool:
    """A resident signs up to take part in a public worksite; True if new (same contact twice is once).
    ``locale``: the language they signed up in, which they are written to in. With an ``outbox``
    (e-mail on), someone joining a worksite already scheduled gets its date and reminder at once."""
    c = Check(form, prefix="")
    name = c.text("name", vocab.LIMITS["name"].max, nullable=True, lines="one")
    if not name and "name" not in c.errors:
        c.fail("name", _("is required"))
    email = (c.text("email", EMAIL_MAX, nullable=True, lines="one") or "").lower()
    phone = c.text("phone", PHONE_MAX, nullable=True, lines="one") or ""
    if email and not is_email(email):
        c.fail("email", _("is not an email address"))
    if phone and not is_phone(phone):
        c.fail("phone", _("is not a phone number"))
    if not email and not phone:
        c.fail("email", _("give an email address or a phone number so that we can tell you the date"))
    if form.get("consent") is not True:
        c.fail("consent", _("tick the box to agree that we keep your contact for this worksite"))
    version = form.get("consent_text_version")
    if version not in refdata.consent_versions(db, "volunteer"):
        c.fail("consent", _("this consent text is not the one for volunteers: reload the page"))
    if c.errors:
        raise ReportError(c.errors)
    row = db.execute("select status from reports where id = ?", [report_id]).fetchone()
    if not row or row[0] not in rs.PUBLIC_WORKSITE:
        raise ReportError({"report": _("this worksite is not open to volunteers")}, status=404)
    now = refdata.now_iso()
    cursor = db.execute(
        "insert or ignore into report_volunteers (report_id, name, email, phone, consent_text_version, created_at, locale)"
        " values (?, ?, ?, ?, ?, ?, ?)", [report_id, name, email, phone, version, now, locale])
    if not cursor.rowcount:
        return False
    mail_events.volunteer_joined(db, outbox, report_id, cursor.lastrowid)
    return True
