"""Grounded replies without a network: the answer line, linked citations, paced edits."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.flows.ask import answer_reply
from bot.grounded import STREAMING_MARK, Grounded, Throttle, in_progress, with_answer
from bot.render import blocks
from bot.render.citations import CITATIONS_BLOCK, slack_message, teams_reply
from retrieval.answer import Citation
from tests.bot.fakes import canned

CITES = (
    Citation(1, "exit-tickets", "c#3", "Exit <Tickets>", 750.0, 910.0, "https://v.example/e#t=750"),
    Citation(2, "handout", "h#1", "Sorting handout", None, None, ""),
)


def _reply():
    return answer_reply(canned("exit tickets"), question_id=7, top=3, notes=())


def test_the_grounded_reply_keeps_cards_buttons_and_the_extractive_lines() -> None:
    reply = _reply()
    grounded = with_answer(reply, "Sort them into three piles [1].", CITES)
    assert grounded.answer == "Sort them into three piles [1]."
    assert grounded.cards == reply.cards and grounded.actions == reply.actions
    lines = grounded.text.splitlines()
    assert lines[0] == "Sort them into three piles [1]."
    assert lines[1] == "[1] “Exit <Tickets>” ▶ 12:30 https://v.example/e#t=750"
    assert lines[2] == "[2] “Sorting handout”"
    assert grounded.text.endswith(reply.text)
    assert in_progress(reply, "Sort them [1].").answer == "Sort them [1]." + STREAMING_MARK


def test_slack_citations_link_to_the_cited_moment_and_escape_titles() -> None:
    reply = with_answer(_reply(), "Sort them into three piles [1]. Use the handout [2].", CITES)
    message = slack_message(Grounded(reply, CITES))
    first, cited = message["blocks"][:2]
    assert first["text"]["text"] == "Sort them into three piles [1]. Use the handout [2]."
    assert cited["block_id"] == CITATIONS_BLOCK
    assert cited["elements"][0]["text"] == (
        "[1] <https://v.example/e#t=750|▶ 12:30> Exit &lt;Tickets&gt;\n[2] Sorting handout"
    )
    # Everything else is the plain reply's, buttons last.
    assert message["blocks"][2:] == blocks.reply_blocks(reply)[1:]
    assert "<Tickets>" not in json.dumps(message)


def test_slack_citations_never_push_the_buttons_past_the_block_limit() -> None:
    reply = _reply()
    many = replace(reply, cards=reply.cards * 40)
    message = slack_message(Grounded(many, CITES))
    assert len(message["blocks"]) <= blocks.MAX_BLOCKS
    assert message["blocks"][-1]["type"] == "actions"


def test_teams_gets_the_citations_as_small_print() -> None:
    reply = with_answer(_reply(), "Sort them [1].", CITES[:1])
    assert teams_reply(Grounded(reply, CITES[:1])).notes == ("[1] “Exit <Tickets>” ▶ 12:30",)
    assert teams_reply(Grounded(reply, ())).notes == ()


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_throttle_sends_at_most_one_edit_per_second_and_always_the_last() -> None:
    time = FakeTime()
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    edits: Throttle[str] = Throttle(send, 1.0, clock=time.clock, sleep=time.sleep)
    await edits.offer("a")
    time.now += 0.4
    await edits.offer("ab")  # too soon: superseded by what follows
    time.now += 0.7
    await edits.offer("abc")
    time.now += 0.2
    await edits.finish("final")
    assert sent == ["a", "abc", "final"]
    assert time.slept == [pytest.approx(0.8)]  # the final edit waits out the rest of the second
    assert edits.sent == 3


async def test_a_final_edit_with_nothing_streamed_goes_at_once() -> None:
    time = FakeTime()
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    edits: Throttle[str] = Throttle(send, clock=time.clock, sleep=time.sleep)
    await edits.finish("final")
    assert sent == ["final"] and time.slept == []
