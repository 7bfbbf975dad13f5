"""The city's local time: days and weeks as people there live them, times shown in words.

Instants are stored in UTC (ISO 8601, ``+00:00``). What a person counts in is the city's local
day: an encounter at 00:30 in Grenoble belongs to that day, not to the UTC day before. The
zone is the setting ``OUTREACH_TIMEZONE`` (an IANA name); the database remembers the zone
its summary tables were built with (table ``local_time``) and every connection gets an SQL
function ``local_day(instant)`` in that zone, used by the aggregate triggers and the reads.
``configure`` at start rebuilds the summaries when the setting changed.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime

DEFAULT_TIMEZONE = "Europe/Paris"


class UnknownTimezone(ValueError):
    """A timezone name that the IANA database does not know."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone named ``name``; UnknownTimezone (with a message a person can act on) if none."""
    try:
        if not name or name != name.strip() or len(name) > 64:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimezone(
            f"OUTREACH_TIMEZONE: unknown timezone {name!r}; give an IANA name such as Europe/Paris "
            "or America/Montreal (see the 'TZ identifier' column of the tz database)."
        ) from None


@lru_cache(maxsize=1 << 16)
def _day_of_minute(minute: str, offset: str, zone_name: str) -> str:
    at = datetime.fromisoformat(minute + ":00" + offset)
    return at.astimezone(ZoneInfo(zone_name)).date().isoformat()


def day_of(instant: str | None, tz: ZoneInfo) -> str | None:
    """The local day (YYYY-MM-DD) of a stored ISO 8601 instant; a bare date is already a day.

    Zone changes fall on whole minutes, so the answer depends only on the minute and the
    offset: it is cached on them (the sync path counts thousands of encounters a second).
    """
    if not instant:
        return None
    if len(instant) <= 10:
        return instant
    if instant.endswith("Z"):
        offset = "+00:00"
    elif len(instant) >= 22 and instant[-6] in "+-" and instant[-3] == ":":
        offset = instant[-6:]
    else:
        offset = "+00:00"  # a naive stored time is UTC
    return _day_of_minute(instant[:16], offset, tz.key)


def start_of_day(day: date, tz: ZoneInfo) -> str:
    """The UTC instant at which a local day begins, as stored instants are written (for filters)."""
    try:
        return datetime.combine(day, time(0), tz).astimezone(timezone.utc).isoformat(timespec="seconds")
    except OverflowError:  # year 1 or 9999: the edge of the calendar, nothing stored is there
        return f"{day.isoformat()}T00:00:00+00:00"


def end_of_day_exclusive(day: date, tz: ZoneInfo) -> str:
    """The UTC instant at which the local day after ``day`` begins."""
    if day == date.max:
        return "9999-12-31T23:59:59+00:00"
    return start_of_day(day + timedelta(days=1), tz)


def today(tz: ZoneInfo, now: datetime | None = None) -> date:
    """Today in the city."""
    return (now or datetime.now(timezone.utc)).astimezone(tz).date()


def city_today(db, now: datetime | None = None) -> date:
    """Today in the city this database serves (the zone its ``local_day()`` counts in), not the
    machine's: a server on UTC is still on yesterday for the first hour or two of a Paris day."""
    return today(connection_zone(db), now)


def iso_week(day: str | date) -> str:
    """The ISO week (``2026-W27``) of a local day."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


# --- the zone a database counts in ---------------------------------------------------------


def stored_zone(db) -> str:
    """The zone the database's summaries were built with (the default before the table exists)."""
    try:
        row = db.execute("select tz from local_time where id = 1").fetchone()
    except sqlite3.OperationalError:
        return DEFAULT_TIMEZONE
    return row[0] if row else DEFAULT_TIMEZONE


def zone_of(db) -> ZoneInfo:
    return ZoneInfo(stored_zone(db))


def install(db) -> None:
    """Give this connection ``local_day(instant)`` in the database's zone (triggers and reads use it)."""
    tz = zone_of(db)
    db.conn.create_function("local_day", 1, lambda v: day_of(v, tz), deterministic=True)
    db.local_zone = tz


def connection_zone(db) -> ZoneInfo:
    """The zone this connection's ``local_day()`` counts in (``install``): what the aggregates'
    triggers use, so the writers that count in Python use it too, without a read per batch."""
    tz = getattr(db, "local_zone", None)
    return tz if tz is not None else zone_of(db)


def configure(db, name: str) -> bool:
    """Make ``name`` the database's zone, rebuilding the summaries if it changed (inside a write)."""
    from .coordinator import stats

    zone(name)
    if stored_zone(db) == name:
        install(db)
        return False
    db.execute("insert into local_time (id, tz) values (1, ?) on conflict (id) do update set tz = excluded.tz", [name])
    install(db)
    stats.rebuild(db)
    return True


# --- times in words ------------------------------------------------------------------------

_PATTERNS = {"fr": ("d MMM y 'à' H 'h' mm", "d MMM y"), "en": ("d MMM y, HH:mm", "d MMM y")}


def parse(value) -> datetime | date | None:
    """A stored value (ISO 8601 instant or day, datetime, date) as a datetime or date; None if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, (datetime, date)):
        return value
    try:
        text = str(value).strip().replace("Z", "+00:00")
        if len(text) == 10:
            return date.fromisoformat(text)
        at = datetime.fromisoformat(text)
        return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def in_words(value, tz: ZoneInfo, locale: str = "fr") -> str:
    """A time as a person reads it, in the city's zone: ``1 déc. 2026 à 14 h 05`` / ``1 Dec 2026, 14:05``.

    A bare day gives the day alone (``12 déc. 2026``); something unreadable is shown as it is.
    """
    parsed = parse(value)
    if parsed is None:
        return "" if value is None else str(value)
    with_time, day_only = _PATTERNS.get(locale, _PATTERNS["fr"])
    if isinstance(parsed, datetime):
        return format_datetime(parsed.astimezone(tz), with_time, locale=locale)
    return format_date(parsed, day_only, locale=locale)


def day_in_words(value, tz: ZoneInfo, locale: str = "fr") -> str:
    """The local day of a time or day, in words (``1 déc. 2026``)."""
    parsed = parse(value)
    if parsed is None:
        return "" if value is None else str(value)
    if isinstance(parsed, datetime):
        parsed = parsed.astimezone(tz).date()
    return format_date(parsed, _PATTERNS.get(locale, _PATTERNS["fr"])[1], locale=locale)


def local_seconds(value, tz: ZoneInfo) -> str:
    """A stored instant as local ``YYYY-MM-DD HH:MM:SS`` (French spreadsheets read it as a date-time)."""
    parsed = parse(value)
    if parsed is None:
        return ""
    if isinstance(parsed, datetime):
        return parsed.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    return parsed.isoformat()


def utc_seconds(value) -> str:
    """A stored instant as ISO 8601 UTC to the second (one precision for every exported time)."""
    parsed = parse(value)
    if parsed is None:
        return ""
    if isinstance(parsed, datetime):
        return parsed.astimezone(timezone.utc).isoformat(timespec="seconds")
    return parsed.isoformat()
