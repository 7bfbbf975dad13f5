"""Open311 GeoReport v2: the worksite categories as services, accepted reports as requests.

Protocol knowledge only (what each resource contains, JSON and XML shapes, errors,
API keys); the HTTP side is ``views/open311.py``. No contact detail is ever returned.
"""

from __future__ import annotations

import json
import secrets
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

from sqlite_utils import Database

from .. import audit, refdata
from . import states as rs
from ..field import sync
from ..i18n import gettext as _
from ..security import hash_key
from ..validation import is_uuid

SPEC = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_RESULTS = 1000
DEFAULT_DAYS = 90
POST_FIELDS = {"api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
               "email", "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url"}


class Open311Error(Exception):
    """An error answered in the Open311 format (``code`` is also the HTTP status)."""

    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code = code
        self.description = description


# --- API keys -------------------------------------------------------------------------------




def create_api_key(db: Database, name: str, user_id: int | None = None) -> str:
    """Make a new API key for one client application; only its hash is kept. Returns the key."""
    name = " ".join((name or "").split())
    if not (1 <= len(name) <= 100):
        raise ValueError(_("the name of the key must have 1 to 100 characters"))
    key = "o311_" + secrets.token_urlsafe(32)
    key_id = db["api_keys"].insert(
        {"name": name, "key_hash": hash_key(key), "created_at": refdata.now_iso(), "active": 1}).last_pk
    audit.record(db, user_id, "api_key.create", "api_key", key_id, name=name)
    return key


def list_api_keys(db: Database) -> list[dict]:
    """Every key's name, date and state (never its hash), for the administrators' page."""
    return list(db.query("select id, name, created_at, active from api_keys order by id"))


def revoke_api_key(db: Database, key_id: int, user_id: int | None = None) -> bool:
    """Stop a key from working; True if it was active."""
    changed = db.execute("update api_keys set active = 0 where id = ? and active = 1", [key_id]).rowcount
    if changed:
        audit.record(db, user_id, "api_key.revoke", "api_key", key_id)
    return bool(changed)


def check_api_key(db: Database, key: object) -> dict | None:
    if not isinstance(key, str) or not (10 <= len(key) <= 200):
        return None
    rows = list(db.query("select id, name from api_keys where key_hash = ? and active = 1", [hash_key(key)]))
    return rows[0] if rows else None


# --- resources -------------------------------------------------------------------------------


def discovery(base_url: str) -> dict:
    return {
        "changeset": "2026-11-30T00:00:00Z",
        "contact": _("Participatory democracy team of the city"),
        "key_service": _("API keys are given by the administrators of this site"),
        "endpoints": [{
            "specification": SPEC,
            "url": base_url.rstrip("/") + "/open311/v2",
            "changeset": "2026-11-30T00:00:00Z",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }


def services(db: Database, locale: str = "fr") -> list[dict]:
    label = "label_en" if locale == "en" else "label_fr"
    return [
        {"service_code": r["code"], "service_name": r[label], "description": r[label], "metadata": False,
         "type": "realtime", "keywords": "", "group": _("Open worksites")}
        for r in db.query(f"select code, {label} from categories where active = 1 order by sort, code")
    ]


def service_definition(db: Database, code: str) -> dict:
    if code not in refdata.codes(db, "categories"):
        raise Open311Error(404, _("unknown service_code"))
    return {"service_code": code, "attributes": []}


# Listed: what a coordinator has accepted at some point (even if declined or merged later),
# and what other apps posted here themselves.
_LISTED = (
    "(r.source = 'open311' or exists (select 1 from report_events e where e.report_id = r.id"
    " and e.kind = 'status' and e.to_status = 'accepted'))"
)


def _request_row(r: dict, labels: dict, base_url: str) -> dict:
    # Only reports filed through Open311 give back their description (their author sent it
    # to be public); for residents' reports the title stands in, so nothing they wrote in
    # confidence leaks. No contact of any kind is selected.
    photo = r.get("photo")
    return {
        "service_request_id": r["id"],
        "status": rs.open311_status(r["status"]),
        "status_notes": r["decline_reason"] if r["status"] == rs.DECLINED else (r["public_reply"] or ""),
        "service_name": labels.get(r["category"], r["category"]),
        "service_code": r["category"],
        "description": r["description"] if r["source"] == "open311" else r["title"],
        "agency_responsible": "",
        "service_notice": "",
        "requested_datetime": r["received_at"],
        "updated_datetime": r["updated_at"],
        "expected_datetime": r["scheduled_for"] or "",
        "address": r["address"] or "",
        "address_id": "",
        "zipcode": "",
        "lat": r["lat"] if r["lat"] is not None else "",
        "long": r["lon"] if r["lon"] is not None else "",
        "media_url": f"{base_url.rstrip('/')}/photos/{photo}" if photo and r["status"] in rs.ACCEPTED_ONWARD else "",
    }


_SELECT = ("select r.id, r.status, r.public_reply, r.decline_reason, r.category, r.description, r.title, r.source,"
           " r.received_at, r.updated_at, r.scheduled_for, r.address, r.lat, r.lon,"
           " (select p.sha256 from report_photos p join attachments a on a.sha256 = p.sha256"
           "  where p.report_id = r.id order by p.position limit 1) as photo from reports r")


def _labels(db: Database, locale: str) -> dict:
    label = "label_en" if locale == "en" else "label_fr"
    return {r["code"]: r[label] for r in db.query(f"select code, {label} from categories")}


def _parse_date(value: str, name: str) -> str:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, _("%(name)s must be a W3C date and time") % {"name": name})
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).isoformat(timespec="seconds")


def list_requests(db: Database, params: dict, *, base_url: str, locale: str = "fr") -> list[dict]:
    """GET requests: filters service_request_id, service_code, start_date, end_date, status."""
    where, args = [_LISTED], []
    ids = params.get("service_request_id")
    if ids:
        wanted = [i.strip().lower() for i in ids.split(",") if i.strip()][:MAX_RESULTS]
        if not all(is_uuid(i) for i in wanted):
            raise Open311Error(400, _("service_request_id must be a comma-separated list of request ids"))
        where.append(f"r.id in ({','.join('?' * len(wanted))})")
        args += wanted
    else:
        codes = params.get("service_code")
        if codes:
            wanted = [c.strip() for c in codes.split(",") if c.strip()]
            known = refdata.codes(db, "categories")
            if not all(c in known for c in wanted):
                raise Open311Error(400, _("unknown service_code"))
            where.append(f"r.category in ({','.join('?' * len(wanted))})")
            args += wanted
        start = _parse_date(params["start_date"], "start_date") if params.get("start_date") else None
        end = _parse_date(params["end_date"], "end_date") if params.get("end_date") else None
        if not start and not end:
            start = (datetime.now(timezone.utc) - timedelta(days=DEFAULT_DAYS)).isoformat(timespec="seconds")
        if start:
            where.append("r.received_at >= ?")
            args.append(start)
        if end:
            where.append("r.received_at <= ?")
            args.append(end)
        status = params.get("status")
        if status:
            wanted_status = {s.strip() for s in status.split(",")}
            if not wanted_status <= {"open", "closed"}:
                raise Open311Error(400, _("status must be open or closed"))
            if wanted_status == {"open"}:
                where.append(f"r.status not in ({','.join('?' * len(rs.CLOSED))})")
                args += sorted(rs.CLOSED)
            elif wanted_status == {"closed"}:
                where.append(f"r.status in ({','.join('?' * len(rs.CLOSED))})")
                args += sorted(rs.CLOSED)
    labels = _labels(db, locale)
    rows = db.query(f"{_SELECT} where {' and '.join(where)} order by r.received_at desc limit {MAX_RESULTS}", args)
    return [_request_row(r, labels, base_url) for r in rows]


def get_request(db: Database, request_id: str, *, base_url: str, locale: str = "fr") -> list[dict]:
    if not is_uuid(request_id):
        raise Open311Error(404, _("no such service request"))
    rows = list(db.query(f"{_SELECT} where r.id = ? and {_LISTED}", [request_id.lower()]))
    if not rows:
        raise Open311Error(404, _("no such service request"))
    return [_request_row(rows[0], _labels(db, locale), base_url)]


def token(db: Database, token_value: str) -> list[dict]:
    """Our POST answers with the request id at once; its token is that same id."""
    if not is_uuid(token_value):
        raise Open311Error(404, _("no such token"))
    rows = list(db.query(f"select r.id from reports r where r.id = ? and {_LISTED}", [token_value.lower()]))
    if not rows:
        raise Open311Error(404, _("no such token"))
    return [{"service_request_id": rows[0]["id"], "token": rows[0]["id"]}]


def _float(params: dict, name: str) -> float | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise Open311Error(400, _("%(name)s must be a number") % {"name": name})


def post_request(db: Database, params: dict, api_client: dict, *, locale: str = "fr") -> list[dict]:
    """POST requests: store a new report from another civic app (call inside a write transaction).

    Contact fields (email, names, phone) are accepted by the protocol but not kept: an
    app posting here has no way to show our consent text, so we store no contact at all.
    """
    unknown = {k for k in params if k not in POST_FIELDS and not k.startswith("attribute[")}
    if unknown:
        raise Open311Error(400, _("unknown parameter: %(p)s") % {"p": ", ".join(sorted(unknown))[:200]})
    code = params.get("service_code") or ""
    if code not in refdata.codes(db, "categories"):
        raise Open311Error(400, _("unknown service_code"))
    lat, lon = _float(params, "lat"), _float(params, "long")
    if (lat is None) != (lon is None):
        raise Open311Error(400, _("give both lat and long"))
    description = (params.get("description") or "").strip()
    first_line = " ".join(description.splitlines()[0].split()) if description else ""
    title = first_line[:117] + "…" if len(first_line) > 120 else first_line
    if len(title) < 3:
        title = _labels(db, locale).get(code, code)[:120]
    data = {
        "title": title,
        "description": description,
        "category": code,
        "location": {"lat": lat, "lon": lon, "accuracy_m": None} if lat is not None else None,
        "address": params.get("address_string") or "",
        "photos": [],
        "wants_to_help": False,
        "reporter": None,
    }
    entry = {"id": str(uuid.uuid4()), "kind": "report", "version": 1,
             "created_at": refdata.now_iso(), "data": data}
    # The one intake path, with no user: checked and stored as a resident's report is.
    result = sync.process(db, None, [entry], device_id=f"open311:{api_client['id']}", source="open311")["results"][0]
    if result["status"] == "rejected":
        field, message = next(iter(result["errors"].items()))
        raise Open311Error(400, f"{_parameter(field)}: {message}")
    if result["status"] != "created":
        raise Open311Error(400, _("the request could not be stored"))
    return [{"service_request_id": result["id"], "service_notice": "", "account_id": ""}]


def _parameter(field: str) -> str:
    """The Open311 parameter behind a report field that was refused."""
    if field.startswith("data.location"):
        return "lat/long/address_string"
    names = {"data.address": "address_string", "data.description": "description", "data.title": "description"}
    return names.get(field, field)


# --- formats ---------------------------------------------------------------------------------


def error_body(code: int, description: str) -> list[dict]:
    return [{"code": code, "description": description}]


_XML_ROOTS = {
    "services": ("services", "service"),
    "service_definition": (None, None),
    "requests": ("service_requests", "request"),
    "tokens": ("service_requests", "request"),
    "errors": ("errors", "error"),
    "discovery": ("discovery", None),
}


def _add(parent: ET.Element, key: str, value) -> None:
    if isinstance(value, dict):
        child = ET.SubElement(parent, key)
        for k, v in value.items():
            _add(child, k, v)
    elif isinstance(value, list):
        # Lists inside items: <endpoints><endpoint>…</endpoint></endpoints>, <formats><format>…
        holder = ET.SubElement(parent, key)
        singular = key[:-1] if key.endswith("s") else key
        for item in value:
            _add(holder, singular, item)
    else:
        child = ET.SubElement(parent, key)
        if isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = str(value)


def to_xml(kind: str, body) -> bytes:
    if kind == "service_definition":
        root = ET.Element("service_definition")
        ET.SubElement(root, "service_code").text = body["service_code"]
        ET.SubElement(root, "attributes")
    elif kind == "discovery":
        root = ET.Element("discovery")
        for k, v in body.items():
            _add(root, k, v)
    else:
        root_name, item_name = _XML_ROOTS[kind]
        root = ET.Element(root_name)
        for item in body:
            _add(root, item_name, item)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")).encode("utf-8")


def render(kind: str, body, fmt: str) -> bytes:
    if fmt == "xml":
        return to_xml(kind, body)
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
