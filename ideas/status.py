"""The idea state machine, as data.

    status          action         -> status
    --------------  -------------  ------------
    new             start_review   under_review
    new             decline        declined
    new             merge          duplicate     (needs merge_into: another idea)
    under_review    pilot          piloting
    under_review    decline        declined
    under_review    merge          duplicate
    piloting        scale          scaling
    piloting        decline        declined
    scaling         adopt          adopted
    scaling         decline        declined
    declined        reopen         under_review
    adopted, duplicate: final, no actions.

Main line: new -> under_review -> piloting -> scaling -> adopted. Decline from any open status;
merge only before piloting starts (after that the idea has its own pilot history).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    UNDER_REVIEW = "under_review"
    PILOTING = "piloting"
    SCALING = "scaling"
    ADOPTED = "adopted"
    DECLINED = "declined"
    DUPLICATE = "duplicate"


class Action(StrEnum):
    START_REVIEW = "start_review"
    PILOT = "pilot"
    SCALE = "scale"
    ADOPT = "adopt"
    DECLINE = "decline"
    MERGE = "merge"
    REOPEN = "reopen"


S, A = Status, Action

TRANSITIONS: Mapping[tuple[Status, Action], Status] = {
    (S.NEW, A.START_REVIEW): S.UNDER_REVIEW,
    (S.NEW, A.DECLINE): S.DECLINED,
    (S.NEW, A.MERGE): S.DUPLICATE,
    (S.UNDER_REVIEW, A.PILOT): S.PILOTING,
    (S.UNDER_REVIEW, A.DECLINE): S.DECLINED,
    (S.UNDER_REVIEW, A.MERGE): S.DUPLICATE,
    (S.PILOTING, A.SCALE): S.SCALING,
    (S.PILOTING, A.DECLINE): S.DECLINED,
    (S.SCALING, A.ADOPT): S.ADOPTED,
    (S.SCALING, A.DECLINE): S.DECLINED,
    (S.DECLINED, A.REOPEN): S.UNDER_REVIEW,
}

OPEN: frozenset[Status] = frozenset({S.NEW, S.UNDER_REVIEW, S.PILOTING, S.SCALING})
FINAL: frozenset[Status] = frozenset({S.ADOPTED, S.DUPLICATE})

STATUS_LABELS: Mapping[Status, str] = {
    S.NEW: "new",
    S.UNDER_REVIEW: "under review",
    S.PILOTING: "piloting",
    S.SCALING: "scaling",
    S.ADOPTED: "adopted",
    S.DECLINED: "declined",
    S.DUPLICATE: "merged as a duplicate",
}

ACTION_LABELS: Mapping[Action, str] = {
    A.START_REVIEW: "Start review",
    A.PILOT: "Pilot",
    A.SCALE: "Scale",
    A.ADOPT: "Adopt",
    A.DECLINE: "Decline",
    A.MERGE: "Merge",
    A.REOPEN: "Reopen",
}

ACTION_PAST: Mapping[Action, str] = {
    A.START_REVIEW: "moved to review",
    A.PILOT: "piloted",
    A.SCALE: "scaled",
    A.ADOPT: "adopted",
    A.DECLINE: "declined",
    A.MERGE: "merged",
    A.REOPEN: "reopened",
}


def next_status(status: Status | str, action: Action | str) -> Status | None:
    """Where `action` takes an idea in `status`, or None when it is not allowed."""
    try:
        return TRANSITIONS.get((Status(status), Action(action)))
    except ValueError:
        return None


def allowed_actions(status: Status | str) -> tuple[Action, ...]:
    """The actions a reviewer may take on an idea in `status`, in table order."""
    return tuple(a for (s, a) in TRANSITIONS if s == status)


def status_label(status: Status | str) -> str:
    try:
        return STATUS_LABELS[Status(status)]
    except ValueError:
        return str(status)
