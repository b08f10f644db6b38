"""Scenario tests: the conversation core end to end on a real database, with a fake retriever."""

from __future__ import annotations

import logging
from dataclasses import replace

import sqlalchemy as sa

from bot.core import EMPTY_HINT, TRY_AGAIN, Core, Turn
from bot.delivery import MessageRef
from bot.messages import FEEDBACK_HELPFUL, Incoming, Reply
from bot.records import SqlRecords, UserState
from retrieval.answer import GroundedAnswer
from store import ContentGap, Database, Feedback, Question
from tests.bot.fakes import FakeRetriever, canned, failing_retriever

ASK = Incoming("slack", "U1", "C1", "111.1", "how do I run exit tickets?", "mention")


def _rows(db: Database, model: type) -> list:
    with db.session() as s:
        return list(s.scalars(sa.select(model)))


async def test_ask_answers_with_cards_moments_links_and_feedback_buttons(core, sqlite_db):
    [reply] = await core.handle(ASK)
    assert reply.kind == "answer"
    assert "Exit Tickets" in reply.answer and "12:30–15:10" in reply.answer
    first = reply.cards[0]
    assert (first.moment, first.timed) == ("12:30–15:10", True)
    assert first.link == "https://video.example/exit-tickets#t=750"
    assert first.presenter == "Maya Chen" and first.grades == ("6-8",)
    assert [a.value for a in reply.actions] == [str(reply.question_id)] * 2
    assert reply.actions[0].action_id == FEEDBACK_HELPFUL
    [question] = _rows(sqlite_db, Question)
    assert question.id == reply.question_id and question.good_match
    assert question.channel_id == "C1" and question.thread_id == "111.1"
    assert question.results[0]["session_id"] == "exit-tickets"
    assert question.results[0]["start"] == 750.0
    assert _rows(sqlite_db, ContentGap) == []


async def test_no_good_match_is_said_honestly_and_recorded_as_a_gap(sqlite_db):
    core = Core(FakeRetriever(lambda q: canned(q, good=False)), SqlRecords(sqlite_db))
    [reply] = await core.handle(replace(ASK, text="how do I teach underwater basket weaving"))
    assert reply.kind == "no_match" and not reply.cards
    [gap] = _rows(sqlite_db, ContentGap)
    assert gap.text == "how do I teach underwater basket weaving"
    assert gap.question_id == reply.question_id
    core.close()


async def test_empty_and_whitespace_questions_get_a_hint_without_searching(core, retriever):
    for text in ("", "   \n\t "):
        [reply] = await core.handle(replace(ASK, text=text))
        assert reply.text == EMPTY_HINT
    assert retriever.queries == []


async def test_help_lists_what_the_bot_does(core, retriever):
    [reply] = await core.handle(replace(ASK, text="help"))
    assert reply.kind == "help" and "feedback good" in reply.text
    assert retriever.queries == []


async def test_a_huge_message_is_answered_on_a_truncated_query(core, retriever):
    [reply] = await core.handle(replace(ASK, text="exit tickets " * 4000))  # ~52,000 characters
    assert reply.kind == "answer"
    assert len(retriever.queries[0]) <= 200
    assert any("first" in note for note in reply.notes)


async def test_retrieval_errors_become_friendly_text(sqlite_db):
    core = Core(failing_retriever(), SqlRecords(sqlite_db))
    [reply] = await core.handle(ASK)
    assert reply.kind == "error" and reply.text == "The search index could not be read."
    core.close()


async def test_unexpected_failures_are_logged_and_the_user_is_asked_to_try_again(sqlite_db, caplog):
    core = Core(failing_retriever(RuntimeError("faiss exploded")), SqlRecords(sqlite_db))
    with caplog.at_level(logging.ERROR, logger="bot.core"):
        [reply] = await core.handle(ASK)
    assert reply.text == TRY_AGAIN
    assert any("faiss exploded" in (r.exc_text or "") for r in caplog.records)
    # The bot is not dead: the next question is answered.
    core.answers.retriever = FakeRetriever()
    [again] = await core.handle(ASK)
    assert again.kind == "answer"
    core.close()


async def test_feedback_buttons_record_one_vote_per_user_and_revoting_changes_it(core, sqlite_db):
    [reply] = await core.handle(ASK)
    assert reply.question_id is not None
    note = await core.feedback(replace(ASK, user_name="ana"), reply.question_id, True)
    assert note.kind == "feedback" and "helpful" in note.text and "ana" in note.text
    await core.feedback(ASK, reply.question_id, False)
    [vote] = _rows(sqlite_db, Feedback)
    assert vote.helpful is False


async def test_feedback_on_an_unknown_answer_is_a_friendly_error(core):
    note = await core.feedback(ASK, 999_999, True)
    assert note.kind == "error" and "can't find that answer" in note.text


async def test_typed_feedback_applies_to_the_last_answer_even_after_a_restart(sqlite_db):
    first = Core(FakeRetriever(), SqlRecords(sqlite_db))
    [reply] = await first.handle(ASK)
    first.close()
    restarted = Core(FakeRetriever(), SqlRecords(sqlite_db))
    [note] = await restarted.handle(replace(ASK, text="feedback not helpful"))
    assert note.kind == "feedback"
    [vote] = _rows(sqlite_db, Feedback)
    assert (vote.question_id, vote.helpful) == (reply.question_id, False)
    restarted.close()


async def test_typed_feedback_without_an_answer_explains_how(core):
    [reply] = await core.handle(replace(ASK, user_id="U-new", text="feedback good"))
    assert reply.kind == "hint"


async def test_registered_intents_and_their_flows_route_to_their_handlers(core):
    seen: list[tuple[str, str]] = []

    async def pitch(turn: Turn) -> list[Reply]:
        seen.append((turn.intent.name, turn.intent.args))
        await core.db.call(core.records.save_state, replace(turn.state, flow="pitch", step="title"))
        return [Reply(text="What's your idea called?")]

    core.register("pitch", pitch, help="Pitch a practice: `pitch`")
    [reply] = await core.handle(replace(ASK, text="pitch"))
    assert reply.text == "What's your idea called?"
    await core.handle(replace(ASK, text="Silent debate"))  # the flow continues, not an ask
    assert seen == [("pitch", ""), ("pitch", "Silent debate")]
    [help_reply] = await core.handle(replace(ASK, text="help"))
    assert "Pitch a practice" in help_reply.text


async def test_unregistered_hook_words_are_just_questions(core, retriever):
    [reply] = await core.handle(replace(ASK, text="ideas for warm-ups"))
    assert reply.kind == "answer" and retriever.queries == ["ideas for warm-ups"]


class _Synth:
    def __init__(self, text: str | None) -> None:
        self.text = text

    async def answer(self, query, response, *, on_delta=None):
        if self.text is None:
            return None
        return GroundedAnswer(self.text, (), 10, "fake", 1.0)


async def test_ground_replaces_the_answer_line_with_a_synthesized_one(sqlite_db):
    core = Core(
        FakeRetriever(), SqlRecords(sqlite_db), synthesizer=_Synth("Sort tickets into 3 piles [1].")
    )
    [reply] = await core.handle(ASK)
    grounded = await core.ground(reply)
    assert grounded is not None and grounded.reply.answer == "Sort tickets into 3 piles [1]."
    assert grounded.reply.cards == reply.cards
    assert await core.ground(reply) is None  # only once
    core.close()


async def test_ground_keeps_the_extractive_answer_when_the_synthesizer_declines(sqlite_db):
    core = Core(FakeRetriever(), SqlRecords(sqlite_db), synthesizer=_Synth(None))
    [reply] = await core.handle(ASK)
    assert await core.ground(reply) is None
    core.close()


async def test_records_work_on_sqlite_and_postgres(db: Database):
    records = SqlRecords(db)
    core = Core(FakeRetriever(), records)
    assert await core.delivery.claim("slack:Ev1", "slack") is True
    assert await core.delivery.claim("slack:Ev1", "slack") is False
    [reply] = await core.handle(ASK)
    await core.delivery.attach(reply.question_id, MessageRef.parse("slack", "C1:222.2"))
    await core.feedback(ASK, reply.question_id, True)
    with db.session() as s:
        question = s.get(Question, reply.question_id)
        assert question is not None and question.reply_ref == "C1:222.2"
    assert records.load_state("slack", "U1").data["last_question_id"] == reply.question_id
    records.save_state(UserState("slack", "U1"))
    assert records.load_state("slack", "U1") == UserState("slack", "U1")
    core.close()
