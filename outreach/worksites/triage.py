"""The coordinator's side of worksite reports: the triage queue, one report's detail, state changes.

Every change goes through ``states.py`` (the rules) and is recorded twice: in the
report's history (``report_events``, part of what the resident may see) and in the
audit log (who did what). Call the writing functions inside one write transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from .. import audit, localtime, refdata
from ..mail import events as mail_events
from . import states as rs
from ..i18n import gettext as _
from .states import TransitionError
from .intake import ReportError, message_text, record_event
from .public import photo_states
from ..validation import is_uuid, parse_time

TRIAGE_PAGE = 50


def encode_cursor(received_at: str, report_id: str) -> str:
    return f"{received_at}~{report_id}"


def decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    if not cursor or not isinstance(cursor, str) or "~" not in cursor or len(cursor) > 100:
        return None
    at, _sep, rid = cursor.rpartition("~")
    return (at, rid) if is_uuid(rid) and parse_time(at) else None


def triage_filters(db: Database, params: dict) -> tuple[dict, dict]:
    """Clean the triage filters from query parameters (unknown values are ignored with an error)."""
    errors: dict = {}
    f: dict = {}
    status = params.get("status") or ""
    if status == "open":
        f["statuses"] = sorted(rs.OPEN)
    elif status in rs.STATES:
        f["statuses"] = [status]
    elif status not in ("", "all"):
        errors["status"] = _("unknown state")
    f["status"] = status
    for key, table in (("category", "categories"), ("zone", "zones")):
        value = params.get(key) or ""
        if value and value not in refdata.codes(db, table):
            errors[key] = _("unknown code")
            value = ""
        f[key] = value
    for key in ("date_from", "date_to"):
        value = params.get(key) or ""
        if value:
            try:
                datetime.strptime(value, "%Y-%m-%d")
            except ValueError:
                errors[key] = _("give a date as YYYY-MM-DD")
                value = ""
        f[key] = value
    f["with_photo"] = params.get("with_photo") in ("1", "on", "true", True)
    f["wants_to_help"] = params.get("wants_to_help") in ("1", "on", "true", True)
    q = params.get("q") or ""
    f["q"] = q.strip()[:100] if isinstance(q, str) else ""
    return f, errors


def triage_list(db: Database, filters: dict, *, after: str | None = None, limit: int = TRIAGE_PAGE) -> dict:
    """One page of the triage queue, newest first, keyset-paginated; ``next`` is the cursor of the next page."""
    where, params = ["1 = 1"], []
    if filters.get("statuses"):
        # "+" keeps SQLite from choosing the status index and then sorting every open report:
        # walking (received_at, id) newest first and stopping after one page is faster.
        where.append(f"+r.status in ({','.join('?' * len(filters['statuses']))})")
        params += filters["statuses"]
    for key in ("category", "zone"):
        if filters.get(key):
            where.append(f"r.{key} = ?")
            params.append(filters[key])
    if filters.get("date_from"):
        where.append("r.received_at >= ?")
        params.append(filters["date_from"])
    if filters.get("date_to"):
        where.append("r.received_at < ?")
        params.append((datetime.strptime(filters["date_to"], "%Y-%m-%d") + timedelta(days=1)).strftime("%Y-%m-%d"))
    if filters.get("with_photo"):
        where.append("exists (select 1 from report_photos p where p.report_id = r.id)")
    if filters.get("wants_to_help"):
        where.append("r.wants_to_help = 1")
    if filters.get("q"):
        where.append("(r.title like ? escape '\\' or r.address like ? escape '\\')")
        like = "%" + filters["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [like, like]
    cursor = decode_cursor(after)
    if cursor:
        where.append("(r.received_at, r.id) < (?, ?)")
        params += list(cursor)
    rows = list(db.query(
        f"select r.id, r.title, r.category, r.zone, r.status, r.source, r.received_at, r.wants_to_help,"
        f" r.me_too_count, r.address, r.scheduled_for,"
        f" (select count(*) from report_photos p where p.report_id = r.id) as photos,"
        f" (select count(*) from report_photos p left join attachments a on a.sha256 = p.sha256"
        f"  where p.report_id = r.id and a.sha256 is null) as photos_pending"
        f" from reports r where {' and '.join(where)} order by r.received_at desc, r.id desc limit ?",
        [*params, limit + 1]))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"rows": rows, "next": encode_cursor(rows[-1]["received_at"], rows[-1]["id"]) if more and rows else None}


def detail(db: Database, report_id: str) -> dict | None:
    """Everything a coordinator sees about one report."""
    rows = list(db.query("select r.*, u.display_name as author from reports r left join users u on u.id = r.user_id"
                         " where r.id = ?", [report_id]))
    if not rows:
        return None
    report = rows[0]
    contact = list(db.query("select * from report_contacts where report_id = ?", [report_id]))
    report["contact"] = contact[0] if contact else None
    report["photos"] = photo_states(db, report_id)
    report["events"] = list(db.query(
        "select e.*, u.display_name as who from report_events e left join users u on u.id = e.user_id"
        " where e.report_id = ? order by e.at, e.id", [report_id]))
    report["volunteers"] = list(db.query(
        "select name, email, phone, created_at from report_volunteers where report_id = ? order by id", [report_id]))
    report["duplicates"] = list(db.query(
        "select id, title, received_at from reports where duplicate_of = ? order by received_at", [report_id]))
    report["allowed"] = rs.allowed(report["status"])
    return report


def _original_of(db: Database, report_id: str, original_id: str) -> str:
    """Follow a chain of duplicates to the report that stands (refusing loops and self-reference)."""
    seen = {report_id}
    current = original_id
    for _i in range(20):
        if not is_uuid(current):
            break
        if current in seen:
            raise ReportError({"duplicate_of": _("a report cannot be a duplicate of itself")})
        row = db.execute("select status, duplicate_of from reports where id = ?", [current]).fetchone()
        if not row:
            break
        if row[0] != rs.DUPLICATE:
            return current
        seen.add(current)
        current = row[1]
    raise ReportError({"duplicate_of": _("the original report does not exist")})


def change_status(db: Database, report_id: str, target: str, user_id: int | None, *,
                  expected: str | None = None, reason: str | None = None, duplicate_of: str | None = None,
                  scheduled_for: str | None = None, message: str | None = None, outbox=None) -> dict:
    """Move a report to another state, with the rules of report_states; record who, when, why.
    With an ``outbox`` (e-mail on), the reporter and the volunteers are told, in this transaction."""
    row = db.execute("select status, scheduled_for from reports where id = ?", [report_id]).fetchone()
    if not row:
        raise ReportError({"report": _("this report does not exist")}, status=404)
    current, previous_date = row[0], row[1]
    if expected and expected != current:
        raise ReportError({"status": _("this report was changed meanwhile: it is now “%(s)s”") % {"s": rs.label(current)}},
                          status=409)
    if isinstance(duplicate_of, str):
        duplicate_of = duplicate_of.strip().lower()
    try:
        fields = rs.check(current, target, reason=reason, duplicate_of=duplicate_of, scheduled_for=scheduled_for,
                          message=message, today=localtime.city_today(db))
    except TransitionError as exc:
        raise ReportError(exc.errors)
    if target == rs.DUPLICATE:
        fields["duplicate_of"] = _original_of(db, report_id, fields["duplicate_of"])
    now = refdata.now_iso()
    fields.update(status=target, updated_at=now)
    if target in rs.CLOSED:
        fields["closed_at"] = now
    db["reports"].update(report_id, fields)
    text = fields.get("decline_reason") or (fields.get("public_reply") if target == rs.NEEDS_INFO else "") or ""
    if target == rs.SCHEDULED:
        text = fields["scheduled_for"]
    record_event(db, report_id, user_id, "status", from_status=current, to_status=target, text=text, public=1, at=now)
    joined: list[int] = []
    if target == rs.DUPLICATE:
        joined = _merge_into(db, report_id, fields["duplicate_of"], user_id, now)
    audit.record(db, user_id, "report.status", "report", report_id, from_status=current, to_status=target,
                 **{k: v for k, v in fields.items() if k in ("decline_reason", "duplicate_of", "scheduled_for")})
    if outbox is not None:
        mail_events.report_changed(db, outbox, report_id, _last_public_event(db, report_id))
        if target == rs.SCHEDULED:
            mail_events.volunteers_scheduled(db, outbox, report_id, fields["scheduled_for"],
                                             previous_date if current == rs.SCHEDULED else None)
        elif target == rs.DECLINED and current in rs.PUBLIC_WORKSITE:
            mail_events.volunteers_cancelled(db, outbox, report_id, previous_date)
        for volunteer_id in joined:  # carried over to an original already scheduled: its date
            mail_events.volunteer_joined(db, outbox, fields["duplicate_of"], volunteer_id)
    return fields


def _last_public_event(db: Database, report_id: str) -> int:
    return db.execute("select max(id) from report_events where report_id = ? and public = 1", [report_id]).fetchone()[0]


def _merge_into(db: Database, duplicate_id: str, original_id: str, user_id: int | None, now: str) -> list[int]:
    """Carry a duplicate's photos, volunteers, "me too"s and will to help over to its original;
    the ids of the volunteers the original gained."""
    db.execute("insert or ignore into report_photos (report_id, sha256, position)"
               " select ?, sha256, 100 + position from report_photos where report_id = ?", [original_id, duplicate_id])
    last = db.execute("select coalesce(max(id), 0) from report_volunteers").fetchone()[0]
    db.execute("insert or ignore into report_volunteers (report_id, name, email, phone, consent_text_version, created_at,"
               " locale) select ?, name, email, phone, consent_text_version, created_at, locale from report_volunteers"
               " where report_id = ?", [original_id, duplicate_id])
    db.execute("update reports set me_too_count = me_too_count + 1 + (select me_too_count from reports where id = ?),"
               " wants_to_help = max(wants_to_help, (select wants_to_help from reports where id = ?)), updated_at = ?"
               " where id = ?", [duplicate_id, duplicate_id, now, original_id])
    record_event(db, original_id, user_id, "merge", text=duplicate_id, public=0, at=now)
    return [r[0] for r in db.execute("select id from report_volunteers where report_id = ? and id > ?",
                                     [original_id, last])]


def merge(db: Database, duplicate_id: str, original_id: str, user_id: int | None, outbox=None) -> dict:
    """Mark ``duplicate_id`` as a duplicate of ``original_id`` and carry its content over."""
    return change_status(db, duplicate_id, rs.DUPLICATE, user_id, duplicate_of=original_id, outbox=outbox)


def add_reply(db: Database, report_id: str, user_id: int | None, text: object, *, public: bool, outbox=None) -> None:
    """A public reply (the resident sees it) or an internal note (only coordinators do)."""
    clean = message_text(text)
    if not db.execute("select 1 from reports where id = ?", [report_id]).fetchone():
        raise ReportError({"report": _("this report does not exist")}, status=404)
    now = refdata.now_iso()
    if public:
        db.execute("update reports set public_reply = ?, updated_at = ? where id = ?", [clean, now, report_id])
    record_event(db, report_id, user_id, "reply" if public else "note", text=clean, public=int(public), at=now)
    audit.record(db, user_id, "report.reply" if public else "report.note", "report", report_id)
    if public and outbox is not None:
        mail_events.report_changed(db, outbox, report_id, _last_public_event(db, report_id))


def bulk_change(db: Database, report_ids: list[str], target: str, user_id: int | None, **fields) -> dict[str, str]:
    """Apply one change to several reports; each is done or refused on its own. Returns {id: error or ""}."""
    results: dict[str, str] = {}
    for rid in dict.fromkeys(report_ids):
        if not is_uuid(rid):
            results[str(rid)[:40]] = _("unknown report")
            continue
        try:
            with db.atomic():
                change_status(db, rid, target, user_id, **fields)
            results[rid] = ""
        except ReportError as exc:
            results[rid] = "; ".join(exc.errors.values())
    return results
