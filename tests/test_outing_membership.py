"""A planned outing is its team's: only its members may start, end or fill it, or log encounters in it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from outreach.coordinator import planning
from tests.test_sync import encounter, make_user, outing, run


@pytest.fixture
def team(fresh_db):
    coordinator = make_user(fresh_db, "coord@example.org", "coordinator")
    member = make_user(fresh_db, "member@example.org")
    outsider = make_user(fresh_db, "outsider@example.org")
    with fresh_db.atomic():
        outing_id = planning.plan(fresh_db, {"zone": "secteur-1", "format": "market",
                                             "planned_date": (date.today() + timedelta(days=1)).isoformat(),
                                             "planned_start": "09:00", "planned_end": "12:00",
                                             "meeting_point": "Marché de l'Estacade", "meeting_lat": None,
                                             "meeting_lon": None, "members": [member["id"]]}, coordinator["id"])
    return outing_id, member, outsider


def test_an_outsider_cannot_take_over_a_planned_outing(fresh_db, team):
    outing_id, member, outsider = team
    takeover = outing(zone="secteur-2", tallies={"petition": 99_999}, debrief="à moi")
    takeover["id"] = outing_id
    [result] = run(fresh_db, outsider, [takeover])
    assert result["status"] in ("conflict", "rejected") and result["message"]
    row = fresh_db["outings"].get(outing_id)
    assert (row["status"], row["zone"], row["debrief"]) == ("planned", "secteur-1", "")
    assert fresh_db["outing_tallies"].count_where("outing_id = ?", [outing_id]) == 0


def test_a_member_starts_the_planned_outing(fresh_db, team):
    outing_id, member, _ = team
    start = outing(zone="secteur-1")
    start["id"] = outing_id
    assert run(fresh_db, member, [start])[0]["status"] == "created"
    assert fresh_db["outings"].get(outing_id)["status"] == "started"


def test_an_outsider_cannot_log_encounters_in_someone_elses_outing(fresh_db, team):
    outing_id, member, outsider = team
    theirs, mine = encounter(outing_id=outing_id), encounter(outing_id=outing_id)
    bad, good = run(fresh_db, outsider, [theirs, encounter()])
    assert bad["status"] == "rejected" and "data.outing_id" in bad["errors"]
    assert good["status"] == "created"
    assert run(fresh_db, member, [mine])[0]["status"] == "created"
    # Only the member's encounter is tied to the outing; the outsider's attempt left nothing in it.
    assert fresh_db["encounters"].count_where("outing_id = ?", [outing_id]) == 1


def test_an_encounter_may_name_an_outing_the_server_has_not_seen_yet(fresh_db, team):
    _, member, _ = team
    [result] = run(fresh_db, member, [encounter(outing_id="0b9f4f53-0c1a-4c59-9a8e-5d41a3c0a111")])
    assert result["status"] == "created"
