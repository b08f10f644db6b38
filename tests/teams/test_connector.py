"""Connector faults: 429 with Retry-After and 5xx are retried with backoff, then logged."""

from __future__ import annotations

import logging


async def test_a_rate_limited_post_is_retried_as_told(teams, connector):
    connector.refuse(429, times=2, retry_after="0")
    await teams.message("exit tickets")
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    assert connector.refused == 2


async def test_server_errors_are_retried_with_backoff(teams, connector):
    connector.refuse(503)
    connector.refuse(500)
    await teams.message("exit tickets")
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    assert connector.refused == 2


async def test_a_post_that_keeps_failing_is_logged_and_later_posts_still_work(
    teams, connector, caplog
):
    connector.refuse(502, times=4)  # every attempt of the first post
    await teams.message("exit tickets")
    await connector.wait_for(lambda c: c.refused == 4)
    await teams.message("help")
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    assert "Teams send failed: HTTP 502" in caplog.text


async def test_client_errors_are_not_retried(teams, connector, caplog):
    caplog.set_level(logging.ERROR)
    connector.refuse(403)
    await teams.message("exit tickets")
    await connector.wait_for(lambda c: c.refused == 1)
    await teams.message("help")
    await connector.wait_for(lambda c: len(c.posts()) == 1)
    assert connector.refused == 1 and "HTTP 403" in caplog.text
