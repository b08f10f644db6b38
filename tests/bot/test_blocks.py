"""Block Kit rendering: pure functions, plain asserts."""

from __future__ import annotations

import json

from bot.flows.ask import answer_reply, no_match_reply
from bot.flows.home import Home
from bot.messages import Reply, SessionCard
from bot.render import blocks
from tests.bot.fakes import canned


def _text(rendered: list[dict]) -> str:
    return json.dumps(rendered, ensure_ascii=False)


def test_an_answer_has_a_line_up_to_three_cards_and_feedback_buttons():
    reply = answer_reply(canned("exit tickets", count=3), 7, 3, ())
    rendered = blocks.reply_blocks(reply)
    assert rendered[0]["type"] == "section" and "Start with" in rendered[0]["text"]["text"]
    sections = [b["text"]["text"] for b in rendered if b["type"] == "section"][1:]
    assert len(sections) == 3
    assert "<https://video.example/exit-tickets#t=750|▶ 12:30–15:10>" in sections[0]
    assert "Maya Chen" in sections[0]
    assert "&lt;b&gt;fast&lt;/b&gt;" in sections[0]  # library text is escaped too
    buttons = rendered[-1]
    assert buttons["type"] == "actions"
    assert [e["value"] for e in buttons["elements"]] == ["7", "7"]
    assert {"type": "mrkdwn", "text": "6-8 · Math"} in [
        e for b in rendered if b["type"] == "context" for e in b["elements"]
    ]


def test_user_text_is_escaped_so_mentions_never_ping():
    reply = Reply(text="You asked: <!channel> & <@U123>", answer="You asked: <!channel> & <@U123>")
    message = blocks.reply_message(reply)
    dumped = _text(message["blocks"]) + message["text"]
    assert "<!channel>" not in dumped and "<@U123>" not in dumped
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in message["text"]


def test_link_labels_and_urls_cannot_break_out_of_the_link():
    assert (
        blocks.link("https://x.example/a b|c", "T<i>|tle")
        == "<https://x.example/a%20b%7Cc|T&lt;i&gt;¦tle>"
    )
    assert blocks.link("", "no <url>") == "no &lt;url&gt;"


def test_limits_hold_for_huge_replies():
    card = SessionCard(title="T" * 5000, snippet="s" * 5000, presenter="p")
    reply = Reply(
        text="x" * 50_000,
        answer="a" * 50_000,
        cards=(card,) * 60,
        actions=no_match_reply(1, ()).actions,
    )
    rendered = blocks.reply_blocks(reply)
    assert len(rendered) <= 50
    assert rendered[-1]["type"] == "actions"  # the buttons survive the cut
    for block in rendered:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert len(blocks.reply_message(reply)["text"]) <= blocks.MAX_FALLBACK


def test_feedback_note_replaces_the_previous_note_and_keeps_the_buttons():
    posted = blocks.reply_blocks(answer_reply(canned("q"), 3, 3, ()))
    once = blocks.with_feedback(posted, "👍 Thanks, ana: marked helpful.")
    twice = blocks.with_feedback(once, "👎 Thanks, <bob>: marked not helpful.")
    notes = [b for b in twice if b.get("block_id") == blocks.FEEDBACK_NOTE]
    assert len(notes) == 1 and "&lt;bob&gt;" in notes[0]["elements"][0]["text"]
    assert any(b["type"] == "actions" for b in twice)


def test_home_view_lists_capabilities_recent_sessions_and_ideas():
    home = Home(
        ("Ask me things",),
        (SessionCard(title="A <b>", link="https://v.example"),),
        ("My idea — review",),
    )
    view = blocks.home_view(home)
    assert view["type"] == "home"
    dumped = _text(view["blocks"])
    assert (
        "Ask me things" in dumped
        and "<https://v.example|A &lt;b&gt;>" in dumped
        and "My idea" in dumped
    )
    empty = _text(blocks.home_view(Home((), (), ()))["blocks"])
    assert "No sessions indexed yet" in empty and "haven't pitched" in empty


def test_views_are_modals_with_a_short_title():
    view = blocks.reply_view(Reply(text="hi"), title="Staffroom answers your question")
    assert view["type"] == "modal" and len(view["title"]["text"]) <= 24
