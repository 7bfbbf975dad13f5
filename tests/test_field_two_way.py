"""Sync is two-way, teammates' debriefs are all kept, and the no-script form replays as one entry."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from starlette.datastructures import FormData

from outreach.validation import uuid7, uuid7_time
from outreach.views.field import encounter_from_form
from tests.conftest import signed_in_client
from tests.test_sync import encounter, outing

BOOTSTRAP = "/api/v1/bootstrap"
SYNC = "/api/v1/sync"


def sync(client, entries):
    return client.post(SYNC, json={"device_id": "phone-two-way-01", "app_version": "1.0", "entries": entries})


def plan_for(store, user_id: int) -> str:
    oid = str(uuid.uuid4())
    with store.write() as db:
        db["outings"].insert({"id": oid, "format": "market", "status": "planned", "zone": "secteur-2",
                              "planned_date": date.today().isoformat()})
        db["outing_members"].insert({"outing_id": oid, "user_id": user_id})
    return oid


def test_bootstrap_has_a_strong_etag_and_answers_304_when_unchanged(field_client):
    first = field_client.get(BOOTSTRAP)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = field_client.get(BOOTSTRAP, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.content
    assert field_client.get(BOOTSTRAP, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_every_sync_answer_says_which_bootstrap_is_current(field_client, store):
    etag = field_client.get(BOOTSTRAP).headers["ETag"]
    assert sync(field_client, [encounter()]).json()["bootstrap_version"] == etag
    # A coordinator plans an outing for this worker: the next sync says bootstrap changed.
    planned = plan_for(store, field_client.user["id"])
    changed = sync(field_client, []).json()["bootstrap_version"]
    assert changed != etag
    fresh = field_client.get(BOOTSTRAP, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == changed
    assert planned in [o["id"] for o in fresh.json()["outings"]]


def test_two_teammates_debriefs_are_both_kept(app, store, make_user, coordinator_client):
    awa, ben = make_user("field", name="Awa"), make_user("field", name="Ben")
    shared = outing(members=[awa["id"], ben["id"]])
    phones = [signed_in_client(app, awa), signed_in_client(app, ben)]
    for phone, text, version in zip(phones, ["Marché calme.", "Beaucoup de questions."], [1, 2]):
        entry = dict(shared, version=version, data={**shared["data"], "ended_at": datetime.now(timezone.utc).isoformat(),
                                                     "debrief": text})
        assert sync(phone, [entry]).json()["results"][0]["status"] in ("created", "updated")
    page = coordinator_client.get(f"/coordinator/outings/{shared['id']}").text
    assert "Marché calme." in page and "Beaucoup de questions." in page
    assert {r["debrief"] for r in store.db()["outing_debriefs"].rows} == {"Marché calme.", "Beaucoup de questions."}


def test_the_no_script_form_keeps_the_time_it_was_shown():
    shown = datetime.now(timezone.utc) - timedelta(seconds=3)
    entry_id = uuid7(shown)
    assert abs(uuid7_time(entry_id) - shown) < timedelta(milliseconds=2)
    form = FormData([("entry_id", entry_id), ("place_type", "street"), ("outcome", "conversation")])
    # Posted twice, across a second boundary: the same data, so the replay is "unchanged".
    first = encounter_from_form(form, datetime.now(timezone.utc))
    second = encounter_from_form(form, datetime.now(timezone.utc) + timedelta(seconds=1))
    assert first == second
    assert uuid7_time(str(uuid.uuid4())) is None
