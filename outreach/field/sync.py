"""The sync protocol (DESIGN.md §4): validate each entry, hash its canonical data, store it once.

Retries are harmless because every stored version is a row of ``entry_versions`` under a
unique (entry_id, version) key; each entry is written inside its own savepoint, so one bad
entry never blocks the others and nothing is ever half-written.

It is the one intake path: a signed-in worker's phone (/api/v1/sync, the no-script encounter
form) and, with no user, residents' reports (/api/v1/reports, the /report form) and Open311.

Longer than our usual 350 lines on purpose: checking an entry, comparing it with its history
(replay, update, conflict) and storing it are one protocol, read together; the kinds' own
rules live in encounters.py, outings.py and worksites/intake.py.
"""

from __future__ import annotations

from hashlib import sha256
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

import orjson
from sqlite_utils import Database

from .. import refdata
from . import encounters, outings
from ..worksites import intake
from ..canonical import canonical, canonical_bytes, content_hash  # noqa: F401 (canonical, content_hash: part of this module's API)
from ..db import insert_rows, savepoint
from ..i18n import gettext as _
from ..settings import Settings
from ..validation import (DEVICE_ID_RE, Refused, echoed_id, hostile_values, is_device_id, is_int, is_text, is_uuid,
                          parse_time, printable_errors)

MAX_ENTRIES = 500
MAX_VERSION = 1_000_000
DEVICE_RE = DEVICE_ID_RE  # the product's one device-id rule (validation.py), named as the protocol knows it
ENTRY_FIELDS = {"id", "kind", "version", "created_at", "data"}


@dataclass(frozen=True)
class Kind:
    """How one kind of entry is checked, stored, and who may send a newer version of it."""

    validate: Callable  # (ctx, data) -> Check
    store: Callable  # (db, ctx, entry, clean, *, update) -> None; may raise validation.Refused
    may_update: Callable  # (db, ctx, entry_id, first_author) -> bool
    store_many: Callable | None = None  # (db, ctx, [(entry, clean, update)]) -> None: a faster store() for batches
    # (db, ctx, [(entry, clean)]) -> [prebuilt]: store_many's rows, built in prepare() outside the write
    # lock; each reaches store_many as entry["prebuilt"] (used when the entry turns out new)
    prebuild: Callable | None = None
    # How far from the server's clock created_at may be (ahead, back); None: any time.
    created_within: tuple[timedelta, timedelta] | None = None
    may_create: Callable | None = None  # (db, ctx, entry_id) -> reason or None: a row may exist before any sync
    check_links: Callable | None = None  # (ctx, clean) -> errors: rows the entry points at must be the user's to use


KINDS: dict[str, Kind] = {
    "encounter": Kind(encounters.validate, encounters.store, encounters.may_update, encounters.store_many,
                      prebuild=encounters.prebuild, check_links=encounters.check_links),
    "outing": Kind(outings.validate, outings.store, outings.may_update, may_create=outings.may_create),
    # A report filed by a worker with a resident, or by a resident alone (no user).
    "report": Kind(intake.validate_report, intake.store_report, intake.may_update_report,
                   created_within=(intake.CREATED_AHEAD, intake.CREATED_BACK)),
}
# What may arrive with no signed-in user: residents' reports (their own page, Open311).
ANONYMOUS_KINDS = ("report",)


class RequestError(ValueError):
    """The request as a whole is unacceptable (answered 400 or 413)."""

    def __init__(self, status: int, message: str, detail=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail


@dataclass
class Context:
    """What validators and storers need to know about the request, with reference data read once.

    ``user`` is None for residents (anonymous reports); ``source`` says where entries come
    from: ``field`` (a signed-in user), ``resident`` or ``open311``. The settings entries are
    checked against are copied here from ``Settings`` by ``Context.build``, and only there.
    ``locale`` is the language of the request (None when there is none: Open311, the demo);
    contacts written from it are later e-mailed in that language.
    """

    db: Database
    user: dict | None
    device_id: str | None = None
    app_version: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    contact_retention_days: int = Settings.contact_retention_days
    max_open_reports_per_contact: int = Settings.max_open_reports_per_contact
    source: str = ""
    locale: str | None = None
    _codes: dict = field(default_factory=dict)
    _consents: dict = field(default_factory=dict)

    received_at: str = ""

    def __post_init__(self):
        self.received_at = self.now.isoformat(timespec="milliseconds")
        if not self.source:
            self.source = "field" if self.user is not None else "resident"

    @classmethod
    def build(cls, db: Database, user: dict | None, settings: Settings | None = None, *,
              now: datetime | None = None, **fields) -> "Context":
        """The request's context, with the settings its kinds need (defaults when none are given)."""
        settings = settings or Settings()
        return cls(db, user, now=now or datetime.now(timezone.utc),
                   contact_retention_days=settings.contact_retention_days,
                   max_open_reports_per_contact=settings.max_open_reports_per_contact, **fields)

    @property
    def user_id(self) -> int | None:
        return None if self.user is None else self.user["id"]

    @property
    def kinds(self):
        return KINDS if self.user is not None else ANONYMOUS_KINDS

    def codes(self, table: str) -> set[str]:
        if table not in self._codes:
            self._codes[table] = refdata.codes(self.db, table)
        return self._codes[table]

    def consent_versions(self, purpose: str) -> set[str]:
        """The consent text versions accepted for ``purpose`` now (see ``refdata.consent_versions``)."""
        if purpose not in self._consents:
            self._consents[purpose] = refdata.consent_versions(self.db, purpose, self.now)
        return self._consents[purpose]

    def outing_refused(self, outing_id: str) -> bool:
        """True when this outing exists and the user is not in its team (read once per outing)."""
        cache = self.__dict__.setdefault("_outings", {})
        if outing_id not in cache:
            exists = self.db.execute("select 1 from outings where id = ?", [outing_id]).fetchone()
            cache[outing_id] = bool(exists) and not outings.is_member(self.db, outing_id, self.user_id)
        return cache[outing_id]

    def active_user_ids(self, ids: list[int]) -> set[int]:
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        return {r["id"] for r in self.db.query(f"select id from users where active = 1 and id in ({marks})", ids)}


def check_envelope(body, *, max_entries: int = MAX_ENTRIES) -> tuple[str | None, str | None, list]:
    """The request's device id, app version and entries; RequestError if its shape is wrong."""
    if not isinstance(body, dict):
        raise RequestError(400, _("The request must be a JSON object."))
    unknown = set(body) - {"device_id", "app_version", "entries"}
    if unknown:
        raise RequestError(400, _("Unknown field in the request."), sorted(str(k)[:40] for k in unknown))
    entries = body.get("entries")
    if not isinstance(entries, list):
        raise RequestError(400, _("'entries' must be a list."), {"entries": _("must be a list")})
    if len(entries) > max_entries:
        raise RequestError(
            413, _("Too many entries in one request (at most {n}).").format(n=max_entries), {"max_entries": max_entries}
        )
    device_id = body.get("device_id")
    if device_id is not None and not is_device_id(device_id):
        raise RequestError(400, _("'device_id' must be 8 to 64 letters, digits, - or _."), {"device_id": _("invalid")})
    app_version = body.get("app_version")
    if app_version is not None and (not is_text(app_version) or len(app_version) > 64):
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
    kind = entry.get("kind")
    if not isinstance(kind, str) or kind not in ctx.kinds:
        kind = None
        errors["kind"] = _("must be one of: {choices}").format(choices=", ".join(sorted(ctx.kinds)))
    version = entry.get("version")
    if not is_int(version) or not 1 <= version <= MAX_VERSION:
        errors["version"] = _("must be between {low} and {high}").format(low=1, high=MAX_VERSION)
    created = entry.get("created_at")
    if created is not None:
        parsed = parse_time(created)
        if parsed is None:
            errors["created_at"] = _("must be a date and time with a time zone offset (ISO 8601)")
        elif kind is not None and (window := KINDS[kind].created_within) is not None:
            ahead, back = window
            if parsed > ctx.now + ahead:
                errors["created_at"] = _("is too far in the future")
            elif parsed < ctx.now - back:
                errors["created_at"] = _("is too far in the past")
    if not isinstance(entry.get("data"), dict):
        errors["data"] = _("must be an object")
    return entry, errors


def _summary(errors: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:5])


class _Undo(Exception):
    """Raised inside a savepoint to roll its writes back."""


@dataclass
class _Entry:
    """One entry that passed validation, ready to be compared with the history and stored."""

    index: int
    id: str
    kind: str
    version: int
    hash: str
    text: str  # the canonical JSON of data, as kept in entry_versions
    created_at: str
    clean: dict
    update: bool = False
    prebuilt: object = None  # the kind's rows, built before the write lock (Kind.prebuild)

    def stored(self) -> dict:
        entry = {"id": self.id, "kind": self.kind, "version": self.version, "hash": self.hash,
                 "created_at": self.created_at}
        if self.prebuilt is not None:
            entry["prebuilt"] = self.prebuilt
        return entry


@dataclass
class Batch:
    """A request's entries once checked: the ones ready to store, and the answers already known.

    ``settled``: nothing to write (every entry answered already, the device's record fresh), so the
    answer needs no write transaction: ``settled_answer(batch)``. ``device_fresh``: the device's
    record already says what the write would (``_device_fresh``), so the write leaves it alone.
    """

    ctx: Context
    results: list
    ready: list[_Entry]
    settled: bool = False
    device_fresh: bool = False


def prepare(db: Database, user: dict | None, entries: list, *, device_id: str | None = None,
            app_version: str | None = None, settings: Settings | None = None, now: datetime | None = None,
            source: str = "", locale: str | None = None) -> Batch:
    """Check every entry and hash its data. Reads only: runs outside the write transaction.

    With no user, only ``ANONYMOUS_KINDS`` are accepted and nothing is ever an update
    (nobody can prove they wrote an anonymous entry).
    """
    ctx = Context.build(db, user, settings, now=now, device_id=device_id, app_version=app_version, source=source,
                        locale=locale)
    results: list = [None] * len(entries)
    ready: list[_Entry] = []
    seen: set[str] = set()
    stored = _stored_versions(db, entries)
    for index, raw in enumerate(entries):
        outcome = _prepare(ctx, index, raw, seen, stored)
        if isinstance(outcome, _Entry):
            ready.append(outcome)
        else:
            results[index] = outcome
    _prebuild(db, ctx, ready)
    fresh = _device_fresh(db, ctx)
    return Batch(ctx, results, ready, settled=not ready and fresh, device_fresh=fresh)


def _prebuild(db: Database, ctx: Context, ready: list[_Entry]) -> None:
    """Let each kind build its rows now, outside the write lock, so that the writer only writes."""
    by_kind: dict[str, list[_Entry]] = {}
    for entry in ready:
        if KINDS[entry.kind].prebuild is not None:
            by_kind.setdefault(entry.kind, []).append(entry)
    for name, group in by_kind.items():
        for entry, built in zip(group, KINDS[name].prebuild(db, ctx, [(e.stored(), e.clean) for e in group])):
            entry.prebuilt = built


def settled_answer(batch: Batch) -> dict:
    """The answer to a settled batch (``Batch.settled``): no write needed."""
    return {"server_time": batch.ctx.received_at, "results": batch.results}


DEVICE_SEEN_EVERY = timedelta(minutes=1)  # a device's last_seen is kept to this (one write a minute, not one a sync)


def _device_fresh(db: Database, ctx: Context) -> bool:
    """Whether the device's record already says what a write would (same user and app version, seen lately)."""
    if not ctx.device_id or ctx.user is None:
        return True
    row = db.execute("select user_id, last_seen, app_version from devices where id = ?", [ctx.device_id]).fetchone()
    if row is None or row[0] != ctx.user["id"] or (ctx.app_version is not None and row[2] != ctx.app_version):
        return False
    seen = parse_time(row[1]) if row[1] else None
    return seen is not None and ctx.now - seen < DEVICE_SEEN_EVERY


def _stored_versions(db: Database, entries: list) -> dict[tuple[str, int], tuple]:
    """``(id, version) -> (hash, kind, user_id, received_at)`` of the stored versions these entries name.

    Read outside the write transaction: a stored version never changes, so an entry found here
    with the same content is a replay, answered without checking it again; anything else is
    compared with the history again inside the write transaction.
    """
    ids = []
    for raw in entries:
        if raw.__class__ is dict:
            entry_id = raw.get("id")
            if entry_id.__class__ is str and len(entry_id) == 36:
                ids.append(entry_id.lower())
    found: dict[tuple[str, int], tuple] = {}
    if not ids:
        return found
    for entry_id, version, *rest in _rows_at_once(db.conn, STORED_VERSIONS, ids):
        found[(entry_id, version)] = tuple(rest)
    return found


# The ids as one JSON text joined to the key: one prepared statement whatever their number (an
# IN list of 100 bound values measured 20% slower); the rows come back as one JSON text too.
STORED_VERSIONS = (
    "select json_group_array(json_array(v.entry_id, v.version, v.hash, v.kind, v.user_id, v.received_at)) "
    "from json_each(?) j join entry_versions v on v.entry_id = j.value"
)


def _rows_at_once(conn: sqlite3.Connection, sql: str, ids: list[str]) -> list[list]:
    """The rows of a query that gathers them into one JSON array (``json_group_array``), for ``ids``.

    sqlite3 lets go of the interpreter's lock for every row it steps through and takes it back
    after; with other threads busy (the event loop, other requests' checks), each of those takes
    can wait, and a batch's 100 rows waited 100 times: 94% of the worker threads' time in a
    profile of replays at 8 connections. One row holding them all waits once.
    """
    # orjson both ways (12 and 15 µs less than json for 100 ids): ids are text, and the rows hold
    # text and small integers read from the database, which both libraries read alike. As str,
    # never bytes: a bytes argument is a BLOB, which json_each() would take for binary JSONB.
    (text,) = conn.execute(sql, [orjson.dumps(ids).decode()]).fetchone()
    return orjson.loads(text) if text else []


def write_batch(db: Database, batch: Batch) -> dict:
    """Compare a checked batch with the stored history and store what is new. Call inside a write transaction."""
    ctx = batch.ctx
    ctx.db = db
    results = batch.results
    received = ctx.received_at
    if ctx.device_id and ctx.user is not None and not batch.device_fresh:
        db.execute(
            "insert into devices (id, user_id, first_seen, last_seen, app_version) values (?, ?, ?, ?, ?) "
            "on conflict(id) do update set user_id = excluded.user_id, last_seen = excluded.last_seen, "
            "app_version = coalesce(excluded.app_version, devices.app_version)",
            [ctx.device_id, ctx.user["id"], received, received, ctx.app_version],
        )
    histories = _histories(db, [e.id for e in batch.ready])
    new: list[_Entry] = []
    for entry in batch.ready:
        answer = _compare(db, ctx, entry, histories.get(entry.id, []))
        if answer is None:
            new.append(entry)
        else:
            results[entry.index] = answer
    if new:
        try:
            with savepoint(db.conn, "batch"):
                _write_all(db, ctx, new)
            for entry in new:
                results[entry.index] = _stored_result(entry, received)
        except (_Undo, Refused, sqlite3.IntegrityError):
            # Someone else wrote some of these ids meanwhile (another process), one entry
            # clashes with a row, or the stored data refuses one (a kind's rule): store them
            # one by one, each in its own savepoint.
            for entry in new:
                results[entry.index] = _write_one(db, ctx, entry)
    return {"server_time": received, "results": results}


def process(db: Database, user: dict | None, entries: list, **options) -> dict:
    """Check and store a batch of entries; one result per entry, in order. Call inside a write transaction."""
    return write_batch(db, prepare(db, user, entries, **options))


def _rejected(entry_id, errors: dict) -> dict:
    errors = printable_errors(errors)
    return {"id": entry_id, "status": "rejected", "errors": errors, "message": _summary(errors)}


def _prepare(ctx: Context, index: int, raw, seen: set[str], stored: dict | None = None):
    """An _Entry ready to store, or the answer already known: 'rejected' saying why, or 'unchanged' (a replay)."""
    if raw.__class__ is dict and ENTRY_FIELDS.issuperset(raw):
        # The usual case, checked without building messages; anything odd takes the full path.
        entry_id, kind, version, created, data = raw.get("id"), raw.get("kind"), raw.get("version"), raw.get("created_at"), raw.get("data")
        if (is_uuid(entry_id) and kind.__class__ is str and kind in ctx.kinds and is_int(version) and 1 <= version <= MAX_VERSION
                and data.__class__ is dict and (created is None or _created_ok(ctx, kind, created))):
            entry_id = entry_id.lower()
            same = stored.get((entry_id, version)) if stored else None
            if same is not None and entry_id not in seen:
                replay = _replayed(ctx, entry_id, kind, data, same)
                if replay is not None:
                    seen.add(entry_id)
                    return replay
            if entry_id not in seen:
                try:
                    check = KINDS[kind].validate(ctx, data)
                except (OverflowError, TypeError, ValueError, UnicodeError):
                    check = None  # a hostile value (a number past 2^64...): the full path names it
                if check is not None:
                    seen.add(entry_id)
                    if check.errors:
                        return _rejected(entry_id, check.errors)
                    return _ready(ctx, index, entry_id, kind, version, created, data, check.clean,
                                  plain=getattr(check, "plain", False))
    hostile = hostile_values(raw, "entry") if isinstance(raw, dict) else {}
    if hostile:  # before any rule: none may overflow or store text that is not Unicode
        return _rejected(echoed_id(raw), {k.replace("entry.", "", 1): v for k, v in hostile.items()})
    entry, errors = _check_entry(ctx, raw)
    entry_id = echoed_id(entry)
    if not errors:
        entry_id = entry_id.lower()
        if entry_id in seen:
            errors["id"] = _("appears more than once in this request")
        seen.add(entry_id)
    if errors:
        return _rejected(entry_id, errors)
    check = KINDS[entry["kind"]].validate(ctx, entry["data"])
    if check.errors:
        return _rejected(entry_id, check.errors)
    return _ready(ctx, index, entry_id, entry["kind"], entry["version"], entry.get("created_at"), entry["data"], check.clean)


def _replayed(ctx: Context, entry_id: str, kind: str, data: dict, same: tuple) -> dict | None:
    """'unchanged' when this very content is stored under this id and version by this author, else None.

    The stored version passed every check when it arrived, so its replay is answered as such
    without checking it again: a phone that lost an answer gets its receipt even when a rule
    has moved since (a zone retired, a year gone by).
    """
    stored_hash, stored_kind, user_id, received_at = same
    if stored_kind != kind or user_id != ctx.user_id:
        return None
    try:
        digest = sha256(canonical_bytes(data)).hexdigest()
    except (ValueError, RecursionError):  # NaN, a lone surrogate, absurd nesting: never stored, so no replay
        return None
    if digest != stored_hash:
        return None
    return {"id": entry_id, "status": "unchanged", "hash": digest, "received_at": received_at}


def _created_ok(ctx: Context, kind: str, created: str) -> bool:
    """created_at is a time with an offset, within the kind's window when it has one."""
    parsed = parse_time(created)
    if parsed is None:
        return False
    window = KINDS[kind].created_within
    return window is None or ctx.now - window[1] <= parsed <= ctx.now + window[0]


def _ready(ctx: Context, index: int, entry_id: str, kind: str, version: int, created, data: dict, clean: dict,
           *, plain: bool = False):
    """The checked entry with its canonical text and hash, or 'rejected' when data has no canonical form."""
    links = KINDS[kind].check_links
    if links is not None:
        errors = links(ctx, clean)
        if errors:
            return _rejected(entry_id, errors)
    try:
        raw = canonical_bytes(data, plain=plain)
    except UnicodeEncodeError:  # a lone surrogate (\ud800) parses as JSON but is no text SQLite can store
        return _rejected(entry_id, {"data": _("must contain only valid Unicode text")})
    except ValueError:  # NaN or infinity cannot be canonical JSON
        return _rejected(entry_id, {"data": _("must not contain NaN or infinite numbers")})
    return _Entry(index, entry_id, kind, version, sha256(raw).hexdigest(), raw.decode("utf-8"),
                  created or ctx.received_at, clean)


def _histories(db: Database, ids: list[str]) -> dict[str, list[dict]]:
    """The stored versions of these ids (one query), oldest first."""
    out: dict[str, list[dict]] = {}
    if not ids:
        return out
    ids = list(dict.fromkeys(ids))  # (each id's rows once)
    # conn.execute, not db.query: inside the writer's lock, one statement instead of three
    # (sqlite-utils wraps a query in a savepoint of its own); the rows at once (_rows_at_once).
    for entry_id, version, digest, kind, user_id, received_at in sorted(_rows_at_once(db.conn, STORED_VERSIONS, ids),
                                                                       key=lambda r: (r[0], r[1])):
        out.setdefault(entry_id, []).append({"entry_id": entry_id, "version": version, "hash": digest, "kind": kind,
                                             "user_id": user_id, "received_at": received_at})
    return out


def _compare(db: Database, ctx: Context, entry: _Entry, history: list[dict]) -> dict | None:
    """The answer when the history decides it (replay, conflict); None when the entry is to be stored."""
    same = next((h for h in history if h["version"] == entry.version), None)
    if same is not None:
        if same["hash"] == entry.hash and same["kind"] == entry.kind and same["user_id"] == ctx.user_id:
            return {"id": entry.id, "status": "unchanged", "hash": entry.hash, "received_at": same["received_at"]}
        return _conflict(entry.id, history, _("The server already has this version with other content."))
    if not history and KINDS[entry.kind].may_create is not None:
        reason = KINDS[entry.kind].may_create(db, ctx, entry.id)
        if reason:
            return _rejected(entry.id, {"id": reason})
    if history:
        if history[-1]["version"] > entry.version:
            return _conflict(entry.id, history, _("The server already has a newer version of this entry."))
        if history[0]["kind"] != entry.kind:
            return _conflict(entry.id, history, _("This id belongs to an entry of another kind."))
        if ctx.user is None or not KINDS[entry.kind].may_update(db, ctx, entry.id, history[0]["user_id"]):
            return _conflict(entry.id, history, _("This entry belongs to someone else."))
        entry.update = True
    return None


def _version_row(ctx: Context, entry: _Entry) -> tuple:
    return (entry.id, entry.kind, entry.version, entry.hash, entry.text, ctx.user_id, ctx.device_id,
            entry.created_at, ctx.received_at)


VERSION_HEAD = (
    "insert or ignore into entry_versions (entry_id, kind, version, hash, data, user_id, device_id, "
    "created_at, received_at)"
)
INSERT_VERSION = VERSION_HEAD + " values (?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _write_all(db: Database, ctx: Context, new: list[_Entry]) -> None:
    """Store every new entry of a batch at once (the usual case: a phone's fresh entries)."""
    if insert_rows(db.conn, VERSION_HEAD, 9, [_version_row(ctx, e) for e in new]) != len(new):
        raise _Undo()  # the unique key refused some: sort them out one by one
    by_kind: dict[str, list[_Entry]] = {}
    for entry in new:
        by_kind.setdefault(entry.kind, []).append(entry)
    for name, group in by_kind.items():
        kind = KINDS[name]
        if kind.store_many is not None:
            kind.store_many(db, ctx, [(e.stored(), e.clean, e.update) for e in group])
        else:
            for e in group:
                kind.store(db, ctx, e.stored(), e.clean, update=e.update)


def _write_one(db: Database, ctx: Context, entry: _Entry) -> dict:
    """Store one entry in its own savepoint; the unique (entry_id, version) key settles any race."""
    try:
        with db.atomic():
            cursor = db.conn.execute(INSERT_VERSION, _version_row(ctx, entry))
            if cursor.rowcount == 0:
                raise _Undo()
            KINDS[entry.kind].store(db, ctx, entry.stored(), entry.clean, update=entry.update)
    except _Undo:
        history = _histories(db, [entry.id]).get(entry.id, [])
        return _compare(db, ctx, entry, history) or _conflict(entry.id, history or [{"version": entry.version}],
                                                             _("The server already has this version with other content."))
    except Refused as refused:
        return _rejected(entry.id, refused.errors)
    except sqlite3.IntegrityError:
        return _rejected(entry.id, {"id": _("is already used on the server by other data")})
    return _stored_result(entry, ctx.received_at)


def _stored_result(entry: _Entry, received_at: str) -> dict:
    return {"id": entry.id, "status": "updated" if entry.update else "created", "hash": entry.hash,
            "received_at": received_at}


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
