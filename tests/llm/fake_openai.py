"""A local OpenAI-compatible chat server with scripted replies, for the real ``openai`` client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Script:
    """One scripted reply to POST /v1/chat/completions."""

    text: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before replying: a slow model
    stream_ok: bool = True  # False: requests with stream=true get a 400, as some servers do
    prompt_tokens: int = 120
    completion_tokens: int = 30
    chunk_chars: int = 7  # streamed deltas are this many characters each


class FakeOpenAI:
    """Serves scripts in order (the last one repeats) and records every request body."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str] = []
        self._scripts: deque[Script] = deque([Script("Nothing scripted [1].")])
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def script(self, *scripts: Script) -> None:
        self._scripts = deque(scripts)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # a free port chosen by the OS
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        return self.base_url

    async def close(self) -> None:
        self._closing.set()  # releases handlers still "thinking"
        if self._runner is not None:
            await self._runner.cleanup()

    def _next(self) -> Script:
        return self._scripts.popleft() if len(self._scripts) > 1 else self._scripts[0]

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.auth.append(request.headers.get("Authorization", ""))
        script = self._next()
        if script.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), script.delay)
        if script.status != 200:
            return _error(script.status, f"scripted {script.status}", script.headers)
        if body.get("stream"):
            if not script.stream_ok:
                return _error(400, "stream is not supported by this server")
            return await self._sse(request, body, script)
        return web.json_response(
            {
                **_envelope(body, "chat.completion"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": script.text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": _usage(script),
            }
        )

    async def _sse(
        self, request: web.Request, body: dict[str, Any], script: Script
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        base = _envelope(body, "chat.completion.chunk")

        async def send(payload: dict[str, Any]) -> None:
            await response.write(f"data: {json.dumps(payload)}\n\n".encode())

        await send({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        text = script.text
        for i in range(0, len(text), script.chunk_chars):
            piece = text[i : i + script.chunk_chars]
            await send({**base, "choices": [{"index": 0, "delta": {"content": piece}}]})
        await send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            await send({**base, "choices": [], "usage": _usage(script)})
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _envelope(body: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": kind,
        "created": int(time.time()),
        "model": body["model"],
    }


def _usage(script: Script) -> dict[str, int]:
    return {
        "prompt_tokens": script.prompt_tokens,
        "completion_tokens": script.completion_tokens,
        "total_tokens": script.prompt_tokens + script.completion_tokens,
    }


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "fake_error", "code": str(status)}},
        status=status,
        headers=headers or {},
    )
