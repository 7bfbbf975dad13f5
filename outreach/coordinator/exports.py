"""Exports of encounters, outings and reports as CSV (spreadsheet-safe) and GeoJSON (RFC 7946).

Both formats are produced as a stream of text chunks, so a year of encounters never sits in
memory. CSV: UTF-8 with a byte-order mark (so spreadsheets detect the encoding), one header
row, ISO 8601 dates, and text cells that a spreadsheet would run as a formula are prefixed
with an apostrophe. Each coded column (``outcome``, ``status`` …) keeps its code and is followed,
at the end of the row, by its label from the vocabulary (``outcome_label`` …) in the exporting
person's language. No export ever contains a contact detail. Callers record the export in
the audit log (``record``), inside a write transaction.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Callable, Iterable, Iterator

from sqlite_utils import Database

from .. import audit, vocab
from .lists import Filters, encounter_where, outing_where

KINDS = ("encounters", "outings", "reports")
FORMATS = ("csv", "geojson")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}
DELIMITERS = {"comma": ",", "semicolon": ";"}
# The coded columns of each kind, and the list that labels them.
LABELLED: dict[str, dict[str, vocab.Choices]] = {
    "encounters": {"place_type": vocab.PLACE_TYPES, "outcome": vocab.OUTCOMES, "interest": vocab.INTERESTS,
                   "age_band": vocab.AGE_BANDS},
    "outings": {"format": vocab.OUTING_FORMATS, "status": vocab.OUTING_STATUSES},
    "reports": {"status": vocab.REPORT_STATES},
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_BATCH = 2000


def safe_cell(value):
    """A cell value a spreadsheet shows as text, never runs (OWASP CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _encounter_rows(db: Database, f: Filters) -> tuple[list[str], Iterator[dict]]:
    where, params = encounter_where(f)
    sql = (
        "select e.id, e.occurred_at, e.zone, e.place_type, e.people_count, e.outcome, e.interest, "
        "(select group_concat(tool, ';') from encounter_tools t where t.encounter_id = e.id) as tools, "
        "e.age_band, e.language, e.outing_id, e.user_id as worker_id, e.lat, e.lon, e.note, e.received_at "
        "from encounters e " + ("where " + " and ".join(where) if where else "") + " order by e.occurred_at, e.id"
    )
    columns = ["id", "occurred_at", "zone", "place_type", "people_count", "outcome", "interest", "tools",
               "age_band", "language", "outing_id", "worker_id", "lat", "lon", "note", "received_at"]
    return columns, _stream(db, sql, params)


def _outing_rows(db: Database, f: Filters) -> tuple[list[str], Iterator[dict]]:
    where, params = outing_where(f)
    sql = (
        "select o.id, o.zone, o.format, o.status, o.planned_date, o.started_at, o.ended_at, "
        "(select group_concat(m.user_id, ';') from outing_members m where m.outing_id = o.id) as member_ids, "
        "(select group_concat(tool || ':' || count, ';') from outing_tallies t where t.outing_id = o.id) as tallies, "
        "(select count(*) from encounters e where e.outing_id = o.id) as encounters, "
        "(select coalesce(sum(people_count), 0) from encounters e where e.outing_id = o.id) as people, "
        "(select coalesce(sum(count), 0) from outing_tallies t where t.outing_id = o.id) as tallied, "
        "o.debrief, z.lat, z.lon from outings o left join zones z on z.code = o.zone "
        + ("where " + " and ".join(where) if where else "")
        + " order by coalesce(o.started_at, o.planned_date, o.created_at, ''), o.id"
    )
    columns = ["id", "zone", "format", "status", "planned_date", "started_at", "ended_at", "member_ids", "tallies",
               "encounters", "people", "tallied", "debrief", "lat", "lon"]
    return columns, _stream(db, sql, params)


def _report_rows(db: Database, f: Filters) -> tuple[list[str], Iterator[dict]]:
    where: list[str] = []
    params: list = []
    if f.start:
        where.append("r.received_at >= ?")
        params.append(f.start.isoformat())
    if f.end:
        where.append("r.received_at < date(?, '+1 day')")
        params.append(f.end.isoformat())
    if f.zone:
        where.append("r.zone = ?")
        params.append(f.zone)
    # Only report columns: the reporter's contact lives in report_contacts and is never joined here.
    sql = (
        "select r.id, r.received_at, r.source, r.status, r.category, r.title, r.description, r.address, r.where_detail, "
        "r.zone, r.lat, r.lon, r.wants_to_help, r.me_too_count, r.scheduled_for, r.public_reply, r.duplicate_of, "
        "r.closed_at, (select count(*) from report_volunteers v where v.report_id = r.id) as volunteers "
        "from reports r " + ("where " + " and ".join(where) if where else "") + " order by r.received_at, r.id"
    )
    columns = ["id", "received_at", "source", "status", "category", "title", "description", "address", "where_detail",
               "zone", "lat", "lon", "wants_to_help", "me_too_count", "scheduled_for", "public_reply", "duplicate_of",
               "closed_at", "volunteers"]
    return columns, _stream(db, sql, params)


_SOURCES: dict[str, Callable[[Database, Filters], tuple[list[str], Iterator[dict]]]] = {
    "encounters": _encounter_rows,
    "outings": _outing_rows,
    "reports": _report_rows,
}


def _stream(db: Database, sql: str, params: list) -> Iterator[dict]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    while True:
        batch = cursor.fetchmany(_BATCH)
        if not batch:
            return
        for row in batch:
            yield dict(zip(names, row))


def csv_chunks(columns: list[str], rows: Iterable[dict], delimiter: str = ",") -> Iterator[str]:
    """CSV text in chunks: BOM, header, then rows (CRLF line ends, as RFC 4180 and spreadsheets expect).

    ``delimiter=";"`` suits spreadsheets set up for French, whose list separator is the semicolon.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    buf.write("\ufeff")
    writer.writerow(columns)
    n = 0
    for row in rows:
        writer.writerow([safe_cell(row[c]) for c in columns])
        n += 1
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def geojson_chunks(columns: list[str], rows: Iterable[dict]) -> Iterator[str]:
    """An RFC 7946 FeatureCollection: Point [lon, lat] in WGS 84, or a null geometry when unknown."""
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    parts: list[str] = []
    for row in rows:
        lat, lon = row.get("lat"), row.get("lon")
        geometry = {"type": "Point", "coordinates": [lon, lat]} if lat is not None and lon is not None else None
        props = {c: row[c] for c in columns if c not in ("lat", "lon")}
        if "tools" in props:
            props["tools"] = props["tools"].split(";") if props.get("tools") else []
        feature = {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": props}
        parts.append(("" if first else ",") + json.dumps(feature, ensure_ascii=False))
        first = False
        if len(parts) >= 500:
            yield "".join(parts)
            parts = []
    parts.append("]}")
    yield "".join(parts)


def _with_labels(columns: list[str], rows: Iterator[dict], coded: dict[str, vocab.Choices],
                 locale: str) -> tuple[list[str], Iterator[dict]]:
    """Append a ``<column>_label`` column for each coded column, in ``locale``."""
    labels = {name: choices.plain(locale) for name, choices in coded.items()}

    def labelled():
        for row in rows:
            for name, plain in labels.items():
                code = row[name]
                row[name + "_label"] = plain.get(code, code) if code is not None else None
            yield row

    return columns + [name + "_label" for name in coded], labelled()


def chunks(db: Database, kind: str, fmt: str, f: Filters, delimiter: str = ",", locale: str = "fr") -> Iterator[str]:
    """The export of one kind in one format, as text chunks; labels in ``locale``."""
    if kind not in _SOURCES or fmt not in FORMATS or delimiter not in DELIMITERS.values():
        raise ValueError(f"unknown export {kind}/{fmt}")
    columns, rows = _with_labels(*_SOURCES[kind](db, f), LABELLED[kind], locale)
    return csv_chunks(columns, rows, delimiter) if fmt == "csv" else geojson_chunks(columns, rows)


def filename(kind: str, fmt: str, today: str) -> str:
    return f"outreach-{kind}-{today}.{'csv' if fmt == 'csv' else 'geojson'}"


def record(db: Database, user_id: int | None, kind: str, fmt: str, f: Filters, via: str = "web", **extra) -> None:
    """Write the export to the audit log (who, what, which filters, from where)."""
    audit.record(db, user_id, "export", kind, "", format=fmt, filters=f.params(), via=via, **extra)
