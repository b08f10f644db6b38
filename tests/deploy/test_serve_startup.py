"""`staffroom serve` start-up: what it turns on and says, the first index, readiness, metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest

from bot.app import Components, build
from bot.server import run
from bot.settings import Settings
from bot.startup import quiet_third_party_logs, surfaces
from retrieval.embedder import FakeEmbedder
from tests.ops.conftest import write_library

ONE = 10  # seconds to wait for something that takes milliseconds


class HeldEmbedder(FakeEmbedder):
    """A fake model whose loading (the first query) and document embedding can be held."""

    def __init__(self) -> None:
        super().__init__()
        self.loading, self.embedding = threading.Event(), threading.Event()
        self.loading.set()
        self.embedding.set()
        self.waiting = threading.Event()  # a held document batch is waiting

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        assert self.loading.wait(30), "test never released the model"
        return super().embed_queries(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not self.embedding.is_set():
            self.waiting.set()
            assert self.embedding.wait(30), "test never released the build"
        return super().embed_documents(texts)


def settings_for(tmp_path: Path, *, files: bool = False, **extra: Any) -> Settings:
    """Settings for one server; an empty library unless ``files`` (no first index to build)."""
    library = tmp_path / "library"
    library.mkdir(exist_ok=True)
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "library": write_library(library) if files else library,
        "host": "127.0.0.1",
        "teams": "off",
        "match_threshold": 0.1,
    }
    return Settings(_env_file=None, **{**values, **extra})


@dataclass
class Serving:
    components: Components
    task: asyncio.Task[None]
    port: int
    session: aiohttp.ClientSession
    log: list[str]

    async def get(self, path: str, port: int | None = None) -> tuple[int, str]:
        url = f"http://127.0.0.1:{port or self.port}{path}"
        async with self.session.get(url) as response:
            return response.status, await response.text()

    async def post(self, path: str) -> int:
        async with self.session.post(f"http://127.0.0.1:{self.port}{path}", json={}) as r:
            return r.status

    async def ready_problems(self) -> list[str]:
        return json.loads((await self.get("/readyz"))[1])["problems"]

    async def until(self, check: Callable[[], Any], timeout: float = ONE) -> None:
        async def poll() -> None:
            while not await check():
                await asyncio.sleep(0.02)

        await asyncio.wait_for(poll(), timeout)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Any]]:
    """``await serve(settings, embedder)`` runs `run` as `staffroom serve` does, on a free port."""
    started: list[Serving] = []
    handler = Lines()
    logging.getLogger().addHandler(handler)
    logging.getLogger("bot").setLevel(logging.INFO)

    async def start(settings: Settings, embedder: FakeEmbedder) -> Serving:
        components = await asyncio.to_thread(build, settings, embedder=embedder)
        seen = len(handler.lines)  # an earlier server's lines are not this one's
        task = asyncio.create_task(
            run(components, settings.host, 0, settings.slack_app_token, settings=settings)
        )

        def listening() -> int:
            for line in handler.lines[seen:]:
                found = re.search(r"Staffroom listening on http://127\.0\.0\.1:(\d+)", line)
                if found:
                    return int(found.group(1))
            return 0

        async def bound() -> int:
            while not listening():
                assert not task.done(), task.exception()
                await asyncio.sleep(0.01)
            return listening()

        port = await asyncio.wait_for(bound(), ONE)
        serving = Serving(components, task, port, aiohttp.ClientSession(), handler.lines)
        started.append(serving)
        return serving

    yield start
    for serving in started:
        serving.task.cancel()
        await asyncio.gather(serving.task, return_exceptions=True)
        await serving.session.close()
        await serving.components.aclose()
        serving.components.close()
    logging.getLogger().removeHandler(handler)


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"teams": "auto", "host": "0.0.0.0"},
         ["Slack HTTP is off: SLACK_BOT_TOKEN is not set",
              "Slack Socket Mode is off: SLACK_APP_TOKEN is not set",
              "Teams is off: MICROSOFT_APP_ID is not set"]),
        ({"slack_signing_secret": "s"}, ["Slack HTTP is off: SLACK_BOT_TOKEN is not set"]),
        ({"slack_bot_token": "xoxb-1"}, ["Slack HTTP is off: SLACK_SIGNING_SECRET is not set"]),
        ({"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"},
         ["Slack HTTP is on (POST /slack/events): SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set",
          "Slack Socket Mode is off: SLACK_APP_TOKEN is not set"]),
        ({"slack_app_token": "xapp-1"},
         ["Slack Socket Mode is off: SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not"]),
        ({"slack_app_token": "xapp-1", "slack_bot_token": "xoxb-1"},
         ["Slack Socket Mode is on (a WebSocket to Slack): SLACK_APP_TOKEN and SLACK_BOT_TOKEN "
          "are set"]),
        ({"microsoft_app_id": "0e0a1c3b-5f2d-4c1e-9a7b-1234567890ab", "teams": "auto",
          "host": "0.0.0.0"}, ["Teams is on (POST /api/messages): MICROSOFT_APP_ID is set"]),
        ({"teams": "auto", "host": "127.0.0.1"}, ["Teams is on (POST /api/messages): no "
         "MICROSOFT_APP_ID, so WITHOUT authentication"]),
        ({"teams": "auto", "host": "0.0.0.0"}, ["Teams is off: MICROSOFT_APP_ID is not set"]),
        ({"teams": "off", "microsoft_app_id": "x"}, ["Teams is off: STAFFROOM_TEAMS=off"]),
    ],
)  # fmt: skip
def test_each_surface_says_whether_it_is_on_and_why(tmp_path, env, expected) -> None:
    found = surfaces(Settings(_env_file=None, **{"teams": "off", **env}))
    lines = [s.line() for s in found.all()]
    for line in expected:
        assert any(have.startswith(line) for have in lines), (line, lines)


async def test_without_a_slack_token_events_are_off_and_not_said_to_be_listening(
    tmp_path, serve
) -> None:
    app = await serve(settings_for(tmp_path, slack_signing_secret="s"), HeldEmbedder())
    assert "INFO Slack HTTP is off: SLACK_BOT_TOKEN is not set" in app.log
    assert any(line.startswith("WARNING No chat surface is on") for line in app.log)
    (listening,) = [line for line in app.log if "Staffroom listening on" in line]
    assert "/slack/events" not in listening and "GET /readyz" in listening
    assert await app.post("/slack/events") == 404
    assert (await app.get("/privacy"))[0] == 200 and (await app.get("/terms"))[0] == 200


async def test_with_slack_configured_the_route_is_listed_and_answers(tmp_path, serve) -> None:
    settings = settings_for(tmp_path, slack_signing_secret="s", slack_bot_token="xoxb-test")
    app = await serve(settings, HeldEmbedder())
    (listening,) = [line for line in app.log if "Staffroom listening on" in line]
    assert "POST /slack/events" in listening
    assert await app.post("/slack/events") in (400, 401)  # there: it refuses unsigned junk


async def test_the_port_opens_only_once_the_model_is_loaded(tmp_path, serve) -> None:
    model = HeldEmbedder()
    model.loading.clear()
    starting = asyncio.create_task(serve(settings_for(tmp_path), model))
    await asyncio.sleep(0.3)
    assert not starting.done()  # not listening: /readyz could only say "wait"
    model.loading.set()
    app = await starting
    assert (await app.get("/healthz"))[0] == 200


async def test_a_fresh_data_dir_is_indexed_in_the_background_and_readyz_says_how_far(
    tmp_path, serve
) -> None:
    model = HeldEmbedder()
    model.embedding.clear()
    app = await serve(settings_for(tmp_path, files=True), model)
    assert (await app.get("/healthz"))[0] == 200
    assert await asyncio.to_thread(model.waiting.wait, ONE), "the first index never started"
    problems = await app.ready_problems()
    assert len(problems) == 1 and re.fullmatch(
        r"index: indexing \d+% \(first index of .*library\)", problems[0]
    ), problems

    model.embedding.set()
    await app.until(lambda: _ready(app))
    status, body = await app.get("/readyz")
    assert (status, json.loads(body)) == (200, {"ready": True, "problems": []})
    assert any("no index yet: indexing" in line for line in app.log)


async def test_an_empty_library_is_not_indexed_and_readyz_says_what_to_do(tmp_path, serve) -> None:
    app = await serve(settings_for(tmp_path), HeldEmbedder())
    assert await app.ready_problems() == [
        "index: There is no index yet. Run `staffroom ingest PATH` first."
    ]
    assert any("the library" in line and "has no files" in line for line in app.log)


async def _ready(app: Serving) -> bool:
    return (await app.get("/readyz"))[0] == 200


async def test_an_existing_index_is_not_rebuilt_at_start(tmp_path, serve) -> None:
    settings = settings_for(tmp_path, files=True)
    first = await serve(settings, HeldEmbedder())
    await first.until(lambda: _ready(first))
    live = first.components.retriever.info().version
    first.task.cancel()
    await asyncio.gather(first.task, return_exceptions=True)

    seen = len(first.log)
    second = await serve(settings, HeldEmbedder())
    await second.until(lambda: _ready(second))
    await asyncio.sleep(0.3)  # a rebuild, had one started, would have said so by now
    assert second.components.retriever.info().version == live
    assert not [line for line in second.log[seen:] if "indexing" in line]


async def test_metrics_move_to_their_private_port(tmp_path, serve) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        private = s.getsockname()[1]
    app = await serve(settings_for(tmp_path, metrics_port=private), HeldEmbedder())
    assert (await app.get("/metrics"))[0] == 404
    status, body = await app.get("/metrics", port=private)
    assert status == 200 and "staffroom_questions_total" in body
    assert any(f":{private} only (STAFFROOM_METRICS_PORT)" in line for line in app.log)


async def test_metrics_stay_on_the_public_port_by_default(tmp_path, serve) -> None:
    app = await serve(settings_for(tmp_path), HeldEmbedder())
    assert (await app.get("/metrics"))[0] == 200


def test_third_party_start_up_chatter_is_quiet_unless_debugging(tmp_path, caplog) -> None:
    from store import migrate

    names = ("alembic", "faiss", "sentence_transformers", "httpx")
    before = {name: logging.getLogger(name).level for name in names}
    try:
        quiet_third_party_logs("DEBUG")
        assert all(logging.getLogger(n).level == before[n] for n in names)
        quiet_third_party_logs("INFO")
        caplog.set_level(logging.INFO)
        migrate.upgrade(f"sqlite:///{tmp_path / 'quiet.db'}")
        assert not [r for r in caplog.records if r.name.startswith("alembic")]
        assert all(not logging.getLogger(n).isEnabledFor(logging.INFO) for n in names)
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
