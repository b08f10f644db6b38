"""Field ideas under answers: which ideas (status, similarity, not already a card), and how each
surface marks them as colleagues' practices rather than library sessions."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.flows.field_ideas import FIELD_IDEA_BAR, HEADING, FieldIdeas, field_line, with_field_ideas
from bot.messages import FieldIdea, Reply, SessionCard
from bot.render import blocks, cards, text
from ideas import usecases as do
from retrieval.embedder import BUNDLED_NAME, FakeEmbedder
from store import Database
from store.runner import Runner
from tests.bot.fakes import canned
from tests.scenarios.harness import World, dm, idea_world, play
from tests.scenarios.scripts import CIRCLES, EXIT, Say, pitch

ITEM = FieldIdea(12, "<!channel> Exit *tickets*", "piloting",
                 "Colleagues at Lincoln MS are piloting: #12 <!channel> Exit *tickets*")  # fmt: skip
ANSWER = Reply(
    text="Start with “Exit Tickets”.",
    answer="Start with “Exit Tickets”.",
    cards=(SessionCard("Exit Tickets", moment="12:30–15:10", timed=True),),
    kind="answer",
    field_ideas=(ITEM,),
)


def test_the_line_names_the_school_and_what_colleagues_do():
    piloting = do.FieldMatch(12, "Exit tickets on sticky notes", "piloting", "Lincoln MS", 0.7)
    assert (
        field_line(piloting)
        == "Colleagues at Lincoln MS are piloting: #12 Exit tickets on sticky notes"
    )
    adopted = do.FieldMatch(3, "Phone hotel", "adopted", " ", 0.7)
    assert field_line(adopted) == "Colleagues have adopted: #3 Phone hotel"
    reply = with_field_ideas(ANSWER, [piloting])
    assert reply.text.endswith(f"{HEADING}\n• {field_line(piloting)}")
    assert reply.actions[-1].value == "idea 12"
    assert with_field_ideas(ANSWER, []) is ANSWER


def test_each_surface_shows_a_marked_section_after_the_sessions_with_text_escaped():
    slack = blocks.reply_blocks(ANSWER)
    shown = json.dumps(slack, ensure_ascii=False)
    assert "From colleagues' classrooms" in shown and "not library sessions" in shown
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown
    kinds = [b["type"] for b in slack]
    assert kinds.index("context") > kinds.index("section")  # after the session card
    assert "From colleagues" in json.dumps(slack[-2:], ensure_ascii=False)

    card = json.dumps(cards.reply_card(ANSWER), ensure_ascii=False)
    assert "not library sessions" in card and "\\\\*tickets\\\\*" in card  # Markdown escaped
    assert card.index("Exit Tickets") < card.index("From colleagues")

    terminal = text.render(ANSWER)
    lines = terminal.splitlines()
    assert lines[-2].startswith("💡 From colleagues' classrooms — Field ideas:")
    assert lines[-1] == "   • Colleagues at Lincoln MS are piloting: #12 <!channel> Exit *tickets*"


def test_a_reply_with_field_ideas_survives_the_delivery_ledger():
    assert Reply.from_json(json.loads(json.dumps(ANSWER.to_json()))) == ANSWER


async def _piloting(world: World) -> None:
    await play(
        world.core,
        (
            *pitch("teacher", *EXIT),
            Say("teacher", "submit", ("Your idea is #1",)),
            *pitch("colleague", *CIRCLES),
            Say("colleague", "submit"),
            Say("colleague", "pitch new"),
            Say("staff", "triage 1 review"),
            Say("staff", "triage 1 pilot", ("now piloting",)),
        ),
    )


QUESTION = "exit tickets sorted into three piles with sticky notes"


async def test_answers_show_piloting_ideas_that_match_and_nothing_else(db: Database):
    world = idea_world(db)
    try:
        await _piloting(world)
        await play(
            world.core,
            (
                Say(
                    "teacher",
                    QUESTION,
                    ("Colleagues at Lincoln Middle are piloting: #1 Exit tickets",),
                ),
                Say("teacher", "restorative circles after a fight", (), ("Colleagues",)),
            ),
        )
        # Idea #2 (circles) is new: not in the field yet, however well it matches.
        replies = await world.core.handle(dm("teacher", CIRCLES[0] + " " + CIRCLES[1]))
        assert "#2" not in replies[0].text
    finally:
        world.core.close()


async def test_an_idea_already_shown_as_its_library_session_is_not_repeated(sqlite_db: Database):
    world = idea_world(sqlite_db)
    try:
        await _piloting(world)
        extra = FieldIdeas(Runner(sqlite_db), FakeEmbedder().embed_documents, FakeEmbedder().name)
        response = canned(QUESTION, count=1)
        first = response.results[0]
        published = replace(first, session=replace(first.session, session_id="field-idea-1"))
        listed = replace(response, results=(published,))
        reply = Reply(text="x", cards=(SessionCard("Exit tickets"),), kind="answer")
        assert (await extra(dm("teacher", QUESTION), listed, reply)).field_ideas == ()
        assert (await extra(dm("teacher", QUESTION), response, reply)).field_ideas[0].number == 1
        assert (
            await extra(dm("teacher", QUESTION), response, Reply(text="hi", kind="help"))
        ).field_ideas == ()
    finally:
        world.core.close()


@pytest.mark.parametrize(
    ("question", "shown"),
    [
        ("exit tickets with 32 kids", True),
        ("exit tickets", True),
        ("how do I request a substitute for friday", False),
        ("co-teaching models with a special education teacher", False),
    ],
)
async def test_the_calibrated_bar_with_the_real_model(
    sqlite_db: Database, real_embedder, question: str, shown: bool
):
    world = idea_world(sqlite_db)
    try:
        await _piloting(world)
        extra = FieldIdeas(Runner(sqlite_db), real_embedder.embed_documents, BUNDLED_NAME)
        assert extra.bar == FIELD_IDEA_BAR
        reply = await extra(
            question, canned(question, good=False), Reply(text="x", kind="no_match")
        )
        assert bool(reply.field_ideas) is shown
    finally:
        world.core.close()
