"""Socket Mode: the same listeners over a WebSocket from the fake Slack, retries still dropped."""

from __future__ import annotations

import asyncio
import json
import logging

from bot.server import run
from tests.slack.conftest import event_body, mention


async def test_socket_mode_answers_mentions_and_drops_a_redelivery(
    start_server, fake_slack, sqlite_url, caplog
):
    caplog.set_level(logging.INFO, logger="bot.slack.app")
    staffroom = await start_server(sqlite_url)
    serving = asyncio.create_task(run(staffroom.components, "127.0.0.1", 0, app_token="xapp-test"))
    try:
        await fake_slack.wait_for(lambda f: len(f.of("socket:connect")) == 1)
        body = json.loads(event_body(mention("exit tickets"), "EvSocket"))
        await fake_slack.push(body, "env-1")
        await fake_slack.wait_for(lambda f: len(f.of("chat.postMessage")) == 1)
        await fake_slack.push(body, "env-2")  # Slack redelivers an envelope it thinks was lost
        await fake_slack.wait_for(
            lambda f: (
                {c.params.get("envelope_id") for c in f.of("socket:ack")} >= {"env-1", "env-2"}
            )
        )
        await asyncio.wait_for(_logged(caplog, "dropped a repeated delivery of slack:EvSocket"), 10)
        post = fake_slack.of("chat.postMessage")[0].params
        assert post["thread_ts"] == "1700000000.000100"
        assert len(fake_slack.of("chat.postMessage")) == 1
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)


async def _logged(caplog, message: str) -> None:
    while not any(message in r.getMessage() for r in caplog.records):
        await asyncio.sleep(0.01)
