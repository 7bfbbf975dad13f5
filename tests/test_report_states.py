"""The report state machine of DESIGN.md §6, on its own: every transition, every required field."""

from datetime import date

import pytest

from outreach.worksites import states as rs
from outreach.worksites.states import TransitionError

TODAY = date(2026, 11, 30)

ALLOWED = {
    ("submitted", "under_review"),
    ("under_review", "needs_info"),
    ("needs_info", "under_review"),
    ("under_review", "accepted"),
    ("accepted", "scheduled"),
    ("scheduled", "scheduled"),
    ("scheduled", "in_progress"),
    ("in_progress", "done"),
} | {(s, t) for s in ("submitted", "under_review", "needs_info", "accepted", "scheduled", "in_progress")
     for t in ("declined", "duplicate")}

REQUIRED = {
    "declined": {"reason": "Hors du domaine public"},
    "duplicate": {"duplicate_of": "0b6f3f1e-1111-4222-8333-444455556666"},
    "scheduled": {"scheduled_for": "2026-12-12"},
    "needs_info": {"message": "Quel est le numéro de la rue ?"},
}

ALL_PAIRS = [(s, t) for s in rs.STATES for t in rs.STATES]


@pytest.mark.parametrize("current,target", sorted(ALLOWED))
def test_every_allowed_transition_passes_with_what_it_needs(current, target):
    fields = rs.check(current, target, today=TODAY, **REQUIRED.get(target, {}))
    assert target in rs.allowed(current)
    if target == "declined":
        assert fields == {"decline_reason": "Hors du domaine public"}
    elif target == "duplicate":
        assert fields == {"duplicate_of": REQUIRED["duplicate"]["duplicate_of"]}
    elif target == "scheduled":
        assert fields == {"scheduled_for": "2026-12-12"}
    elif target == "needs_info":
        assert fields == {"public_reply": "Quel est le numéro de la rue ?"}
    else:
        assert fields == {}


@pytest.mark.parametrize("current,target", sorted(set(ALL_PAIRS) - ALLOWED))
def test_every_forbidden_transition_is_refused_even_with_every_field(current, target):
    everything = {"reason": "x", "duplicate_of": "y", "scheduled_for": "2026-12-12", "message": "z"}
    with pytest.raises(TransitionError) as caught:
        rs.check(current, target, today=TODAY, **everything)
    assert "status" in caught.value.errors
    assert target not in rs.allowed(current)


def test_closed_states_go_nowhere():
    for state in ("done", "declined", "duplicate"):
        assert rs.allowed(state) == []
        assert rs.open311_status(state) == "closed"
        assert not rs.is_open(state)
    for state in rs.OPEN:
        assert rs.open311_status(state) == "open"


@pytest.mark.parametrize("target,missing,field", [
    ("declined", {"reason": None}, "reason"),
    ("declined", {"reason": "   "}, "reason"),
    ("declined", {"reason": "x" * 2001}, "reason"),
    ("duplicate", {"duplicate_of": None}, "duplicate_of"),
    ("duplicate", {"duplicate_of": ""}, "duplicate_of"),
    ("scheduled", {"scheduled_for": None}, "scheduled_for"),
    ("scheduled", {"scheduled_for": "12/12/2026"}, "scheduled_for"),
    ("scheduled", {"scheduled_for": "2026-02-30"}, "scheduled_for"),
    ("scheduled", {"scheduled_for": "2026-11-29"}, "scheduled_for"),
    ("scheduled", {"scheduled_for": "2026-12-12'; drop table reports;--"}, "scheduled_for"),
    ("needs_info", {"message": ""}, "message"),
    ("needs_info", {"message": "y" * 2001}, "message"),
])
def test_every_required_field_is_required(target, missing, field):
    current = {"declined": "under_review", "duplicate": "submitted", "scheduled": "accepted",
               "needs_info": "under_review"}[target]
    with pytest.raises(TransitionError) as caught:
        rs.check(current, target, today=TODAY, **missing)
    assert list(caught.value.errors) == [field]


def test_unknown_state_is_refused():
    with pytest.raises(TransitionError) as caught:
        rs.check("submitted", "<script>", today=TODAY)
    assert caught.value.errors["status"]


def test_scheduling_today_is_allowed():
    assert rs.check("accepted", "scheduled", scheduled_for="2026-11-30", today=TODAY) == {"scheduled_for": "2026-11-30"}


def test_every_state_has_a_label_and_the_public_list_is_open():
    named = {rs.SUBMITTED, rs.UNDER_REVIEW, rs.NEEDS_INFO, rs.ACCEPTED, rs.SCHEDULED, rs.IN_PROGRESS, rs.DONE,
             rs.DECLINED, rs.DUPLICATE}
    assert named == set(rs.STATES) and all(rs.label(s) != s for s in rs.STATES)
    assert set(rs.PUBLIC_WORKSITE) <= rs.OPEN
    assert rs.ACCEPTED_ONWARD == {"accepted", "scheduled", "in_progress", "done"}
