"""The sync protocol (DESIGN.md §4): validate each entry, hash its canonical data, store it once.

Retries are harmless because every stored version is a row of ``entry_versions`` under a
unique (entry_id, version) key; each entry is written inside its own savepoint, so one bad
entry never blocks the others and nothing is ever half-written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlite_utils import Database

from . import encounters, outings, refdata
from .i18n import gettext as _
from .validation import is_int, is_uuid, parse_time

MAX_ENTRIES = 500
MAX_VERSION = 1_000_000
DEVICE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
ENTRY_FIELDS = {"id", "kind", "version", "created_at", "data"}


@dataclass(frozen=True)
class Kind:
    """How one kind of entry is checked, stored, and who may send a newer version of it."""

    validate: Callable  # (ctx, data) -> Check
    store: Callable  # (db, ctx, entry, clean, *, update) -> None
    may_update: Callable  # (db, ctx, entry_id, first_author) -> bool


KINDS: dict[str, Kind] = {
    "encounter": Kind(encounters.validate, encounters.store, encounters.may_update),
    "outing": Kind(outings.validate, outings.store, outings.may_update),
}
try:  # Reports filed by a worker with a resident (issue 4's module).
    from . import reports as _reports

    KINDS["report"] = Kind(
        _reports.validate_report,
        _reports.store_report,
        getattr(_reports, "may_update_report", encounters.may_update),
    )
except ImportError:  # pragma: no cover - until outreach.reports exists
    pass


class RequestError(ValueError):
    """The request as a whole is unacceptable (answered 400 or 413)."""

    def __init__(self, status: int, message: str, detail=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail


@dataclass
class Context:
    """What validators and storers need to know about the request, with reference data read once."""

    db: Database
    user: dict
    device_id: str | None = None
    app_version: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    contact_retention_days: int = 365
    _codes: dict = field(default_factory=dict)
    _consents: set | None = None

    @property
    def received_at(self) -> str:
        return self.now.isoformat(timespec="milliseconds")

    def codes(self, table: str) -> set[str]:
        if table not in self._codes:
            self._codes[table] = refdata.codes(self.db, table)
        return self._codes[table]

    def consent_versions(self) -> set[str]:
        if self._consents is None:
            self._consents = refdata.consent_versions(self.db)
        return self._consents

    def active_user_ids(self, ids: list[int]) -> set[int]:
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        return {r["id"] for r in self.db.query(f"select id from users where active = 1 and id in ({marks})", ids)}


def canonical(data) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_hash(data) -> str:
    """sha256 (hex) of the canonical JSON of an entry's data."""
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def check_envelope(body) -> tuple[str | None, str | None, list]:
    """The request's device id, app version and entries; RequestError if its shape is wrong."""
    if not isinstance(body, dict):
        raise RequestError(400, _("The request must be a JSON object."))
    unknown = set(body) - {"device_id", "app_version", "entries"}
    if unknown:
        raise RequestError(400, _("Unknown field in the request."), sorted(str(k)[:40] for k in unknown))
    entries = body.get("entries")
    if not isinstance(entries, list):
        raise RequestError(400, _("'entries' must be a list."), {"entries": _("must be a list")})
    if len(entries) > MAX_ENTRIES:
        raise RequestError(
            413, _("Too many entries in one request (at most {n}).").format(n=MAX_ENTRIES), {"max_entries": MAX_ENTRIES}
        )
    device_id = body.get("device_id")
    if device_id is not None and (not isinstance(device_id, str) or not DEVICE_RE.match(device_id)):
        raise RequestError(400, _("'device_id' must be 8 to 64 letters, digits, - or _."), {"device_id": _("invalid")})
    app_version = body.get("app_version")
    if app_version is not None and (not isinstance(app_version, str) or len(app_version) > 64):
        raise RequestError(400, _("'app_version' must be text of at most 64 characters."), {"app_version": _("invalid")})
    return device_id, app_version, entries


def _check_entry(ctx: Context, entry) -> tuple[dict, dict]:
    """The entry's own fields (not its data): returns (entry, errors)."""
    if not isinstance(entry, dict):
        return {}, {"entry": _("must be an object")}
    errors: dict[str, str] = {}
    for key in entry:
        if key not in ENTRY_FIELDS:
            errors[str(key)[:40]] = _("unknown field")
    if not is_uuid(entry.get("id")):
        errors["id"] = _("must be a UUID")
    if entry.get("kind") not in KINDS:
        errors["kind"] = _("must be one of: {choices}").format(choices=", ".join(sorted(KINDS)))
    version = entry.get("version")
    if not is_int(version) or not 1 <= version <= MAX_VERSION:
        errors["version"] = _("must be between {low} and {high}").format(low=1, high=MAX_VERSION)
    created = entry.get("created_at")
    if created is not None and parse_time(created) is None:
        errors["created_at"] = _("must be a date and time with a time zone offset (ISO 8601)")
    if not isinstance(entry.get("data"), dict):
        errors["data"] = _("must be an object")
    return entry, errors


def _summary(errors: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:5])


class _Undo(Exception):
    """Raised inside an entry's savepoint to roll its writes back."""


def process(db: Database, user: dict, entries: list, *, device_id: str | None = None,
            app_version: str | None = None, contact_retention_days: int = 365,
            now: datetime | None = None) -> dict:
    """Store a batch of entries; one result per entry, in order. Call inside a write transaction."""
    ctx = Context(db, user, device_id, app_version, now or datetime.now(timezone.utc), contact_retention_days)
    if device_id:
        db.execute(
            "insert into devices (id, user_id, first_seen, last_seen, app_version) values (?, ?, ?, ?, ?) "
            "on conflict(id) do update set user_id = excluded.user_id, last_seen = excluded.last_seen, "
            "app_version = coalesce(excluded.app_version, devices.app_version)",
            [device_id, user["id"], ctx.received_at, ctx.received_at, app_version],
        )
    seen: set[str] = set()
    results = []
    for raw in entries:
        results.append(_one(db, ctx, raw, seen))
    return {"server_time": ctx.received_at, "results": results}


def _one(db: Database, ctx: Context, raw, seen: set[str]) -> dict:
    entry, errors = _check_entry(ctx, raw)
    entry_id = entry.get("id") if isinstance(entry.get("id"), str) and len(entry.get("id")) <= 64 else None
    if not errors:
        entry_id = entry_id.lower()
        if entry_id in seen:
            errors["id"] = _("appears more than once in this request")
        seen.add(entry_id)
    if errors:
        return {"id": entry_id, "status": "rejected", "errors": errors, "message": _summary(errors)}
    kind = KINDS[entry["kind"]]
    check = kind.validate(ctx, entry["data"])
    if check.errors:
        return {"id": entry_id, "status": "rejected", "errors": check.errors, "message": _summary(check.errors)}
    try:
        digest = content_hash(entry["data"])
    except ValueError:  # NaN or infinity cannot be canonical JSON
        errors = {"data": _("must not contain NaN or infinite numbers")}
        return {"id": entry_id, "status": "rejected", "errors": errors, "message": _summary(errors)}
    version = entry["version"]
    stored = {
        "id": entry_id,
        "kind": entry["kind"],
        "version": version,
        "hash": digest,
        "created_at": entry.get("created_at") or ctx.received_at,
    }
    history = list(
        db.query(
            "select version, hash, kind, user_id, received_at from entry_versions where entry_id = ? order by version",
            [entry_id],
        )
    )
    same = next((h for h in history if h["version"] == version), None)
    if same is not None:
        if same["hash"] == digest and same["kind"] == entry["kind"] and same["user_id"] == ctx.user["id"]:
            return {"id": entry_id, "status": "unchanged", "hash": digest, "received_at": same["received_at"]}
        return _conflict(entry_id, history, _("The server already has this version with other content."))
    if history:
        if history[-1]["version"] > version:
            return _conflict(entry_id, history, _("The server already has a newer version of this entry."))
        if history[0]["kind"] != entry["kind"]:
            return _conflict(entry_id, history, _("This id belongs to an entry of another kind."))
        if not kind.may_update(db, ctx, entry_id, history[0]["user_id"]):
            return _conflict(entry_id, history, _("This entry belongs to someone else."))
    try:
        with db.atomic():
            cursor = db.execute(
                "insert or ignore into entry_versions (entry_id, kind, version, hash, data, user_id, device_id, "
                "created_at, received_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [entry_id, entry["kind"], version, digest, canonical(entry["data"]), ctx.user["id"],
                 ctx.device_id, stored["created_at"], ctx.received_at],
            )
            if cursor.rowcount == 0:
                # Another writer stored this very version between our read and our write:
                # the unique key kept it single; answer as for a replay.
                raise _Undo()
            kind.store(db, ctx, stored, check.clean, update=bool(history))
    except _Undo:
        row = next(iter(db.query(
            "select hash, received_at from entry_versions where entry_id = ? and version = ?", [entry_id, version]
        )))
        if row["hash"] == digest:
            return {"id": entry_id, "status": "unchanged", "hash": digest, "received_at": row["received_at"]}
        return _conflict(entry_id, [{"version": version}], _("The server already has this version with other content."))
    return {
        "id": entry_id,
        "status": "updated" if history else "created",
        "hash": digest,
        "received_at": ctx.received_at,
    }


def _conflict(entry_id: str, history: list[dict], message: str) -> dict:
    return {
        "id": entry_id,
        "status": "conflict",
        "current_version": max(h["version"] for h in history),
        "message": message,
    }


def history(db: Database, entry_id: str) -> list[dict]:
    """Every stored version of one entry, oldest first."""
    return [
        dict(r)
        for r in db.query(
            "select entry_id, kind, version, hash, user_id, device_id, created_at, received_at "
            "from entry_versions where entry_id = ? order by version",
            [entry_id],
        )
    ]


def bootstrap(db: Database, user: dict, locale: str = "fr") -> dict:
    """What the phone needs to work offline: reference data, the user's outings, limits."""
    ref = refdata.load(db, locale)
    return {
        "user": {"id": user["id"], "display_name": user["display_name"], "role": user["role"]},
        "zones": ref["zones"],
        "tools": ref["tools"],
        "categories": ref["categories"],
        "consent": ref["consent"],
        "outings": outings.for_user(db, user["id"]),
        "teammates": [t for t in outings.teammates(db) if t["id"] != user["id"]],
        "choices": {
            "place_type": list(encounters.PLACE_TYPES),
            "outcome": list(encounters.OUTCOMES),
            "interest": list(encounters.INTERESTS),
            "age_band": list(encounters.AGE_BANDS),
            "channel": list(encounters.CHANNELS),
            "format": list(outings.FORMATS),
        },
        "limits": {
            "max_entries": MAX_ENTRIES,
            "note_max": encounters.NOTE_MAX,
            "debrief_max": outings.DEBRIEF_MAX,
            "people_count_max": 200,
        },
    }
