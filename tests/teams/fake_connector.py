"""A local fake of the Bot Connector REST API (the service behind ``serviceUrl``), over real HTTP.

The real botbuilder connector client posts here. Every call is recorded; ``refuse`` scripts
HTTP errors (429 with Retry-After, 5xx) for the next calls; tests wait on conditions over the
recorded calls instead of sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Call:
    kind: str  # "send", "reply", "update", "create"
    conversation: str
    activity_id: str
    body: dict[str, Any]
    authorization: str = ""
    posted_id: str = ""  # the id this fake gave a new post

    @property
    def card(self) -> dict[str, Any]:
        """The first Adaptive Card the activity carries."""
        return self.body["attachments"][0]["content"]


@dataclass
class FakeConnector:
    calls: list[Call] = field(default_factory=list)
    refusals: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    refused: int = 0
    server: TestServer | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/"))

    def refuse(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.refusals += [(status, headers)] * times

    def of(self, *kinds: str) -> list[Call]:
        return [c for c in self.calls if c.kind in kinds]

    def posts(self) -> list[Call]:
        return self.of("send", "reply")

    async def wait_for(
        self, predicate: Callable[[FakeConnector], bool], timeout: float = 10
    ) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self)), timeout)

    async def _record(
        self, request: web.Request, kind: str, posted_id: str = ""
    ) -> web.Response | None:
        if self.refusals:
            status, headers = self.refusals.pop(0)
            async with self._changed:
                self.refused += 1
                self._changed.notify_all()
            return web.json_response({"error": {"code": "x"}}, status=status, headers=headers)
        body = await request.json()
        call = Call(
            kind,
            request.match_info.get("conversation", ""),
            request.match_info.get("activity", ""),
            body,
            request.headers.get("Authorization", ""),
            posted_id,
        )
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return None

    async def _send(self, request: web.Request) -> web.Response:
        kind = "reply" if "activity" in request.match_info else "send"
        posted_id = f"1700{next(self._ids):09d}"
        refused = await self._record(request, kind, posted_id)
        return refused or web.json_response({"id": posted_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        refused = await self._record(request, "update")
        return refused or web.json_response({"id": request.match_info["activity"]})

    async def _create(self, request: web.Request) -> web.Response:
        refused = await self._record(request, "create")
        n = next(self._ids)
        return refused or web.json_response({"id": f"a:1new{n}", "activityId": ""}, status=201)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
