"""Outings planned by coordinators: a row in ``outings`` with status ``planned`` and its members.

The phone learns about them from ``GET /api/v1/bootstrap`` (the members' planned outings);
when a member starts the outing in the field, the sync turns it into ``started``.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Mapping

from sqlite_utils import Database

from .. import audit, vocab
from ..i18n import gettext as _
from ..refdata import codes, now_iso
from .lists import parse_day


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
    if errors:
        raise PlanError(errors)
    return {"zone": zone, "format": fmt, "planned_date": day.isoformat(), "members": member_ids}


def plan(db: Database, plan: dict, user_id: int) -> str:
    """Store a planned outing and its members (inside one write transaction); returns its id."""
    outing_id = str(uuid.uuid4())
    now = now_iso()
    db["outings"].insert(
        {
            "id": outing_id,
            "version": 0,
            "zone": plan["zone"],
            "format": plan["format"],
            "status": "planned",
            "planned_date": plan["planned_date"],
            "debrief": "",
            "created_by": user_id,
            "created_at": now,
            "updated_at": now,
        }
    )
    db["outing_members"].insert_all([{"outing_id": outing_id, "user_id": u} for u in plan["members"]], ignore=True)
    audit.record(db, user_id, "outing_planned", "outing", outing_id, zone=plan["zone"], date=plan["planned_date"],
                 members=plan["members"])
    return outing_id


def cancel(db: Database, outing_id: str, user_id: int) -> bool:
    """Remove a planned outing that nobody has started (False if it is unknown or already started)."""
    rows = list(db.query("select status from outings where id = ?", [outing_id]))
    if not rows or rows[0]["status"] != "planned":
        return False
    if list(db.query("select 1 from encounters where outing_id = ? limit 1", [outing_id])):
        return False
    db.execute("delete from outing_members where outing_id = ?", [outing_id])
    db.execute("delete from outing_tallies where outing_id = ?", [outing_id])
    db.execute("delete from outings where id = ? and status = 'planned'", [outing_id])
    audit.record(db, user_id, "outing_cancelled", "outing", outing_id)
    return True


def planned(db: Database, today: date, limit: int = 200) -> list[dict]:
    """Planned outings from today on, with their members' names."""
    return list(
        db.query(
            "select o.id, o.zone, o.format, o.planned_date, "
            "(select group_concat(u.display_name, ', ') from outing_members m join users u on u.id = m.user_id "
            " where m.outing_id = o.id) as members "
            "from outings o where o.status = 'planned' and o.planned_date >= ? order by o.planned_date, o.id limit ?",
            [today.isoformat(), limit],
        )
    )
