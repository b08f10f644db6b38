"""The ask flow: question -> retrieval -> answer line, session cards and feedback buttons."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.messages import (
    FEEDBACK_HELPFUL,
    FEEDBACK_NOT_HELPFUL,
    Action,
    Incoming,
    Reply,
    SessionCard,
)
from bot.records import QuestionEntry
from retrieval.moments import deep_link, format_span
from retrieval.types import Moment, SearchResponse, SessionResult

if TYPE_CHECKING:
    from retrieval.matching import Verdict

NOTHING_FITS = "Nothing in the library covers that yet. Try other words, or ask your PD team"
NOTED = ": I've noted the question so they can see what teachers are looking for."
NO_MATCH = NOTHING_FITS + NOTED  # the one "nothing fits" wording, here and in `staffroom ask`
OFF_TOPIC = (
    "That's not something the PD library covers: I find PD sessions on teaching practice. "
    "Ask me about your classroom, e.g. “how do I run exit tickets with 32 kids?”"
)
WEAK = "Nothing in the library answers that directly; the closest {what} below may still help."
WEAK_NOTED = " I've noted the question for your PD team."
EXHAUSTED = (
    "That's everything in the library close to this topic. Ask it another way, or ask a new "
    "question."
)
SNIPPET_CHARS = 280


def truncate_query(text: str, limit: int) -> tuple[str, bool]:
    """The query cut at a word boundary near ``limit`` characters, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut), True


def card(result: SessionResult) -> SessionCard:
    """One session as a card: title, presenter, the moment, its deep link and a snippet."""
    session, best = result.session, result.best
    span = format_span(best.start, best.end)
    return SessionCard(
        title=session.title,
        presenter=session.presenter,
        moment=span or _document_place(best),
        link=deep_link(session.url, best.start),
        snippet=_clip(best.snippet, SNIPPET_CHARS),
        grades=session.grade_bands,
        subjects=session.subjects,
        timed=bool(span),
    )


def answer_line(response: SearchResponse, note: str = "") -> str:
    """The extractive short answer: where to start watching (``note``: "(grades 6-8)")."""
    top = response.results[0]
    span = format_span(top.best.start, top.best.end)
    where = f" at ▶ {span}" if span else ""
    count = len(response.results)
    more = f" ({count} sessions below)" if count > 1 else ""
    made_for = f" {note}" if note else ""
    return f"Start with “{top.session.title}”{made_for}{where}{more}."


def reply_for(
    response: SearchResponse, question_id: int | None, top: int, notes: tuple[str, ...] = ()
) -> Reply:
    """The answer to a search: its sessions, or honestly nothing (noted when logged as a gap).

    ``question_id`` is the logged question the feedback buttons vote on; None when the question
    was not logged (``staffroom ask``): no buttons, and nothing claims it was noted.
    """
    if response.good_match and response.results:
        return answer_reply(response, question_id, top, notes)
    return no_match_reply(question_id, notes)


def answer_reply(
    response: SearchResponse,
    question_id: int | None,
    top: int,
    notes: tuple[str, ...],
    *,
    made_for: tuple[str, ...] = (),
    lead: str = "",
) -> Reply:
    """The answer message for a response with a good match.

    ``made_for`` holds, per session, "(grades 6-8)" when it was made for other grades than the
    question named; ``lead`` replaces the answer line (a weak match's "closest" line).
    """
    shown = response.results[:top]
    cards = tuple(card(r) for r in shown)
    grades = tuple(made_for) + ("",) * (len(cards) - len(made_for))
    line = lead or answer_line(
        SearchResponse(response.query, shown, True, response.threshold), grades[0]
    )
    lines = [line] + [
        f"{n}. {c.title}"
        + (f" {g}" if g else "")
        + (f" — ▶ {c.moment}" if c.timed else "")
        + (f" {c.link}" if c.link else "")
        for n, (c, g) in enumerate(zip(cards, grades, strict=True), 1)
    ]
    return Reply(
        text="\n".join(lines),
        answer=line,
        cards=cards,
        actions=feedback_actions(question_id) if question_id is not None else (),
        kind="answer",
        question_id=question_id,
        notes=notes,
    )


def verdict_reply(
    verdict: Verdict, response: SearchResponse, question_id: int | None, notes: tuple[str, ...]
) -> Reply:
    """What a judged turn shows: only the sessions close to the best one, honestly labelled.

    "answer": those sessions; "weak": the closest one or two, said to be no direct answer (the
    question is logged as a gap); "gap": nothing fits (logged); "off_topic": not a PD question
    (logged nowhere); "exhausted": "another one" with nothing close left.
    """
    if verdict.kind == "off_topic":
        return Reply(text=OFF_TOPIC, answer=OFF_TOPIC, kind="off_topic", notes=notes)
    if verdict.kind == "exhausted":
        return Reply(text=EXHAUSTED, answer=EXHAUSTED, kind="hint", notes=notes)
    if not verdict.shown:
        return no_match_reply(question_id, notes)
    shown = SearchResponse(
        response.query, verdict.shown, True, response.threshold, response.index_version
    )
    if verdict.kind == "answer":
        return answer_reply(shown, question_id, len(verdict.shown), notes, made_for=verdict.notes)
    what = "session" if len(verdict.shown) == 1 else "sessions"
    lead = WEAK.format(what=what) + (WEAK_NOTED if question_id is not None else "")
    weak = answer_reply(
        shown, question_id, len(verdict.shown), notes, made_for=verdict.notes, lead=lead
    )
    return replace(weak, kind="weak")


def no_match_reply(question_id: int | None, notes: tuple[str, ...] = ()) -> Reply:
    text = NO_MATCH if question_id is not None else NOTHING_FITS + "."
    return Reply(
        text=text,
        answer=text,
        actions=feedback_actions(question_id) if question_id is not None else (),
        kind="no_match",
        question_id=question_id,
        notes=notes,
    )


def feedback_actions(question_id: int) -> tuple[Action, ...]:
    value = str(question_id)
    return (
        Action(FEEDBACK_HELPFUL, "👍 Helpful", value),
        Action(FEEDBACK_NOT_HELPFUL, "👎 Not helpful", value),
    )


def question_entry(
    incoming: Incoming, query: str, response: SearchResponse, started: float
) -> QuestionEntry:
    """The insight-log row for one answered question."""
    return QuestionEntry(
        platform=incoming.platform,
        user_id=incoming.user_id,
        channel_id=incoming.conversation_id,
        thread_id=incoming.thread_id,
        text=query,
        good_match=response.good_match,
        top_score=float(response.results[0].score) if response.results else None,
        results=results_json(response),
        index_version=response.index_version,
        latency_ms=int((time.perf_counter() - started) * 1000),
    )


def results_json(response: SearchResponse) -> list[dict[str, Any]]:
    """[{session_id, score, source, start, end}, ...] best first (the Question.results shape)."""
    return [
        {
            "session_id": r.session.session_id,
            "score": round(float(r.score), 6),
            "source": r.best.source,
            "start": r.best.start,
            "end": r.best.end,
        }
        for r in response.results
    ]


def _document_place(moment: Moment) -> str:
    if moment.page is not None:
        return f"page {moment.page}"
    return moment.heading


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
