"""/readyz, /metrics and JSON logs with request ids, on the app ``bot.app.build`` wires."""

from __future__ import annotations

import io
import json
import logging

from bot.app import Components
from bot.logs import JsonFormatter, RequestIdFilter, configure
from bot.server import readiness_problems
from store import Database
from tests.ops.conftest import TEACHER, say, settings_for
from tests.slack.conftest import SECRET, event_body, signed


def _slack(tmp_path, url, library, fake_slack):
    return settings_for(
        tmp_path,
        url,
        library,
        slack_signing_secret=SECRET,
        slack_bot_token="xoxb-test",
        slack_api_url=fake_slack.api_url,
    )


def _dm_event(user: str, text: str, ts: str) -> dict:
    return {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user,
            "text": text, "ts": ts, "event_ts": ts}  # fmt: skip


async def test_readyz_is_503_without_an_index_and_200_once_one_is_published(
    tmp_path, sqlite_url, library, embedder, start_app
):
    app = await start_app(settings_for(tmp_path, sqlite_url, library), embedder=embedder)
    status, body, _ = await app.get("/readyz")
    assert status == 503
    assert json.loads(body) == {
        "ready": False,
        "problems": ["index: There is no index yet. Run `staffroom ingest PATH` first."],
    }
    await app.components.core.handle(say("admin", "reindex"))
    status, body, _ = await app.get("/readyz")
    assert (status, json.loads(body)) == (200, {"ready": True, "problems": []})
    assert (await app.get("/healthz"))[0] == 200


async def test_serve_on_postgresql_does_not_migrate_and_readyz_says_so(
    tmp_path, pg_url, library, embedder, start_app
):
    app = await start_app(settings_for(tmp_path, pg_url, library), embedder=embedder)
    status, body, _ = await app.get("/readyz")
    problems = json.loads(body)["problems"]
    assert status == 503
    assert "database: schema at nothing" in problems[0] and "staffroom db upgrade" in problems[0]


def test_readiness_names_an_unreachable_database(tmp_path, library, embedder) -> None:
    from bot.app import build

    components = build(settings_for(tmp_path, "", library), embedder=embedder)
    try:
        down = Components(
            core=components.core,
            database=Database.from_url("postgresql://nobody@127.0.0.1:1/none"),
            retriever=components.retriever,
        )
        problems = readiness_problems(down)
        assert problems[0].startswith("database: Staffroom could not reach its database")
        assert problems[1].startswith("index: There is no index yet")
        down.database.dispose()
    finally:
        components.close()


async def test_metrics_count_questions_latency_and_no_matches_after_slack_questions(
    tmp_path, sqlite_url, library, embedder, start_app, fake_slack
):
    app = await start_app(_slack(tmp_path, sqlite_url, library, fake_slack), embedder=embedder)
    await app.components.core.handle(say("admin", "reindex"))
    for n, text in enumerate(["how do I sort exit tickets into piles?", "zqx vvb kkj"], 1):
        body = event_body(_dm_event(TEACHER, text, f"1700000000.00000{n}"), f"Ev{n}")
        async with app.session.post(
            app.url("/slack/events"), data=body, headers=signed(body, "application/json")
        ) as r:
            assert r.status == 200
    await fake_slack.wait_for(lambda f: len(f.of("chat.postMessage")) == 2)
    status, text, headers = await app.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    lines = set(text.splitlines())
    assert 'staffroom_questions_total{platform="slack"} 2.0' in lines
    assert 'staffroom_no_match_total{platform="slack"} 1.0' in lines
    assert "staffroom_no_match_ratio 0.5" in lines
    assert "staffroom_answer_latency_seconds_count 2.0" in lines
    assert 'staffroom_ideas{status="new"} 0.0' in lines
    assert 'staffroom_reindex_runs{outcome="succeeded"} 1.0' in lines
    assert "staffroom_database_up 1.0" in lines


async def test_json_log_lines_inside_a_request_carry_its_request_id(
    tmp_path, sqlite_url, library, embedder, start_app, fake_slack
):
    app = await start_app(_slack(tmp_path, sqlite_url, library, fake_slack), embedder=embedder)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        # No index yet: the core logs the error while handling the Slack event's listener.
        body = event_body(_dm_event(TEACHER, "exit tickets?", "1700000000.000001"), "Ev1")
        headers = {**signed(body, "application/json"), "X-Request-Id": "req-abc.123"}
        async with app.session.post(app.url("/slack/events"), data=body, headers=headers) as r:
            assert r.status == 200 and r.headers["X-Request-Id"] == "req-abc.123"
        await fake_slack.wait_for(lambda f: len(f.of("chat.postMessage")) == 1)
        status, _, headers = await app.get("/healthz", headers={"X-Request-Id": "bad id <script>"})
        assert status == 200 and len(headers["X-Request-Id"]) == 32  # ours, not theirs
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    mine = [line for line in lines if line["request_id"] == "req-abc.123"]
    assert {"ts", "level", "logger", "message", "request_id"} <= set(mine[0])
    access = [line for line in mine if line["logger"] == "staffroom.access"]
    assert access and access[0]["path"] == "/slack/events" and access[0]["status"] == 200
    inside = [line for line in mine if line["logger"] == "bot.core"]
    assert inside and "IndexError_" in inside[0]["message"]  # logged inside the listener


def test_configure_writes_json_or_text_and_rejects_other_formats() -> None:
    import pytest

    from staffroom_errors import ConfigError

    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        stream = io.StringIO()
        configure("INFO", "json", stream)
        logging.getLogger("staffroom.test").info("hello %s", "there")
        line = json.loads(stream.getvalue())
        assert (line["message"], line["level"], line["request_id"]) == ("hello there", "INFO", "-")
        stream = io.StringIO()
        configure("WARNING", "text", stream)
        logging.getLogger("staffroom.test").info("hidden")
        logging.getLogger("staffroom.test").warning("shown")
        assert stream.getvalue().rstrip().endswith("WARNING staffroom.test [-]: shown")
        with pytest.raises(ConfigError):
            configure("INFO", "yaml")
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved:
            root.addHandler(h)
        root.setLevel(level)
