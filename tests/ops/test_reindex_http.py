"""Re-index and status over real HTTP, on the app ``bot.app.build`` wires: Slack (signed
requests, a fake Web API) and Teams (a fake Bot Connector); non-admins are refused everywhere."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import sqlalchemy as sa

from store import ReindexRun
from tests.ops.conftest import ADMIN, TEACHER, settings_for
from tests.slack.conftest import SECRET, signed
from tests.slack.ideas_helpers import command
from tests.teams.conftest import PEOPLE, personal_message


def _settings(tmp_path, url, library, fake_slack, connector):
    return settings_for(
        tmp_path,
        url,
        library,
        slack_signing_secret=SECRET,
        slack_bot_token="xoxb-test",
        slack_api_url=fake_slack.api_url,
        teams="on",
        teams_service_url=connector.url,
    )


async def _slash(app, fields: dict[str, str]) -> int:
    body = urlencode(fields)
    headers = signed(body, "application/x-www-form-urlencoded")
    async with app.session.post(app.url("/slack/events"), data=body, headers=headers) as r:
        return r.status


async def _dm(app, user: str, text: str, ts: str) -> int:
    event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user,
             "text": text, "ts": ts, "event_ts": ts}  # fmt: skip
    body = json.dumps({"type": "event_callback", "event_id": f"Ev{ts}", "team_id": "T1",
                       "api_app_id": "A1", "event": event, "event_time": 1})  # fmt: skip
    headers = signed(body, "application/json")
    async with app.session.post(app.url("/slack/events"), data=body, headers=headers) as r:
        return r.status


async def _teams(app, connector, who: str, text: str) -> int:
    sender, conversation = PEOPLE[who]
    activity = personal_message(connector.url, text, sender, conversation)
    async with app.session.post(app.url("/api/messages"), json=activity) as r:
        status = r.status
    await app.components.teams.settle()
    return status


def _texts(calls) -> str:
    return "\n".join(str(c.params.get("text", "")) for c in calls)


def _runs(app) -> int:
    with app.components.database.session() as s:
        return len(list(s.scalars(sa.select(ReindexRun))))


async def test_slack_admin_reindexes_with_progress_in_their_dm_then_reads_status(
    tmp_path, sqlite_url, library, embedder, start_app, fake_slack, connector
):
    app = await start_app(_settings(tmp_path, sqlite_url, library, fake_slack, connector),
                          embedder=embedder)  # fmt: skip
    assert await _slash(app, command(fake_slack, ADMIN, "reindex")) == 200
    await fake_slack.wait_for(lambda f: "Re-index finished" in _texts(f.of("chat.update")))
    [started] = [c for c in fake_slack.of("chat.postMessage") if c.params["channel"] == ADMIN]
    assert started.params["text"] == "Re-index #1 started…"
    [ack] = fake_slack.of(f"respond:cmd-{ADMIN}")
    assert "direct messages" in ack.params["text"] and ack.params["response_type"] == "ephemeral"
    # The same message, edited in place: in the DM channel Slack answered with, not the user id
    # it was sent to (chat.update refuses that with message_not_found).
    final = fake_slack.of("chat.update")[-1].params
    assert (final["channel"], final["ts"]) == (f"D{ADMIN}", "2000.000001")
    assert "Added 2 · changed 0 · removed 0" in final["text"]
    assert all(u.params["channel"] == f"D{ADMIN}" for u in fake_slack.of("chat.update"))
    assert await _slash(app, command(fake_slack, ADMIN, "status")) == 200
    await fake_slack.wait_for(lambda f: len(f.of(f"respond:cmd-{ADMIN}")) == 2)
    said = fake_slack.of(f"respond:cmd-{ADMIN}")[-1].params["text"]
    assert "Index v000001-" in said and "2 sessions, 2 chunks" in said and "succeeded" in said


async def test_teams_admin_reindexes_with_the_card_updated_in_place(
    tmp_path, sqlite_url, library, embedder, start_app, fake_slack, connector
):
    app = await start_app(_settings(tmp_path, sqlite_url, library, fake_slack, connector),
                          embedder=embedder)  # fmt: skip
    assert await _teams(app, connector, "staff", "reindex") == 200
    await app.components.reindex.settle()
    await connector.wait_for(lambda c: bool(c.of("update")))
    _, conversation = PEOPLE["staff"]
    [posted] = [c for c in connector.posts() if c.conversation == conversation]
    assert "Re-index #1 started" in json.dumps(posted.body)
    last = connector.of("update")[-1]
    assert last.activity_id == posted.posted_id and "Re-index finished" in json.dumps(last.body)


async def test_a_teacher_is_refused_on_slack_and_teams_and_nothing_runs(
    tmp_path, sqlite_url, library, embedder, start_app, fake_slack, connector
):
    app = await start_app(_settings(tmp_path, sqlite_url, library, fake_slack, connector),
                          embedder=embedder)  # fmt: skip
    for text in ("reindex", "status"):
        assert await _slash(app, command(fake_slack, TEACHER, text)) == 200
    await fake_slack.wait_for(lambda f: len(f.of(f"respond:cmd-{TEACHER}")) == 2)
    for n, text in enumerate(("reindex", "status"), 1):
        assert await _dm(app, TEACHER, text, f"1700000100.00000{n}") == 200
    await fake_slack.wait_for(
        lambda f: (
            len([c for c in f.of("chat.postMessage") if c.params["channel"] == f"D{TEACHER}"]) == 2
        )
    )
    for text in ("reindex", "status"):
        assert await _teams(app, connector, "teacher", text) == 200
    refusals = [c.params["text"] for c in fake_slack.of(f"respond:cmd-{TEACHER}")]
    refusals += [c.params["text"] for c in fake_slack.of("chat.postMessage")]
    _, chat = PEOPLE["teacher"]
    refusals += [json.dumps(c.body) for c in connector.posts() if c.conversation == chat]
    assert len(refusals) == 6
    assert all("Only Staffroom admins can do that" in r for r in refusals), refusals
    assert _runs(app) == 0 and embedder.calls == 0 and not fake_slack.of("chat.update")
    assert not (tmp_path / "data/index/CURRENT").exists()
