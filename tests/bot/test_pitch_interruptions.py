"""The conversation set's pitch interruptions (examples/library/conversations.yaml), replayed
through the core with every idea flow: no interruption loses the draft or the question."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from store import Database, PitchDraft, Question
from tests.bot.fakes import FakeRetriever
from tests.fixtures_retrieval import SAMPLE_LIBRARY
from tests.scenarios.harness import dm, idea_world

CONVERSATIONS = yaml.safe_load((SAMPLE_LIBRARY / "conversations.yaml").read_text("utf-8"))
WITH_PITCH = [c for c in CONVERSATIONS if any("pitch" in t for t in c["turns"])]


def _draft(db: Database) -> dict[str, Any] | None:
    with db.session() as s:
        draft = s.scalars(sa.select(PitchDraft)).one_or_none()
        return None if draft is None else {"step": draft.step, "answers": dict(draft.answers)}


def _questions(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.scalars(sa.select(Question.text).order_by(Question.id)))


def test_the_set_has_pitch_interruptions() -> None:
    assert len(WITH_PITCH) >= 4
    assert sum(t.get("during_pitch", False) for c in WITH_PITCH for t in c["turns"]) >= 4


@pytest.mark.parametrize("conversation", WITH_PITCH, ids=[c["id"] for c in WITH_PITCH])
async def test_no_interruption_loses_the_draft_or_the_question(conversation, sqlite_db) -> None:
    retriever = FakeRetriever()
    world = idea_world(sqlite_db, retriever)
    try:
        for turn in conversation["turns"]:
            before, asked = _draft(sqlite_db), len(_questions(sqlite_db))
            said = "\n".join(r.text for r in await world.core.handle(dm("teacher", turn["say"])))
            after = _draft(sqlite_db)
            if turn.get("pitch") == "start":
                assert "Question 1 of 6" in said
            elif turn.get("pitch") == "answer":
                assert before is not None and after is not None and after != before
                assert turn["say"] in str(after["answers"].values())
                assert "saved at step" not in said
            elif turn.get("pitch") == "continue":
                assert "Welcome back" in said and after == before
            elif turn.get("during_pitch"):
                # The question is answered and logged; the draft waits, unchanged, at its step.
                assert "Start with" in said and after == before
                assert before is not None
                assert f"Your pitch is saved at step {said_step(before)} of 6" in said
                assert len(_questions(sqlite_db)) == asked + 1
                if turn["kind"] in ("pronoun", "refine"):  # still about the question before
                    first = conversation["turns"][0]["say"]
                    assert retriever.queries[-1].startswith(first)
            else:
                assert "Start with" in said
    finally:
        world.core.close()


def said_step(draft: dict[str, Any]) -> int:
    """The 1-based step a draft waits at (its step key's place in the pitch)."""
    import ideas

    keys = [s.key for s in ideas.PITCH_STEPS]
    return keys.index(draft["step"]) + 1 if draft["step"] in keys else len(keys) + 1


async def test_the_pitch_lists_covering_sessions_only_above_the_calibrated_bar(sqlite_db) -> None:
    from dataclasses import replace

    from retrieval.matching import COVER_BAR
    from tests.bot.fakes import canned
    from tests.scenarios.harness import play
    from tests.scenarios.scripts import EXIT, pitch

    def loosely(query: str):
        response = canned(query)  # a "good match" whose sessions are only loosely related
        results = tuple(replace(r, score=COVER_BAR - 0.05) for r in response.results)
        return replace(response, results=results)

    world = idea_world(sqlite_db, FakeRetriever(loosely))
    try:
        *steps, last = pitch("teacher", *EXIT)
        await play(world.core, (*steps, replace(last, absent=("covers this",))))
    finally:
        world.core.close()
