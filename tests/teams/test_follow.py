"""Follow-through over Teams, end to end over real HTTP against the fake Bot Connector:
I'll try this on an answer card → the check-in card in the personal chat (through a 429) →
worked → a reflection → shared; the teacher's localTimezone is kept; stop check-ins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.follow_flow import FollowConfig
from bot.follow_wiring import Follow, install
from store import FollowMessage, FollowPerson, FollowReflection, utcnow
from store.runner import Runner
from tests.teams.conftest import PEOPLE, Staffroom, personal_message
from tests.teams.ideas_helpers import button, chat, click, in_conversation, said


@pytest.fixture
async def tasks() -> AsyncIterator[list[asyncio.Task[None]]]:
    running: list[asyncio.Task[None]] = []
    yield running
    for task in running:
        task.cancel()


def _with_follow(teams: Staffroom, running: list[asyncio.Task[None]]) -> Follow:
    components = teams.components
    config = FollowConfig(timedelta(seconds=1), "America/Chicago", 3)
    follow = install(components.core, Runner(components.database), config,
                     review=components.review)  # fmt: skip
    running.append(asyncio.create_task(follow.scheduler.forever(0.2)))
    return follow


async def _ask(teams: Staffroom, user: str, text: str, tz: str = "") -> list:
    sender, conversation = PEOPLE[user]
    before = len(in_conversation(teams.connector, conversation))
    activity = personal_message(teams.connector.url, text, sender, conversation)
    if tz:
        activity["localTimezone"] = tz
    assert (await teams.post(activity)).status == 200
    await teams.front.settle()
    return in_conversation(teams.connector, conversation)[before:]


async def _check_in(teams: Staffroom, user: str) -> object:
    _, conversation = PEOPLE[user]
    await teams.connector.wait_for(
        lambda c: "Did you try" in said(in_conversation(c, conversation))
    )
    return next(c for c in in_conversation(teams.connector, conversation)
                if "Did you try" in said([c]))  # fmt: skip


async def test_try_check_in_worked_reflect_share(start_teams, db_url, tasks):
    teams = await start_teams(db_url, with_ideas=True)
    _with_follow(teams, tasks)
    (answer,) = await _ask(teams, "teacher", "how do I run exit tickets?", "America/Denver")
    await click(teams, "teacher", button(answer.card, "🙋 I'll try this"), on=answer)
    teams.connector.refuse(429, retry_after="0")  # the check-in's first post is rate limited
    checkin = await _check_in(teams, "teacher")
    assert "Exit Tickets That Drive" in said([checkin])
    assert [b["title"] for b in checkin.card["actions"]][:3] == [
        "✅ Worked", "➗ Partly", "❌ Didn't work"
    ]  # fmt: skip
    await click(teams, "teacher", button(checkin.card, "✅ Worked"), on=checkin)
    _, conversation = PEOPLE["teacher"]
    assert "What would you tell a colleague" in said(in_conversation(teams.connector, conversation))
    (kept,) = await chat(teams, "teacher", "Two piles, not three.")
    assert "Kept, privately" in said([kept])
    await click(teams, "teacher", button(kept.card, "🤝 Share"), on=kept)
    with teams.components.database.session() as s:
        assert s.get(FollowPerson, ("teams", "aad-teacher")).timezone == "America/Denver"
        (reflection,) = s.scalars(sa.select(FollowReflection)).all()
        assert (reflection.text, reflection.shared, reflection.outcome) == (
            "Two piles, not three.", True, "worked"
        )  # fmt: skip
        assert s.scalars(sa.select(FollowMessage.state)).all() == ["answered"]
    checkins = [c for c in in_conversation(teams.connector, conversation)
                if "Did you try" in said([c])]  # fmt: skip
    assert len(checkins) == 1 and teams.connector.refused == 1  # waited out, sent once


async def test_stop_check_ins_over_teams(start_teams, sqlite_url, tasks):
    teams = await start_teams(sqlite_url, with_ideas=True)
    _with_follow(teams, tasks)
    (answer,) = await _ask(teams, "colleague", "how do I run exit tickets?")
    await click(teams, "colleague", button(answer.card, "🙋 I'll try this"), on=answer)
    checkin = await _check_in(teams, "colleague")
    await click(teams, "colleague", button(checkin.card, "🔕 Stop"), on=checkin)
    with teams.components.database.session() as s:
        assert s.get(FollowPerson, ("teams", "aad-colleague")).stopped
    replies = await chat(teams, "colleague", "try wait-time")
    assert "Check-ins are off" in said(replies)


@pytest.mark.parametrize("status", [403, 404])
async def test_a_403_or_404_from_teams_stops_that_persons_schedule(
    start_teams, sqlite_url, tasks, status
):
    teams = await start_teams(sqlite_url, with_ideas=True)
    follow = install(teams.components.core, Runner(teams.components.database),
                     FollowConfig(timedelta(seconds=1), "UTC", 3))  # fmt: skip
    (answer,) = await _ask(teams, "teacher", "how do I run exit tickets?")
    await click(teams, "teacher", button(answer.card, "🙋 I'll try this"), on=answer)
    with teams.components.database.session() as s:  # due now
        s.execute(sa.update(FollowMessage).values(due_at=utcnow()))
    teams.connector.refuse(status)  # the bot was removed from the user's chat / user gone
    assert await follow.scheduler.run_once() == 0
    with teams.components.database.session() as s:
        person = s.get(FollowPerson, ("teams", "aad-teacher"))
        assert (person.stopped, person.stopped_reason) == (True, "gone")
        assert s.scalars(sa.select(FollowMessage.state)).all() == ["stopped"]


async def test_another_teams_refusal_keeps_the_check_in_due_with_its_status(
    start_teams, sqlite_url, tasks
):
    teams = await start_teams(sqlite_url, with_ideas=True)
    follow = install(teams.components.core, Runner(teams.components.database),
                     FollowConfig(timedelta(seconds=1), "UTC", 3))  # fmt: skip
    (answer,) = await _ask(teams, "teacher", "how do I run exit tickets?")
    await click(teams, "teacher", button(answer.card, "🙋 I'll try this"), on=answer)
    with teams.components.database.session() as s:
        s.execute(sa.update(FollowMessage).values(due_at=utcnow()))
    teams.connector.refuse(400)  # not retried by the client, not "gone"
    assert await follow.scheduler.run_once() == 0
    with teams.components.database.session() as s:
        assert not s.get(FollowPerson, ("teams", "aad-teacher")).stopped
        row = s.scalars(sa.select(FollowMessage)).one()
        assert (row.state, row.error, row.attempts) == ("due", "http_400", 1)


async def test_follow_notice_pilot_verdict_on_the_review_card(start_teams, db_url, tasks):
    from tests.teams.conftest import REVIEW
    from tests.teams.ideas_helpers import card_text
    from tests.teams.test_ideas import _pitch_by_form

    teams = await start_teams(db_url, with_ideas=True)
    _with_follow(teams, tasks)
    await _pitch_by_form(teams)
    (followed,) = await chat(teams, "colleague", "follow 1")
    assert "You follow idea #1" in said([followed])
    await chat(teams, "staff", "triage 1 review")
    await chat(teams, "staff", "triage 1 pilot")
    notice = await _dm_saying(teams, "colleague", "now being piloted")
    await click(teams, "colleague", button(notice.card, "🧪 Join the pilot"), on=notice)
    ask = await _dm_saying(teams, "colleague", "your verdict: adopt")
    await click(teams, "colleague", button(ask.card, "✏️ Adapt"), on=ask)
    updates = len(teams.connector.of("update"))
    (thanks,) = await chat(teams, "colleague", "https://docs.example/circles-notes")
    assert "with the reviewers" in said([thanks])
    await teams.connector.wait_for(lambda c: len(c.of("update")) > updates)
    update = teams.connector.of("update")[-1]
    assert update.conversation == REVIEW
    text = card_text(update.card)
    assert "1 adapt" in text and "https://docs.example/circles-notes" in text


async def _dm_saying(teams: Staffroom, user: str, words: str) -> object:
    _, conversation = PEOPLE[user]
    await teams.connector.wait_for(lambda c: words in said(in_conversation(c, conversation)))
    return next(c for c in in_conversation(teams.connector, conversation) if words in said([c]))
