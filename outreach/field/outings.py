"""Outings (sorties), field side: started or joined on the phone, tallies per tool, ended with a debrief."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlite_utils import Database

from .. import localtime, vocab
from ..i18n import gettext as _
from ..validation import Check, is_int, iso_utc

FORMATS = vocab.OUTING_FORMATS
FIELDS = {"zone", "format", "started_at", "ended_at", "members", "tallies", "debrief"}
DEBRIEF_MAX = vocab.LIMITS["debrief"].max
MAX_MEMBERS = vocab.LIMITS["members"].max
MAX_TALLY = vocab.LIMITS["tally"].max


def validate(ctx, data: dict) -> Check:
    """Check an outing's data; ``check.clean`` holds the values to store."""
    c = Check(data)
    c.only(FIELDS)
    c.choice("zone", ctx.codes("zones"), nullable=True)
    c.choice("format", FORMATS)
    started = c.time("started_at", ctx.now, ahead=timedelta(hours=24), back=timedelta(days=366))
    ended = c.time("ended_at", ctx.now, ahead=timedelta(hours=24), back=timedelta(days=366), required=False, nullable=True)
    if started and ended and ended < started:
        c.fail("ended_at", _("must be after the start"))
    elif started and ended and ended - started > timedelta(hours=24):
        c.fail("ended_at", _("an outing lasts at most 24 hours"))
    c.text("debrief", DEBRIEF_MAX)
    _members(ctx, c)
    _tallies(ctx, c)
    return c


def _members(ctx, c: Check) -> None:
    members = c.data.get("members", [])
    if not isinstance(members, list) or len(members) > MAX_MEMBERS or not all(is_int(m) for m in members):
        c.fail("members", _("must be a list of at most {n} user ids").format(n=MAX_MEMBERS))
        return
    if len(set(members)) != len(members):
        c.fail("members", _("must not repeat a user"))
        return
    known = ctx.active_user_ids(members)
    unknown = [m for m in members if m not in known]
    if unknown:
        c.fail("members", _("unknown user: {id}").format(id=unknown[0]))
        return
    # The worker who sends the outing is always one of its members.
    c.clean["members"] = sorted(set(members) | {ctx.user["id"]})


def _tallies(ctx, c: Check) -> None:
    tallies = c.data.get("tallies", {})
    if not isinstance(tallies, dict):
        c.fail("tallies", _("must be an object: tool code → count"))
        return
    tools = ctx.codes("tools")
    for tool, count in tallies.items():
        if tool not in tools:
            c.fail("tallies", _("unknown code: {code}").format(code=str(tool)[:40]))
            return
        if not is_int(count) or not 0 <= count <= MAX_TALLY:
            c.fail("tallies." + tool, _("must be between {low} and {high}").format(low=0, high=MAX_TALLY))
            return
    c.clean["tallies"] = dict(tallies)


def store(db: Database, ctx, entry: dict, clean: dict, *, update: bool) -> None:
    """Write the outing (a planned one becomes started or ended), its members and tallies."""
    outing_id = entry["id"]
    existing = db["outings"].get(outing_id) if db["outings"].count_where("id = ?", [outing_id]) else None
    row = {
        "id": outing_id,
        "version": entry["version"],
        "hash": entry["hash"],
        "zone": clean["zone"],
        "format": clean["format"],
        "status": "ended" if clean["ended_at"] else "started",
        "started_at": iso_utc(clean["started_at"]),
        "ended_at": iso_utc(clean["ended_at"]) if clean["ended_at"] else None,
        "updated_at": ctx.received_at,
    }
    if existing is None:
        row.update(created_by=ctx.user["id"], created_at=ctx.received_at, planned_date=None)
    db["outings"].upsert(row, pk="id")
    # Members named by a coordinator who planned the outing stay; the phone adds its own.
    db["outing_members"].insert_all(
        [{"outing_id": outing_id, "user_id": m} for m in clean["members"]], pk=("outing_id", "user_id"), ignore=True
    )
    if clean["debrief"]:
        # One debrief per member: a teammate's never overwrites another's (a version without
        # one, a tally tap, leaves the member's debrief as it was).
        db["outing_debriefs"].upsert(
            {"outing_id": outing_id, "user_id": ctx.user["id"], "debrief": clean["debrief"], "updated_at": ctx.received_at},
            pk=("outing_id", "user_id"),
        )
    db["outings"].update(outing_id, {"debrief": joined_debriefs(db, outing_id)})
    db["outing_tallies"].delete_where("outing_id = ?", [outing_id])
    db["outing_tallies"].insert_all(
        [{"outing_id": outing_id, "tool": t, "count": n} for t, n in team_tallies(db, outing_id, clean["tallies"]).items()],
        pk=("outing_id", "tool"),
    )


def debriefs(db: Database, outing_id: str) -> list[dict]:
    """Every member's debrief of one outing, by name: ``{user_id, display_name, debrief, updated_at}``."""
    return [
        dict(r)
        for r in db.query(
            "select d.user_id, u.display_name, d.debrief, d.updated_at from outing_debriefs d "
            "left join users u on u.id = d.user_id where d.outing_id = ? order by u.display_name, d.user_id",
            [outing_id],
        )
    ]


def joined_debriefs(db: Database, outing_id: str) -> str:
    """All members' debriefs as one text, each under its author's name (for exports)."""
    found = debriefs(db, outing_id)
    if len(found) == 1:
        return found[0]["debrief"]
    return "\n\n".join(f"{d['display_name'] or d['user_id']} : {d['debrief']}" for d in found)


def team_tallies(db: Database, outing_id: str, own: dict[str, int]) -> dict[str, int]:
    """The outing's counts: each phone's own taps (its latest stored version), summed.

    Teammates who joined one planned outing each count on their own phone, offline, and
    send the same outing id. Taking only the last version would keep one phone's counts and
    lose the others'; each phone's entry carries its own taps, so the sum is the outing's.
    ``own`` is the version being stored (already in entry_versions when sync calls this).
    """
    rows = db.execute(
        """
        select v.data from entry_versions v
        where v.entry_id = :id and v.version = (
            select max(w.version) from entry_versions w
            where w.entry_id = v.entry_id and w.user_id is v.user_id and w.device_id is v.device_id)
        """,
        {"id": outing_id},
    ).fetchall()
    if not rows:  # stored without the sync history (never the case through /api/v1/sync)
        return dict(own)
    totals: dict[str, int] = {}
    for (data,) in rows:
        tallies = json.loads(data).get("tallies") or {}
        for tool, count in tallies.items():
            totals[tool] = totals.get(tool, 0) + count
    return totals


def is_member(db: Database, outing_id: str, user_id: int) -> bool:
    """True when the user planned or started this outing, or is one of its members."""
    return bool(db.execute(
        "select 1 from outings where id = ? and created_by = ? union all "
        "select 1 from outing_members where outing_id = ? and user_id = ? limit 1",
        [outing_id, user_id, outing_id, user_id]).fetchone())


def may_create(db: Database, ctx, entry_id: str) -> str | None:
    """Why a first synced version of this outing is refused (None: it may be stored).

    A planned outing exists before any phone syncs it: only its team may start, end or fill it.
    """
    if db.execute("select 1 from outings where id = ?", [entry_id]).fetchone() and not is_member(db, entry_id, ctx.user_id):
        return _("This outing was planned for another team: only its members can start it.")
    return None


def may_update(db: Database, ctx, entry_id: str, first_author: int | None) -> bool:
    """The worker who started it, or any member of it (teammates share one outing)."""
    if first_author == ctx.user["id"]:
        return True
    return bool(db["outing_members"].count_where("outing_id = ? and user_id = ?", [entry_id, ctx.user["id"]]))


def for_user(db: Database, user_id: int, today: date | None = None) -> list[dict]:
    """Outings the phone should offer: planned (from yesterday on) or started, that name this user."""
    today = today or localtime.city_today(db)
    rows = db.query(
        """
        select o.id, o.version, o.zone, o.format, o.status, o.planned_date, o.planned_start, o.planned_end,
               o.meeting_point, o.meeting_lat, o.meeting_lon, o.started_at, o.ended_at
        from outings o join outing_members m on m.outing_id = o.id
        where m.user_id = :user and (
            (o.status = 'planned' and (o.planned_date is null or o.planned_date >= :since))
            or (o.status = 'started' and o.started_at >= :recent))
        order by coalesce(o.planned_date, o.started_at), o.planned_start, o.id
        limit 100
        """,
        {"user": user_id, "since": (today - timedelta(days=1)).isoformat(), "recent": (today - timedelta(days=2)).isoformat()},
    )
    out = []
    for row in rows:
        members = db.query(
            "select u.id, u.display_name from outing_members m join users u on u.id = m.user_id "
            "where m.outing_id = ? order by u.display_name",
            [row["id"]],
        )
        row = dict(row, members=[dict(m) for m in members])
        lat, lon = row.pop("meeting_lat"), row.pop("meeting_lon")
        row["meeting_location"] = {"lat": lat, "lon": lon} if lat is not None and lon is not None else None
        out.append(row)
    return out


def teammates(db: Database) -> list[dict]:
    """Active field staff a worker may name as teammates."""
    return [
        dict(r)
        for r in db.query("select id, display_name from users where active = 1 order by display_name, id limit 500")
    ]
