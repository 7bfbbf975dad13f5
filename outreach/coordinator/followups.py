"""Follow-ups to make: contacts residents gave with consent, grouped by purpose, marked done.

Only coordinators and admins call these (the routes say so); field workers never read a
contact back once it is synced.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from .. import audit
from ..refdata import now_iso

MAX_ROWS = 500  # one page: the oldest first; marking them done brings the next ones


def open_followups(db: Database, purpose: str | None = None, include_done: bool = False) -> list[dict]:
    """Unexpired contacts, oldest consent first, optionally for one purpose (a tool code)."""
    where = ["datetime(c.expires_at) > datetime(?)"]
    params: list = [now_iso()]
    if not include_done:
        where.append("c.done_at is null")
    if purpose:
        where.append("exists (select 1 from json_each(c.purposes) p where p.value = ?)")
        params.append(purpose)
    rows = list(
        db.query(
            "select c.id, c.channel, c.contact, c.name, c.purposes, c.consent_text_version, c.consented_at, "
            "c.expires_at, c.done_at, e.zone, e.occurred_at, u.display_name as worker, d.display_name as done_by_name "
            "from contacts c left join encounters e on e.id = c.encounter_id left join users u on u.id = c.user_id "
            "left join users d on d.id = c.done_by where " + " and ".join(where) + " order by c.consented_at, c.id limit ?",
            [*params, MAX_ROWS],
        )
    )
    for r in rows:
        try:
            r["purposes"] = [p for p in json.loads(r["purposes"] or "[]") if isinstance(p, str)]
        except ValueError:
            r["purposes"] = []
    return rows


def counts_by_purpose(db: Database) -> dict[str, int]:
    return {
        r["purpose"]: r["n"]
        for r in db.query(
            "select p.value as purpose, count(*) as n from contacts c, json_each(c.purposes) p "
            "where c.done_at is null and datetime(c.expires_at) > datetime(?) group by p.value",
            [now_iso()],
        )
    }


def mark_done(db: Database, contact_id: str, user_id: int) -> bool:
    """Mark one follow-up done (idempotent: a second click changes nothing). False if unknown."""
    cur = db.execute(
        "update contacts set done_at = ?, done_by = ? where id = ? and done_at is null", [now_iso(), user_id, contact_id]
    )
    if cur.rowcount:
        audit.record(db, user_id, "followup_done", "contact", contact_id)
        return True
    return bool(list(db.query("select 1 from contacts where id = ?", [contact_id])))
