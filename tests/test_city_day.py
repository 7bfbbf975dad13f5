"""Today" is the city's day, never the server's: the phone's plan and the worksite dates follow it.

A server runs on UTC; for Paris, the first hour or two of each day are still yesterday there.
These tests put the city in a zone whose date differs from UTC's at the moment they run (the
Line Islands, UTC+14, from 10:00 UTC; American Samoa, UTC-11, before), so that a date taken
from the machine's clock is always the wrong one.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from outreach import localtime
from outreach.field import bootstrap
from outreach.worksites import triage
from outreach.worksites.intake import ReportError
from tests.conftest import make_settings
from tests.test_triage import new_report


def far_zone() -> str:
    return "Pacific/Kiritimati" if datetime.now(timezone.utc).hour >= 10 else "Pacific/Pago_Pago"


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, timezone=far_zone())


@pytest.fixture
def city_today(store) -> date:
    day = localtime.today(localtime.zone_of(store.db()))
    assert day != datetime.now(timezone.utc).date()  # otherwise this test would prove nothing
    return day


def test_every_connection_counts_days_in_the_city_zone_from_the_start(store):
    """The connection opened for the migrations, before the zone setting is stored, is the one
    the thread that started the server (and these tests) reads through: it must not keep the
    zone it found then (here: Europe/Paris, the default, on a new database)."""
    assert localtime.connection_zone(store.db()).key == far_zone() == localtime.stored_zone(store.db())
    with store.write() as db:
        assert localtime.connection_zone(db).key == far_zone()


def plan(store, worker_id: int, day: date) -> str:
    oid = str(uuid.uuid4())
    with store.write() as db:
        db["outings"].insert({"id": oid, "format": "market", "status": "planned", "zone": "secteur-2",
                              "planned_date": day.isoformat()})
        db["outing_members"].insert({"outing_id": oid, "user_id": worker_id})
    return oid


def cancel(store, worker_id: int, day: date) -> str:
    oid = str(uuid.uuid4())
    with store.write() as db:
        db.execute("insert into outing_cancellations (outing_id, zone, format, planned_date, members, cancelled_at) "
                   "values (?, 'secteur-1', 'market', ?, ?, '2026-12-01T10:00:00+00:00')",
                   [oid, day.isoformat(), f"[{worker_id}]"])
    return oid


def test_the_phone_plan_keeps_outings_from_the_city_yesterday_on(store, make_user, city_today):
    worker = make_user("field")
    too_old = plan(store, worker["id"], city_today - timedelta(days=2))
    yesterday, today = plan(store, worker["id"], city_today - timedelta(days=1)), plan(store, worker["id"], city_today)
    old_cancel = cancel(store, worker["id"], city_today - timedelta(days=2))
    recent_cancel = cancel(store, worker["id"], city_today - timedelta(days=1))
    data = bootstrap.for_user(store.db(), worker, "fr")
    assert {o["id"] for o in data["outings"]} == {yesterday, today}
    assert too_old not in {o["id"] for o in data["outings"]}
    assert [c["id"] for c in data["cancelled_outings"]] == [recent_cancel] and old_cancel != recent_cancel


def test_the_version_in_sync_answers_is_the_one_of_the_city_day(store, make_user, city_today):
    worker = make_user("field")
    for days in (2, 1, 0):  # the machine's plan, a day ahead or behind, leaves out or takes one more
        plan(store, worker["id"], city_today - timedelta(days=days))
    db = store.db()
    assert bootstrap.Versions().get(db, worker, "fr") == bootstrap.version(bootstrap.for_user(db, worker, "fr"))
    # Drawn for the machine's day instead, the plan (and so its version) differs.
    utc_day = datetime.now(timezone.utc).date()
    assert bootstrap.version(bootstrap.for_user(db, worker, "fr", utc_day)) != bootstrap.Versions().get(db, worker, "fr")


def test_a_worksite_may_be_scheduled_for_the_city_today_not_its_yesterday(client, store, make_user, city_today):
    coordinator = make_user("coordinator")
    rid = new_report(client)
    with store.write() as db:
        for step in ("under_review", "accepted"):
            triage.change_status(db, rid, step, coordinator["id"])
    with pytest.raises(ReportError) as refused:
        with store.write() as db:
            triage.change_status(db, rid, "scheduled", coordinator["id"],
                                 scheduled_for=(city_today - timedelta(days=1)).isoformat())
    assert "pass" in str(refused.value.errors["scheduled_for"])  # passée, past
    assert store.db()["reports"].get(rid)["status"] == "accepted"
    with store.write() as db:
        triage.change_status(db, rid, "scheduled", coordinator["id"], scheduled_for=city_today.isoformat())
    assert store.db()["reports"].get(rid)["scheduled_for"] == city_today.isoformat()
