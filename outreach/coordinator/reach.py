"""Reach for their size: people reached (in conversations, and tallied during outings) per
1,000 residents of each zone, age bands met against residents, and the least-reached zones
to go to next.

Everything is read from the summaries kept at write time (``stats``): people in conversations
from ``agg_encounters``, tallied people from ``agg_tallies`` (each tap is one person told about
one tool; a day is the outing's start day), people met by age band from ``agg_ages``. They are
read through three small functions, so a change of how days are keyed touches
``_conversations``, ``stats.tally_rows`` and ``stats.people_by_band`` only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlite_utils import Database

from .stats import Period, people_by_band, tally_rows


def _conversations(db: Database, period: Period) -> dict[str, int]:
    """People met in conversations per zone over the period (the aggregates' people column)."""
    sql = "select zone, sum(people) from agg_encounters where dim = 'all' and day >= ? and day <= ?"
    params: list = [period.start_iso, period.end.isoformat()]
    if period.zone is not None:
        sql += " and zone = ?"
        params.append(period.zone)
    return {z: n or 0 for z, n in db.execute(sql + " group by zone", params)}


def _zones(db: Database, zone: str | None = None) -> list[dict]:
    sql = "select code, population, population_ages, active, sort from zones"
    rows = [dict(r) for r in db.query(sql + (" where code = ?" if zone else "") + " order by sort, code",
                                       [zone] if zone else [])]
    for r in rows:
        r["ages"] = json.loads(r.pop("population_ages") or "{}")
    return rows


@dataclass
class ZoneReach:
    code: str
    population: int | None
    conversations: int  # people met in conversations
    tallied: int  # people tallied during outings
    active: bool = True

    @property
    def reached(self) -> int:
        return self.conversations + self.tallied

    @property
    def per_1000(self) -> float | None:
        """People reached per 1,000 residents (None when the population is unknown or zero)."""
        return round(1000 * self.reached / self.population, 1) if self.population else None


def tallied_by_zone(overview: dict) -> dict[str, int]:
    """People tallied per zone, from a ``stats.overview`` of the same period (read once per page)."""
    return {zone: sum(weeks.values()) for zone, weeks in overview["zone_week_tallied"].items()}


def by_zone(db: Database, period: Period, tallied: dict[str, int] | None = None) -> list[ZoneReach]:
    """Reach of each zone over the period: active zones, and inactive ones where someone was reached.

    ``tallied``: people tallied per zone when the caller already has them (``tallied_by_zone``).
    """
    people = _conversations(db, period)
    if tallied is None:
        tallied = {}
        for zone, _day, _tool, n in tally_rows(db, period):
            tallied[zone] = tallied.get(zone, 0) + n
    out = []
    for z in _zones(db, period.zone):
        r = ZoneReach(z["code"], z["population"], people.get(z["code"], 0), tallied.get(z["code"], 0), bool(z["active"]))
        if r.active or r.reached:
            out.append(r)
    return out


def ranked(rows: list[ZoneReach]) -> list[ZoneReach]:
    """Least reached first: zones with a population by reach per 1,000, then the others by people reached."""
    with_rate = sorted((r for r in rows if r.per_1000 is not None), key=lambda r: (r.per_1000, r.code))
    without = sorted((r for r in rows if r.per_1000 is None), key=lambda r: (r.reached, r.code))
    return with_rate + without


def age_shares(db: Database, period: Period, bands: list[str]) -> dict | None:
    """Each age band's share of residents against its share of the people met whose band was noted,
    over the zones whose population by age band is known; None when no zone has it."""
    zones = [z for z in _zones(db, period.zone) if sum(z["ages"].values())]
    if not zones:
        return None
    residents = {b: sum(z["ages"].get(b, 0) for z in zones) for b in bands}
    met = people_by_band(db, period, [z["code"] for z in zones])
    total_res = sum(residents.values())
    total_met = sum(met.get(b, 0) for b in bands)
    rows = []
    for b in bands:
        rows.append({
            "band": b,
            "residents": residents[b],
            "residents_share": round(100 * residents[b] / total_res) if total_res else None,
            "met": met.get(b, 0),
            "met_share": round(100 * met.get(b, 0) / total_met) if total_met else None,
        })
    return {"rows": rows, "zones": [z["code"] for z in zones], "met_total": total_met, "residents_total": total_res}


def _last_outings(db: Database) -> dict[str, str]:
    """The day of each zone's last started outing: one seek per zone in (zone, started_at)."""
    return {z: d for z, d in db.execute(
        "select z.code, (select local_day(max(o.started_at)) from outings o where o.zone = z.code) from zones z")
        if d is not None}


def _next_planned(db: Database, today: date) -> dict[str, str]:
    # Named index: left to itself, the planner walks (zone, started_at), every outing ever (20 ms at 20,000).
    return {z: d for z, d in db.execute(
        "select zone, min(planned_date) from outings indexed by idx_outings_status_planned_date "
        "where status = 'planned' and planned_date >= ? and zone is not null group by zone", [today.isoformat()])}


def proposals(db: Database, period: Period, today: date, limit: int = 5) -> list[dict]:
    """The active zones to go to next: least reached per 1,000 residents over the period, then the
    longest since the last outing there (never first); zones without a population come after."""
    last = _last_outings(db)
    planned = _next_planned(db, today)
    rows = [r for r in by_zone(db, period) if r.active]

    def since(r: ZoneReach) -> int:
        d = last.get(r.code)
        return (today - date.fromisoformat(d)).days if d else 10**6

    with_rate = sorted((r for r in rows if r.per_1000 is not None), key=lambda r: (r.per_1000, -since(r), r.code))
    without = sorted((r for r in rows if r.per_1000 is None), key=lambda r: (-since(r), r.reached, r.code))
    out = []
    for r in (with_rate + without)[:limit]:
        d = last.get(r.code)
        out.append({"reach": r, "last_outing": d, "days_since": (today - date.fromisoformat(d)).days if d else None,
                    "next_planned": planned.get(r.code)})
    return out
