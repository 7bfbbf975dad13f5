"""Accepted worksites as proposals a Decidim admin imports ("Import proposals from a file").

Decidim's proposal import (decidim-proposals ``Import::ProposalCreator`` and its verifier)
reads CSV separated by semicolons (also JSON and XLSX). The verifier requires ``title/<locale>``
and ``body/<locale>`` for the organisation's default locale (here ``fr``) and refuses duplicate
headers; the creator also reads ``address``, ``latitude``, ``longitude``, ``scope/id`` and, from
Decidim 0.30, ``taxonomies/ids`` (ids separated by commas; before 0.30 ``category/id``, one id).
An ``id`` column is ignored by the importer; we leave it out. No byte-order mark (see ``chunks``). Latitude and longitude keep a dot
(the importer reads them as numbers). Our categories map to Decidim ids through the setting
``OUTREACH_DECIDIM_CATEGORIES`` (``bench=12,planter=13 14``); unmapped categories get none.
"""

from __future__ import annotations

import re
from typing import Iterator

from sqlite_utils import Database

from .. import localtime
from .exports import _write, safe_cell
from .lists import Filters, where_period

# Worksites a coordinator has accepted onward, still to be done with residents.
STATES = ("accepted", "scheduled", "in_progress")
TITLE_MAX = 150  # Decidim's default proposal title limit


class MappingError(ValueError):
    """The category mapping setting cannot be read."""


def parse_mapping(raw: str) -> dict[str, list[int]]:
    """``bench=12,planter=13 14`` → ``{"bench": [12], "planter": [13, 14]}``."""
    out: dict[str, list[int]] = {}
    for part in (raw or "").split(","):
        part = part.strip()
        if not part:
            continue
        code, sep, ids = part.partition("=")
        numbers = ids.split()
        if not sep or not code.strip() or not numbers or not all(n.isdigit() for n in numbers):
            raise MappingError(f"OUTREACH_DECIDIM_CATEGORIES: cannot read {part!r}; write code=id or code=id id")
        out[code.strip()] = [int(n) for n in numbers]
    return out


def uses_taxonomies(version: str) -> bool:
    """Decidim 0.30 replaced categories with taxonomies."""
    m = re.match(r"(\d+)\.(\d+)", version or "")
    return not m or (int(m.group(1)), int(m.group(2))) >= (0, 30)


def header(version: str = "0.30") -> list[str]:
    category = "taxonomies/ids" if uses_taxonomies(version) else "category/id"
    return ["title/fr", "body/fr", "address", "latitude", "longitude", "scope/id", category]


def _body(row: dict, tz) -> str:
    parts = [row["description"] or row["title"]]
    if row["where_detail"]:
        parts.append(f"Précisions sur le lieu : {row['where_detail']}")
    if row["volunteers"]:
        n = row["volunteers"]
        parts.append(f"{n} habitant·e{'s' if n > 1 else ''} inscrit·e{'s' if n > 1 else ''} pour y participer.")
    if row["scheduled_for"]:
        parts.append(f"Prévu le {localtime.day_in_words(row['scheduled_for'], tz, 'fr')}.")
    parts.append(f"Signalé le {localtime.day_in_words(row['received_at'], tz, 'fr')} (référence {row['id']}).")
    return "\n\n".join(parts)


def rows(db: Database, f: Filters, version: str = "0.30", categories: str = "", scope_id: int | None = None) -> Iterator[list]:
    """One line per accepted worksite, in the order of ``header(version)``."""
    mapping = parse_mapping(categories)
    tz = localtime.zone_of(db)
    where = [f"r.status in ({', '.join('?' * len(STATES))})"]
    params: list = list(STATES)
    where_period(where, params, f, "r.received_at", tz)
    if f.zone:
        where.append("r.zone = ?")
        params.append(f.zone)
    taxonomies = uses_taxonomies(version)
    for row in db.query(
        "select r.id, r.title, r.description, r.where_detail, r.address, r.lat, r.lon, r.category, r.scheduled_for, "
        "r.received_at, (select count(*) from report_volunteers v where v.report_id = r.id) as volunteers "
        "from reports r where " + " and ".join(where) + " order by r.received_at, r.id",
        params,
    ):
        ids = mapping.get(row["category"], [])
        category = ",".join(map(str, ids)) if taxonomies else (str(ids[0]) if ids else "")
        yield [
            safe_cell(row["title"][:TITLE_MAX]),
            safe_cell(_body(row, tz)),
            safe_cell(row["address"] or ""),
            "" if row["lat"] is None else row["lat"],
            "" if row["lon"] is None else row["lon"],
            "" if scope_id is None else scope_id,
            category,
        ]


def chunks(db: Database, f: Filters, version: str = "0.30", categories: str = "", scope_id: int | None = None) -> Iterator[str]:
    """The proposals file: UTF-8, semicolons, the header Decidim's importer checks.

    No byte-order mark: Decidim reads the file with Ruby's ``CSV.read(file, col_sep: ";")``,
    which would keep it in the first header and then miss ``title/fr``.
    """
    return _write(header(version), rows(db, f, version, categories, scope_id), ";", bom=False)
