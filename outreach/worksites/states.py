"""The states of a worksite report (DESIGN.md §6) and the rules of moving between them.

Pure functions with no database: ``triage.py`` asks this module whether a change is
allowed and what it needs, then writes it.
"""

from __future__ import annotations

import re
from datetime import date

from .. import vocab
from ..i18n import gettext as _

SUBMITTED = "submitted"
UNDER_REVIEW = "under_review"
NEEDS_INFO = "needs_info"
ACCEPTED = "accepted"
SCHEDULED = "scheduled"
IN_PROGRESS = "in_progress"
DONE = "done"
DECLINED = "declined"
DUPLICATE = "duplicate"

# The codes, their order and their labels are the vocabulary's; this module holds the rules.
STATES = vocab.REPORT_STATES.codes
CLOSED = frozenset({DONE, DECLINED, DUPLICATE})
OPEN = frozenset(STATES) - CLOSED
# Listed on /worksites, where residents can sign up to take part.
PUBLIC_WORKSITE = (ACCEPTED, SCHEDULED, IN_PROGRESS)
# A coordinator has accepted these: Open311 lists them.
ACCEPTED_ONWARD = frozenset({ACCEPTED, SCHEDULED, IN_PROGRESS, DONE})

_FORWARD = {
    SUBMITTED: {UNDER_REVIEW},
    UNDER_REVIEW: {NEEDS_INFO, ACCEPTED},
    NEEDS_INFO: {UNDER_REVIEW},
    ACCEPTED: {SCHEDULED},
    # A scheduled worksite may be moved to another date.
    SCHEDULED: {SCHEDULED, IN_PROGRESS},
    IN_PROGRESS: {DONE},
}
TRANSITIONS: dict[str, frozenset[str]] = {
    state: frozenset(_FORWARD.get(state, set()) | ({DECLINED, DUPLICATE} if state in OPEN else set()))
    for state in STATES
}

MAX_REASON = vocab.LIMITS["status_message"].max
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TransitionError(ValueError):
    """A change that is not allowed, or lacks what it needs; ``errors`` names each field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def label(state: str) -> str:
    return vocab.REPORT_STATES.label(state)


def allowed(state: str) -> list[str]:
    """The states a report in ``state`` may move to, in the order of STATES."""
    targets = TRANSITIONS.get(state, frozenset())
    return [s for s in STATES if s in targets]


def is_open(state: str) -> bool:
    return state in OPEN


def open311_status(state: str) -> str:
    return "closed" if state in CLOSED else "open"


def check(
    current: str,
    target: str,
    *,
    reason: str | None = None,
    duplicate_of: str | None = None,
    scheduled_for: str | None = None,
    message: str | None = None,
    today: date,
) -> dict:
    """Check one change of state and return the fields it sets; raise TransitionError otherwise.

    - ``declined`` needs a ``reason`` (shown to the resident);
    - ``duplicate`` needs ``duplicate_of`` (the original's id; its existence is checked by reports.py);
    - ``scheduled`` needs ``scheduled_for`` (YYYY-MM-DD, not in the past);
    - ``needs_info`` needs a ``message`` telling the resident what is missing.
    """
    if target not in STATES:
        raise TransitionError({"status": _("unknown state")})
    if target not in TRANSITIONS.get(current, frozenset()):
        raise TransitionError(
            {"status": _("a report that is “%(current)s” cannot become “%(target)s”")
             % {"current": label(current), "target": label(target)}}
        )
    fields: dict = {}
    if target == DECLINED:
        reason = (reason or "").strip()
        if not reason:
            raise TransitionError({"reason": _("give the reason for declining: the resident will see it")})
        if len(reason) > MAX_REASON:
            raise TransitionError({"reason": _("at most %(n)d characters") % {"n": MAX_REASON}})
        fields["decline_reason"] = reason
    elif target == DUPLICATE:
        duplicate_of = (duplicate_of or "").strip()
        if not duplicate_of:
            raise TransitionError({"duplicate_of": _("name the original report")})
        fields["duplicate_of"] = duplicate_of
    elif target == SCHEDULED:
        value = (scheduled_for or "").strip()
        if not _DATE.match(value):
            raise TransitionError({"scheduled_for": _("give the date of the worksite (YYYY-MM-DD)")})
        try:
            when = date.fromisoformat(value)
        except ValueError:
            raise TransitionError({"scheduled_for": _("this date does not exist")})
        if when < today:
            raise TransitionError({"scheduled_for": _("this date is in the past")})
        fields["scheduled_for"] = value
    elif target == NEEDS_INFO:
        message = (message or "").strip()
        if not message:
            raise TransitionError({"message": _("say what information is needed: the resident will see it")})
        if len(message) > MAX_REASON:
            raise TransitionError({"message": _("at most %(n)d characters") % {"n": MAX_REASON}})
        fields["public_reply"] = message
    return fields
