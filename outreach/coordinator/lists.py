"""Read-side lists for coordinators: filters parsed once, parameterised SQL, keyset pagination.

Pages are walked with a cursor (the sort key and id of the last row shown), never OFFSET:
page 1 and page 10,000 cost the same, and a cursor pointing nowhere just gives an empty page.
Filter messages are English msgids; the view translates them. Filter dates are the city's local
days: each becomes the UTC instant at which it begins (``localtime.start_of_day``) before it
meets the stored instants, so an encounter at 00:30 local time is on its own day's page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Mapping

from sqlite_utils import Database

from .. import localtime, vocab
from ..field import outings
from ..i18n import gettext as _

PAGE_SIZE = 50
ID_RE = re.compile(r"[0-9A-Za-z-]{1,64}\Z")
_MAX_DAY = date(9999, 12, 30)


class FilterError(ValueError):
    """Bad filter values: ``errors`` maps each field to an English message (a msgid)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Filters:
    start: date | None = None
    end: date | None = None
    zone: str | None = None
    outing: str | None = None
    worker: int | None = None
    tool: str | None = None
    outcome: str | None = None
    interest: str | None = None
    place_type: str | None = None
    status: str | None = None
    format: str | None = None
    after: tuple[str, str] | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def params(self, **changes) -> dict[str, str]:
        """The filters as query-string parameters (for links to other pages, exports, the map)."""
        f = replace(self, **changes) if changes else self
        out: dict[str, str] = {}
        for name in ("start", "end", "zone", "outing", "worker", "tool", "outcome", "interest", "place_type", "status", "format"):
            value = getattr(f, name)
            if value is not None:
                out[name] = value.isoformat() if isinstance(value, date) else str(value)
        if f.after:
            out["after"] = "~".join(f.after)
        return out


def parse_day(raw: str) -> date:
    """A day as YYYY-MM-DD (what <input type=date> sends)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise ValueError(raw)
    return date.fromisoformat(raw)


def parse_filters(params: Mapping[str, str], choices: Mapping[str, set[str]]) -> Filters:
    """Validate query parameters; ``choices`` holds the valid codes of zones and tools.

    Raises FilterError naming every bad field. Empty values mean "no filter".
    """
    errors: dict[str, str] = {}
    values: dict = {}

    def get(name: str) -> str | None:
        raw = params.get(name)
        if raw is None:
            return None
        raw = raw.strip()
        if len(raw) > 200:
            errors[name] = _("This value is too long.")
            return None
        return raw or None

    for name in ("start", "end"):
        raw = get(name)
        if raw is not None:
            try:
                day = parse_day(raw)
                if day > _MAX_DAY:
                    raise ValueError(raw)
                values[name] = day
            except ValueError:
                errors[name] = _("Enter a date as YYYY-MM-DD.")
    if values.get("start") and values.get("end") and values["start"] > values["end"]:
        errors["end"] = _("The end date is before the start date.")

    closed = {
        "zone": (choices.get("zones", set()), _("Unknown zone.")),
        "tool": (choices.get("tools", set()), _("Unknown participatory tool.")),
        "outcome": (vocab.OUTCOMES, _("Unknown outcome.")),
        "interest": (vocab.INTERESTS, _("Unknown interest level.")),
        "place_type": (vocab.PLACE_TYPES, _("Unknown place type.")),
        "status": (vocab.OUTING_STATUSES, _("Unknown status.")),
        "format": (vocab.OUTING_FORMATS, _("Unknown outing format.")),
    }
    for name, (allowed, message) in closed.items():
        raw = get(name)
        if raw is not None:
            if raw in allowed:
                values[name] = raw
            else:
                errors[name] = message

    raw = get("outing")
    if raw is not None:
        if ID_RE.match(raw):
            values["outing"] = raw
        else:
            errors["outing"] = _("Unknown outing.")
    raw = get("worker")
    if raw is not None:
        if raw.isdigit() and len(raw) <= 12:
            values["worker"] = int(raw)
        else:
            errors["worker"] = _("Unknown worker.")
    # Pages are walked with a cursor, not numbers: say so rather than ignore ?page=1000000000000.
    raw = get("page")
    if raw is not None and raw != "1":
        errors["page"] = _("Pages have no numbers here: use the links at the bottom of the list to go further.")
    raw = get("after")
    if raw is not None:
        key, sep, ident = raw.partition("~")
        if sep and ID_RE.match(ident) and _valid_key(key):
            values["after"] = (key, ident)
        else:
            errors["after"] = _("This page link is not valid; start again from the first page.")
    if errors:
        raise FilterError(errors)
    return Filters(**values)


def _valid_key(key: str) -> bool:
    if len(key) > 40:
        return False
    try:
        datetime.fromisoformat(key)
        return True
    except ValueError:
        return False


def _page(rows: list[dict], key: str) -> dict:
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return {"rows": rows, "next": f"{rows[-1][key]}~{rows[-1]['id']}" if more and rows else None}


def encounters_page(db: Database, f: Filters, limit: int = PAGE_SIZE) -> dict:
    """One page of encounters, newest first, with tool codes and the worker's name (never a contact)."""
    where, params = encounter_where(f, tz=localtime.zone_of(db))
    if f.after:
        where.append("(e.occurred_at, e.id) < (?, ?)")
        params += list(f.after)
    sql = (
        "select e.id, e.occurred_at, e.zone, e.place_type, e.people_count, e.outcome, e.interest, e.outing_id, "
        "e.user_id, e.note, e.age_band, e.language, u.display_name as worker, e.tools "
        "from encounters e left join users u on u.id = e.user_id "
        + ("where " + " and ".join(where) if where else "")
        + " order by e.occurred_at desc, e.id desc limit ?"
    )
    rows = list(db.query(sql, params + [limit + 1]))
    for r in rows:
        r["tools"] = json.loads(r["tools"])
    return _page(rows, "occurred_at") if limit == PAGE_SIZE else {"rows": rows[:limit], "next": None}


def encounter_where(f: Filters, alias: str = "e", tz=None) -> tuple[list[str], list]:
    """SQL conditions for the encounter filters (shared by the list, the map and the exports).

    ``tz``: the city's zone (``localtime.zone_of(db)``); the start and end days are local days.
    """
    where: list[str] = []
    params: list = []
    a = alias
    tz = tz or localtime.zone(localtime.DEFAULT_TIMEZONE)
    where_period(where, params, f, f"{a}.occurred_at", tz)
    for name, col in (("zone", "zone"), ("outing", "outing_id"), ("worker", "user_id"), ("outcome", "outcome"),
                      ("interest", "interest"), ("place_type", "place_type")):
        value = getattr(f, name)
        if value is not None:
            where.append(f"{a}.{col} = ?")
            params.append(value)
    if f.tool:
        where.append(f"exists (select 1 from json_each({a}.tools) t where t.value = ?)")
        params.append(f.tool)
    return where, params


def where_period(where: list[str], params: list, f: Filters, column: str, tz) -> None:
    """Conditions keeping the instants of ``column`` that fall within the filters' local days."""
    if f.start:
        where.append(f"{column} >= ?")
        params.append(localtime.start_of_day(f.start, tz))
    if f.end:
        where.append(f"{column} < ?")
        params.append(localtime.end_of_day_exclusive(f.end, tz))


_OUTING_KEY = "coalesce(o.started_at, o.planned_date, o.created_at, '')"
# The local day an outing belongs to (as agg_outings counts it): started, else planned, else created.
_OUTING_DAY = "coalesce(local_day(o.started_at), o.planned_date, local_day(o.created_at), '')"


def outing_where(f: Filters) -> tuple[list[str], list]:
    where: list[str] = []
    params: list = []
    if f.start:
        where.append(f"{_OUTING_DAY} >= ?")
        params.append(f.start.isoformat())
    if f.end:
        where.append(f"{_OUTING_DAY} <= ?")
        params.append(f.end.isoformat())
    for name in ("zone", "status", "format"):
        value = getattr(f, name)
        if value is not None:
            where.append(f"o.{name} = ?")
            params.append(value)
    if f.worker is not None:
        where.append("exists (select 1 from outing_members m where m.outing_id = o.id and m.user_id = ?)")
        params.append(f.worker)
    return where, params


def outings_page(db: Database, f: Filters) -> dict:
    """One page of outings (planned and done), latest first, with members and encounter counts."""
    where, params = outing_where(f)
    if f.after:
        where.append(f"({_OUTING_KEY}, o.id) < (?, ?)")
        params += list(f.after)
    sql = (
        f"select o.id, o.zone, o.format, o.status, o.planned_date, o.started_at, o.ended_at, {_OUTING_KEY} as sort_key, "
        "(select count(*) from encounters e where e.outing_id = o.id) as encounters, "
        "(select group_concat(u.display_name, ', ') from outing_members m join users u on u.id = m.user_id "
        " where m.outing_id = o.id) as members "
        "from outings o " + ("where " + " and ".join(where) if where else "") + f" order by {_OUTING_KEY} desc, o.id desc limit ?"
    )
    rows = list(db.query(sql, params + [PAGE_SIZE + 1]))
    return _page(rows, "sort_key")


def outing_report(db: Database, outing_id: str) -> dict | None:
    """An outing with its members, tallies, encounters (counts by tool, outcome) and debrief."""
    rows = list(db.query("select * from outings where id = ?", [outing_id]))
    if not rows:
        return None
    outing = rows[0]
    members = list(
        db.query(
            "select u.id, u.display_name from outing_members m join users u on u.id = m.user_id "
            "where m.outing_id = ? order by u.display_name",
            [outing_id],
        )
    )
    tallies = {r["tool"]: r["count"] for r in db.query("select tool, count from outing_tallies where outing_id = ?", [outing_id])}
    by_tool = {
        r["tool"]: r["n"]
        for r in db.query(
            "select t.value as tool, count(*) as n from encounters e join json_each(e.tools) t "
            "where e.outing_id = ? group by t.value",
            [outing_id],
        )
    }
    by_outcome = {
        r["outcome"]: r["n"]
        for r in db.query("select outcome, count(*) as n from encounters where outing_id = ? group by outcome", [outing_id])
    }
    totals = next(
        iter(db.query("select count(*) as n, coalesce(sum(people_count), 0) as people from encounters where outing_id = ?", [outing_id]))
    )
    # Tallied people count as reached, shown apart from the people met in conversations.
    totals = dict(totals, tallied=sum(tallies.values()))
    totals["reached"] = totals["people"] + totals["tallied"]
    encounters = encounters_page(db, Filters(outing=outing_id), limit=500)["rows"]
    return {
        # Rows written without the sync path (demo data, imports) have only the outing's own text.
        "debriefs": outings.debriefs(db, outing_id)
        or ([{"display_name": None, "debrief": outing["debrief"]}] if outing["debrief"] else []),
        "outing": outing,
        "members": members,
        "tallies": tallies,
        "by_tool": by_tool,
        "by_outcome": by_outcome,
        "totals": totals,
        "encounters": encounters,
    }


def workers(db: Database) -> list[dict]:
    """Accounts that can go out in the field (for filters and planning), active first."""
    return list(db.query("select id, display_name, role, active from users order by active desc, display_name, id"))


def devices(db: Database, stale_days: int, now: datetime) -> list[dict]:
    """Every device with its user, last sync and app version; ``stale`` when silent too long."""
    rows = list(
        db.query(
            "select d.id, d.user_id, d.first_seen, d.last_seen, d.app_version, u.display_name, u.active "
            "from devices d left join users u on u.id = d.user_id order by d.last_seen desc"
        )
    )
    for r in rows:
        try:
            last = datetime.fromisoformat(r["last_seen"]) if r["last_seen"] else None
        except ValueError:
            last = None
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=now.tzinfo)
        r["days_silent"] = (now - last).days if last else None
        r["stale"] = last is None or (now - last).total_seconds() > stale_days * 86400
    return rows


def audit_page(db: Database, action: str | None = None, before: int | None = None) -> dict:
    """The audit log, newest first, keyset on id."""
    where, params = [], []
    if action:
        where.append("a.action = ?")
        params.append(action)
    if before is not None:
        where.append("a.id < ?")
        params.append(before)
    rows = list(
        db.query(
            "select a.*, u.display_name as who from audit_log a left join users u on u.id = a.user_id "
            + ("where " + " and ".join(where) if where else "")
            + " order by a.id desc limit ?",
            params + [PAGE_SIZE + 1],
        )
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return {"rows": rows, "next": rows[-1]["id"] if more and rows else None}


def audit_actions(db: Database) -> list[str]:
    return [r["action"] for r in db.query("select distinct action from audit_log order by action")]
