"""Rows written straight into the database, as the sync ingest would, for coordinator tests."""

from __future__ import annotations

import itertools
import json
import uuid

from outreach.coordinator import stats
from outreach.field.encounters import tools_json

_n = itertools.count(1)


def add_user(db, role="field", email=None, name=None, active=1) -> int:
    i = next(_n)
    return db["users"].insert(
        {
            "email": email or f"user{i}@example.org",
            "display_name": name or f"Agent {i}",
            "role": role,
            "password_hash": "x",
            "active": active,
            "created_at": "2026-01-01T00:00:00+00:00",
        }
    ).last_pk


def add_encounter(db, occurred_at="2026-11-10T10:00:00+00:00", zone="secteur-1", tools=(), people_count=1,
                  outcome="conversation", interest="curious", place_type="street", user_id=None,
                  outing_id=None, lat=None, lon=None, note="", **extra) -> str:
    eid = extra.pop("id", None) or str(uuid.uuid4())
    with db.atomic():
        db["encounters"].insert(
            {
                "id": eid, "version": 1, "hash": "h" + eid, "user_id": user_id, "device_id": "dev-1",
                "outing_id": outing_id, "occurred_at": occurred_at, "place_type": place_type, "zone": zone,
                "lat": lat, "lon": lon, "accuracy_m": 50 if lat is not None else None, "people_count": people_count,
                "outcome": outcome, "interest": interest, "note": note, "created_at": occurred_at,
                "received_at": occurred_at, "tools": tools_json(list(tools)), **extra,
            }
        )
        stats.add_encounters(db, [eid])  # as every writer of encounters does
    return eid


def add_outing(db, zone="secteur-1", status="ended", started_at="2026-11-10T09:00:00+00:00", planned_date=None,
               fmt="market", members=(), tallies=None, debrief="", created_by=None) -> str:
    oid = str(uuid.uuid4())
    with db.atomic():
        db["outings"].insert(
            {
                "id": oid, "version": 1, "hash": "h", "zone": zone, "format": fmt, "status": status,
                "planned_date": planned_date, "started_at": started_at if status != "planned" else None,
                "ended_at": None, "debrief": debrief, "created_by": created_by,
                "created_at": "2026-11-01T00:00:00+00:00",
            }
        )
        db["outing_members"].insert_all([{"outing_id": oid, "user_id": u} for u in members])
        db["outing_tallies"].insert_all([{"outing_id": oid, "tool": t, "count": c} for t, c in (tallies or {}).items()])
    return oid


def add_report(db, status="submitted", received_at="2026-11-10T10:00:00+00:00", zone="secteur-1", title="Banc cassé",
               lat=None, lon=None, closed_at=None, reporter=None, description="Le banc est cassé.") -> str:
    rid = str(uuid.uuid4())
    with db.atomic():
        db["reports"].insert(
            {
                "id": rid, "source": "resident", "title": title, "description": description, "category": "street_furniture",
                "lat": lat, "lon": lon, "zone": zone, "status": status, "received_at": received_at,
                "created_at": received_at, "closed_at": closed_at,
            }
        )
        if reporter:
            db["report_contacts"].insert(
                {"report_id": rid, "consent_text_version": "2026-01", "consented_at": received_at, **reporter}
            )
            db["entry_versions"].insert(
                {"entry_id": rid, "kind": "report", "version": 1, "hash": "h", "received_at": received_at,
                 "data": json.dumps({"title": title, "reporter": dict(reporter, consent=True)})}
            )
    return rid


def add_contact(db, contact="alice@example.org", channel="email", encounter_id=None, name="Alice",
                purposes=("petition",), consented_at="2026-11-10T10:00:00+00:00",
                expires_at="2027-11-10T10:00:00+00:00", user_id=None) -> str:
    encounter_id = encounter_id or add_encounter(db, user_id=user_id)
    cid = str(uuid.uuid4())
    with db.atomic():
        db["contacts"].insert(
            {
                "id": cid, "encounter_id": encounter_id, "user_id": user_id, "channel": channel, "contact": contact,
                "name": name, "purposes": json.dumps(list(purposes)), "consent_text_version": "2026-01",
                "consented_at": consented_at, "expires_at": expires_at,
            }
        )
        db["entry_versions"].insert(
            {"entry_id": encounter_id, "kind": "encounter", "version": 1, "hash": "h", "received_at": consented_at,
             "data": json.dumps({"people_count": 1, "follow_up": {"consent": True, "channel": channel,
                                                                  "contact": contact, "name": name}})}
        )
    return cid
