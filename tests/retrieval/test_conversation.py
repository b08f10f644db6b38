"""Conversations over the sample library with the real model: follow-ups keep context."""

from __future__ import annotations

import math

import pytest
import yaml

from retrieval.conversation import ConversationSearch
from retrieval.search import Searcher
from tests.fixtures_retrieval import SAMPLE_LIBRARY


@pytest.fixture(scope="module")
def convo(sample_data_dir, real_embedder) -> ConversationSearch:
    return ConversationSearch(Searcher(sample_data_dir / "index", real_embedder))


def _ids(turn) -> list[str]:
    return [r.session.session_id for r in turn.response.results]


def test_a_grade_follow_up_keeps_the_topic_and_notes_the_grades(convo) -> None:
    first = convo.turn("how do I run exit tickets with 32 kids?", None)
    assert first.shown_ids == ("exit-tickets",)
    follow = convo.turn("what about for 1st graders?", first.context)
    assert follow.plan.kind == "refine"
    assert follow.verdict.kind == "answer"
    assert follow.shown_ids[0] == "exit-tickets"
    assert follow.verdict.notes[0] == "(grades 6-12)"


def test_pronoun_follow_ups_stay_on_the_session(convo) -> None:
    first = convo.turn("exit tickets that don't take forever to sort", None)
    online = convo.turn("does that work online?", first.context)
    assert online.plan.kind == "pronoun" and online.shown_ids[0] == "exit-tickets"
    how_long = convo.turn("how long does it take?", online.context)
    assert how_long.shown_ids[0] == "exit-tickets"


def test_small_talk_is_off_topic_and_does_not_end_the_topic(convo) -> None:
    first = convo.turn("how do I use exit tickets to plan tomorrow's lesson", None)
    snow = convo.turn("thanks! is it supposed to snow tomorrow?", first.context)
    assert snow.plan.kind == "new" and snow.verdict.kind == "off_topic" and not snow.verdict.is_gap
    back = convo.turn("does that work online?", snow.context)
    assert back.plan.kind == "pronoun" and back.shown_ids[0] == "exit-tickets"


@pytest.mark.parametrize("small_talk", ["weather tomorrow?", "snow tomorrow?", "lunch duty?"])
def test_two_word_small_talk_in_a_thread_is_off_topic_not_a_refinement(convo, small_talk) -> None:
    first = convo.turn("how do I run exit tickets with 32 kids?", None)
    turn = convo.turn(small_talk, first.context)
    assert turn.verdict.kind == "off_topic" and not turn.shown_ids, (turn.plan, turn.shown_ids)
    assert turn.context == first.context  # the thread's topic carries on after it


@pytest.mark.parametrize("follow_up", ["sub plans?", "fire drill?", "google classroom?"])
def test_two_word_teaching_follow_ups_stay_follow_ups(convo, follow_up) -> None:
    first = convo.turn("how do I run exit tickets with 32 kids?", None)
    assert convo.turn(follow_up, first.context).plan.kind != "new"


def _ndcg3(ranked: list[str], relevant: set[str]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, sid in enumerate(ranked[:3]) if sid in relevant)
    return dcg / sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 3)))


def test_the_sample_conversations(convo) -> None:
    """Replays conversations.yaml: context must beat each-turn-alone on follow-ups, never lose
    on first turns, never repeat a shown session on "more", and never answer off-topic turns."""
    conversations = yaml.safe_load((SAMPLE_LIBRARY / "conversations.yaml").read_text("utf-8"))
    searcher = convo.searcher
    with_context, alone, first_with, first_alone = [], [], [], []
    for conv in conversations:
        context = None
        seen: list[str] = []
        for turn in conv["turns"]:
            if turn["kind"] == "pitch":
                continue
            result = convo.turn(turn["say"], context)
            relevant = set(turn.get("sessions") or ()) - (
                set(seen) if turn.get("exclude_shown") else set()
            )
            if turn.get("exclude_shown"):
                assert not set(_ids(result)) & set(seen), conv["id"]
            if turn["kind"] in ("off_topic", "gap") or not turn.get("sessions"):
                assert result.verdict.kind != "answer", (conv["id"], turn["say"])
            if turn["kind"] == "off_topic":
                assert result.verdict.kind == "off_topic", (conv["id"], turn["say"])
            if relevant:
                baseline = [r.session.session_id for r in searcher.search(turn["say"], k=3).results]
                if turn["kind"] in ("refine", "pronoun", "more"):
                    with_context.append(_ndcg3(_ids(result), relevant))
                    alone.append(_ndcg3(baseline, relevant))
                elif turn["kind"] == "new":
                    first_with.append(_ndcg3(_ids(result), relevant))
                    first_alone.append(_ndcg3(baseline, relevant))
            seen += [s for s in result.shown_ids if s not in seen]
            context = result.context
    assert len(with_context) >= 30 and len(first_with) >= 40
    gain = sum(with_context) / len(with_context) - sum(alone) / len(alone)
    assert gain >= 0.15, f"follow-up nDCG@3 gain {gain:.3f}"
    assert sum(first_with) >= sum(first_alone) - 1e-9
