"""Review posts: a failure keeps the idea, a retry posts it once, two replicas never both post."""

from __future__ import annotations

import asyncio

from store import Database, Idea, PitchDraft
from tests.scenarios.harness import REVIEW, dm, idea_world, play
from tests.scenarios.scripts import EXIT, Say, pitch


async def test_a_failed_post_is_retried_once_even_by_two_replicas(db: Database):
    first, second = idea_world(db), idea_world(db)
    try:
        first.courier.fail.append("not_in_channel")
        await play(
            first.core, (*pitch("teacher", *EXIT), Say("teacher", "submit", ("Your idea is #1",)))
        )
        assert first.courier.to(REVIEW) == []
        with db.session() as s:
            assert s.get(Idea, 1).review_post_status == "pending"
        posted = await asyncio.gather(first.desk.retry_pending("a"), second.desk.retry_pending("b"))
        assert sorted(posted) == [0, 1]
        assert len(first.courier.to(REVIEW)) + len(second.courier.to(REVIEW)) == 1
        assert await first.desk.retry_pending("a") == 0
        with db.session() as s:
            idea = s.get(Idea, 1)
            assert (idea.review_post_status, idea.review_post_attempts) == ("posted", 1)
    finally:
        first.core.close()
        second.core.close()


async def test_status_changes_reach_the_author_with_the_note(sqlite_db: Database):
    world = idea_world(sqlite_db)
    try:
        await play(world.core, (*pitch("teacher", *EXIT), Say("teacher", "submit")))
        await play(
            world.core, (Say("staff", "triage 1 decline Overlaps with #4", ("now declined",)),)
        )
        [(ref, update)] = world.courier.updated
        assert update.actions[0].label == "Reopen"
        dms = [r.text for a, r in world.courier.sent if a.user_id == "UTEACH"]
        assert dms == [
            "Your idea #1 “Exit tickets sorted into three piles” is now declined.\nThe reviewer's note: Overlaps with #4"
        ]
    finally:
        world.core.close()


async def test_a_flow_whose_draft_is_gone_lets_the_user_ask_again(sqlite_db: Database):
    world = idea_world(sqlite_db)
    try:
        await play(world.core, (Say("teacher", "pitch", ("Question 1 of 6",)),))
        with sqlite_db.session() as s:  # e.g. the same pitch was sent from the form meanwhile
            s.delete(s.get(PitchDraft, ("slack", "UTEACH")))
        await play(world.core, (Say("teacher", "how do I run exit tickets?", ("Start with",)),))
        assert world.core.records.load_state("slack", "UTEACH").flow == ""
    finally:
        world.core.close()


async def test_a_pitch_form_that_cannot_be_saved_gives_the_teacher_their_text_back(
    sqlite_db: Database,
):
    world = idea_world(sqlite_db)
    values = {
        "title": "Door greetings",
        "practice": "I greet each student by name at the door.",
        "problem": "Late starts",
        "audience": "K-2",
        "evidence": "Calmer starts",
    }
    try:
        [reply] = await world.core.submit_form(dm("teacher", ""), "pitch", "99", values)
    finally:
        world.core.close()
    assert reply.kind == "error" and "no design question #99" in reply.text
    assert "I greet each student by name at the door." in reply.text
