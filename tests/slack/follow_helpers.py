"""Follow-through over Slack: the server with follow installed and its scheduler running."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.app import slack_timezones
from bot.follow_flow import FollowConfig
from bot.follow_wiring import Follow, install
from store.runner import Runner
from tests.slack.conftest import Staffroom
from tests.slack.fake_slack import Call, FakeSlack
from tests.slack.ideas_helpers import click, dm

DELAY = timedelta(seconds=1)


def dms_to(fake: FakeSlack, user: str) -> list[Call]:
    """Messages posted to ``user``'s DM (answers there, and proactive ones sent to the user id)."""
    return [c for c in fake.of("chat.postMessage") if c.params.get("channel") in (user, f"D{user}")]


def with_follow(staffroom: Staffroom, k: int = 3) -> Follow:
    components = staffroom.components
    core = components.core
    config = FollowConfig(DELAY, "America/Chicago", k)
    timezones = slack_timezones(components.slack)
    follow = install(core, Runner(components.database), config, review=components.review,
                     timezone_of=timezones)  # fmt: skip
    components.follow = follow
    return follow


def run_scheduler(follow: Follow, tasks: list[asyncio.Task[None]]) -> None:
    tasks.append(asyncio.create_task(follow.scheduler.forever(0.2)))


async def press(
    staffroom: Staffroom, fake: FakeSlack, user: str, message: Call, label: str
) -> list[Call]:
    """``user`` presses ``label`` on ``message`` (in their DM); what is said to them after."""
    before = len(fake.calls)
    ts = "2000.000001"
    await staffroom.interaction(click(fake, user, message.params, label, channel=f"D{user}", ts=ts))
    await fake.wait_for(lambda f: any(_to(c, user) for c in f.calls[before:]))
    return [c for c in fake.calls[before:] if _to(c, user)]


def _to(call: Call, user: str) -> bool:
    if call.method == "chat.postEphemeral":
        return call.params.get("user") == user
    if call.method.startswith("respond:"):
        return call.method == f"respond:click-{user}"
    return call.method == "chat.postMessage" and call.params.get("channel") in (user, f"D{user}")


async def say(staffroom: Staffroom, fake: FakeSlack, user: str, text: str) -> list[Call]:
    return await dm(staffroom, fake, user, text)
