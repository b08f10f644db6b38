"""An adopted idea as a library session: what the session says about where it came from, the
audit row that records each publication, and who is told.

Who hears about an idea is an ``audience``: its author and everyone who voted on it, plus
whatever sources ``add_audience`` registered (followers and pilot members, once those exist).
Functions take the session first and never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ideas.records import Actor
from ideas.service import _event, get_idea
from ideas.status import Status, status_label
from staffroom_errors import TransitionError
from store import Idea, IdeaEvent, Vote

PUBLISHED = "published to the library"  # how an audit note of a publication starts
MAX_OUTCOMES = 8  # tried-it outcomes quoted as pilot evidence


@dataclass(frozen=True)
class Person:
    platform: str
    user_id: str


# (session, idea id) -> the people who should hear about the idea
AudienceSource = Callable[[Session, int], Iterable[Person]]


@dataclass(frozen=True)
class Provenance:
    """An adopted idea, detached: everything its library session says about it."""

    idea_id: int
    title: str
    practice: str
    problem: str
    evidence: str
    school: str
    author: str  # the display name the author pitched under; "" when unknown
    grade_bands: tuple[str, ...]
    subjects: tuple[str, ...]
    pitched: datetime
    moves: tuple[tuple[str, datetime], ...]  # (status, when) in order: piloting, scaling, adopted
    tried: int  # classrooms that reported trying it
    will_try: int
    outcomes: tuple[str, ...]  # what they said about how it went (pilot evidence)
    published_before: bool

    def moved(self, status: str) -> datetime | None:
        found = [at for st, at in self.moves if st == status]
        return found[-1] if found else None


def provenance(s: Session, idea_id: int) -> Provenance:
    """The idea as its library session shows it; TransitionError unless it is adopted."""
    idea = get_idea(s, idea_id)
    if idea.status != Status.ADOPTED:
        raise TransitionError(
            f"Idea #{idea.id} is {status_label(idea.status)}; only adopted ideas can be "
            "published to the library.",
            hint="Move it to adopted first (triage it to scale, then adopt).",
        )
    events = list(
        s.scalars(sa.select(IdeaEvent).where(IdeaEvent.idea_id == idea.id).order_by(IdeaEvent.id))
    )
    moves = tuple((e.to_status, e.created_at) for e in events if e.from_status != e.to_status)
    votes = list(s.execute(sa.select(Vote.kind, Vote.outcome).where(Vote.idea_id == idea.id)))
    outcomes = tuple(o.strip() for k, o in votes if k == "tried" and o and o.strip())
    return Provenance(
        idea_id=idea.id,
        title=idea.title,
        practice=idea.practice,
        problem=idea.problem,
        evidence=idea.evidence,
        school=idea.school,
        author=idea.author_name.strip(),
        grade_bands=tuple(idea.grade_bands or ()),
        subjects=tuple(idea.subjects or ()),
        pitched=idea.created_at,
        moves=moves,
        tried=sum(1 for k, _ in votes if k == "tried"),
        will_try=sum(1 for k, _ in votes if k == "try"),
        outcomes=outcomes[:MAX_OUTCOMES],
        published_before=any(_is_publication(e) for e in events),
    )


def _is_publication(event: IdeaEvent) -> bool:
    return event.from_status == event.to_status and event.note.startswith(PUBLISHED)


def record_publication(s: Session, who: Actor, idea_id: int, note: str) -> list[Person]:
    """Add the publication to the idea's audit trail; the people to tell about it.

    The row keeps the status (adopted → adopted): the audit trail shows it, and the idea funnel
    does not count it as a move. Refused if the idea stopped being adopted meanwhile.
    """
    idea = provenance(s, idea_id)
    s.add(_event(idea.idea_id, who, Status.ADOPTED, Status.ADOPTED, f"{PUBLISHED}: {note}"))
    s.flush()
    return audience(s, idea_id)


# --- audience ---------------------------------------------------------------------------------


def _author(s: Session, idea_id: int) -> Iterable[Person]:
    idea = s.get(Idea, idea_id)
    return [Person(idea.author_platform, idea.author_id)] if idea is not None else []


def _voters(s: Session, idea_id: int) -> Iterable[Person]:
    rows = s.execute(
        sa.select(Vote.platform, Vote.user_id).where(Vote.idea_id == idea_id).order_by(Vote.id)
    )
    return [Person(p, u) for p, u in rows]


_SOURCES: dict[str, AudienceSource] = {"author": _author, "voters": _voters}


def add_audience(name: str, source: AudienceSource) -> None:
    """Also tell the people ``source`` names (e.g. "followers"); registering a name again
    replaces it."""
    _SOURCES[name] = source


def audience(s: Session, idea_id: int) -> list[Person]:
    """Everyone to tell about ``idea_id``: each person once, the author first."""
    seen: dict[Person, None] = {}
    for source in _SOURCES.values():
        for person in source(s, idea_id):
            if person.user_id:
                seen.setdefault(person, None)
    return list(seen)
