"""Kill a replica mid-answer: another process answers what it had acknowledged (Slack and Teams).

The first replica is a real separate process serving real HTTP (``stalled_replica``): it acks a
signed Slack mention and a Teams message, claims them, and is SIGKILLed while searching. The
second replica, in this process, drops Slack's retry (the claim is taken) and then, its clock past
the lease, answers both through the real slack_sdk / botbuilder clients, late, in the
right thread, exactly once. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from aiohttp.test_utils import TestServer

from bot.app import Components
from bot.core import Core
from bot.delivery import LATE_NOTE
from bot.delivery.contacts import Contacts
from bot.records import SqlRecords
from bot.server import build_web_app
from bot.slack.app import SlackFrontEnd
from bot.teams.app import TeamsFrontEnd
from bot.teams.auth import BotConfig, authentication
from bot.teams.courier import TeamsCourier
from store import Database, ProcessedEvent, Question, utcnow
from store.migrate import upgrade
from tests.bot.fakes import FakeRetriever
from tests.ops.stalled_replica import LEASE
from tests.slack.conftest import SECRET, event_body, mention, signed
from tests.slack.fake_slack import FakeSlack
from tests.teams.conftest import PERSONAL, personal_message
from tests.teams.fake_connector import FakeConnector

ROOT = Path(__file__).resolve().parents[2]
MENTION_TS = "1700000000.000900"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_until(check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _statuses(db: Database) -> dict[str, str]:
    with db.session() as s:
        return dict(s.execute(sa.select(ProcessedEvent.event_key, ProcessedEvent.status)).all())


async def test_a_killed_replicas_acknowledged_messages_are_answered_by_another(db_url: str):
    upgrade(db_url)
    db = Database.from_url(db_url)
    slack_api, connector = FakeSlack(), FakeConnector()
    await slack_api.start()
    await connector.start()
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.ops.stalled_replica", db_url, slack_api.api_url,
         connector.url, str(port)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    survivor = None
    try:
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{port}"

            async def healthy() -> bool:
                try:
                    async with http.get(f"{base}/healthz") as r:
                        return r.status == 200
                except aiohttp.ClientError:
                    return False

            deadline = time.monotonic() + 60
            while not await healthy():
                assert child.poll() is None and time.monotonic() < deadline, "replica never up"
                await asyncio.sleep(0.1)

            slack_body = event_body(mention("exit tickets with 32 kids?", ts=MENTION_TS), "EvKill")
            async with http.post(
                f"{base}/slack/events",
                data=slack_body.encode(),
                headers=signed(slack_body, "application/json"),
            ) as r:
                assert r.status == 200
            activity = personal_message(connector.url, "how do I start restorative circles?")
            async with http.post(f"{base}/api/messages", json=activity) as r:
                assert r.status == 200
            # Both are claimed and open (the replica is stuck searching): now it dies.
            await _wait_until(lambda: sorted(_statuses(db).values()) == ["open", "open"])
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)

            # The survivor's clock is past the dead replica's lease: nothing waits for it.
            def later() -> datetime:
                return utcnow() + timedelta(seconds=LEASE + 0.2)

            core = Core(FakeRetriever(), SqlRecords(db, clock=later), answer_lease=LEASE)
            slack = SlackFrontEnd(
                core, signing_secret=SECRET, token="xoxb-test", api_url=slack_api.api_url
            )
            auth = authentication(BotConfig())
            teams = TeamsFrontEnd(
                core,
                auth,
                app_id="",
                contacts=Contacts(db, "teams"),
                service_url="http://127.0.0.1:9/unused",  # the claim carries the real one
                courier=TeamsCourier(
                    auth, "", Contacts(db, "teams"), "http://127.0.0.1:9/unused", backoff=0.01
                ),
            )
            survivor = Components(core=core, database=db, slack=slack, teams=teams)
            server = TestServer(build_web_app(survivor), host="127.0.0.1", port=0)
            await server.start_server()
            # Slack's retry reaches the survivor: dropped, the dead replica's claim stands.
            retry_url = str(server.make_url("/slack/events"))
            async with http.post(
                retry_url, data=slack_body.encode(), headers=signed(slack_body, "application/json")
            ) as r:
                assert r.status == 200

            assert await core.delivery.recover() == 2
            assert await core.delivery.recover() == 0
            await server.close()

        [post] = slack_api.of("chat.postMessage")
        assert (post.params["channel"], post.params["thread_ts"]) == ("C1", MENTION_TS)
        assert LATE_NOTE in json.dumps(post.params)
        [card] = [c for c in connector.posts() if c.conversation == PERSONAL]
        assert LATE_NOTE in json.dumps(card.body)
        assert set(_statuses(db).values()) == {"done"}
        with db.session() as s:
            refs = sorted(q.reply_ref or "" for q in s.scalars(sa.select(Question)))
        assert len(refs) == 2 and all(refs)  # feedback on the late answers works
    finally:
        if child.poll() is None:
            child.kill()
        if survivor is not None:
            await survivor.teams.close()  # type: ignore[union-attr]
            survivor.close()
        await slack_api.close()
        await connector.close()
        db.dispose()
