"""The schema, only through sqlite-utils Migrations: one function per change, never edited once shipped.

Sections below belong to areas of the product; add a new function at the end of
your area's section (a new migration), never change one that has shipped.

Why one file longer than the usual ~350 lines: sqlite-utils applies migrations in the order
they were registered, so the order of this file *is* the schema's history. Split over modules,
that order would hang on import order, and a reordered import would apply changes out of
sequence on a fresh database. The file only grows by appending, and nobody edits the middle.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("outreach")


def apply(db: Database) -> None:
    """Bring a database up to date."""
    migrations.apply(db)


# --- core: accounts, devices, reference data, audit ---------------------------------


@migrations()
def m001_core(db: Database) -> None:
    db["users"].create(
        {
            "id": int,
            "email": str,
            "display_name": str,
            "role": str,
            "password_hash": str,
            "active": int,
            "session_epoch": int,
            "locale": str,
            "created_at": str,
        },
        pk="id",
        not_null={"email", "display_name", "role", "password_hash"},
        defaults={"active": 1, "session_epoch": 0},
    )
    db["users"].create_index(["email"], unique=True)
    db["devices"].create(
        {"id": str, "user_id": int, "first_seen": str, "last_seen": str, "app_version": str},
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db["devices"].create_index(["user_id"])
    for table in ("zones", "tools", "categories"):
        db[table].create(
            {"code": str, "label_fr": str, "label_en": str, "sort": int, "active": int},
            pk="code",
            not_null={"label_fr", "label_en"},
            defaults={"sort": 0, "active": 1},
        )
    db["zones"].add_column("lat", float)
    db["zones"].add_column("lon", float)
    db["consent_texts"].create(
        {"version": str, "text_fr": str, "text_en": str, "created_at": str, "active": int},
        pk="version",
        not_null={"text_fr", "text_en"},
        defaults={"active": 0},
    )
    db["audit_log"].create(
        {"id": int, "at": str, "user_id": int, "action": str, "target_type": str, "target_id": str, "detail": str},
        pk="id",
        not_null={"at", "action"},
    )
    db["audit_log"].create_index(["at"])
    db["api_keys"].create(
        {"id": int, "name": str, "key_hash": str, "created_at": str, "active": int},
        pk="id",
        not_null={"name", "key_hash"},
        defaults={"active": 1},
    )
    db["api_keys"].create_index(["key_hash"], unique=True)
    # One-time links (invitations, password resets): a used token id is stored here.
    db["used_tokens"].create({"jti": str, "used_at": str}, pk="jti")


# --- field: sync, encounters, outings, contacts -------------------------------------


@migrations()
def m010_field(db: Database) -> None:
    # Every stored version of every synced entry: the audit trail of sync. The unique
    # (entry_id, version) key is what makes a replay harmless.
    db["entry_versions"].create(
        {
            "id": int,
            "entry_id": str,
            "kind": str,
            "version": int,
            "hash": str,
            "data": str,
            "user_id": int,
            "device_id": str,
            "created_at": str,
            "received_at": str,
        },
        pk="id",
        not_null={"entry_id", "kind", "version", "hash", "data", "received_at"},
    )
    db["entry_versions"].create_index(["entry_id", "version"], unique=True)
    db["outings"].create(
        {
            "id": str,
            "version": int,
            "hash": str,
            "zone": str,
            "format": str,
            "status": str,  # planned | started | ended
            "planned_date": str,
            "started_at": str,
            "ended_at": str,
            "debrief": str,
            "created_by": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"format", "status"},
        defaults={"version": 0, "debrief": ""},
        foreign_keys=[("created_by", "users", "id")],
    )
    db["outings"].create_index(["planned_date"])
    db["outings"].create_index(["started_at"])
    db["outings"].create_index(["zone"])
    db["outing_members"].create(
        {"outing_id": str, "user_id": int},
        pk=("outing_id", "user_id"),
        foreign_keys=[("outing_id", "outings", "id"), ("user_id", "users", "id")],
    )
    db["outing_members"].create_index(["user_id"])
    db["outing_tallies"].create(
        {"outing_id": str, "tool": str, "count": int},
        pk=("outing_id", "tool"),
        not_null={"count"},
        foreign_keys=[("outing_id", "outings", "id")],
    )
    db["encounters"].create(
        {
            "id": str,
            "version": int,
            "hash": str,
            "user_id": int,
            "device_id": str,
            "outing_id": str,
            "occurred_at": str,  # UTC, ISO 8601
            "place_type": str,
            "zone": str,
            "lat": float,  # rounded to about 100 m
            "lon": float,
            "accuracy_m": int,
            "people_count": int,
            "outcome": str,
            "interest": str,
            "age_band": str,
            "language": str,
            "note": str,
            "created_at": str,
            "received_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"version", "hash", "occurred_at", "place_type", "people_count", "outcome", "interest"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["encounters"].create_index(["occurred_at"])
    db["encounters"].create_index(["zone", "occurred_at"])
    db["encounters"].create_index(["user_id", "occurred_at"])
    db["encounters"].create_index(["outing_id"])
    db["encounter_tools"].create(
        {"encounter_id": str, "tool": str},
        pk=("encounter_id", "tool"),
        foreign_keys=[("encounter_id", "encounters", "id")],
    )
    db["encounter_tools"].create_index(["tool"])
    # Follow-up contacts live apart from encounters, only with consent, and expire.
    db["contacts"].create(
        {
            "id": str,
            "encounter_id": str,
            "user_id": int,
            "channel": str,
            "contact": str,
            "name": str,
            "purposes": str,  # JSON list of tool codes
            "consent_text_version": str,
            "consented_at": str,
            "expires_at": str,
            "done_at": str,
            "done_by": int,
        },
        pk="id",
        not_null={"channel", "contact", "consent_text_version", "consented_at", "expires_at"},
    )
    db["contacts"].create_index(["encounter_id"], unique=True)
    db["contacts"].create_index(["expires_at"])


# --- worksites: reports, photos, Open311 --------------------------------------------


@migrations()
def m020_reports(db: Database) -> None:
    db["attachments"].create(
        {
            "sha256": str,
            "media_type": str,
            "size": int,
            "width": int,
            "height": int,
            "path": str,
            "thumb_path": str,
            "created_at": str,
        },
        pk="sha256",
        not_null={"media_type", "size", "path"},
    )
    db["reports"].create(
        {
            "id": str,
            "version": int,
            "hash": str,
            "source": str,  # resident | field | open311
            "user_id": int,
            "device_id": str,
            "encounter_id": str,
            "title": str,
            "description": str,
            "category": str,
            "lat": float,
            "lon": float,
            "accuracy_m": int,
            "address": str,
            "where_detail": str,
            "zone": str,
            "wants_to_help": int,
            "status": str,
            "scheduled_for": str,
            "public_reply": str,
            "decline_reason": str,
            "duplicate_of": str,
            "me_too_count": int,
            "created_at": str,
            "received_at": str,
            "updated_at": str,
            "closed_at": str,
        },
        pk="id",
        not_null={"title", "category", "status", "source"},
        defaults={"wants_to_help": 0, "me_too_count": 0, "description": "", "version": 1},
    )
    db["reports"].create_index(["status", "received_at"])
    db["reports"].create_index(["category", "status"])
    db["reports"].create_index(["zone", "status"])
    db["reports"].create_index(["received_at"])
    # The reporter's contact is kept apart so that it is never selected by accident
    # and can be purged on its own.
    db["report_contacts"].create(
        {
            "report_id": str,
            "name": str,
            "email": str,
            "phone": str,
            "consent_text_version": str,
            "consented_at": str,
        },
        pk="report_id",
        foreign_keys=[("report_id", "reports", "id")],
    )
    db["report_contacts"].create_index(["email"])
    db["report_contacts"].create_index(["phone"])
    db["report_photos"].create(
        {"report_id": str, "sha256": str, "position": int},
        pk=("report_id", "sha256"),
        foreign_keys=[("report_id", "reports", "id")],
    )
    db["report_photos"].create_index(["sha256"])
    # History of a report: status changes, public replies, internal notes, resident additions.
    db["report_events"].create(
        {
            "id": int,
            "report_id": str,
            "at": str,
            "user_id": int,
            "kind": str,  # status | reply | note | resident_info | me_too | merge
            "from_status": str,
            "to_status": str,
            "text": str,
            "public": int,
        },
        pk="id",
        not_null={"report_id", "at", "kind"},
        defaults={"public": 0},
        foreign_keys=[("report_id", "reports", "id")],
    )
    db["report_events"].create_index(["report_id", "at"])
    db["report_volunteers"].create(
        {
            "id": int,
            "report_id": str,
            "name": str,
            "email": str,
            "phone": str,
            "consent_text_version": str,
            "created_at": str,
        },
        pk="id",
        not_null={"report_id", "name", "created_at"},
        foreign_keys=[("report_id", "reports", "id")],
    )
    db["report_volunteers"].create_index(["report_id"])


@migrations()
def m021_report_me_too_and_volunteer_keys(db: Database) -> None:
    # A "me too" carries an id made by the resident's page, so that a retry counts once.
    db["report_me_toos"].create(
        {"id": str, "report_id": str, "created_at": str},
        pk="id",
        not_null={"report_id", "created_at"},
        foreign_keys=[("report_id", "reports", "id")],
    )
    db["report_me_toos"].create_index(["report_id"])
    # Signing up twice with the same email/phone for one worksite is one volunteer
    # (missing email or phone are stored as '' so that the unique key applies).
    db["report_volunteers"].create_index(["report_id", "email", "phone"], unique=True)
    # Keyset pagination of the triage queue and the "nearby" search.
    db["reports"].create_index(["received_at", "id"])
    db["reports"].create_index(["category", "lat"])


@migrations()
def m022_report_duplicates_index(db: Database) -> None:
    # A report's detail lists the duplicates merged into it.
    db["reports"].create_index(["duplicate_of"])


# --- coordinators: dashboards, planning, privacy ------------------------------------


# Coverage aggregates kept up to date at write time by triggers, so the dashboard reads a few
# thousand summary rows whatever the number of encounters, and whoever writes the encounters
# (sync ingest, CLI, tests) needs to know nothing about them. Keys use '' for "no zone" because
# NULLs are distinct in a primary key and would defeat the upsert. The day is the UTC day of
# occurred_at (the same boundary the lists and exports filter on). stats.rebuild() refills
# them from scratch after a bulk load that bypassed the triggers.
@migrations()
def m050_coverage_aggregates(db: Database) -> None:
    # WITHOUT ROWID (raw SQL: sqlite-utils cannot ask for it): the rows are stored in primary-key
    # order, so a period is one contiguous range read with no lookup per row.
    db.execute(
        "create table agg_encounters (dim text not null, day text not null, zone text not null, value text not null, "
        "n integer not null default 0, people integer not null default 0, primary key (dim, day, zone, value)) without rowid"
    )
    db.execute(
        "create table agg_tools (day text not null, zone text not null, tool text not null, interest text not null, "
        "n integer not null default 0, people integer not null default 0, primary key (zone, tool, interest, day)) without rowid"
    )
    db.execute(
        "create table agg_outings (day text not null, zone text not null, status text not null, format text not null, "
        "n integer not null default 0, primary key (day, zone, status, format)) without rowid"
    )
    for sql in _aggregate_triggers():
        db.execute(sql)
    # Lists filter by worker and outcome/interest within a period; the outing list by status/zone.
    db["encounters"].create_index(["outing_id", "occurred_at"], if_not_exists=True)
    db["outings"].create_index(["status", "planned_date"], if_not_exists=True)
    db["encounter_tools"].create_index(["tool", "encounter_id"], if_not_exists=True)
    db["contacts"].create_index(["done_at", "consented_at"], if_not_exists=True)
    db["devices"].create_index(["last_seen"], if_not_exists=True)
    db["audit_log"].create_index(["action", "at"], if_not_exists=True)
    # Reports by state for a period and zone: a covering range scan on received_at.
    db["reports"].create_index(["received_at", "zone", "status"], if_not_exists=True)


def _enc_upsert(row: str, sign: str) -> list[str]:
    """Statements adding (sign '+') or removing (sign '-') one encounter row's counts."""
    day = f"substr({row}.occurred_at, 1, 10)"
    zone = f"coalesce({row}.zone, '')"
    out = []
    for dim in ("all", "outcome", "interest", "place_type"):
        value = "''" if dim == "all" else f"coalesce({row}.{dim}, '')"
        out.append(
            f"insert into agg_encounters (day, zone, dim, value, n, people) "
            f"values ({day}, {zone}, '{dim}', {value}, {sign}1, {sign}{row}.people_count) "
            f"on conflict (dim, day, zone, value) do update set n = n + excluded.n, people = people + excluded.people;"
        )
    # Tools already attached to this encounter move with it (an update of zone/day/interest).
    out.append(
        f"insert into agg_tools (day, zone, tool, interest, n, people) "
        f"select {day}, {zone}, et.tool, {row}.interest, {sign}1, {sign}{row}.people_count "
        f"from encounter_tools et where et.encounter_id = {row}.id and true "
        f"on conflict (zone, tool, interest, day) do update set n = n + excluded.n, people = people + excluded.people;"
    )
    return out


def _tool_upsert(row: str, sign: str) -> str:
    return (
        f"insert into agg_tools (day, zone, tool, interest, n, people) "
        f"select substr(e.occurred_at, 1, 10), coalesce(e.zone, ''), {row}.tool, e.interest, {sign}1, {sign}e.people_count "
        f"from encounters e where e.id = {row}.encounter_id and true "
        f"on conflict (zone, tool, interest, day) do update set n = n + excluded.n, people = people + excluded.people;"
    )


def _outing_upsert(row: str, sign: str) -> str:
    return (
        f"insert into agg_outings (day, zone, status, format, n) "
        f"values (coalesce(substr({row}.started_at, 1, 10), {row}.planned_date, substr({row}.created_at, 1, 10), ''), "
        f"coalesce({row}.zone, ''), {row}.status, {row}.format, {sign}1) "
        f"on conflict (day, zone, status, format) do update set n = n + excluded.n;"
    )


def _aggregate_triggers() -> list[str]:
    enc_cols = "occurred_at, zone, outcome, interest, place_type, people_count"
    out_cols = "started_at, planned_date, created_at, zone, status, format"
    return [
        "create trigger agg_encounters_insert after insert on encounters begin "
        + " ".join(_enc_upsert("new", "+"))
        + " end",
        "create trigger agg_encounters_delete after delete on encounters begin "
        + " ".join(_enc_upsert("old", "-"))
        + " end",
        f"create trigger agg_encounters_update after update of {enc_cols} on encounters begin "
        + " ".join(_enc_upsert("old", "-") + _enc_upsert("new", "+"))
        + " end",
        "create trigger agg_tools_insert after insert on encounter_tools begin " + _tool_upsert("new", "+") + " end",
        "create trigger agg_tools_delete after delete on encounter_tools begin " + _tool_upsert("old", "-") + " end",
        "create trigger agg_tools_update after update on encounter_tools begin "
        + _tool_upsert("old", "-") + " " + _tool_upsert("new", "+") + " end",
        "create trigger agg_outings_insert after insert on outings begin " + _outing_upsert("new", "+") + " end",
        "create trigger agg_outings_delete after delete on outings begin " + _outing_upsert("old", "-") + " end",
        f"create trigger agg_outings_update after update of {out_cols} on outings begin "
        + _outing_upsert("old", "-") + " " + _outing_upsert("new", "+") + " end",
    ]


# Sync ingest (the field app's speed target): per-row insert triggers cost more than the inserts
# themselves (about 5 µs per trigger call, even with a WHEN clause that skips the body). Inserts
# of encounters and encounter_tools are now counted by their writers, in the same transaction,
# with one statement per aggregate table per batch: stats.add_encounters / stats.add_tools.
# Updates and deletes keep their triggers (rare writes: corrections, erasure). Two indexes are
# dropped because a wider one with the same leading column serves every query they served:
# (outing_id) by (outing_id, occurred_at), (tool) by (tool, encounter_id). The (outing_id,
# occurred_at) index becomes partial: queries only ever look for one outing's encounters
# (outing_id = ?), so encounters logged outside an outing need no entry in it.
@migrations()
def m051_count_inserts_in_batches(db: Database) -> None:
    db.execute("drop trigger if exists agg_encounters_insert")
    db.execute("drop trigger if exists agg_tools_insert")
    db.execute("drop index if exists idx_encounters_outing_id")
    db.execute("drop index if exists idx_encounter_tools_tool")
    db.execute("drop index if exists idx_encounters_outing_id_occurred_at")
    db.execute(
        "create index idx_encounters_outing_id_occurred_at on encounters (outing_id, occurred_at) "
        "where outing_id is not null"
    )


# --- coordinators: local days (the city's days, not UTC's) -----------------------------------


# The summaries were keyed by the UTC day of each instant: an encounter at 00:30 in Grenoble
# counted on the day before. From here they are keyed by the local day in the city's zone
# (setting OUTREACH_TIMEZONE), through the SQL function local_day() that every connection gets
# (db.connect → localtime.install). The zone they were built with is kept in local_time, so a
# change of setting rebuilds them at start (localtime.configure). The triggers of m050 are
# replaced (same statements, local_day() instead of substr(…, 1, 10)), and every summary row
# is recomputed from the source rows.
@migrations()
def m120_local_day_aggregates(db: Database) -> None:
    db.execute("create table if not exists local_time (id integer primary key check (id = 1), tz text not null)")
    db.execute("insert or ignore into local_time (id, tz) values (1, 'Europe/Paris')")
    from .localtime import install

    install(db)
    for name in ("agg_encounters_insert", "agg_encounters_delete", "agg_encounters_update", "agg_tools_insert",
                 "agg_tools_delete", "agg_tools_update", "agg_outings_insert", "agg_outings_delete",
                 "agg_outings_update"):
        db.execute(f"drop trigger if exists {name}")
    keep = ("agg_encounters_delete", "agg_encounters_update", "agg_tools_delete", "agg_tools_update",
            "agg_outings_insert", "agg_outings_delete", "agg_outings_update")
    for sql in _aggregate_triggers():
        name = sql.split()[2]
        if name in keep:
            db.execute(_local_days(sql))
    db.execute("delete from agg_encounters")
    db.execute("delete from agg_tools")
    db.execute("delete from agg_outings")
    db.execute(
        "insert into agg_encounters (day, zone, dim, value, n, people) "
        "select local_day(occurred_at), coalesce(zone, ''), 'all', '', count(*), sum(people_count) "
        "from encounters group by 1, 2"
    )
    for dim in ("outcome", "interest", "place_type"):
        db.execute(
            "insert into agg_encounters (day, zone, dim, value, n, people) "
            f"select local_day(occurred_at), coalesce(zone, ''), '{dim}', coalesce({dim}, ''), "
            "count(*), sum(people_count) from encounters group by 1, 2, 4"
        )
    db.execute(
        "insert into agg_tools (day, zone, tool, interest, n, people) "
        "select local_day(e.occurred_at), coalesce(e.zone, ''), et.tool, e.interest, count(*), sum(e.people_count) "
        "from encounter_tools et join encounters e on e.id = et.encounter_id group by 1, 2, 3, 4"
    )
    db.execute(
        "insert into agg_outings (day, zone, status, format, n) "
        "select coalesce(local_day(started_at), planned_date, local_day(created_at), ''), "
        "coalesce(zone, ''), status, format, count(*) from outings group by 1, 2, 3, 4"
    )


def _local_days(sql: str) -> str:
    """A trigger of m050 with its UTC days (``substr(x, 1, 10)``) turned into local days."""
    import re

    return re.sub(r"substr\(([\w.]+), 1, 10\)", r"local_day(\1)", sql)


# A planned outing has a time and a place to meet: start and end (local HH:MM on planned_date),
# a meeting point in words and optionally its position. A cancelled outing leaves a line in
# outing_cancellations, so that its members' phones are told on their next sync (the outing
# itself is deleted, as before: nothing was done on it).
@migrations()
def m121_planned_time_and_meeting_point(db: Database) -> None:
    for column, kind in (("planned_start", str), ("planned_end", str), ("meeting_point", str),
                         ("meeting_lat", float), ("meeting_lon", float)):
        db["outings"].add_column(column, kind)
    db["outing_cancellations"].create(
        {"outing_id": str, "zone": str, "format": str, "planned_date": str, "planned_start": str,
         "members": str, "cancelled_at": str, "cancelled_by": int},
        pk="outing_id",
        not_null={"cancelled_at"},
    )
    db["outing_cancellations"].create_index(["planned_date"])


# Consent texts per purpose: a follow-up (encounter), a reporter's contact (worksite report), a
# volunteer's sign-up. Each purpose has its own versions; the texts given so far were the
# follow-up text (also shown, wrongly, to reporters and volunteers): they become follow-up
# versions, and every stored consent keeps the version it was given under.
@migrations()
def m122_consent_purposes(db: Database) -> None:
    if "purpose" not in db["consent_texts"].columns_dict:
        db["consent_texts"].add_column("purpose", str, not_null_default="follow_up")
    db.execute("update consent_texts set purpose = 'follow_up' where purpose is null")
    db["consent_texts"].create_index(["purpose", "active"], if_not_exists=True)

# --- mail: the outgoing queue, campaigns to follow-up contacts -----------------------------


@migrations()
def m13x_mail_queue(db: Database) -> None:
    # One row per message to one person about one event, written in the same transaction as
    # the change that causes it. message_id is derived from (kind, event, recipient): queueing
    # the same event twice is one row, and a resend after a crash carries the same Message-ID.
    db["mail_queue"].create(
        {
            "id": int,
            "message_id": str,
            "kind": str,  # invitation | password_reset | report_update | volunteer_* | campaign
            "event": str,
            "ref_type": str,  # what the message concerns, purged with it: user | contact | report | volunteer
            "ref_id": str,
            "recipient": str,
            "recipient_name": str,
            "locale": str,
            "subject": str,
            "body_text": str,
            "body_html": str,
            "unsubscribe_url": str,
            "status": str,  # queued | sent | failed | cancelled
            "attempts": int,
            "next_attempt_at": str,
            "last_error": str,
            "created_at": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"message_id", "kind", "event", "recipient", "subject", "body_text", "status", "created_at", "next_attempt_at"},
        defaults={"attempts": 0, "status": "queued", "locale": "fr"},
    )
    db["mail_queue"].create_index(["message_id"], unique=True)
    db["mail_queue"].create_index(["status", "next_attempt_at"])
    db["mail_queue"].create_index(["ref_type", "ref_id"])
    db["mail_queue"].create_index(["event"])
    db["mail_campaigns"].create(
        {
            "id": int,
            "purpose": str,
            "locale": str,
            "subject": str,
            "body": str,
            "created_by": int,
            "created_at": str,
            "recipients": int,
        },
        pk="id",
        not_null={"purpose", "subject", "body", "created_at"},
        foreign_keys=[("created_by", "users", "id")],
    )
    # The language a resident used when leaving an address: their messages are written in it.
    for table in ("report_contacts", "report_volunteers", "contacts"):
        db[table].add_column("locale", str)

# --- zones as places: boundaries, population ------------------------------------------


# A zone may carry its boundary (GeoJSON geometry in WGS 84, as imported), a simplified outline
# (for the phone and the dashboard's map), a fingerprint of both (the per-process point-in-
# polygon index is rebuilt when it changes), its population and its population by age band.
# Encounters with an age band are read over a period by a partial covering index: the age-band
# shares of the dashboard never scan the encounters without one.
@migrations()
def m140_zone_boundaries(db: Database) -> None:
    db["zones"].add_column("boundary", str)
    db["zones"].add_column("outline", str)
    db["zones"].add_column("shape_hash", str)
    db["zones"].add_column("population", int)
    db["zones"].add_column("population_ages", str)
    db["zones"].add_column("boundary_updated_at", str)
    db.execute(
        "create index idx_encounters_age_band on encounters (occurred_at, zone, age_band, people_count) "
        "where age_band is not null"
    )
    db.execute("create index idx_encounters_no_zone on encounters (id) where zone is null and lat is not null")


# --- security: server-side sessions, the latest reset link ---------------------------------


# A session is a row: signing out deletes it, so a copied cookie dies with it (the signed
# cookie alone would open the account for its whole max age). One row per sign-in, so that
# signing out on one phone leaves the others signed in. A password-reset link is valid only
# while its id is the account's latest.
@migrations()
def m110_sessions_and_latest_reset(db: Database) -> None:
    db["sessions"].create({"id": str, "user_id": int, "created_at": str}, pk="id",
                          foreign_keys=[("user_id", "users", "id")])
    db["sessions"].create_index(["user_id"])
    db["password_resets"].create({"user_id": int, "jti": str, "created_at": str}, pk="user_id",
                                 foreign_keys=[("user_id", "users", "id")])


# Filling zones from positions reads the encounters that have a position and no zone: a partial
# index on (lat, lon) holds exactly those, sorted by position with their rowids, so the distinct
# positions and then the rows at each position are index range reads (no scan of the table).
# It replaces the partial index on id, which served no query once the lookup went by position.
@migrations()
def m17x_encounters_to_place_by_position(db: Database) -> None:
    db.execute("drop index if exists idx_encounters_no_zone")
    db.execute(
        "create index idx_encounters_to_place on encounters (lat, lon) "
        "where zone is null and lat is not null and lon is not null"
    )


# The planning page asks, for each zone, the day of its last outing: one seek per zone in an
# index on (zone, started_at) instead of reading every outing ever started.
@migrations()
def m17x_outings_by_zone_and_start(db: Database) -> None:
    db.execute("create index if not exists idx_outings_zone_started_at on outings (zone, started_at)")

# --- field: outings (continued) -----------------------------------------------------


# Teammates on one outing each write a debrief on their own phone and send the same outing id:
# one debrief per member, so the last phone to sync no longer overwrites the others'.
# outings.debrief stays as every member's debrief joined (what exports and older readers see).
@migrations()
def m090_outing_debriefs(db: Database) -> None:
    db["outing_debriefs"].create(
        {"outing_id": str, "user_id": int, "debrief": str, "updated_at": str},
        pk=("outing_id", "user_id"),
        not_null={"debrief", "updated_at"},
        foreign_keys=[("outing_id", "outings", "id"), ("user_id", "users", "id")],
        if_not_exists=True,
    )
    db.execute(
        "insert or ignore into outing_debriefs (outing_id, user_id, debrief, updated_at) "
        "select id, created_by, debrief, coalesce(updated_at, created_at, '') from outings "
        "where debrief != '' and created_by is not null"
    )


# --- sync ingest ---------------------------------------------------------------------------


# encounter_tools (tool, encounter_id) was meant for lists filtered by tool; every such query
# looks a tool up per encounter (exists … where encounter_id = ? and tool = ?), through the
# primary key, and counts come from the aggregates: the index was never read. Keyed by a
# random id, it cost each synced encounter one more page written per tool (a third of the
# ingest's writes once the table is large).
@migrations()
def m150_drop_unread_tool_index(db: Database) -> None:
    db.execute("drop index if exists idx_encounter_tools_tool_encounter_id")


# --- coordinators: reach aggregates ---------------------------------------------------------


# The dashboard's reach figures read summaries, like the coverage figures: people tallied per
# (local day of the outing's start, zone, tool), and people met per (local day, zone, age band)
# of the encounters whose band was noted. Tallies are rare writes (one outing at a time): their
# summary is kept by triggers on outing_tallies and on the outing's zone and start. Age bands
# follow the encounters' rule (m051): inserts are counted by their writer, once per batch
# (stats.add_encounters / stats.add_age_rows), updates and deletes by triggers.
@migrations()
def m200_reach_aggregates(db: Database) -> None:
    from .localtime import install

    install(db)
    db.execute(
        "create table if not exists agg_tallies (day text not null, zone text not null, tool text not null, "
        "people integer not null default 0, primary key (day, zone, tool)) without rowid"
    )
    db.execute(
        "create table if not exists agg_ages (day text not null, zone text not null, band text not null, "
        "n integer not null default 0, people integer not null default 0, primary key (day, zone, band)) without rowid"
    )
    for sql in _reach_triggers():
        db.execute(sql)
    db.execute("delete from agg_tallies")
    db.execute("delete from agg_ages")
    db.execute(
        "insert into agg_tallies (day, zone, tool, people) "
        "select local_day(o.started_at), coalesce(o.zone, ''), t.tool, sum(t.count) from outing_tallies t "
        "join outings o on o.id = t.outing_id where o.started_at is not null group by 1, 2, 3"
    )
    db.execute(
        "insert into agg_ages (day, zone, band, n, people) "
        "select local_day(occurred_at), coalesce(zone, ''), age_band, count(*), sum(people_count) from encounters "
        "where age_band is not null group by 1, 2, 3"
    )


def _tally_upsert(tally: str, outing: str, sign: str, source: str) -> str:
    """Add (sign '+') or remove ('-') tally rows' people; ``tally``/``outing`` name the rows in ``source``."""
    return (
        f"insert into agg_tallies (day, zone, tool, people) "
        f"select local_day({outing}.started_at), coalesce({outing}.zone, ''), {tally}.tool, {sign}{tally}.count "
        f"from {source} and {outing}.started_at is not null "
        f"on conflict (day, zone, tool) do update set people = people + excluded.people;"
    )


def _age_upsert(row: str, sign: str) -> str:
    return (
        f"insert into agg_ages (day, zone, band, n, people) "
        f"select local_day({row}.occurred_at), coalesce({row}.zone, ''), {row}.age_band, {sign}1, {sign}{row}.people_count "
        f"where {row}.age_band is not null "
        f"on conflict (day, zone, band) do update set n = n + excluded.n, people = people + excluded.people;"
    )


def _reach_triggers() -> list[str]:
    # A tally row counts on its outing's start day and zone: an outing not started counts nothing.
    by_row = "outings o where o.id = {row}.outing_id"
    by_outing = "outing_tallies t where t.outing_id = {row}.id"
    return [
        "create trigger if not exists agg_tallies_insert after insert on outing_tallies begin "
        + _tally_upsert("new", "o", "+", by_row.format(row="new")) + " end",
        "create trigger if not exists agg_tallies_delete after delete on outing_tallies begin "
        + _tally_upsert("old", "o", "-", by_row.format(row="old")) + " end",
        "create trigger if not exists agg_tallies_update after update of outing_id, tool, count on outing_tallies begin "
        + _tally_upsert("old", "o", "-", by_row.format(row="old")) + " "
        + _tally_upsert("new", "o", "+", by_row.format(row="new")) + " end",
        "create trigger if not exists agg_tallies_outing_update after update of zone, started_at on outings "
        "when old.zone is not new.zone or old.started_at is not new.started_at begin "
        + _tally_upsert("t", "old", "-", by_outing.format(row="old")) + " "
        + _tally_upsert("t", "new", "+", by_outing.format(row="new")) + " end",
        "create trigger if not exists agg_tallies_outing_delete after delete on outings begin "
        + _tally_upsert("t", "old", "-", by_outing.format(row="old")) + " end",
        "create trigger if not exists agg_ages_delete after delete on encounters when old.age_band is not null begin "
        + _age_upsert("old", "-") + " end",
        "create trigger if not exists agg_ages_update after update of occurred_at, zone, age_band, people_count "
        "on encounters when old.age_band is not null or new.age_band is not null begin "
        + _age_upsert("old", "-") + " " + _age_upsert("new", "+") + " end",
    ]


# --- coordinators: planning from a proposal in one step -----------------------------------


# Each planning form carries a key made when the page was drawn: a form sent twice (a double
# click, a retry after a timeout) plans one outing, because the key is unique in the database.
# The proposals prefill a team's usual plan (hours, format, team, meeting point) from the latest
# planned outings: a partial index on planned_date reads them newest first without a sort.
@migrations()
def m200_plan_once_from_a_proposal(db: Database) -> None:
    db["outings"].add_column("plan_key", str)
    db.execute("create unique index if not exists idx_outings_plan_key on outings (plan_key) where plan_key is not null")
    db.execute("create index if not exists idx_outings_planned_date on outings (planned_date) where planned_date is not null")


# --- sync ingest (continued) --------------------------------------------------------------


# Every sync answer carries bootstrap's version (two-way sync): a hash of everything bootstrap
# holds, about 1 ms to rebuild, some 10 µs per entry of a batch of 100. A counter moved by every
# write to the tables bootstrap shows lets the server keep each user's version until one of them
# changes (field/bootstrap.Versions; a test checks that bootstrap reads no other table).
BOOTSTRAP_TABLES = ("zones", "tools", "categories", "consent_texts", "outings", "outing_members",
                    "outing_cancellations", "users")


@migrations()
def m210_bootstrap_generation(db: Database) -> None:
    db.execute("create table if not exists bootstrap_generation (n integer not null)")
    db.execute("insert into bootstrap_generation (n) select 0 where not exists (select 1 from bootstrap_generation)")
    for table in BOOTSTRAP_TABLES:
        for event in ("insert", "update", "delete"):
            db.execute(f"create trigger if not exists bootstrap_generation_{table}_{event} after {event} on {table} "
                       f"begin update bootstrap_generation set n = n + 1; end")


# An encounter's tools move into its row, as a JSON array of codes (sorted): the table
# encounter_tools, keyed by the encounter's uuid, took one more b-tree write per tool on every
# synced encounter at a random place in the key when the ids are random, and a page logged for
# each at commit (bench/bench_sync_steps.py: 9 µs of 65 per entry with UUIDv4 ids). The name
# stays, as a view, for every reader; a row inserted into it attaches a tool to its encounter
# (counted, as any change to a counted encounter is: the update trigger), a row deleted takes it
# off. The update and delete triggers read the tools from the row (json_each) instead of the table.
TOOLS_VIEW = ("create view encounter_tools as select e.id as encounter_id, t.value as tool "
              "from encounters e, json_each(e.tools) t")
_TOOLS_FROM_TABLE = {
    row: (f"from encounter_tools et where et.encounter_id = {row}.id and true", f"from json_each({row}.tools) et where true")
    for row in ("old", "new")
}
_ENCOUNTER_COLUMNS = "after update of occurred_at, zone, outcome, interest, place_type, people_count on encounters"


def _tools_from_the_row(sql: str) -> str:
    """A trigger that read an encounter's tools from encounter_tools, reading them from its row."""
    for before, after in _TOOLS_FROM_TABLE.values():
        sql = sql.replace(before, after)
    sql = sql.replace("et.tool, ", "et.value, ").replace(_ENCOUNTER_COLUMNS, _ENCOUNTER_COLUMNS.replace(
        "people_count on", "people_count, tools on"))
    if "encounter_tools" in sql or "et.tool" in sql:
        raise RuntimeError(f"unexpected trigger text, not rewritten: {sql[:200]}")
    return sql


@migrations()
def m230_tools_in_the_encounter_row(db: Database) -> None:
    if "tools" in db["encounters"].columns_dict:
        return
    db.execute("alter table encounters add column tools text not null default '[]'")
    db.execute(
        "update encounters set tools = (select json_group_array(tool) from "
        "(select tool from encounter_tools t where t.encounter_id = encounters.id order by tool)) "
        "where id in (select encounter_id from encounter_tools)"
    )
    triggers = db.execute("select name, sql from sqlite_master where type = 'trigger' and sql like '%encounter_tools%' "
                          "order by name").fetchall()
    for name, _ in triggers:
        db.execute(f'drop trigger "{name}"')
    db.execute("drop table encounter_tools")
    for name, sql in triggers:
        if name not in ("agg_tools_delete", "agg_tools_update"):  # a view has no rows of its own to follow
            db.execute(_tools_from_the_row(sql))
    db.execute(TOOLS_VIEW)
    # Writes to the view: a tool attached to or taken off its encounter (the update trigger counts it).
    db.execute(
        "create trigger encounter_tools_insert instead of insert on encounter_tools begin "
        "select raise(abort, 'FOREIGN KEY constraint failed') "
        "where not exists (select 1 from encounters where id = new.encounter_id); "
        "select raise(abort, 'UNIQUE constraint failed: encounter_tools.encounter_id, encounter_tools.tool') "
        "where exists (select 1 from encounters e, json_each(e.tools) t where e.id = new.encounter_id "
        "and t.value = new.tool); "
        "update encounters set tools = (select json_group_array(value) from (select value from json_each(tools) "
        "union select new.tool order by 1)) where id = new.encounter_id; end"
    )
    db.execute(
        "create trigger encounter_tools_delete instead of delete on encounter_tools begin "
        "update encounters set tools = (select json_group_array(value) from (select value from json_each(tools) "
        "where value is not old.tool order by 1)) where id = old.encounter_id; end"
    )
