"""Adaptive Cards from the neutral model: plain asserts over pure functions."""

from __future__ import annotations

import json

from bot.flows.ask import feedback_actions
from bot.flows.home import Home
from bot.messages import Action, Reply, SessionCard
from bot.render import cards

SESSION = SessionCard(
    title="Exit *Tickets* [that] work",
    presenter="Maya Chen",
    moment="12:30–15:10",
    link="https://video.example/exit#t=750",
    snippet="Sort them into 3 piles: _got it_, almost, not yet.",
    grades=("6-8",),
    subjects=("Math",),
    timed=True,
)


def _answer(**kw) -> Reply:
    defaults = dict(
        text="Start with “Exit Tickets”.",
        answer="Start with “Exit Tickets”.",
        cards=(SESSION,),
        actions=feedback_actions(7),
        kind="answer",
        question_id=7,
    )
    return Reply(**{**defaults, **kw})


def _texts(card: dict) -> list[str]:
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card.get("body", []))
    return found


def test_an_answer_card_has_the_sessions_a_watch_link_and_feedback_buttons():
    card = cards.reply_card(_answer())
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    texts = _texts(card)
    assert texts[0] == "Start with “Exit Tickets”."
    assert "**Exit \\*Tickets\\* \\[that\\] work**" in texts  # markdown in titles is shown
    links = [a for c in card["body"][1]["items"] if c["type"] == "ActionSet" for a in c["actions"]]
    assert links == [
        {"type": "Action.OpenUrl", "title": "▶ Watch 12:30–15:10", "url": SESSION.link}
    ]
    verbs = [(a["type"], a["verb"], a["data"]["value"]) for a in card["actions"]]
    assert verbs == [
        ("Action.Execute", "feedback_helpful", "7"),
        ("Action.Execute", "feedback_not_helpful", "7"),
    ]


def test_escape_shows_markdown_and_list_markers_literally():
    assert (
        cards.escape("**bold** [x](http://e.vil)") == "\\*\\*bold\\*\\* \\[x\\]\\(http://e.vil\\)"
    )
    assert cards.escape("- item\n1. first") == "\\- item\n\\1. first"


def test_the_carried_answer_round_trips_and_redraws_the_same_card():
    reply = _answer(notes=("I read only the first 1,000 characters.",))
    carried = cards.reply_card(reply)["actions"][0]["data"]["reply"]
    back = cards.reply_from_state(json.loads(json.dumps(carried)))
    assert back is not None
    assert back.cards == reply.cards and back.notes == reply.notes
    assert back.actions == reply.actions and back.question_id == 7
    assert cards.reply_card(back) == cards.reply_card(reply)


def test_a_tampered_carried_answer_is_refused_or_loses_its_bad_link():
    carried = cards.reply_state(_answer())
    assert cards.reply_from_state("nope") is None
    assert cards.reply_from_state({**carried, "cards": [["only a title"]]}) is None
    assert cards.reply_from_state({**carried, "text": 5}) is None
    evil = json.loads(json.dumps(carried))
    evil["cards"][0][3] = "javascript:alert(1)"
    back = cards.reply_from_state(evil)
    assert back is not None and back.cards[0].link == ""


def test_a_note_is_added_under_the_answer():
    card = cards.reply_card(_answer(), note="👍 Thanks, Ann: marked helpful.")
    assert card["body"][-1]["id"] == cards.NOTE_ID
    assert card["body"][-1]["text"] == "👍 Thanks, Ann: marked helpful."


def test_huge_answers_stay_under_the_size_limit_and_keep_their_buttons():
    big = SessionCard(title="T" * 5000, snippet="s" * 5000, link="https://e.x/" + "a" * 3000)
    card = cards.reply_card(_answer(cards=(big,) * 10, text="x" * 50_000, answer=""))
    assert cards.size(card) <= cards.MAX_CARD_BYTES
    assert [a["verb"] for a in card["actions"]] == ["feedback_helpful", "feedback_not_helpful"]


def test_plain_text_replies_and_other_buttons():
    card = cards.reply_card(
        Reply(text="Pick one", actions=(Action("do_it", "Do it", "42", "danger"),))
    )
    assert _texts(card) == ["Pick one"]
    assert card["actions"] == [
        {
            "type": "Action.Execute",
            "title": "Do it",
            "verb": "do_it",
            "data": {"value": "42"},
            "style": "destructive",
        }
    ]
    assert "actions" not in cards.reply_card(Reply(text="hello"))


def test_the_welcome_card_says_how_to_ask_in_teams_and_lists_recent_sessions():
    home = Home(capabilities=("Use `/pd` (Slack only)",), recent=(SESSION,), ideas=())
    card = cards.welcome_card(home)
    texts = "\n".join(_texts(card))
    assert "**Hi, I'm Staffroom**" in texts and "@mention me in a channel" in texts
    assert "/pd" not in texts and "Exit" in texts
    assert [(a["verb"], a["data"]["value"]) for a in card["actions"]][0] == (
        "staffroom_say",
        "pitch",
    )
    assert cards.attachment(card) == {"contentType": cards.CONTENT_TYPE, "content": card}
