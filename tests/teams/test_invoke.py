"""``Action.Execute`` clicks: answered within the invoke budget, the card replaced in place."""

from __future__ import annotations

import json
import threading

import sqlalchemy as sa

from bot.records import SqlRecords
from store import Database, Feedback
from tests.teams.conftest import execute


async def _answer_card(teams, connector) -> tuple[str, dict]:
    """Ask a question; (the posted card's activity id, the card)."""
    await teams.message("exit tickets")
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    return "1700000000001", connector.posts()[0].card


def _button(card: dict, verb: str) -> dict:
    return next(a for a in card["actions"] if a["verb"] == verb)


def _votes(url: str) -> list[tuple[int, str, bool]]:
    db = Database.from_url(url)
    try:
        with db.session() as s:
            rows = s.scalars(sa.select(Feedback)).all()
            return [(r.question_id, r.user_id, r.helpful) for r in rows]
    finally:
        db.dispose()


async def test_helpful_is_recorded_and_the_card_is_replaced_with_the_vote_noted(
    teams, connector, sqlite_url
):
    posted_id, card = await _answer_card(teams, connector)
    button = _button(card, "feedback_helpful")
    sent = await teams.post(
        execute(connector.url, button["verb"], button["data"], reply_to=posted_id)
    )
    assert sent.status == 200
    body = sent.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    updated = json.dumps(body["value"], ensure_ascii=False)
    assert "👍 Thanks, Ann Lee: marked helpful." in updated
    assert "Exit Tickets That Drive Tomorrow" in updated  # the same answer, redrawn
    assert [a["verb"] for a in body["value"]["actions"]] == [
        "feedback_helpful",
        "feedback_not_helpful",
    ]  # still there, so the vote can change
    question_id = int(button["data"]["value"])
    assert _votes(sqlite_url) == [(question_id, "aad-ann", True)]


async def test_voting_again_changes_the_vote(teams, connector, sqlite_url):
    posted_id, card = await _answer_card(teams, connector)
    for verb in ("feedback_helpful", "feedback_not_helpful"):
        button = _button(card, verb)
        await teams.post(execute(connector.url, verb, button["data"], reply_to=posted_id))
    assert [v[2] for v in _votes(sqlite_url)] == [False]


async def test_a_vote_on_an_unknown_answer_says_so_and_records_nothing(
    teams, connector, sqlite_url
):
    posted_id, card = await _answer_card(teams, connector)
    data = {**_button(card, "feedback_helpful")["data"], "value": "999999"}
    sent = await teams.post(execute(connector.url, "feedback_helpful", data, reply_to=posted_id))
    assert sent.status == 200
    assert "can't find that answer" in json.dumps(sent.json()["value"])
    assert _votes(sqlite_url) == []


async def test_tampered_or_unknown_buttons_get_a_clear_message(teams, connector, sqlite_url):
    cases = [
        ("feedback_helpful", {"value": "not-a-number"}),
        ("no_such_verb", {"value": "1"}),
    ]
    for verb, data in cases:
        sent = await teams.post(execute(connector.url, verb, data, reply_to="1"))
        assert sent.status == 200
        assert sent.json()["type"] == "application/vnd.microsoft.activity.message"
        assert "no longer works" in sent.json()["value"]
    no_data = execute(connector.url, "feedback_helpful", {}, reply_to="1")
    no_data["value"]["action"].pop("data")
    assert (await teams.post(no_data)).json()["type"].endswith("activity.message")
    assert _votes(sqlite_url) == []


async def test_a_tampered_link_in_the_carried_answer_is_dropped(teams, connector):
    posted_id, card = await _answer_card(teams, connector)
    data = json.loads(json.dumps(_button(card, "feedback_helpful")["data"]))
    data["reply"]["cards"][0][3] = "javascript:alert(1)"
    sent = await teams.post(execute(connector.url, "feedback_helpful", data, reply_to=posted_id))
    assert "javascript:" not in sent.text and "Thanks" in sent.text


class _SlowFeedback(SqlRecords):
    """Records whose feedback write waits for the test (a slow database)."""

    gate = threading.Event()

    def record_feedback(self, question_id, platform, user_id, helpful):
        assert self.gate.wait(10), "test gate never opened"
        super().record_feedback(question_id, platform, user_id, helpful)


async def test_a_slow_action_answers_in_time_then_updates_the_card(
    start_teams, connector, sqlite_url
):
    _SlowFeedback.gate = threading.Event()
    teams = await start_teams(sqlite_url, records=_SlowFeedback, invoke_budget=0.2)
    posted_id, card = await _answer_card(teams, connector)
    button = _button(card, "feedback_helpful")
    sent = await teams.post(
        execute(connector.url, "feedback_helpful", button["data"], reply_to=posted_id)
    )
    assert "Working on it" in json.dumps(sent.json()["value"])
    assert connector.of("update") == []
    _SlowFeedback.gate.set()
    await connector.wait_for(lambda c: len(c.of("update")) == 1)
    update = connector.of("update")[0]
    assert update.activity_id == posted_id
    assert "marked helpful" in json.dumps(update.card, ensure_ascii=False)


async def test_a_slow_action_whose_answer_is_a_short_note_still_ends_as_a_card(
    start_teams, connector, sqlite_url, retriever_for_server
):
    """Slower than the invoke budget: "working on it" now, and the card it leaves is replaced
    by a card again (a plain string there would break the message in Teams)."""
    teams = await start_teams(sqlite_url, retriever_for_server, invoke_budget=0.2)
    gate = retriever_for_server.stall()
    click = execute(connector.url, "staffroom_say", {"value": "exit tickets"}, reply_to="17001")
    sent = await teams.post(click)
    assert sent.json()["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Working on it" in json.dumps(sent.json()["value"])
    gate.set()
    await connector.wait_for(lambda c: len(c.of("update")) == 1 and len(c.posts()) == 1)
    [update] = connector.of("update")
    assert update.activity_id == "17001"
    assert update.body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert update.card["type"] == "AdaptiveCard" and "Done." in json.dumps(update.card)
    [answer] = connector.posts()  # the answer itself went under the clicked card
    assert "Exit Tickets That Drive Tomorrow" in json.dumps(answer.card)
