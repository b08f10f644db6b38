"""The HTTP edge: signatures, timestamps, malformed bodies, url_verification, health."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.slack.conftest import event_body, mention

BAD_BODIES = [
    ("{not json", "application/json"),
    ("[1, 2, 3]", "application/json"),
    ('{"type": "event_callback"}', "application/json"),
    ('{"type": "event_callback", "event": "nope", "event_id": "Ev9"}', "application/json"),
    ('{"type": "mystery"}', "application/json"),
    ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
    ("payload=%5B%5D", "application/x-www-form-urlencoded"),
    ('payload={"type": "block_actions"}', "application/x-www-form-urlencoded"),
    ("command=%2Fpd&text=hi", "application/x-www-form-urlencoded"),
    ("just=fields", "application/x-www-form-urlencoded"),
    ("a=1&&&b", "application/x-www-form-urlencoded"),
    ("\udcff", "application/json"),
    ("hello", "text/plain"),
]


async def test_url_verification_echoes_the_challenge(staffroom):
    body = json.dumps(
        {
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    response = await staffroom.post(body)
    assert response.status == 200
    assert json.loads(response.text)["challenge"].startswith("3eZbrw")


async def test_bad_signatures_and_stale_timestamps_are_rejected_without_any_web_api_call(
    staffroom, fake_slack, retriever_for_server
):
    body = event_body(mention("exit tickets"))
    assert (await staffroom.post(body, secret="wrong-secret")).status == 401
    assert (await staffroom.post(body, age=6 * 60)).status == 401  # older than 5 minutes
    assert (await staffroom.post(body, age=-6 * 60)).status == 401  # from the future
    async with staffroom.session.post(
        staffroom.url, data=body, headers={"Content-Type": "application/json"}
    ) as unsigned:
        assert unsigned.status == 401
    assert fake_slack.calls == [] and retriever_for_server.queries == []


@pytest.mark.parametrize(("body", "content_type"), BAD_BODIES)
async def test_malformed_bodies_get_4xx_and_the_server_keeps_serving(
    staffroom, fake_slack, body, content_type
):
    raw = body.encode("utf-8", "surrogatepass")
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": "1",
        "X-Slack-Signature": "v0=0",
    }
    async with staffroom.session.post(staffroom.url, data=raw, headers=headers) as response:
        assert 400 <= response.status < 500
    # Also when correctly signed: the shape check is not a signature check.
    response = await staffroom.post(
        body.encode("utf-8", "surrogatepass").decode("utf-8", "replace"), content_type
    )
    assert 400 <= response.status < 500
    async with staffroom.session.get(str(staffroom.server.make_url("/healthz"))) as health:
        assert health.status == 200 and (await health.json()) == {"ok": True}
    assert [c for c in fake_slack.calls if c.method != "auth.test"] == []


async def test_oversized_bodies_are_refused_with_413(staffroom):
    body = event_body(mention("x" * (2 * 1024 * 1024)))
    response = await staffroom.post(body)
    assert response.status == 413


async def test_health_check_answers(staffroom):
    async with (
        aiohttp.ClientSession() as session,
        session.get(str(staffroom.server.make_url("/healthz"))) as response,
    ):
        assert response.status == 200
