"""Follow-through over Slack, end to end over real HTTP: I'll try this → the check-in DM after a
seconds-scale delay → worked → a reflection, shared → colleagues' counts on the next answer;
snooze and stop; a gone user; follow → status move → notice; pilot → verdict → review card."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from store import FollowMessage, FollowPerson, utcnow
from tests.slack.conftest import STAFF, TEACHER
from tests.slack.follow_helpers import dms_to, press, run_scheduler, say, with_follow

QUESTION = "how do I run exit tickets?"


@pytest.fixture
async def scheduler_task() -> AsyncIterator[list[asyncio.Task[None]]]:
    """Scheduler loops a test starts, cancelled at its end."""
    tasks: list[asyncio.Task[None]] = []
    yield tasks
    for task in tasks:
        task.cancel()


async def _check_in(staffroom, fake, user: str, follow, tasks) -> object:
    """Ask, press I'll try this, wait for the check-in DM; the check-in message."""
    (answer,) = await say(staffroom, fake, user, QUESTION)
    assert "I'll try this" in str(answer.params["blocks"])
    said = await press(staffroom, fake, user, answer, "🙋 I'll try this")
    assert "I'll check in soon" in said[0].params["text"]
    if not tasks:
        run_scheduler(follow, tasks)
    await fake.wait_for(lambda f: any("Did you try" in c.params.get("text", "")
                                      for c in dms_to(f, user)))  # fmt: skip
    return next(c for c in dms_to(fake, user) if "Did you try" in c.params.get("text", ""))


async def test_try_check_in_reflect_share_and_counts(
    start_server, db_url, fake_slack, scheduler_task
):
    staffroom = await start_server(db_url, with_ideas=True)
    follow = with_follow(staffroom, k=3)
    fake_slack.users["U1"] = {"tz": "Europe/Paris"}
    for n, user in enumerate(("U1", "U2", "U3")):
        checkin = await _check_in(staffroom, fake_slack, user, follow, scheduler_task)
        assert checkin.params["channel"] == user
        assert "Exit Tickets That Drive" in checkin.params["text"]
        said = await press(staffroom, fake_slack, user, checkin, "✅ Worked")
        assert "What would you tell a colleague" in said[-1].params["text"]
        assert "Pitch your version" in str(said[-1].params.get("blocks"))
        (kept,) = await say(staffroom, fake_slack, user, f"Sort them in three piles ({n}).")
        assert "Kept, privately" in kept.params["text"]
        said = await press(staffroom, fake_slack, user, kept, "🤝 Share")
        assert "Shared" in str([c.params for c in said])
        if n < 2:  # below the minimum group: no counts yet
            (answer,) = await say(staffroom, fake_slack, "U9", QUESTION)
            assert "tried by" not in answer.params["text"]
    (answer,) = await say(staffroom, fake_slack, "U9", QUESTION)
    assert "tried by 3 colleagues — 3 say it worked" in answer.params["text"]
    said = await press(staffroom, fake_slack, "U9", answer, "💬 What colleagues said")
    assert "Sort them in three piles" in str([c.params for c in said])
    with staffroom.components.database.session() as s:
        assert s.get(FollowPerson, ("slack", "U1")).timezone == "Europe/Paris"
        states = s.scalars(sa.select(FollowMessage.state)).all()
        assert sorted(states) == ["answered"] * 3  # each check-in sent once, answered once


async def test_snooze_then_stop_ends_every_check_in(
    start_server, db_url, fake_slack, scheduler_task
):
    staffroom = await start_server(db_url, with_ideas=True)
    follow = with_follow(staffroom)
    checkin = await _check_in(staffroom, fake_slack, TEACHER, follow, scheduler_task)
    said = await press(staffroom, fake_slack, TEACHER, checkin, "⏰ Not yet")
    assert "again later" in str([c.params for c in said])
    await fake_slack.wait_for(
        lambda f: sum("Did you try" in c.params.get("text", "") for c in dms_to(f, TEACHER)) == 2
    )
    second = [c for c in dms_to(fake_slack, TEACHER) if "Did you try" in c.params["text"]][-1]
    said = await press(staffroom, fake_slack, TEACHER, second, "🔕 Stop")
    assert "no more check-ins" in str([c.params for c in said])
    (answer,) = await say(staffroom, fake_slack, TEACHER, "wait time questioning")
    await say(staffroom, fake_slack, TEACHER, "try wait-time")
    with staffroom.components.database.session() as s:
        assert s.get(FollowPerson, ("slack", TEACHER)).stopped
        assert s.scalar(sa.select(sa.func.count()).where(FollowMessage.state == "due")) == 0


async def test_a_user_slack_says_is_gone_stops_their_schedule(
    start_server, sqlite_url, fake_slack, scheduler_task
):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    follow = with_follow(staffroom)
    (answer,) = await say(staffroom, fake_slack, TEACHER, QUESTION)
    await press(staffroom, fake_slack, TEACHER, answer, "🙋 I'll try this")
    with staffroom.components.database.session() as s:  # due now
        s.execute(sa.update(FollowMessage).values(due_at=utcnow()))
    fake_slack.fail("chat.postMessage", "user_not_found")
    assert await follow.scheduler.run_once() == 0
    with staffroom.components.database.session() as s:
        person = s.get(FollowPerson, ("slack", TEACHER))
        assert (person.stopped, person.stopped_reason) == (True, "gone")
        assert s.scalars(sa.select(FollowMessage.state)).all() == ["stopped"]


async def test_follow_pilot_verdict_and_review_card(
    start_server, db_url, fake_slack, scheduler_task
):
    from tests.slack.test_triage import _ref_ts, _review_post, _submitted  # the pitch there

    staffroom = await start_server(db_url, with_ideas=True)
    follow = with_follow(staffroom)
    run_scheduler(follow, scheduler_task)
    await _submitted(staffroom, fake_slack)
    (said,) = await say(staffroom, fake_slack, "UFAN", "follow 1")
    assert "You follow idea #1" in said.params["text"]
    for word in ("review", "pilot"):
        await say(staffroom, fake_slack, STAFF, f"triage 1 {word}")
    await fake_slack.wait_for(
        lambda f: any("now being piloted" in c.params.get("text", "") for c in dms_to(f, "UFAN"))
    )
    notice = next(c for c in dms_to(fake_slack, "UFAN") if "now being" in c.params["text"])
    said = await press(staffroom, fake_slack, "UFAN", notice, "🧪 Join the pilot")
    assert "Welcome to the pilot" in str([c.params for c in said])
    await fake_slack.wait_for(
        lambda f: any("What's your verdict" in c.params.get("text", "") for c in dms_to(f, "UFAN"))
    )
    ask = next(c for c in dms_to(fake_slack, "UFAN") if "your verdict: adopt" in c.params["text"])
    said = await press(staffroom, fake_slack, "UFAN", ask, "✅ Adopt")
    assert "Paste the link" in str([c.params for c in said])
    updates = len(fake_slack.of("chat.update"))
    (done,) = await say(staffroom, fake_slack, "UFAN", "https://docs.example/exit-notes")
    assert "with the reviewers" in done.params["text"]
    await fake_slack.wait_for(lambda f: len(f.of("chat.update")) > updates)
    card = str(fake_slack.of("chat.update")[-1].params["blocks"])
    assert "1 adopt" in card and "https://docs.example/exit-notes" in card
    assert _ref_ts(staffroom) and _review_post(fake_slack)


async def test_worked_offers_pitch_your_version_prefilled_and_linked(
    start_server, sqlite_url, fake_slack, scheduler_task
):
    from store import Idea
    from tests.slack.ideas_helpers import click, submission
    from tests.slack.test_pitch import GOOD

    staffroom = await start_server(sqlite_url, with_ideas=True)
    follow = with_follow(staffroom)
    run_scheduler(follow, scheduler_task)
    await say(staffroom, fake_slack, TEACHER, "try circles")
    await fake_slack.wait_for(
        lambda f: any("Did you try" in c.params.get("text", "") for c in dms_to(f, TEACHER))
    )
    checkin = next(c for c in dms_to(fake_slack, TEACHER) if "Did you try" in c.params["text"])
    assert "Restorative Circles" in checkin.params["text"]
    said = await press(staffroom, fake_slack, TEACHER, checkin, "✅ Worked")
    pitch = click(fake_slack, TEACHER, said[-1].params, "💡 Pitch", channel=f"D{TEACHER}", ts="1.1")
    await staffroom.interaction(pitch)
    await fake_slack.wait_for(lambda f: len(f.of("views.open")) == 1)
    view = fake_slack.of("views.open")[0].params["view"]
    title = next(b for b in view["blocks"] if b.get("block_id") == "title")
    assert title["element"]["initial_value"] == "My version of Restorative Circles"
    values = {**GOOD, "title": "Circles, my way"}
    assert (await staffroom.interaction(submission(TEACHER, view, values))).status == 200
    await fake_slack.wait_for(
        lambda f: any("Your idea is #1" in c.params.get("text", "") for c in dms_to(f, TEACHER))
    )
    with staffroom.components.database.session() as s:
        idea = s.get(Idea, 1)
        assert idea.title == "Circles, my way"
        assert idea.related_sessions[0]["session_id"] == "circles"
