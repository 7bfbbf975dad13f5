"""Exports of encounters, outings and reports: CSV for programs, CSV for French spreadsheets, GeoJSON.

Every format is produced as a stream of text chunks, so a year of encounters never sits in
memory. Both CSVs: UTF-8 with a byte-order mark (so spreadsheets detect the encoding), one
header row, and text cells that a spreadsheet would run as a formula neutralised.

Longer than our usual ~350 lines on purpose: one table of typed columns per kind keeps each
column's rules (type, label, French heading) beside its name for every format; split by format,
each column would be written three times.

- ``csv`` (programs): comma, codes, ids, every time ISO 8601 in UTC to the second with its
  offset (one precision per column, so ``pandas.to_datetime`` reads every time column).
- ``csv-fr`` (a spreadsheet set up for French): semicolon, decimal comma, local date-times as
  ``AAAA-MM-JJ HH:MM:SS`` (no offset: spreadsheets read that as a date), French headers, each
  code followed by its French label, workers by their display name.
- ``geojson``: RFC 7946, [lon, lat].
- ``decidim`` (reports only, see ``decidim.py``): accepted worksites as Decidim proposals.

No export ever contains a contact detail. Callers record the export in the audit log
(``record``), inside a write transaction.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from sqlite_utils import Database

from .. import audit, localtime, vocab
from .lists import Filters, encounter_where, outing_where, where_period

KINDS = ("encounters", "outings", "reports")
# csv: for programs (comma, UTC ISO 8601 to the second, codes); csv-fr: for a French spreadsheet
# (semicolon, decimal comma, local date-times, French headers, labels beside codes, names);
# decidim: accepted worksites as proposals a Decidim admin imports (reports only).
FORMATS = ("csv", "csv-fr", "geojson")
DECIDIM = "decidim"
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "csv-fr": "text/csv; charset=utf-8",
               "geojson": "application/geo+json", DECIDIM: "text/csv; charset=utf-8"}
_FORMULA = "=+-@"
# A formula character at the start of a cell, or right after a character that some spreadsheet
# takes as a separator (comma, semicolon, tab: a comma file opened as semicolon-separated, or the
# other way round, splits the cell there), or after a line break.
_FORMULA_AFTER = re.compile(r"(^|[,;\t\r\n])(\s*)([=+\-@])")
_BATCH = 2000
# The coded columns whose vocabulary label follows them (``<column>_label``) in the CSV for programs
# and the GeoJSON properties; zones, tools and categories come from the reference tables.
LABELLED = {
    "encounters": {"place_type": vocab.PLACE_TYPES, "outcome": vocab.OUTCOMES, "interest": vocab.INTERESTS},
    "outings": {"format": vocab.OUTING_FORMATS, "status": vocab.OUTING_STATUSES},
    "reports": {"source": vocab.REPORT_SOURCES, "status": vocab.REPORT_STATES},
}


def safe_cell(value):
    """A cell value a spreadsheet shows as text, never runs (OWASP CSV injection).

    Only text is touched: a formula character that starts the cell, or starts what a spreadsheet
    splitting on ``,`` ``;`` or tab would make a cell, gets an apostrophe before it.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        if _FORMULA_AFTER.search(value):
            value = _FORMULA_AFTER.sub(r"\1\2'\3", value)
        if value.startswith(("\t", "\r")):
            value = "'" + value
    return value


@dataclass(frozen=True)
class Col:
    """One exported column: its key in the row, its French header, and what it holds.

    ``kind``: text, int, float, instant (stored UTC instant), day, time (local HH:MM), bool,
    or code (with ``labels``: the name of a label table, see ``_labels``; a French label
    column follows the code), codes (a list of codes joined with ';'), names (display names).
    """

    key: str
    fr: str
    kind: str = "text"
    labels: str | None = None
    fr_label: str | None = None
    program: bool = True  # in the CSV for programs
    french: bool = True  # in the French variant


_ENCOUNTER_COLS = [
    Col("id", "Identifiant"), Col("occurred_at", "Date et heure", "instant"),
    Col("zone", "Code secteur", "code", "zones", "Secteur"),
    Col("place_type", "Code lieu", "code", "place_types", "Type de lieu"),
    Col("people_count", "Personnes", "int"),
    Col("outcome", "Code issue", "code", "outcomes", "Issue de l'échange"),
    Col("interest", "Code intérêt", "code", "interests", "Intérêt"),
    Col("tools", "Codes dispositifs", "codes", "tools", "Dispositifs présentés"),
    Col("age_band", "Tranche d'âge"), Col("language", "Langue"), Col("outing_id", "Sortie"),
    Col("worker_id", "Agent (n°)", "int", french=False), Col("worker", "Agent", "names", program=False),
    Col("lat", "Latitude", "float"), Col("lon", "Longitude", "float"), Col("note", "Note"),
    Col("received_at", "Reçu le", "instant"),
]
_OUTING_COLS = [
    Col("id", "Identifiant"), Col("zone", "Code secteur", "code", "zones", "Secteur"),
    Col("format", "Code format", "code", "formats", "Format"),
    Col("status", "Code statut", "code", "outing_statuses", "Statut"),
    Col("planned_date", "Date prévue", "day"), Col("planned_start", "Heure de début prévue", "time"),
    Col("planned_end", "Heure de fin prévue", "time"), Col("meeting_point", "Lieu de rendez-vous"),
    Col("started_at", "Début", "instant"), Col("ended_at", "Fin", "instant"),
    Col("member_ids", "Membres (n°)", french=False), Col("members", "Membres", "names", program=False),
    Col("tallies", "Comptages", "tallies"), Col("encounters", "Rencontres", "int"), Col("people", "Personnes", "int"),
    Col("tallied", "Personnes comptées", "int"), Col("debrief", "Bilan"), Col("lat", "Latitude", "float"), Col("lon", "Longitude", "float"),
]
_REPORT_COLS = [
    Col("id", "Identifiant"), Col("received_at", "Reçu le", "instant"),
    Col("source", "Code origine", "code", "sources", "Origine"),
    Col("status", "Code état", "code", "report_states", "État"),
    Col("category", "Code catégorie", "code", "categories", "Catégorie"),
    Col("title", "Titre"), Col("description", "Description"), Col("address", "Adresse"),
    Col("where_detail", "Précisions sur le lieu"), Col("zone", "Code secteur", "code", "zones", "Secteur"),
    Col("lat", "Latitude", "float"), Col("lon", "Longitude", "float"),
    Col("wants_to_help", "Veut participer", "bool"), Col("me_too_count", "« Moi aussi »", "int"),
    Col("scheduled_for", "Prévu le", "day"), Col("public_reply", "Réponse publique"),
    Col("duplicate_of", "Doublon de"), Col("closed_at", "Clos le", "instant"),
    Col("volunteers", "Bénévoles", "int"),
]


def _encounter_rows(db: Database, f: Filters) -> tuple[list[Col], Iterator[dict]]:
    where, params = encounter_where(f, tz=localtime.zone_of(db))
    sql = (
        "select e.id, e.occurred_at, e.zone, e.place_type, e.people_count, e.outcome, e.interest, "
        "(select group_concat(value, ';') from json_each(e.tools)) as tools, "
        "e.age_band, e.language, e.outing_id, e.user_id as worker_id, u.display_name as worker, e.lat, e.lon, "
        "e.note, e.received_at from encounters e left join users u on u.id = e.user_id "
        + ("where " + " and ".join(where) if where else "") + " order by e.occurred_at, e.id"
    )
    return _ENCOUNTER_COLS, _stream(db, sql, params)


def _outing_rows(db: Database, f: Filters) -> tuple[list[Col], Iterator[dict]]:
    where, params = outing_where(f)
    sql = (
        "select o.id, o.zone, o.format, o.status, o.planned_date, o.planned_start, o.planned_end, o.meeting_point, "
        "o.started_at, o.ended_at, "
        "(select group_concat(m.user_id, ';') from outing_members m where m.outing_id = o.id) as member_ids, "
        "(select group_concat(u.display_name, ';') from outing_members m join users u on u.id = m.user_id "
        " where m.outing_id = o.id) as members, "
        "(select group_concat(tool || ':' || count, ';') from outing_tallies t where t.outing_id = o.id) as tallies, "
        "(select count(*) from encounters e where e.outing_id = o.id) as encounters, "
        "(select coalesce(sum(people_count), 0) from encounters e where e.outing_id = o.id) as people, "
        "(select coalesce(sum(count), 0) from outing_tallies t where t.outing_id = o.id) as tallied, "
        "o.debrief, coalesce(o.meeting_lat, z.lat) as lat, coalesce(o.meeting_lon, z.lon) as lon "
        "from outings o left join zones z on z.code = o.zone "
        + ("where " + " and ".join(where) if where else "")
        + " order by coalesce(o.started_at, o.planned_date, o.created_at, ''), o.id"
    )
    return _OUTING_COLS, _stream(db, sql, params)


def _report_rows(db: Database, f: Filters) -> tuple[list[Col], Iterator[dict]]:
    where: list[str] = []
    params: list = []
    where_period(where, params, f, "r.received_at", localtime.zone_of(db))
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
    return _REPORT_COLS, _stream(db, sql, params)


_SOURCES: dict[str, Callable[[Database, Filters], tuple[list[Col], Iterator[dict]]]] = {
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


def _write(header: list[str], lines: Iterable[list], delimiter: str, bom: bool = True) -> Iterator[str]:
    """BOM, header, then rows (CRLF line ends, as RFC 4180 and spreadsheets expect), in chunks."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    if bom:
        buf.write("\ufeff")
    writer.writerow(header)
    n = 0
    for line in lines:
        writer.writerow(line)
        n += 1
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _program_value(col: Col, value):
    if value is None:
        return ""
    if col.kind == "instant":
        return localtime.utc_seconds(value)
    if col.kind in ("text", "names", "codes", "tallies", "day", "time"):
        return safe_cell(str(value))
    return value


def csv_chunks(columns: list[Col], rows: Iterable[dict], labels: dict | None = None) -> Iterator[str]:
    """The CSV for programs: comma, codes and ids, UTC instants to the second.

    Each single-code column keeps its code and is followed, at the end of the row, by its label
    (``outcome_label`` …) in the exporting person's language, so programs reading by column name
    or position are unaffected.
    """
    cols = [c for c in columns if c.program]
    coded = [c for c in cols if c.kind == "code"] if labels else []

    def line(row):
        out = [_program_value(c, row[c.key]) for c in cols]
        for c in coded:
            code = row[c.key]
            out.append("" if code is None else safe_cell(labels[c.labels].get(code, code)))
        return out

    return _write([c.key for c in cols] + [c.key + "_label" for c in coded], (line(row) for row in rows), ",")


# --- the French spreadsheet variant --------------------------------------------------------


def french_number(value) -> str:
    """A number as a French spreadsheet reads it: decimal comma, no thousands separator."""
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "E" in text:
            text = f"{value:.10f}".rstrip("0").rstrip(".")
        return text.replace(".", ",")
    return str(value)


def _labels(db: Database, locale: str = "fr") -> dict[str, dict[str, str]]:
    """Every label put beside a code (from the vocabulary and the reference tables), read once."""
    out = {
        "outcomes": vocab.OUTCOMES.plain(locale),
        "interests": vocab.INTERESTS.plain(locale),
        "place_types": vocab.PLACE_TYPES.plain(locale),
        "formats": vocab.OUTING_FORMATS.plain(locale),
        "outing_statuses": vocab.OUTING_STATUSES.plain(locale),
        "report_states": vocab.REPORT_STATES.plain(locale),
        "sources": vocab.REPORT_SOURCES.plain(locale),
    }
    label = "label_en" if locale == "en" else "label_fr"
    for table in ("zones", "tools", "categories"):
        out[table] = {r["code"]: r[label] for r in db.query(f"select code, {label} from [{table}]")}
    return out


def _french_cells(col: Col, value, labels: dict, tz) -> list:
    if col.kind == "code":
        code = value or ""
        return [safe_cell(code), safe_cell(labels[col.labels].get(code, code))]
    if col.kind == "codes":
        codes = [c for c in (value or "").split(";") if c]
        names = labels[col.labels]
        return [safe_cell(", ".join(codes)), safe_cell(", ".join(names.get(c, c) for c in codes))]
    if value is None or value == "":
        return [""]
    if col.kind == "instant":
        return [localtime.local_seconds(value, tz)]
    if col.kind == "float":
        return [french_number(value)]
    if col.kind == "bool":
        return ["oui" if value else "non"]
    if col.kind == "names":
        return [safe_cell(", ".join(str(value).split(";")))]
    if col.kind == "tallies":
        tools = labels["tools"]
        parts = []
        for item in str(value).split(";"):
            code, _, n = item.partition(":")
            parts.append(f"{tools.get(code, code)} : {n}")
        return [safe_cell(", ".join(parts))]
    if col.kind == "text":
        return [safe_cell(str(value))]
    return [value]


def french_header(columns: list[Col]) -> list[str]:
    out: list[str] = []
    for c in columns:
        if c.french:
            out.append(c.fr)
            if c.kind in ("code", "codes"):
                out.append(c.fr_label)
    return out


def french_chunks(db: Database, columns: list[Col], rows: Iterable[dict]) -> Iterator[str]:
    """The French spreadsheet variant: semicolon, decimal comma, local times, labels beside codes."""
    labels = _labels(db)
    tz = localtime.zone_of(db)
    cols = [c for c in columns if c.french]

    def lines():
        for row in rows:
            line: list = []
            for c in cols:
                line += _french_cells(c, row[c.key], labels, tz)
            yield line

    return _write(french_header(columns), lines(), ";")


def geojson_chunks(columns: list[Col], rows: Iterable[dict], labels: dict | None = None) -> Iterator[str]:
    """An RFC 7946 FeatureCollection: Point [lon, lat] in WGS 84, or a null geometry when unknown.

    Each coded property is followed by its label (``<key>_label``) when ``labels`` are given.
    """
    keys = [c.key for c in columns if c.program and c.key not in ("lat", "lon")]
    coded = [c for c in columns if c.program and c.kind == "code"] if labels else []
    instants = {c.key for c in columns if c.kind == "instant"}
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    parts: list[str] = []
    for row in rows:
        lat, lon = row.get("lat"), row.get("lon")
        geometry = {"type": "Point", "coordinates": [lon, lat]} if lat is not None and lon is not None else None
        props = {k: (localtime.utc_seconds(row[k]) or None) if k in instants else row[k] for k in keys}
        for c in coded:
            code = row[c.key]
            props[c.key + "_label"] = None if code is None else labels[c.labels].get(code, code)
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


def chunks(db: Database, kind: str, fmt: str, f: Filters, locale: str = "fr", **options) -> Iterator[str]:
    """The export of one kind in one format, as text chunks (``options`` go to the Decidim file).

    ``locale``: the language of the label columns of the CSV for programs (the French variant is French).
    """
    if fmt == DECIDIM and kind == "reports":
        from . import decidim

        return decidim.chunks(db, f, **options)
    if kind not in _SOURCES or fmt not in FORMATS:
        raise ValueError(f"unknown export {kind}/{fmt}")
    columns, rows = _SOURCES[kind](db, f)
    if fmt == "csv":
        return csv_chunks(columns, rows, _labels(db, locale))
    if fmt == "csv-fr":
        return french_chunks(db, columns, rows)
    return geojson_chunks(columns, rows, _labels(db, locale))


def filename(kind: str, fmt: str, today: str) -> str:
    """Each format its own file name: a download never overwrites the other variant's file."""
    if fmt == DECIDIM:
        return f"outreach-worksites-decidim-proposals-{today}.csv"
    if fmt == "csv-fr":
        return f"outreach-{kind}-{today}-tableur-fr.csv"
    return f"outreach-{kind}-{today}.{'csv' if fmt == 'csv' else 'geojson'}"


def options(settings) -> dict:
    """The Decidim file's options from the settings (version and category mapping)."""
    return {"version": settings.decidim_version, "categories": settings.decidim_categories}


def valid(kind: str, fmt: str) -> bool:
    """Whether ``kind`` exports in ``fmt`` (the Decidim file is made of worksites only)."""
    return kind in KINDS and (fmt in FORMATS or (fmt == DECIDIM and kind == "reports"))


def record(db: Database, user_id: int | None, kind: str, fmt: str, f: Filters, via: str = "web", **extra) -> None:
    """Write the export to the audit log (who, what, which filters, from where)."""
    audit.record(db, user_id, "export", kind, "", format=fmt, filters=f.params(), via=via, **extra)
