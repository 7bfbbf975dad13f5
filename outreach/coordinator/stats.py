"""Coverage figures for the coordinator dashboard, read from aggregate tables kept at write time.

Longer than our usual ~350 lines on purpose: the aggregates' writers (sync batches, rebuild,
zone moves) and readers share their key expressions, and must change together; one file keeps
them in step.

``agg_encounters``, ``agg_tools``, ``agg_outings``, ``agg_tallies`` (people tallied per day of the
outing's start, zone and tool) and ``agg_ages`` (people met per day, zone and age band) are kept up
to date on every write, so an overview reads a few thousand summary rows (days x zones x values)
however many encounters and outings there are. Triggers (migrations m050, m200) follow every
update and delete, and every write of outings and their tallies; an encounter's tools live in its
row (migration m230), so a change of tools is an update like any other. Inserts of encounters are
counted by their writer, in the same transaction, once per batch (migration m051: per-row
triggers cost more than the inserts): ``add_encounters`` after inserting encounters (or
``add_encounter_rows`` and ``add_age_rows`` with the values just inserted). ``rebuild`` refills
everything from the source rows.

Days are the city's local days (``localtime``): ``local_day()`` in SQL, ``localtime.day_of`` in
Python, both in the zone the database was configured with.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlite_utils import Database

from .. import localtime, vocab
from ..db import insert_rows

ENCOUNTER_DIMS = ("outcome", "interest", "place_type")


@dataclass(frozen=True)
class Period:
    """An inclusive range of local days, optionally one zone."""

    start: date
    end: date
    zone: str | None = None

    @property
    def start_iso(self) -> str:
        return self.start.isoformat()

    @property
    def end_exclusive_iso(self) -> str:
        return (self.end + timedelta(days=1)).isoformat()

    def instants(self, db: Database) -> tuple[str, str]:
        """The UTC instants where the period's first local day begins and the day after its last
        begins, in the database's zone: bounds for stored instants (occurred_at, started_at)."""
        tz = localtime.zone_of(db)
        return localtime.start_of_day(self.start, tz), localtime.end_of_day_exclusive(self.end, tz)


def default_period(today: date | None = None, weeks: int = 8) -> Period:
    """The last ``weeks`` whole ISO weeks up to today (Monday to today)."""
    today = today or date.today()
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    return Period(start, today)


# The same expressions as rebuild(), restricted to the rows just inserted (ids as one JSON list).
_ADD_ENCOUNTERS = (
    "insert into agg_encounters (day, zone, dim, value, n, people) "
    "select local_day(e.occurred_at), coalesce(e.zone, ''), d.dim, "
    "case d.dim when 'outcome' then coalesce(e.outcome, '') when 'interest' then coalesce(e.interest, '') "
    "when 'place_type' then coalesce(e.place_type, '') else '' end, count(*), sum(e.people_count) "
    "from (select distinct value as id from json_each(?)) j join encounters e on e.id = j.id "
    "cross join (select 'all' as dim union all select 'outcome' union all select 'interest' "
    "union all select 'place_type') d "
    "where true group by 1, 2, 3, 4 "
    "on conflict (dim, day, zone, value) do update set n = n + excluded.n, people = people + excluded.people"
)
_ADD_TOOLS = (
    "insert into agg_tools (day, zone, tool, interest, n, people) "
    "select local_day(e.occurred_at), coalesce(e.zone, ''), et.value, e.interest, count(*), sum(e.people_count) "
    "from (select distinct value as id from json_each(?)) j join encounters e on e.id = j.id "
    "join json_each(e.tools) et "
    "where true group by 1, 2, 3, 4 "
    "on conflict (zone, tool, interest, day) do update set n = n + excluded.n, people = people + excluded.people"
)


_ADD_AGES = (
    "insert into agg_ages (day, zone, band, n, people) "
    "select local_day(e.occurred_at), coalesce(e.zone, ''), e.age_band, count(*), sum(e.people_count) "
    "from (select distinct value as id from json_each(?)) j join encounters e on e.id = j.id "
    "where e.age_band is not null group by 1, 2, 3 "
    "on conflict (day, zone, band) do update set n = n + excluded.n, people = people + excluded.people"
)


def add_encounters(db: Database, ids: list[str]) -> None:
    """Count encounters just inserted, with every tool attached to them, into the aggregates.

    Every writer that inserts encounters calls it in the same transaction, after their rows
    (tools in the row: migration m230; there is no insert trigger: see migration m051).
    """
    if not ids:
        return
    keys = json.dumps(list(ids))
    db.conn.execute(_ADD_ENCOUNTERS, [keys])
    db.conn.execute(_ADD_TOOLS, [keys])
    db.conn.execute(_ADD_AGES, [keys])


_UPSERT_ENCOUNTERS = (
    "insert into agg_encounters (dim, day, zone, value, n, people)",
    "on conflict (dim, day, zone, value) do update set n = n + excluded.n, people = people + excluded.people",
)
_UPSERT_TOOLS = (
    "insert into agg_tools (zone, tool, interest, day, n, people)",
    "on conflict (zone, tool, interest, day) do update set n = n + excluded.n, people = people + excluded.people",
)


def _count(cells: dict[tuple, list[int]], key: tuple, people: int) -> None:
    """One more encounter of ``people`` people in the summary cell ``key``: [encounters, people]."""
    cell = cells.get(key)
    if cell is None:
        cells[key] = [1, people]
    else:
        cell[0] += 1
        cell[1] += people


def add_encounter_rows(db: Database, rows) -> None:
    """``add_encounters`` for a batch whose stored values are at hand (the sync ingest).

    Each row is ``(occurred_at, zone, outcome, interest, place_type, people_count, tools)``,
    exactly as just inserted; the counts are summed here and written with one upsert per
    aggregate row, the same keys and sums as ``rebuild`` (a test compares them).
    """
    enc: dict[tuple, list[int]] = {}
    tools_agg: dict[tuple, list[int]] = {}
    tz = localtime.connection_zone(db)
    day_of = localtime.day_of
    for occurred_at, zone, outcome, interest, place_type, people, tools in rows:
        day = day_of(occurred_at, tz)
        zone = zone if zone is not None else ""
        for key in (("all", day, zone, ""), ("outcome", day, zone, outcome if outcome is not None else ""),
                    ("interest", day, zone, interest if interest is not None else ""),
                    ("place_type", day, zone, place_type if place_type is not None else "")):
            _count(enc, key, people)
        for tool in tools:
            _count(tools_agg, (zone, tool, interest, day), people)
    # Keys are distinct within each statement (summed above), so a multi-row upsert is exact.
    head, tail = _UPSERT_ENCOUNTERS
    insert_rows(db.conn, head, 6, [(*k, n, p) for k, (n, p) in enc.items()], tail, pad=True)
    head, tail = _UPSERT_TOOLS
    insert_rows(db.conn, head, 6, [(*k, n, p) for k, (n, p) in tools_agg.items()], tail, pad=True)


_UPSERT_AGES = (
    "insert into agg_ages (day, zone, band, n, people)",
    "on conflict (day, zone, band) do update set n = n + excluded.n, people = people + excluded.people",
)


def add_age_rows(db: Database, rows) -> None:
    """Count the age bands of a batch just inserted (the sync ingest, beside ``add_encounter_rows``).

    Each row is ``(occurred_at, zone, age_band, people_count)`` as stored; rows without a band
    count nothing. Same keys and sums as ``rebuild``.
    """
    ages: dict[tuple, list[int]] = {}
    tz = None
    day_of = localtime.day_of
    for occurred_at, zone, band, people in rows:
        if band is None:
            continue
        tz = tz or localtime.connection_zone(db)
        _count(ages, (day_of(occurred_at, tz), zone if zone is not None else "", band), people)
    if ages:
        head, tail = _UPSERT_AGES
        insert_rows(db.conn, head, 5, [(*k, n, p) for k, (n, p) in ages.items()], tail, pad=True)


_UPDATE_TRIGGER = re.compile(r"^\s*create\s+trigger\s+(?:if\s+not\s+exists\s+)?\S+\s+after\s+update", re.I)

# The aggregates' day of an encounter ``e``, taken from the writers' own statement so that a
# zone move groups by exactly the day the encounter was counted on.
_DAY = re.match(r"insert into agg_encounters \(day, zone, dim, value, n, people\) select (.+?), coalesce\(e\.zone, ''\), ",
                _ADD_ENCOUNTERS).group(1)
_DELTA = (
    "create temp table zone_delta as "
    "select {day} as day, coalesce(e.zone, '') as old_zone, m.zone as new_zone, coalesce(e.outcome, '') as outcome, "
    "coalesce(e.interest, '') as interest, coalesce(e.place_type, '') as place_type, count(*) as n, "
    "sum(e.people_count) as people from temp.zone_moves m join encounters e on e.rowid = m.rid group by 1, 2, 3, 4, 5, 6"
)
_DELTA_TOOLS = (
    "create temp table zone_delta_tools as "
    "select {day} as day, coalesce(e.zone, '') as old_zone, m.zone as new_zone, et.value as tool, e.interest, "
    "count(*) as n, sum(e.people_count) as people from temp.zone_moves m join encounters e on e.rowid = m.rid "
    "join json_each(e.tools) et group by 1, 2, 3, 4, 5"
)
_DELTA_AGES = (
    "create temp table zone_delta_ages as "
    "select {day} as day, coalesce(e.zone, '') as old_zone, m.zone as new_zone, e.age_band as band, count(*) as n, "
    "sum(e.people_count) as people from temp.zone_moves m join encounters e on e.rowid = m.rid "
    "where e.age_band is not null group by 1, 2, 3, 4"
)
# Each group leaves its old zone and joins its new one: one upsert per aggregate table.
_MOVED = "select day, old_zone as zone, {cols}, -n as n, -people as people from temp.{delta} " \
         "union all select day, new_zone, {cols}, n, people from temp.{delta}"
_MOVE_ENCOUNTERS = (
    "insert into agg_encounters (day, zone, dim, value, n, people) "
    "select c.day, c.zone, d.dim, case d.dim when 'outcome' then c.outcome when 'interest' then c.interest "
    "when 'place_type' then c.place_type else '' end, sum(c.n), sum(c.people) from ("
    + _MOVED.format(cols="outcome, interest, place_type", delta="zone_delta") + ") c "
    "cross join (select 'all' as dim union all select 'outcome' union all select 'interest' "
    "union all select 'place_type') d "
    "where true group by 1, 2, 3, 4 "
    "on conflict (dim, day, zone, value) do update set n = n + excluded.n, people = people + excluded.people"
)
_MOVE_TOOLS = (
    "insert into agg_tools (day, zone, tool, interest, n, people) "
    "select c.day, c.zone, c.tool, c.interest, sum(c.n), sum(c.people) from ("
    + _MOVED.format(cols="tool, interest", delta="zone_delta_tools") + ") c "
    "where true group by 1, 2, 3, 4 "
    "on conflict (zone, tool, interest, day) do update set n = n + excluded.n, people = people + excluded.people"
)

_MOVE_AGES = (
    "insert into agg_ages (day, zone, band, n, people) "
    "select c.day, c.zone, c.band, sum(c.n), sum(c.people) from ("
    + _MOVED.format(cols="band", delta="zone_delta_ages") + ") c "
    "where true group by 1, 2, 3 "
    "on conflict (day, zone, band) do update set n = n + excluded.n, people = people + excluded.people"
)
_ZONE_TEMPS = ("zone_moves", "zone_delta", "zone_delta_tools", "zone_delta_ages")


def set_zones(db: Database, moves: str, params: tuple | list = ()) -> int:
    """Give zones to counted encounters, moving their counts in the aggregates; the number moved.

    ``moves`` is a query selecting ``(rowid, zone)`` of the encounters to move (its ``params``
    bound), run once into a temporary table. Made for bulk changes (zones filled from positions
    after an import: 100,000 rows in a second or two): the moved encounters are summed once per
    (day, old zone, new zone, values) — a few thousand groups — and each aggregate table gets one
    upsert taking those groups out of their old zone and into their new one. The per-row update
    triggers would cost far more than the update itself, so they are set aside for the one UPDATE
    (inside the caller's write transaction: no other writer sees their absence).
    """
    conn = db.conn
    (cache,) = conn.execute("pragma cache_size").fetchone()
    conn.execute("pragma cache_size = -65536")  # 64 MiB: every page the update touches stays in memory
    try:
        for table in _ZONE_TEMPS:
            conn.execute(f"drop table if exists temp.{table}")
        conn.execute("create temp table zone_moves (rid integer primary key, zone text not null)")
        conn.execute(f"insert or replace into temp.zone_moves (rid, zone) {moves}", params)
        conn.execute(_DELTA.format(day=_DAY))
        conn.execute(_DELTA_TOOLS.format(day=_DAY))
        conn.execute(_DELTA_AGES.format(day=_DAY))
        conn.execute(_MOVE_ENCOUNTERS)
        conn.execute(_MOVE_TOOLS)
        conn.execute(_MOVE_AGES)
        triggers = [(name, sql) for name, sql in conn.execute(
            "select name, sql from sqlite_master where type = 'trigger' and tbl_name = 'encounters'") if _UPDATE_TRIGGER.match(sql)]
        for name, _sql in triggers:
            conn.execute(f"drop trigger [{name}]")
        try:
            conn.execute("update encounters set zone = m.zone from temp.zone_moves m where encounters.rowid = m.rid")
        finally:
            for _name, sql in triggers:
                conn.execute(sql)
        (moved,) = conn.execute("select count(*) from temp.zone_moves").fetchone()
        for table in _ZONE_TEMPS:
            conn.execute(f"drop table temp.{table}")
    finally:
        conn.execute(f"pragma cache_size = {int(cache)}")
    return moved


def rebuild(db: Database) -> None:
    """Refill the aggregate tables from the source rows (after a bulk load that bypassed triggers)."""
    with db.atomic():
        db.execute("delete from agg_encounters")
        db.execute("delete from agg_tools")
        db.execute("delete from agg_outings")
        db.execute("delete from agg_tallies")
        db.execute("delete from agg_ages")
        db.execute(
            "insert into agg_encounters (day, zone, dim, value, n, people) "
            "select local_day(occurred_at), coalesce(zone, ''), 'all', '', count(*), sum(people_count) "
            "from encounters group by 1, 2"
        )
        for dim in ENCOUNTER_DIMS:
            db.execute(
                "insert into agg_encounters (day, zone, dim, value, n, people) "
                f"select local_day(occurred_at), coalesce(zone, ''), '{dim}', coalesce({dim}, ''), "
                "count(*), sum(people_count) from encounters group by 1, 2, 4"
            )
        db.execute(
            "insert into agg_tools (day, zone, tool, interest, n, people) "
            "select local_day(e.occurred_at), coalesce(e.zone, ''), et.value, e.interest, count(*), sum(e.people_count) "
            "from encounters e join json_each(e.tools) et group by 1, 2, 3, 4"
        )
        db.execute(
            "insert into agg_outings (day, zone, status, format, n) "
            "select coalesce(local_day(started_at), planned_date, local_day(created_at), ''), "
            "coalesce(zone, ''), status, format, count(*) from outings group by 1, 2, 3, 4"
        )
        db.execute(
            "insert into agg_tallies (day, zone, tool, people) "
            "select local_day(o.started_at), coalesce(o.zone, ''), t.tool, sum(t.count) from outing_tallies t "
            "join outings o on o.id = t.outing_id where o.started_at is not null group by 1, 2, 3"
        )
        db.execute(
            "insert into agg_ages (day, zone, band, n, people) "
            "select local_day(occurred_at), coalesce(zone, ''), age_band, count(*), sum(people_count) from encounters "
            "where age_band is not null group by 1, 2, 3"
        )


def _where(period: Period, day_col: str = "day", zone_col: str = "zone") -> tuple[str, list]:
    sql = f"{day_col} >= ? and {day_col} <= ?"
    params: list = [period.start_iso, period.end.isoformat()]
    if period.zone is not None:
        sql += f" and {zone_col} = ?"
        params.append(period.zone)
    return sql, params


iso_week = localtime.iso_week


def weeks_of(period: Period) -> list[str]:
    """Every ISO week the period touches, in order (columns of the zone x week table)."""
    out: list[str] = []
    d = period.start
    while d <= period.end:
        w = iso_week(d.isoformat())
        if not out or out[-1] != w:
            out.append(w)
        d += timedelta(days=1)
    return out


def overview(db: Database, period: Period) -> dict:
    """Everything the dashboard shows for a period (and zone), from the aggregate tables."""
    where, params = _where(period)
    totals = {"encounters": 0, "people": 0}
    zone_day: dict[tuple[str, str], int] = {}  # people met in conversations
    for zone, day, n, people in db.execute(
        f"select zone, day, sum(n), sum(people) from agg_encounters where dim = 'all' and {where} group by zone, day",
        params,
    ):
        totals["encounters"] += n
        totals["people"] += people
        zone_day[(zone, day)] = people
    by_dim: dict[str, dict[str, int]] = {dim: {} for dim in ENCOUNTER_DIMS}
    for dim in ENCOUNTER_DIMS:
        for value, n in db.execute(
            f"select value, sum(n) from agg_encounters where dim = ? and {where} group by value", [dim] + params
        ):
            if n:
                by_dim[dim][value] = n

    zone_week: dict[str, dict[str, int]] = {}
    for (zone, day), n in zone_day.items():
        cells = zone_week.setdefault(zone, {})
        week = iso_week(day)
        cells[week] = cells.get(week, 0) + n

    tools: dict[str, dict[str, int]] = {}
    zone_tool: dict[str, dict[str, int]] = {}
    for zone, tool, interest, n, people in _tool_counts(db, period):
        t = tools.setdefault(tool, {"presented": 0, **dict.fromkeys(vocab.INTERESTS, 0)})
        t["presented"] += n
        t[interest] = t.get(interest, 0) + n
        cells = zone_tool.setdefault(zone, {})
        cells[tool] = cells.get(tool, 0) + people

    # Tallied people count as reached: added to the zone tables and kept apart for display.
    totals["tallied"] = 0
    zone_tool_tallied: dict[str, dict[str, int]] = {}
    zone_week_tallied: dict[str, dict[str, int]] = {}
    for zone, day, tool, n in tally_rows(db, period):
        totals["tallied"] += n
        week = iso_week(day)
        for table, extra, col in ((zone_tool, zone_tool_tallied, tool), (zone_week, zone_week_tallied, week)):
            cells = table.setdefault(zone, {})
            cells[col] = cells.get(col, 0) + n
            cells = extra.setdefault(zone, {})
            cells[col] = cells.get(col, 0) + n
    totals["reached"] = totals["people"] + totals["tallied"]

    outings: dict[str, int] = {}
    for status, n in db.execute(
        f"select status, sum(n) from agg_outings where {where} group by status", params
    ):
        outings[status] = n

    # Reports are filtered on the instants at which the period's first and last local days begin and end.
    tz = localtime.zone_of(db)
    rwhere = "received_at >= ? and received_at < ?"
    rparams: list = [localtime.start_of_day(period.start, tz), localtime.end_of_day_exclusive(period.end, tz)]
    if period.zone is not None:
        rwhere += " and zone = ?"
        rparams.append(period.zone)
    reports = {state: 0 for state in vocab.REPORT_STATES}
    for status, n in db.execute(
        f"select status, count(*) from reports indexed by idx_reports_received_at_zone_status "
        f"where {rwhere} group by status",
        rparams,
    ):
        reports[status] = n

    return {
        "period": period,
        "totals": totals,
        "outcome": by_dim["outcome"],
        "interest": by_dim["interest"],
        "place_type": by_dim["place_type"],
        "tools": tools,
        "zone_tool": zone_tool,  # people reached: in conversations where the tool was presented, and tallied
        "zone_week": zone_week,  # people reached: in conversations, and tallied
        "zone_tool_tallied": zone_tool_tallied,
        "zone_week_tallied": zone_week_tallied,
        "weeks": weeks_of(period),
        "reports": reports,
        "outings": outings,
    }


def tally_rows(db: Database, period: Period) -> list[tuple[str, str, str, int]]:
    """Tallied people of the outings started in the period: (zone, day, tool, count), zone '' if none.

    Each tap of a tally is one person told about one tool; tallies are the outing's (summed over
    its members' phones), counted on the local day the outing started (``agg_tallies``).
    """
    where, params = _where(period)
    return [tuple(r) for r in db.execute(
        f"select zone, day, tool, people from agg_tallies where {where} and people > 0", params)]


def people_by_band(db: Database, period: Period, zones: list[str]) -> dict[str, int]:
    """People met per age band (encounters where the band was noted) in these zones over the period."""
    if not zones:
        return {}
    rows = db.execute(
        "select band, sum(people) from agg_ages where day >= ? and day <= ? "
        "and zone in (select value from json_each(?)) group by band",
        [period.start_iso, period.end.isoformat(), json.dumps(zones)],
    )
    return {band: n for band, n in rows if n}


def _tool_counts(db: Database, period: Period) -> list[tuple[str, str, str, int, int]]:
    """Encounters and people per (zone, tool, interest) over the period.

    agg_tools is keyed (zone, tool, interest, day): one primary-key range per combination
    reads exactly the period's rows, already grouped, with no sort of the whole range.
    """
    zones = [period.zone] if period.zone is not None else [r[0] for r in db.execute("select code from zones")] + [""]
    tools = [r[0] for r in db.execute("select code from tools")]
    combos = [[z, t, i] for z in zones for t in tools for i in vocab.INTERESTS]
    rows = db.execute(
        "with c as (select json_extract(value, '$[0]') as zone, json_extract(value, '$[1]') as tool, "
        "json_extract(value, '$[2]') as interest from json_each(?)) "
        "select c.zone, c.tool, c.interest, (select json_array(sum(a.n), sum(a.people)) from agg_tools a "
        "where a.zone = c.zone and a.tool = c.tool and a.interest = c.interest and a.day >= ? and a.day <= ?) from c",
        [json.dumps(combos), period.start_iso, period.end.isoformat()],
    )
    out = []
    for z, t, i, counts in rows:
        n, people = json.loads(counts)
        if n:
            out.append((z, t, i, n, people))
    return out


def upcoming_outings(db: Database, today: date, zone: str | None = None, limit: int = 10) -> list[dict]:
    """Planned outings from today on, soonest first."""
    sql = "select id, zone, format, planned_date from outings where status = 'planned' and planned_date >= ?"
    params: list = [today.isoformat()]
    if zone is not None:
        sql += " and zone = ?"
        params.append(zone)
    sql += " order by planned_date, id limit ?"
    params.append(limit)
    return list(db.query(sql, params))
