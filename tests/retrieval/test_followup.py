"""Follow-ups without an LLM: how a turn is read and what it asks the search for."""

from __future__ import annotations

import pytest
import yaml

from retrieval.followup import MAX_EXTRAS, Context, classify, plan_turn, reads_as_question
from tests.fixtures_retrieval import SAMPLE_LIBRARY

EXIT = "how do I run exit tickets with 32 kids?"


def _after(question: str, shown: tuple[str, ...] = ("exit-tickets",)):
    return plan_turn(question).remember(shown, answered=True, best=0.45)


def test_a_first_message_is_searched_as_it_is() -> None:
    plan = plan_turn("  how do I run   exit tickets with 32 kids? ")
    assert plan.kind == "new" and plan.query == EXIT
    assert plan.exclude == frozenset() and not plan.prefer


def test_a_grade_refinement_keeps_the_topic_and_prefers_the_grade() -> None:
    plan = plan_turn("what about for 1st graders?", _after(EXIT))
    assert plan.kind == "refine"
    assert plan.query == EXIT  # nothing but the audience was added
    assert plan.prefer.grades == frozenset({1}) and plan.exclude == frozenset()


def test_a_course_refinement_reads_level_and_subject() -> None:
    plan = plan_turn("for AP chemistry?", _after("students can't explain their lab results"))
    assert plan.kind == "refine"
    assert plan.prefer.grades == frozenset(range(9, 13)) and plan.prefer.subjects == ("Science",)
    assert plan.query.startswith("students can't explain their lab results")


def test_a_setting_refinement_adds_its_words() -> None:
    plan = plan_turn("in a co-taught class?", _after("pull a small group to reteach"))
    assert plan.kind == "refine"
    assert plan.query == "pull a small group to reteach a co-taught class"


def test_shorter_carries_words_a_search_can_use() -> None:
    plan = plan_turn("shorter?", _after("weekly community circle in advisory"))
    assert plan.kind == "refine"
    assert "quick" in plan.query and "minutes" in plan.query
    assert plan.query.startswith("weekly community circle in advisory")


def test_a_pronoun_follow_up_is_merged_with_the_topic() -> None:
    plan = plan_turn("does that work online?", _after(EXIT))
    assert plan.kind == "pronoun"
    assert plan.query.startswith(EXIT) and "online" in plan.query


@pytest.mark.parametrize(
    "text",
    ["another one?", "show me more", "got anything else?", "one more?", "more please", "next"],
)
def test_more_repeats_the_search_without_what_was_shown(text) -> None:
    context = _after(EXIT, ("exit-tickets", "wait-time-questioning"))
    plan = plan_turn(text, context)
    assert plan.kind == "more"
    assert plan.query == EXIT
    assert plan.exclude == {"exit-tickets", "wait-time-questioning"}


def test_two_mores_in_a_row_never_repeat_a_session() -> None:
    first = plan_turn("another one?", _after(EXIT, ("exit-tickets",)))
    second = plan_turn("one more?", first.remember(["retrieval-practice"]))
    assert second.exclude == {"exit-tickets", "retrieval-practice"}
    assert second.context.answered and second.context.best == 0.45


def test_more_with_an_audience_keeps_the_topic_and_adds_the_preference() -> None:
    plan = plan_turn("another one for middle school math", _after("ideas for a do now"))
    assert plan.kind == "more"
    assert plan.prefer.grades == frozenset({6, 7, 8}) and plan.prefer.subjects == ("Math",)
    assert plan.exclude == {"exit-tickets"}


def test_a_new_topic_starts_fresh_even_with_a_grade_in_the_old_one() -> None:
    context = _after("my 3rd graders can't stay on task during independent reading")
    plan = plan_turn(
        "how do I get 10th graders to revise their essays after I give feedback", context
    )
    assert plan.kind == "new"
    assert plan.prefer.grades == frozenset({10})
    assert plan.context.shown == () and not plan.context.answered


def test_an_announced_switch_starts_fresh() -> None:
    plan = plan_turn("different question: two sophomores keep fighting", _after(EXIT))
    assert plan.kind == "new" and plan.query == "different question: two sophomores keep fighting"


def test_that_as_a_conjunction_is_not_a_pronoun_follow_up() -> None:
    text = "a parent emailed me that I didn't correct every grammar mistake on her son's essay, how do I answer"
    assert plan_turn(text, _after("wait time, how long should I pause")).kind == "new"


def test_a_long_thread_does_not_grow_the_query_without_end() -> None:
    context = _after(EXIT)
    for text in ("online?", "in a co-taught class?", "with english learners?", "on paper?"):
        plan = plan_turn(text, context)
        context = plan.remember([])
    assert len(context.extras) == 4
    assert context.query == " ".join((EXIT, *context.extras[-MAX_EXTRAS:]))


def _conversations() -> list[dict]:
    return yaml.safe_load((SAMPLE_LIBRARY / "conversations.yaml").read_text("utf-8"))


FAMILY = {
    "refine": "follow",
    "pronoun": "follow",
    "more": "more",
    "new": "new",
    "switch": "new",
    "gap": "new",
}


def test_the_rules_read_the_sample_conversations_as_labelled() -> None:
    """Every turn but the off-topic ones: those need the embedding check in ConversationSearch."""
    checked = 0
    for conv in _conversations():
        context = None
        for turn in conv["turns"]:
            if turn["kind"] == "pitch":
                continue
            plan = plan_turn(turn["say"], context)
            if context is not None and turn["kind"] != "off_topic":
                got = {"refine": "follow", "pronoun": "follow"}.get(plan.kind, plan.kind)
                assert got == FAMILY[turn["kind"]], (conv["id"], turn["say"], plan.kind)
                checked += 1
            context = plan.remember(turn.get("sessions") or [], answered=True)
    assert checked >= 40


def test_questions_typed_during_a_pitch_read_as_questions_and_answers_do_not() -> None:
    questions = answers = 0
    for conv in _conversations():
        for turn in conv["turns"]:
            if turn.get("during_pitch"):
                assert reads_as_question(turn["say"]), turn["say"]
                questions += 1
            elif turn.get("pitch") == "answer":
                assert not reads_as_question(turn["say"]), turn["say"]
                answers += 1
    assert questions >= 4 and answers >= 3


@pytest.mark.parametrize(
    "text, expected",
    [
        ("how do I run exit tickets with 32 kids", True),  # no question mark in chat
        ("wait, is there already a session on this?", True),
        ("actually can you find me something on co-teaching", True),
        ("any ideas for a do now", True),
        ("Two-minute exit tickets sorted into three piles", False),
        ("6-8, math and science, Lincoln Middle", False),
        ("Re-teach groups shrank from 11 to 4 students over six weeks.", False),
        ("What I do is hand out a sticky note at the door", False),
        ('Kids answer "what did you learn today?" on a sticky note', False),
        ("How we run hallway greetings", False),  # a title, not a question
    ],
)
def test_reads_as_question(text, expected) -> None:
    assert reads_as_question(text) is expected


def test_classify_without_context_is_always_new() -> None:
    assert classify("does that work online?", None) == "new"


def test_a_context_survives_a_json_round_trip() -> None:
    import json

    plan = plan_turn("another one for middle school math", _after("ideas for a do now"))
    context = plan.remember(["math-talk-moves"], answered=True, best=0.41)
    again = Context.from_json(json.loads(json.dumps(context.to_json())))
    assert again.query == context.query and again.shown == context.shown
    assert (again.hints.grades, again.hints.subjects) == (
        context.hints.grades,
        context.hints.subjects,
    )
    assert (again.answered, again.best) == (True, 0.41)
    assert plan_turn("one more?", again).exclude == {"exit-tickets", "math-talk-moves"}
