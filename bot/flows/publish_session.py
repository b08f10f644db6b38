"""An adopted idea written as a library session: its catalog entry, its page, its provenance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

from follow.pilots import Evidence
from ideas.publishing import Provenance
from ideas.records import Actor
from ingest.field_ideas import FieldSession
from staffroom_errors import InputError
from store import utcnow

FIELD_TAG = "field idea"
SUMMARY_CHARS = 240


@dataclass(frozen=True)
class PublishRequest:
    """What staff give when publishing: the idea, its recording, optional files."""

    idea_id: int
    url: str
    transcript: Path | None = None
    handout: Path | None = None
    credit_author: bool = True  # False: the session does not name the teacher who pitched it


def check_url(url: str) -> str:
    """The recording's address, or a friendly InputError."""
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in url:
        raise InputError(
            f"{url or 'The recording'} is not a web address I can link to.",
            hint="Give the recording's full address, like https://video.example/watch/123.",
        )
    return url


def _day(when: datetime | None) -> str:
    return when.date().isoformat() if when is not None else ""


def presenter(source: Provenance, credit: bool) -> str:
    """Who the library names as presenting it: the author (if credited) and the school."""
    name = source.author if credit else ""
    if name and source.school:
        return f"{name}, {source.school}"
    if name:
        return name
    return f"Teachers at {source.school}" if source.school else "Teachers in the district"


def field_session(
    source: Provenance, request: PublishRequest, who: Actor, pilot: Evidence | None = None
) -> FieldSession:
    """The folder's contents for ``source`` as ``who`` publishes it now (``pilot``: what its
    pilot members said)."""
    adopted = source.moved("adopted")
    credit = request.credit_author and bool(source.author)
    practice = " ".join(source.practice.split())
    summary = f"A field idea from {source.school or 'our classrooms'}: {practice}"
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1].rstrip() + "…"
    provenance = {
        "idea": source.idea_id,
        "author": source.author if credit else "",
        "school": source.school,
        "pitched": _day(source.pitched),
        "piloting": _day(source.moved("piloting")),
        "scaling": _day(source.moved("scaling")),
        "adopted": _day(adopted),
        "tried_in_classrooms": source.tried,
        "would_try": source.will_try,
        "pilot_members": pilot.members if pilot else 0,
        "pilot_verdicts": dict(pilot.verdicts) if pilot and pilot.members else {},
        "pilot_evidence": [url for _, _, url in pilot.links] if pilot else [],
        "published_by": who.name or who.user_id,
        "published_at": utcnow().isoformat(timespec="seconds"),
    }
    return FieldSession(
        idea_id=source.idea_id,
        title=source.title,
        url=request.url,
        about=about_page(source, credit, pilot),
        presenter=presenter(source, credit),
        date=_day(adopted) or _day(utcnow()),
        grade_bands=source.grade_bands,
        subjects=source.subjects,
        tags=(FIELD_TAG,),
        summary=summary,
        provenance=provenance,
        transcript=request.transcript,
        handout=request.handout,
    )


def about_page(source: Provenance, credit: bool, pilot: Evidence | None = None) -> str:
    """The session's Markdown page: the practice in the author's words, then its history."""
    who = f" by {source.author}" if credit and source.author else ""
    where = f" at {source.school}" if source.school else ""
    history = [f"pitched{who} on {_day(source.pitched)}"]
    for status, label in (("piloting", "piloted from"), ("scaling", "scaled from")):
        when = source.moved(status)
        if when is not None:
            history.append(f"{label} {_day(when)}")
    adopted = source.moved("adopted")
    if adopted is not None:
        history.append(f"adopted on {_day(adopted)}")
    lines = [
        f"# {source.title}",
        "",
        f"A practice from classrooms{where}: Staffroom idea #{source.idea_id}, "
        + ", ".join(history)
        + ".",
        "",
        "## The practice",
        "",
        source.practice.strip(),
    ]
    for heading, text in (
        ("The problem it solves", source.problem),
        ("Evidence it works", source.evidence),
    ):
        if text.strip():
            lines += ["", f"## {heading}", "", text.strip()]
    members = pilot.members if pilot else 0
    if source.tried or source.outcomes or members:
        rooms = "classroom" if source.tried == 1 else "classrooms"
        lines += ["", "## From the pilot", "", f"Tried in {source.tried} {rooms}."]
        if pilot and members:
            said = ", ".join(f"{n} {v}" for v, n in pilot.verdicts.items() if n)
            lines.append(f"{members} pilot members" + (f": {said}." if said else "."))
            lines += [f"- Evidence ({v or 'no verdict'}, {school or 'a school'}): {url}"
                      for v, school, url in pilot.links]  # fmt: skip
        lines += [f"- “{' '.join(o.split())}”" for o in source.outcomes]
    return "\n".join(lines) + "\n"
