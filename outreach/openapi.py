"""The OpenAPI 3 description of /api/v1 (DESIGN.md §4). A test keeps it in step with the route table.

Longer than our usual ~350 lines on purpose: it is one contract, mostly data (schemas and
operations); split, it would be read in pieces.
"""

from __future__ import annotations

import copy

from starlette.routing import Route

from . import __version__, vocab
from .field import sync
from .worksites import intake

ERROR = {"$ref": "#/components/schemas/Error"}
UUID = {"type": "string", "format": "uuid"}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with a time zone offset"}
LOCATION = {
    "type": "object",
    "required": ["lat", "lon"],
    "additionalProperties": False,
    "properties": {
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "minimum": -180, "maximum": 180},
        "accuracy_m": {"type": ["number", "null"], "minimum": 0},
    },
}


# Entries are checked one by one (one bad entry never blocks the others): the envelope accepts
# any item, and the Entry schema says what a good one is.
ENTRY_ITEM = {"description": "An entry (see the Entry schema). Each is checked on its own and answered in its "
                             "result: a bad entry is a `rejected` result, never a 400 for the batch."}


def _limit(name: str) -> dict:
    """The bounds of a field, from the vocabulary's table of limits."""
    return vocab.LIMITS[name].schema()


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# Who sends the entries; null is the same as leaving the field out.
ENVELOPE_IDS = {
    "device_id": {"type": ["string", "null"], "pattern": sync.DEVICE_RE.pattern},
    "app_version": {"type": ["string", "null"], "maxLength": 64},
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "A readable message, in the user's language"}, "detail": {}},
    },
    "SyncRequest": {
        "type": "object",
        "required": ["entries"],
        "additionalProperties": False,
        "properties": {
            **ENVELOPE_IDS,
            "entries": {"type": "array", "maxItems": sync.MAX_ENTRIES, "items": ENTRY_ITEM},
        },
    },
    "ReportRequest": {
        "type": "object",
        "required": ["entries"],
        "additionalProperties": False,
        "description": "The sync envelope; every entry of kind `report`",
        "properties": {
            **ENVELOPE_IDS,
            "entries": {"type": "array", "maxItems": intake.MAX_ENTRIES_ANONYMOUS, "items": ENTRY_ITEM},
            "website": {"type": "string", "maxLength": 0, "description": "Leave empty: a request that fills it in is refused"},
        },
    },
    "Entry": {
        "type": "object",
        "required": ["id", "kind", "version", "data"],
        "additionalProperties": False,
        "properties": {
            "id": UUID,
            "kind": {"type": "string", "enum": ["encounter", "outing", "report"]},
            "version": {"type": "integer", "minimum": 1, "maximum": sync.MAX_VERSION},
            "created_at": TIME,
            "data": {"oneOf": [
                {"$ref": "#/components/schemas/EncounterData"},
                {"$ref": "#/components/schemas/OutingData"},
                {"$ref": "#/components/schemas/ReportData"},
            ]},
        },
    },
    "EncounterData": {
        "type": "object",
        "required": ["occurred_at", "place_type", "outcome"],
        "additionalProperties": False,
        "properties": {
            "occurred_at": dict(TIME, description="Not more than 24 h ahead of the server, not older than a year"),
            "outing_id": {"type": ["string", "null"], "format": "uuid"},
            "place_type": {"type": "string", "enum": list(vocab.PLACE_TYPES)},
            "zone": {"type": ["string", "null"], "description": "A zone code (see bootstrap)"},
            "location": {"oneOf": [{"type": "null"}, LOCATION], "description": "Stored rounded to about 100 m"},
            "people_count": {"type": "integer", **_limit("people_count"), "default": 1},
            "outcome": {"type": "string", "enum": list(vocab.OUTCOMES)},
            "tools": {"type": "array", "uniqueItems": True, **_limit("tools"), "items": {"type": "string"}, "description": "Tool codes"},
            "interest": {"type": "string", "enum": list(vocab.INTERESTS), "default": "none"},
            "audience": {
                "type": ["object", "null"],
                "additionalProperties": False,
                "properties": {
                    "age_band": {"type": ["string", "null"], "enum": [*vocab.AGE_BANDS, None]},
                    "language": {"type": ["string", "null"], "description": "A language code such as fr or ar"},
                },
            },
            "note": {"type": "string", **_limit("note")},
            "follow_up": {"oneOf": [{"type": "null"}, {
                "type": "object",
                "required": ["consent", "consent_text_version", "channel", "contact"],
                "additionalProperties": False,
                "description": "Stored in the contact table, never in the encounter",
                "properties": {
                    "consent": {"type": "boolean", "enum": [True], "description": "Must be literally true"},
                    "consent_text_version": {"type": "string"},
                    "channel": {"type": "string", "enum": list(vocab.CHANNELS)},
                    "contact": {"type": "string", **_limit("contact")},
                    "name": {"type": "string", **_limit("name")},
                    "purposes": {"type": "array", "uniqueItems": True, **_limit("tools"), "items": {"type": "string"}},
                },
            }]},
        },
    },
    "OutingData": {
        "type": "object",
        "required": ["zone", "format", "started_at"],
        "additionalProperties": False,
        "properties": {
            "zone": {"type": ["string", "null"]},
            "format": {"type": "string", "enum": list(vocab.OUTING_FORMATS)},
            "started_at": TIME,
            "ended_at": {"type": ["string", "null"], "format": "date-time"},
            "members": {"type": "array", **_limit("members"), "items": {"type": "integer"}},
            "tallies": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0, **_limit("tally")}},
            "debrief": {"type": "string", **_limit("debrief")},
        },
    },
    "ReportData": {
        "type": "object",
        "required": ["title", "category"],
        "properties": {
            "title": {"type": "string", **_limit("title")},
            "description": {"type": "string", **_limit("description")},
            "category": {"type": "string"},
            "location": LOCATION,
            "address": {"type": "string", **_limit("address")},
            "where_detail": {"type": "string", **_limit("where_detail")},
            "photos": {"type": "array", **_limit("photos"), "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
            "wants_to_help": {"type": "boolean"},
            "reporter": {"type": ["object", "null"]},
            "zone": {"type": ["string", "null"], "description": "A zone code; else the nearest zone to location"},
            "encounter_id": {"type": ["string", "null"], "format": "uuid",
                             "description": "/api/v1/sync only: the encounter the report was filed at"},
        },
    },
    "Result": {
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": ["created", "unchanged", "updated", "conflict", "rejected"]},
            "hash": {"type": "string", "description": "sha256 (hex) of the canonical JSON of data"},
            "received_at": {"type": "string", "format": "date-time"},
            "current_version": {"type": "integer", "description": "conflict: the version the server has"},
            "errors": {"type": "object", "additionalProperties": {"type": "string"}, "description": "rejected: field → message"},
            "message": {"type": "string", "description": "rejected, conflict: a readable summary"},
            "tracking_url": {"type": "string", "description": "reports: the resident's private status page"},
        },
    },
    "SyncResponse": {
        "type": "object",
        "required": ["server_time", "results"],
        "properties": {
            "server_time": {"type": "string", "format": "date-time"},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
            "bootstrap_version": {"type": "string", "description": "The current ETag of GET /api/v1/bootstrap "
                                  "for this user (/api/v1/sync only): sync is two-way, the phone refetches "
                                  "bootstrap when it differs from the tag of its copy"},
        },
    },
    "Bootstrap": {
        "type": "object",
        "required": ["user", "zones", "tools", "categories", "consent", "outings", "limits", "app_version", "server_time"],
        "properties": {
            "user": {"type": "object", "required": ["id", "display_name", "role"]},
            "zones": {"type": "array", "items": {"$ref": "#/components/schemas/Code"}},
            "zone_outlines": {"type": "object", "additionalProperties": {"type": "object"},
                              "description": "Simplified boundaries of the active zones, by zone code: GeoJSON Polygon or "
                                             "MultiPolygon geometries in WGS 84 ([lon, lat]). The phone gives an entry with a "
                                             "position the zone whose closed polygon covers it (the smallest code on a shared "
                                             "border), as the server does for entries that arrive with a position and no zone."},
            "tools": {"type": "array", "items": {"$ref": "#/components/schemas/Code"}},
            "categories": {"type": "array", "items": {"$ref": "#/components/schemas/Code"}},
            "consent": {"type": ["object", "null"], "properties": {"version": {"type": "string"}, "text": {"type": "string"}}},
            "outings": {"type": "array", "items": {"type": "object", "required": ["id", "format", "status", "members"]},
                        "description": "Outings planned for (or started with) this user"},
            "teammates": {"type": "array", "items": {"type": "object", "required": ["id", "display_name"]}},
            "choices": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        "description": "Each list's codes, in the order to show them: "
                                       + ", ".join(vocab.ON_THE_PHONE)},
            "labels": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
                       "description": "The same lists as code → label, in the request's language"},
            "limits": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "max_entries, and <name>_min, <name>_max for every bound: "
                                      + ", ".join(vocab.LIMITS)},
            "app_version": {"type": "string"},
            "server_time": {"type": "string", "format": "date-time"},
        },
    },
    "Code": {"type": "object", "required": ["code", "label"], "properties": {"code": {"type": "string"}, "label": {"type": "string"}}},
    "User": {"type": "object", "required": ["id", "email", "display_name", "role"]},
}

COMMON_ERRORS = {
    "400": _error("Malformed JSON or a body of the wrong shape"),
    "413": _error("More entries than maxItems, or more than 1 MiB"),
    "415": _error("Not application/json"),
    "429": _error("Too many requests (see Retry-After)"),
}

OPERATIONS: dict[tuple[str, str], dict] = {
    ("/api/v1/session", "post"): {
        "summary": "Sign in (sets the session cookie)",
        "security": [],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["email", "password"],
            "properties": {"email": {"type": "string", "minLength": 1, "maxLength": 320, "pattern": "\\S"},
                           "password": {"type": "string", "minLength": 1, "maxLength": 1024}}}}}},
        "responses": {"200": _json({"type": "object", "properties": {"user": {"$ref": "#/components/schemas/User"}}}),
                      "400": _error("Malformed JSON, or a field missing or of the wrong type"),
                      "401": _error("Wrong email or password (the same message either way)"),
                      "403": _error("A request from another site"),
                      "413": _error("A body over 8 KiB"),
                      "415": _error("Not application/json"),
                      "429": _error("Too many failed attempts")},
    },
    ("/api/v1/session", "get"): {
        "summary": "Who is signed in",
        "security": [],
        "responses": {"200": _json({"type": "object", "properties": {"user": {}}}), "401": _error("Not signed in")},
    },
    ("/api/v1/session", "delete"): {
        "summary": "Sign out (ends this session on the server)",
        "security": [],
        "responses": {"200": _json({"type": "object"}), "403": _error("A request from another site")},
    },
    ("/api/v1/sync", "post"): {
        "summary": "Store a batch of field entries, exactly once",
        "description": "One result per entry, in order. Retries are harmless: a stored (id, version) "
                       "is answered `unchanged`. One bad entry never blocks the others.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncRequest"}}}},
        "responses": {
            "200": _json({"$ref": "#/components/schemas/SyncResponse"}),
            **COMMON_ERRORS,
            "401": _error("Not signed in: the phone keeps its outbox and asks to sign in again"),
            "403": _error("Wrong role, or a request from another site"),
        },
    },
    ("/api/v1/bootstrap", "get"): {
        "summary": "What the phone needs offline: reference data, the user's outings, consent text, choices, labels, limits",
        "description": "Answers with a strong `ETag` (a hash of the content) and `304 Not Modified` when "
                       "`If-None-Match` names it. Every /api/v1/sync answer carries the current tag as "
                       "`bootstrap_version`: after a sync the phone refetches bootstrap only when it changed, "
                       "so a newly planned or cancelled outing reaches an open app on its next sync.",
        "parameters": [{"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}],
        "responses": {"200": _json({"$ref": "#/components/schemas/Bootstrap"}),
                      "304": {"description": "Not Modified: the phone's copy (that ETag) is current"},
                      "401": _error("Not signed in")},
    },
    ("/api/v1/openapi.json", "get"): {
        "summary": "This document",
        "security": [],
        "responses": {"200": _json({"type": "object"})},
    },
    ("/api/v1/reports", "post"): {
        "summary": "A resident reports a small open worksite (anonymous)",
        "description": "Same envelope, checks and results as /api/v1/sync, kind `report` only, at most "
                       f"{intake.MAX_ENTRIES_ANONYMOUS} entries; each stored result carries `tracking_url`.",
        "security": [],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReportRequest"}}}},
        "responses": {"200": _json({"$ref": "#/components/schemas/SyncResponse"}), **COMMON_ERRORS,
                      "403": _error("A request from another site")},
    },
    ("/api/v1/attachments/{sha256}", "put"): {
        "summary": "Upload one photo (raw bytes), named by the sha256 of its bytes",
        "parameters": [{"name": "sha256", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}],
        "requestBody": {"required": True, "content": {
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/webp": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {"201": _json({"type": "object"}, "Stored"), "200": _json({"type": "object"}, "Already stored"),
                      "400": _error("The bytes do not hash to the name"), "403": _error("A request from another site"),
                      "413": _error("Larger than 10 MiB"),
                      "415": _error("Not a JPEG, PNG or WebP image"), "429": _error("Too many uploads")},
    },
    # Worksites: "me too" on open reports nearby, before filing a duplicate.
    ("/api/v1/reports/nearby", "get"): {
        "summary": "Accepted worksites of one category within about 150 m (public fields only)",
        "security": [],
        "parameters": [
            {"name": "category", "in": "query", "required": True, "schema": {"type": "string"},
             "description": "A category code (see bootstrap)"},
            {"name": "lat", "in": "query", "required": True, "schema": {"type": "number", "minimum": -90, "maximum": 90}},
            {"name": "lon", "in": "query", "required": True, "schema": {"type": "number", "minimum": -180, "maximum": 180}},
        ],
        "responses": {"200": _json({"type": "object", "required": ["radius_m", "reports"], "properties": {
            "radius_m": {"type": "integer"},
            "reports": {"type": "array", "items": {"type": "object", "required": ["id", "title", "distance_m"]}}}}),
            "400": _error("Unknown category, or lat/lon not numbers"),
            "429": _error("Too many searches (see Retry-After)")},
    },
    ("/api/v1/reports/{report_id}/me-too", "post"): {
        "summary": "Say “me too” on an open report (counted once per id)",
        "security": [],
        "parameters": [{"name": "report_id", "in": "path", "required": True, "schema": UUID}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["id"], "additionalProperties": False, "properties": {"id": UUID}}}}},
        "responses": {"201": _json({"type": "object"}, "Counted"), "200": _json({"type": "object"}, "Already counted"),
                      "400": _error("Malformed JSON, or the id is not a UUID"), "403": _error("A request from another site"),
                      "404": _error("No such report"), "409": _error("The report is closed"),
                      "413": _error("A body over 1 MiB"), "415": _error("Not application/json"),
                      "429": _error("Too many requests")},
    },
}


def api_operations(app) -> set[tuple[str, str]]:
    """(path, method) of every /api/v1 route of this app."""
    out = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/v1/"):
            for method in route.methods or ():
                if method != "HEAD":
                    out.add((route.path, method.lower()))
    return out


def _with_reference_data(operations: dict, app) -> dict:
    """The operations with this server's category codes as an enum (a code it does not know is a 400)."""
    store = getattr(app.state, "store", None)
    if store is None:
        return operations
    from . import refdata

    operations = copy.deepcopy(operations)
    codes = sorted(refdata.codes(store.db(), "categories"))
    for param in operations[("/api/v1/reports/nearby", "get")]["parameters"]:
        if param["name"] == "category":
            param["schema"] = {"type": "string", "enum": codes}
    return operations


def document(app) -> dict:
    """The OpenAPI document for the routes this app has."""
    paths: dict[str, dict] = {}
    operations = _with_reference_data(OPERATIONS, app)
    for path, method in sorted(api_operations(app)):
        operation = operations.get((path, method))
        if operation is None:
            operation = {"summary": "Undocumented", "responses": {"default": {"description": "See DESIGN.md"}}}
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Outreach API",
            "version": __version__,
            "description": "The field app's and residents' API. Every error body is JSON "
                           "{\"error\": message, \"detail\": …} with a message in the user's language.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "outreach_session"}},
        },
        "security": [{"session": []}],
        "paths": paths,
    }
