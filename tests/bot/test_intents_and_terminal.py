"""Intent parsing, the terminal renderer and the terminal chat loop on the core."""

from __future__ import annotations

import io

from bot import intents
from bot.flows.ask import answer_reply, truncate_query
from bot.render.text import FEEDBACK_HINT, render
from bot.terminal import chat
from tests.bot.fakes import canned


def test_parse_routes_help_feedback_registered_keywords_and_defaults_to_ask():
    assert intents.parse("") == intents.Intent("empty", "")
    assert intents.parse("Help!").name == "help"
    assert intents.parse("feedback: not helpful") == intents.Intent("feedback", "not helpful")
    assert intents.parse("pitch Silent debate", frozenset({"pitch"})) == intents.Intent(
        "pitch", "Silent debate"
    )
    assert intents.parse("pitch Silent debate") == intents.Intent("ask", "pitch Silent debate")


def test_feedback_vote_reads_yes_and_no_words():
    assert intents.feedback_vote("good") is True
    assert intents.feedback_vote("not helpful") is False
    assert intents.feedback_vote("👎") is False
    assert intents.feedback_vote("meh") is None


def test_truncate_query_cuts_on_a_word_boundary():
    text, cut = truncate_query("alpha beta gamma delta", 12)
    assert (text, cut) == ("alpha beta", True)
    assert truncate_query("short", 12) == ("short", False)


def test_terminal_render_shows_moments_links_and_the_feedback_hint():
    out = render(answer_reply(canned("exit tickets"), 1, 3, ()))
    assert "1. Exit Tickets That Drive Tomorrow's Lesson — Maya Chen" in out
    assert "▶ 12:30–15:10  https://video.example/exit-tickets#t=750" in out
    assert FEEDBACK_HINT in out


async def test_terminal_chat_answers_takes_feedback_and_quits(core):
    typed = io.StringIO("exit tickets\n\nfeedback good\nquit\nnever read\n")
    out = io.StringIO()
    assert await chat(core, typed, out, user_id="me") == 0
    text = out.getvalue()
    assert "▶ 12:30–15:10" in text
    assert "Ask me a question" in text  # the empty line
    assert "marked helpful" in text
    assert "never read" not in text


async def test_terminal_chat_ends_on_eof(core):
    out = io.StringIO()
    assert await chat(core, io.StringIO("help\n"), out, user_id="me") == 0
    assert "feedback good" in out.getvalue()
