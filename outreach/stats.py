"""Coverage figures for the coordinator dashboard, read from aggregate tables kept by triggers.

The triggers (migration m050) keep ``agg_encounters``, ``agg_tools`` and ``agg_outings`` up to
date on every write, so an overview reads a few thousand summary rows (days x zones x values)
however many encounters there are. ``rebuild`` refills them after a bulk load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlite_utils import Database

ENCOUNTER_DIMS = ("outcome", "interest", "place_type")
REPORT_STATES = (
    "submitted",
    "under_review",
    "needs_info",
    "accepted",
    "scheduled",
    "in_progress",
    "done",
    "declined",
    "duplicate",
)


@dataclass(frozen=True)
class Period:
    """An inclusive range of UTC days, optionally one zone."""

    start: date
    end: date
    zone: str | None = None

    @property
    def start_iso(self) -> str:
        return self.start.isoformat()

    @property
    def end_exclusive_iso(self) -> str:
        return (self.end + timedelta(days=1)).isoformat()


def default_period(today: date | None = None, weeks: int = 8) -> Period:
    """The last ``weeks`` whole ISO weeks up to today (Monday to today)."""
    today = today or date.today()
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    return Period(start, today)


def rebuild(db: Database) -> None:
    """Refill the aggregate tables from the source rows (after a bulk load that bypassed triggers)."""
    with db.conn:
        db.execute("delete from agg_encounters")
        db.execute("delete from agg_tools")
        db.execute("delete from agg_outings")
        db.execute(
            "insert into agg_encounters (day, zone, dim, value, n, people) "
            "select substr(occurred_at, 1, 10), coalesce(zone, ''), 'all', '', count(*), sum(people_count) "
            "from encounters group by 1, 2"
        )
        for dim in ENCOUNTER_DIMS:
            db.execute(
                "insert into agg_encounters (day, zone, dim, value, n, people) "
                f"select substr(occurred_at, 1, 10), coalesce(zone, ''), '{dim}', coalesce({dim}, ''), "
                "count(*), sum(people_count) from encounters group by 1, 2, 4"
            )
        db.execute(
            "insert into agg_tools (day, zone, tool, interest, n, people) "
            "select substr(e.occurred_at, 1, 10), coalesce(e.zone, ''), et.tool, e.interest, count(*), sum(e.people_count) "
            "from encounter_tools et join encounters e on e.id = et.encounter_id group by 1, 2, 3, 4"
        )
        db.execute(
            "insert into agg_outings (day, zone, status, format, n) "
            "select coalesce(substr(started_at, 1, 10), planned_date, substr(created_at, 1, 10), ''), "
            "coalesce(zone, ''), status, format, count(*) from outings group by 1, 2, 3, 4"
        )


def _where(period: Period, day_col: str = "day", zone_col: str = "zone") -> tuple[str, list]:
    sql = f"{day_col} >= ? and {day_col} <= ?"
    params: list = [period.start_iso, period.end.isoformat()]
    if period.zone is not None:
        sql += f" and {zone_col} = ?"
        params.append(period.zone)
    return sql, params


def iso_week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


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
    by_dim: dict[str, dict[str, int]] = {dim: {} for dim in ENCOUNTER_DIMS}
    zone_day: dict[tuple[str, str], int] = {}
    for row in db.execute(
        f"select dim, value, zone, day, sum(n), sum(people) from agg_encounters where {where} "
        "group by dim, value, zone, day",
        params,
    ):
        dim, value, zone, day, n, people = row
        if dim == "all":
            totals["encounters"] += n
            totals["people"] += people
            zone_day[(zone, day)] = zone_day.get((zone, day), 0) + n
        elif dim in by_dim:
            by_dim[dim][value] = by_dim[dim].get(value, 0) + n

    zone_week: dict[str, dict[str, int]] = {}
    for (zone, day), n in zone_day.items():
        cells = zone_week.setdefault(zone, {})
        week = iso_week(day)
        cells[week] = cells.get(week, 0) + n

    tools: dict[str, dict[str, int]] = {}
    zone_tool: dict[str, dict[str, int]] = {}
    for tool, interest, zone, n in db.execute(
        f"select tool, interest, zone, sum(n) from agg_tools where {where} group by tool, interest, zone", params
    ):
        t = tools.setdefault(tool, {"presented": 0, "none": 0, "curious": 0, "wants_to_take_part": 0})
        t["presented"] += n
        t[interest] = t.get(interest, 0) + n
        cells = zone_tool.setdefault(zone, {})
        cells[tool] = cells.get(tool, 0) + n

    outings: dict[str, int] = {}
    for status, n in db.execute(
        f"select status, sum(n) from agg_outings where {where} group by status", params
    ):
        outings[status] = n

    rwhere = "received_at >= ? and received_at < ?"
    rparams: list = [period.start_iso, period.end_exclusive_iso]
    if period.zone is not None:
        rwhere += " and zone = ?"
        rparams.append(period.zone)
    reports = {state: 0 for state in REPORT_STATES}
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
        "zone_tool": zone_tool,
        "zone_week": zone_week,
        "weeks": weeks_of(period),
        "reports": reports,
        "outings": outings,
    }


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
