"""Outings planned by coordinators: a row in ``outings`` with status ``planned`` and its members.

A planned outing has a day, a start and an end time (local, HH:MM) and a meeting point (words,
and optionally a position). The phone learns about them from ``GET /api/v1/bootstrap`` (the
members' planned outings); when a member starts the outing in the field, the sync turns it
into ``started``. Cancelling deletes the outing and leaves a line in ``outing_cancellations``,
which bootstrap hands to its members' phones so that they drop it from their plan.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Mapping

from sqlite_utils import Database

from .. import audit, vocab
from ..i18n import gettext as _
from ..refdata import codes, now_iso
from .lists import parse_day


MEETING_POINT_MAX = 200
# A proposal's plan before the team has any history: an afternoon walkabout.
DEFAULT_HOURS = ("14:00", "17:00")
DEFAULT_FORMAT = "walkabout"
PLAN_KEY_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def new_plan_key() -> str:
    """The key a planning form carries, so that sending it twice plans one outing."""
    return str(uuid.uuid4())


class PlanError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def validate(db: Database, form: Mapping, members: list[str], today: date) -> dict:
    """Check a planning form; PlanError names each bad field (English msgids)."""
    errors: dict[str, str] = {}
    zone = (form.get("zone") or "").strip()
    if zone not in codes(db, "zones"):
        errors["zone"] = _("Choose a zone from the list.")
    fmt = (form.get("format") or "").strip()
    if fmt not in vocab.OUTING_FORMATS:
        errors["format"] = _("Choose a format from the list.")
    raw_day = (form.get("planned_date") or "").strip()
    day = None
    try:
        day = parse_day(raw_day)
        if day < today:
            errors["planned_date"] = _("The date is in the past.")
        elif (day - today).days > 366:
            errors["planned_date"] = _("Plan at most a year ahead.")
    except ValueError:
        errors["planned_date"] = _("Enter a date as YYYY-MM-DD.")
    times = {}
    for name in ("planned_start", "planned_end"):
        raw = (form.get(name) or "").strip()
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", raw):
            errors[name] = _("Enter a time as HH:MM.")
        times[name] = raw
    if "planned_start" not in errors and "planned_end" not in errors and times["planned_end"] <= times["planned_start"]:
        errors["planned_end"] = _("The end time is before the start time.")
    meeting_point = " ".join((form.get("meeting_point") or "").split())
    if not meeting_point:
        errors["meeting_point"] = _("Say where the team meets.")
    elif len(meeting_point) > MEETING_POINT_MAX:
        errors["meeting_point"] = _("Keep the meeting point under 200 characters.")
    position = {"meeting_lat": None, "meeting_lon": None}
    raw_lat, raw_lon = (form.get("meeting_lat") or "").strip(), (form.get("meeting_lon") or "").strip()
    if raw_lat or raw_lon:
        try:
            lat, lon = float(raw_lat.replace(",", ".")), float(raw_lon.replace(",", "."))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError
            position = {"meeting_lat": round(lat, 6), "meeting_lon": round(lon, 6)}
        except (ValueError, OverflowError):
            errors["meeting_position"] = _("Give a latitude and a longitude in degrees (e.g. 45.188 and 5.724), or neither.")
    member_ids: list[int] = []
    for m in members:
        if not (m.isdigit() and len(m) <= 12):
            errors["members"] = _("Unknown team member.")
            break
        member_ids.append(int(m))
    member_ids = sorted(set(member_ids))
    if not member_ids and "members" not in errors:
        errors["members"] = _("Choose at least one team member.")
    elif member_ids:
        active = {
            r["id"]
            for r in db.query(
                f"select id from users where active = 1 and id in ({','.join('?' * len(member_ids))})", member_ids
            )
        }
        if active != set(member_ids):
            errors["members"] = _("Unknown team member.")
    plan_key = (form.get("plan_key") or "").strip().lower() or None
    if plan_key is not None and not PLAN_KEY_RE.fullmatch(plan_key):
        errors["plan_key"] = _("This form is out of date: reload the page and plan again.")
    if errors:
        raise PlanError(errors)
    return {"zone": zone, "format": fmt, "planned_date": day.isoformat(), "members": member_ids, **times,
            "meeting_point": meeting_point, **position, "plan_key": plan_key}


def plan(db: Database, plan: dict, user_id: int) -> str:
    """Store a planned outing and its members (inside one write transaction); returns its id.

    A form sent again with the same key returns the outing it planned the first time: the
    unique key refuses the second row (the database decides, not a look-up before the insert).
    """
    outing_id = str(uuid.uuid4())
    now = now_iso()
    key = plan.get("plan_key")
    try:
        _insert_planned(db, outing_id, plan, user_id, now)
    except sqlite3.IntegrityError:
        first = db.execute("select id from outings where plan_key = ?", [key]).fetchone() if key else None
        if first is None:
            raise
        return first[0]
    db["outing_members"].insert_all([{"outing_id": outing_id, "user_id": u} for u in plan["members"]], ignore=True)
    audit.record(db, user_id, "outing_planned", "outing", outing_id, zone=plan["zone"], date=plan["planned_date"],
                 members=plan["members"])
    return outing_id


def _insert_planned(db: Database, outing_id: str, plan: dict, user_id: int, now: str) -> None:
    db["outings"].insert(
        {
            "id": outing_id,
            "version": 0,
            "zone": plan["zone"],
            "format": plan["format"],
            "status": "planned",
            "planned_date": plan["planned_date"],
            "planned_start": plan["planned_start"],
            "planned_end": plan["planned_end"],
            "meeting_point": plan["meeting_point"],
            "meeting_lat": plan["meeting_lat"],
            "meeting_lon": plan["meeting_lon"],
            "debrief": "",
            "created_by": user_id,
            "created_at": now,
            "updated_at": now,
            "plan_key": plan.get("plan_key"),
        }
    )


def next_working_day(today: date) -> date:
    """The first day after today that is not a Saturday or a Sunday."""
    day = today + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def regulars(db: Database, outings: int = 20) -> list[int]:
    """The active members of the latest planned outings: the people a proposal's small form offers
    (anyone else is one click away, in the full form)."""
    return [r[0] for r in db.execute(
        "select distinct m.user_id from (select id from outings indexed by idx_outings_planned_date "
        "where planned_date is not null order by planned_date desc, created_at desc limit ?) o "
        "join outing_members m on m.outing_id = o.id join users u on u.id = m.user_id where u.active = 1 "
        "order by m.user_id", [outings])]


def usual_plans(db: Database, zones: list[str], today: date) -> dict[str, dict]:
    """A proposal's prefilled plan for each zone: the next working day, the team's usual hours (the
    most frequent among the latest planned outings), and the format, team and meeting point of the
    zone's latest planned outing (else, but for the meeting point, of the latest one anywhere)."""
    recent = [dict(r) for r in db.query(
        "select id, zone, format, planned_start, planned_end, meeting_point from outings indexed by idx_outings_planned_date "
        "where planned_date is not null order by planned_date desc, created_at desc limit 200")]
    hours = Counter((r["planned_start"], r["planned_end"]) for r in recent if r["planned_start"] and r["planned_end"])
    start, end = hours.most_common(1)[0][0] if hours else DEFAULT_HOURS
    latest = recent[0] if recent else None
    own = {z: next((r for r in recent if r["zone"] == z), None) for z in zones}
    picked = {r["id"] for r in [latest, *own.values()] if r is not None}
    team: dict[str, list[int]] = {}
    for outing_id, user_id in db.execute(
        "select m.outing_id, m.user_id from outing_members m join users u on u.id = m.user_id "
        "where u.active = 1 and m.outing_id in (select value from json_each(?)) order by m.user_id",
        [json.dumps(sorted(picked))],
    ):
        team.setdefault(outing_id, []).append(user_id)
    out = {}
    for z in zones:
        source = own[z] or latest
        out[z] = {
            "zone": z,
            "planned_date": next_working_day(today).isoformat(),
            "planned_start": start,
            "planned_end": end,
            "format": source["format"] if source else DEFAULT_FORMAT,
            "meeting_point": (own[z] or {}).get("meeting_point") or "",
            "members": [str(u) for u in team.get(source["id"], [])] if source else [],
        }
    return out


def cancellable(db: Database, outing_id: str) -> dict | None:
    """A planned outing nobody has started, with its members' names (None otherwise)."""
    rows = list(db.query(
        "select o.id, o.zone, o.format, o.status, o.planned_date, o.planned_start, o.planned_end, o.meeting_point, "
        "(select group_concat(u.display_name, ', ') from outing_members m join users u on u.id = m.user_id "
        " where m.outing_id = o.id) as members from outings o where o.id = ?", [outing_id]))
    if not rows or rows[0]["status"] != "planned":
        return None
    if list(db.query("select 1 from encounters where outing_id = ? limit 1", [outing_id])):
        return None
    return rows[0]


def cancel(db: Database, outing_id: str, user_id: int) -> bool:
    """Remove a planned outing that nobody has started (False if it is unknown or already started).

    Its members' phones are told through bootstrap (``outing_cancellations``) on their next sync.
    """
    outing = cancellable(db, outing_id)
    if outing is None:
        return False
    members = [r["user_id"] for r in db.query("select user_id from outing_members where outing_id = ?", [outing_id])]
    db["outing_cancellations"].upsert(
        {"outing_id": outing_id, "zone": outing["zone"], "format": outing["format"],
         "planned_date": outing["planned_date"], "planned_start": outing["planned_start"],
         "members": json.dumps(members), "cancelled_at": now_iso(), "cancelled_by": user_id},
        pk="outing_id",
    )
    db.execute("delete from outing_members where outing_id = ?", [outing_id])
    db.execute("delete from outing_tallies where outing_id = ?", [outing_id])
    db.execute("delete from outings where id = ? and status = 'planned'", [outing_id])
    audit.record(db, user_id, "outing_cancelled", "outing", outing_id)
    return True


def planned(db: Database, today: date, limit: int = 200) -> list[dict]:
    """Planned outings from today on, with their members' names."""
    return list(
        db.query(
            "select o.id, o.zone, o.format, o.planned_date, o.planned_start, o.planned_end, o.meeting_point, "
            "o.meeting_lat, o.meeting_lon, "
            "(select group_concat(u.display_name, ', ') from outing_members m join users u on u.id = m.user_id "
            " where m.outing_id = o.id) as members "
            "from outings o where o.status = 'planned' and o.planned_date >= ? "
            "order by o.planned_date, o.planned_start, o.id limit ?",
            [today.isoformat(), limit],
        )
    )


def cancelled_for_user(db: Database, user_id: int, since: date) -> list[dict]:
    """Outings this user was a member of, cancelled, that were planned from ``since`` on (for the phone)."""
    return [
        {"id": r["outing_id"], "zone": r["zone"], "format": r["format"], "planned_date": r["planned_date"],
         "planned_start": r["planned_start"], "cancelled_at": r["cancelled_at"]}
        for r in db.query(
            "select * from outing_cancellations where planned_date >= ? and exists "
            "(select 1 from json_each(members) where value = ?) order by planned_date, outing_id",
            [since.isoformat(), user_id],
        )
    ]
