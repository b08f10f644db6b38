"""Staff by Slack user group: members may triage, others are refused, Slack errors fall back."""

from __future__ import annotations

import time
from dataclasses import replace

import ideas
from store import Idea, IdeaEvent
from tests.scenarios.scripts import EXIT, pitch
from tests.slack.conftest import REVIEW_CHANNEL, STAFF, TEACHER
from tests.slack.ideas_helpers import click, dm

GROUP, MEMBER, OUTSIDER = "S0STAFF", "UGROUPIE", "UOUTSIDE"


async def _posted_idea(staffroom, fake):
    for step in pitch(TEACHER, *EXIT):
        await dm(staffroom, fake, TEACHER, step.text)
    await dm(staffroom, fake, TEACHER, "submit")
    [post] = [
        c.params for c in fake.of("chat.postMessage") if c.params["channel"] == REVIEW_CHANNEL
    ]
    with staffroom.components.database.session() as s:
        ts = s.get(Idea, 1).review_ref.split(":")[1]
    return post, ts


def _with_group(staffroom, clock=None):
    """The review desk as ``build`` wires it with STAFFROOM_STAFF_USERGROUP=S0STAFF."""
    desk = staffroom.components.review
    members = staffroom.components.slack.courier.usergroup_members
    group = ideas.CachedGroup(GROUP, members, clock=clock or time.monotonic)
    roster = ideas.StaffRoster(desk.deps.roles, {"slack": group})
    desk.deps = replace(desk.deps, staff=roster)
    return group


def _state(database):
    with database.session() as s:
        return s.get(Idea, 1).status, s.query(IdeaEvent).count()


async def test_a_group_member_can_triage(start_server, sqlite_url, fake_slack):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    fake_slack.usergroups[GROUP] = [MEMBER, "UOTHER"]
    _with_group(staffroom)
    post, ts = await _posted_idea(staffroom, fake_slack)
    await staffroom.interaction(
        click(fake_slack, MEMBER, post, "Start review", channel=REVIEW_CHANNEL, ts=ts)
    )
    await fake_slack.wait_for(lambda f: len(f.of("chat.update")) == 1)
    assert _state(staffroom.components.database)[0] == "under_review"
    [lookup] = fake_slack.of("usergroups.users.list")
    assert lookup.params["usergroup"] == GROUP


async def test_a_non_member_is_refused_and_nothing_changes(start_server, sqlite_url, fake_slack):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    fake_slack.usergroups[GROUP] = [MEMBER]
    _with_group(staffroom)
    post, ts = await _posted_idea(staffroom, fake_slack)
    before = _state(staffroom.components.database)
    await staffroom.interaction(
        click(fake_slack, OUTSIDER, post, "Start review", channel=REVIEW_CHANNEL, ts=ts)
    )
    await fake_slack.wait_for(lambda f: len(f.of("chat.postEphemeral")) == 1)
    refusal = fake_slack.of("chat.postEphemeral")[0].params
    assert refusal["user"] == OUTSIDER and "Only central staff can review ideas" in refusal["text"]
    assert _state(staffroom.components.database) == before == ("new", 1)
    assert fake_slack.of("chat.update") == []


async def test_the_group_is_cached_and_an_api_error_falls_back_to_configured_staff(
    start_server, sqlite_url, fake_slack, caplog
):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    fake_slack.usergroups[GROUP] = [MEMBER]
    now = [0.0]
    group = _with_group(staffroom, clock=lambda: now[0])
    assert await group.members() == {MEMBER}
    assert await group.members() == {MEMBER}  # cached: still one look-up
    assert len(fake_slack.of("usergroups.users.list")) == 1
    now[0] += 301  # the cache has expired and Slack refuses (say, the scope is missing)
    fake_slack.fail("usergroups.users.list", "missing_scope")
    roster = staffroom.components.review.deps.staff
    assert not await roster.is_staff("slack", MEMBER)
    assert await roster.is_staff("slack", STAFF)  # STAFFROOM_STAFF_USERS still count
    assert "missing_scope" in caplog.text
    # a refusal names what was refused
    refused = await dm(staffroom, fake_slack, MEMBER, "question new Why? by 2999-01-01")
    assert "Only central staff can open design questions" in refused[0].params["text"]
