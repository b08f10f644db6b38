"""Insights messages over real HTTP, on the app ``bot.app.build`` wires, against the fake Slack
Web API and the fake Bot Connector, on SQLite and PostgreSQL: the weekly digest (once, with its
chart, across two replicas and a restart; re-sent by the sweep when its send died), gap-closing
DMs after a re-index (once per person per week), and `insights` sign-in links (staff only)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.delivery import Pipeline
from bot.records import SqlRecords
from bot.reindex import job
from insights.schedule import DAYS
from store import InsightSend
from tests.insights.helpers import ask, people
from tests.ops.conftest import settings_for, write_library
from tests.slack.conftest import SECRET, signed
from tests.slack.ideas_helpers import command
from tests.teams.conftest import CHANNEL, PEOPLE, channel_mention, personal_message

STAFF, LEADERS, TEAMS_LEADERS = "USTAFF", "CLEADERS", "19:leaders@thread.tacv2"
NOW = datetime.now(UTC).replace(hour=7, minute=40, second=0, microsecond=0)
PNG = b"\x89PNG\r\n\x1a\n"
ASKED = "how do i share chromebooks fairly between classes"
NEW_SESSION = (
    "WEBVTT\n\n00:01:35.000 --> 00:02:10.000\nHere is how we share chromebooks fairly between "
    "classes: a rota for the cart.\n\n00:02:10.000 --> 00:02:40.000\nEach class gets the cart "
    "two days a week.\n"
)


@pytest.fixture
def settings(tmp_path, migrated_url, library, fake_slack, connector):
    def make(**extra: Any):
        values: dict[str, Any] = {
            "slack_signing_secret": SECRET, "slack_bot_token": "xoxb-test",
            "slack_api_url": fake_slack.api_url, "teams": "on",
            "teams_service_url": connector.url, "staff_users": f"slack:{STAFF}, teams:aad-staff",
            "leaders_channel": LEADERS, "digest_at": f"{DAYS[NOW.weekday()]} 07:30",
            "public_url": "https://staffroom.example.org",
        }  # fmt: skip
        return settings_for(tmp_path, migrated_url, library, **{**values, **extra})

    return make


async def _replica(start_app, settings, embedder, now: datetime = NOW):
    app = await start_app(settings, embedder=embedder)
    app.components.insights.jobs.clock = lambda: now
    return app


def _seed(app, n: int = 6) -> None:
    with app.components.database.session() as s:
        for user in people(n):
            ask(s, user, "exit tickets with 32 kids", when=NOW - timedelta(days=1))


def _posts(fake_slack, channel: str) -> list[dict[str, Any]]:
    return [c.params for c in fake_slack.of("chat.postMessage") if c.params["channel"] == channel]


# --- the weekly digest ---------------------------------------------------------------------


async def test_the_digest_arrives_once_with_its_chart_across_two_replicas_and_a_restart(
    settings, start_app, embedder, fake_slack
):
    config = settings()
    one, two = [await _replica(start_app, config, embedder) for _ in range(2)]
    _seed(one)
    early = one.components.insights.jobs
    early.clock = lambda: NOW - timedelta(minutes=11)  # 07:29: not due yet
    assert await early.send_digest() is None and not _posts(fake_slack, LEADERS)
    early.clock = lambda: NOW
    both = await asyncio.gather(*(r.components.insights.jobs.send_digest() for r in (one, two)))
    assert all(d is not None for d in both)
    assert sorted(d.repeated for d in both if d) == [False, True]  # one sent, one was told
    [digest] = _posts(fake_slack, LEADERS)
    assert "Questions: 6 this week." in digest["text"]
    assert "https://staffroom.example.org/insights" in digest["text"]
    [chart] = fake_slack.shared()
    assert chart["channel"] == LEADERS and chart["bytes"].startswith(PNG)
    assert chart["alt_txt"].startswith("Questions per week, ") and chart["title"]
    restarted = await _replica(start_app, config, embedder, NOW + timedelta(hours=3))
    for app in (one, two, restarted):
        await app.components.insights.jobs.run_once()
    assert len(_posts(fake_slack, LEADERS)) == 1 and len(fake_slack.shared()) == 1
    with restarted.components.database.session() as s:
        assert s.get(InsightSend, ("digest", _week(NOW))) is not None


def _week(when: datetime) -> str:
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"


async def test_a_digest_whose_send_died_is_sent_by_the_sweep_once(
    settings, start_app, embedder, fake_slack
):
    one = await _replica(start_app, settings(), embedder)
    fake_slack.fail("chat.postMessage", "fatal_error")
    failed = await one.components.insights.jobs.send_digest()
    assert failed is not None and failed.error == "fatal_error"
    # Another replica's sweep, once the claim's lease has run out, sends what was claimed.
    core, later = one.components.core, lambda: datetime.now(UTC) + timedelta(minutes=5)
    survivor = Pipeline(core, SqlRecords(one.components.database, clock=later), core.db)
    survivor.register("slack", one.components.slack.courier)
    assert await survivor.recover() == 1
    assert len(_posts(fake_slack, LEADERS)) == 2  # the refused post, then the one that went
    [chart] = fake_slack.shared()
    assert chart["channel"] == LEADERS and chart["bytes"].startswith(PNG)
    again = await one.components.insights.jobs.send_digest()
    assert again is not None and again.repeated and len(_posts(fake_slack, LEADERS)) == 2


async def test_the_digest_goes_to_a_teams_channel_as_a_card_with_its_chart(
    settings, start_app, embedder, connector
):
    one = await _replica(start_app, settings(leaders_channel=f"teams:{TEAMS_LEADERS}"), embedder)
    sent = await one.components.insights.jobs.send_digest()
    assert sent is not None and sent.ok
    [post] = [c for c in connector.posts() if c.conversation == TEAMS_LEADERS]
    [image] = [b for b in post.card["body"] if b["type"] == "Image"]
    prefix = "data:image/png;base64,"
    assert image["url"].startswith(prefix) and image["altText"].startswith("Questions per week")
    assert base64.b64decode(image["url"][len(prefix):]).startswith(PNG)
    assert len(json.dumps(post.body)) < 28_000  # Teams' message limit, with room to spare
    assert "staffroom.example.org/insights" in json.dumps(post.card)


# --- gap-closing DMs -------------------------------------------------------------------------


def _reindex(app, settings, library: Path, embedder) -> None:
    """A re-index as `staffroom reindex` runs it (another process, as far as serve knows)."""
    database = app.components.database
    held = job.claim(database, "cli-test", job.started_by_cli("reindex"), "cli")
    assert isinstance(held, job.Claim)
    job.execute(database, held, library, settings.index_dir, embedder, raising=True)


async def _slack_dm(app, user: str, text: str, ts: str) -> None:
    event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user,
             "text": text, "ts": ts, "event_ts": ts}  # fmt: skip
    body = json.dumps({"type": "event_callback", "event_id": f"Ev{ts}", "team_id": "T1",
                       "api_app_id": "A1", "event": event, "event_time": 1})  # fmt: skip
    headers = signed(body, "application/json")
    async with app.session.post(app.url("/slack/events"), data=body, headers=headers) as r:
        assert r.status == 200


def _gap_dms(fake_slack, connector) -> dict[str, list[str]]:
    """Who got a gap DM, and its texts (Slack user ids; Teams chats)."""
    got: dict[str, list[str]] = {}
    for c in fake_slack.of("chat.postMessage"):
        if c.params["text"].startswith("You asked about"):
            got.setdefault(c.params["channel"], []).append(c.params["text"])
    for c in connector.posts():
        if "You asked about" in json.dumps(c.body):
            got.setdefault(c.conversation, []).append(c.body.get("summary", ""))
    return got


async def test_gap_dms_reach_each_asker_once_a_week_after_a_reindex_adds_a_matching_session(
    settings, start_app, embedder, fake_slack, connector, library
):
    config = settings(match_threshold=0.5)  # the question below matches nothing until later
    one = await _replica(start_app, config, embedder, datetime.now(UTC))
    two = await _replica(start_app, config, embedder, datetime.now(UTC))
    _reindex(one, config, library, embedder)  # two sessions that answer none of what follows
    assert await one.components.insights.jobs.close_gaps() == 0  # the first version seen
    askers = people(5)
    for n, user in enumerate([*askers, askers[0]]):  # the first asks twice
        await _slack_dm(one, user, ASKED, f"1700000100.00000{n}")
    teacher, chat = PEOPLE["teacher"]
    async with one.session.post(
        one.url("/api/messages"), json=personal_message(connector.url, ASKED, teacher, chat)
    ) as r:
        assert r.status == 200
    await one.components.teams.settle()
    await fake_slack.wait_for(lambda f: len(f.of("chat.postMessage")) >= 6)
    await one.components.insights.jobs.upkeep()  # groups the questions into a gap topic

    write_library(library, {"devices/share-chromebooks-fairly-between-classes.vtt": NEW_SESSION})
    _reindex(one, config, library, embedder)
    sent = await asyncio.gather(*(r.components.insights.jobs.close_gaps() for r in (one, two)))
    assert sorted(sent) == [0, 6]  # one replica checked the new version, the other found it done
    dms = _gap_dms(fake_slack, connector)
    assert sorted(dms) == sorted([*askers, chat]) and all(len(t) == 1 for t in dms.values())
    text = dms[askers[0]][0]
    assert f"You asked about “{ASKED}”" in text
    assert "“Share chromebooks fairly between classes” ▶ 01:35" in text
    [card] = [c for c in _posts(fake_slack, askers[0]) if c["text"] == text]
    assert "01:35" in json.dumps(card["blocks"])  # the session's card, at the moment

    # Another matching session the same week: nobody hears twice, even after a restart.
    carts = "# Share chromebooks fairly between classes with carts\n\nA rota.\n"
    write_library(library, {"devices/carts.md": carts})
    _reindex(one, config, library, embedder)
    restarted = await _replica(start_app, config, embedder, datetime.now(UTC))
    assert await restarted.components.insights.jobs.close_gaps() == 0
    assert await one.components.insights.jobs.close_gaps() == 0
    assert all(len(t) == 1 for t in _gap_dms(fake_slack, connector).values())
    # A week later, a third one: each asker may hear again.
    more = "# Share chromebooks fairly between classes, part two\n\nMore.\n"
    write_library(library, {"devices/part-two.md": more})
    _reindex(one, config, library, embedder)
    restarted.components.insights.jobs.clock = lambda: datetime.now(UTC) + timedelta(days=7)
    assert await restarted.components.insights.jobs.close_gaps() == 6
    assert all(len(t) == 2 for t in _gap_dms(fake_slack, connector).values())


# --- sign-in links ---------------------------------------------------------------------------


async def _slash(app, fake_slack, user: str, text: str) -> None:
    from urllib.parse import urlencode

    body = urlencode(command(fake_slack, user, text))
    headers = signed(body, "application/x-www-form-urlencoded")
    async with app.session.post(app.url("/slack/events"), data=body, headers=headers) as r:
        assert r.status == 200


async def test_slash_insights_gives_staff_a_link_and_others_a_refusal(
    settings, start_app, embedder, fake_slack, connector
):
    app = await start_app(settings(public_url=""), embedder=embedder)
    for user in (STAFF, "UTEACH"):
        await _slash(app, fake_slack, user, "insights")
    await fake_slack.wait_for(lambda f: all(f.of(f"respond:cmd-{u}") for u in (STAFF, "UTEACH")))
    [link] = fake_slack.of(f"respond:cmd-{STAFF}")
    assert link.params["response_type"] == "ephemeral"
    assert "http://localhost:3000/insights/signin?token=" in link.params["text"]
    [refused] = fake_slack.of("respond:cmd-UTEACH")
    assert "Only central staff" in refused.params["text"] and "token=" not in refused.params["text"]
    for who in ("staff", "teacher"):
        sender, chat = PEOPLE[who]
        activity = personal_message(connector.url, "insights", sender, chat)
        async with app.session.post(app.url("/api/messages"), json=activity) as r:
            assert r.status == 200
    await app.components.teams.settle()
    said = {c.conversation: json.dumps(c.body) for c in connector.posts()}
    assert "/insights/signin?token=" in said[PEOPLE["staff"][1]]
    assert "Only central staff" in said[PEOPLE["teacher"][1]]
    assert "token=" not in said[PEOPLE["teacher"][1]]
    # Asked in a channel, the link goes to the person's chat with Staffroom, never the channel.
    staff, chat = PEOPLE["staff"]
    async with app.session.post(
        app.url("/api/messages"), json=channel_mention(connector.url, "insights", sender=staff)
    ) as r:
        assert r.status == 200
    await app.components.teams.settle()
    posts = connector.posts()
    in_channel = [json.dumps(c.body) for c in posts if c.conversation.startswith(CHANNEL)]
    assert len(in_channel) == 1 and "private chat" in in_channel[0]
    assert "token=" not in in_channel[0]
    links = [c for c in posts if c.conversation == chat and "token=" in json.dumps(c.body)]
    assert len(links) == 2  # the one asked for in the chat, and the one asked for in the channel
