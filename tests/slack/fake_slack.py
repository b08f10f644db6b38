"""A local fake of the Slack Web API (and of response_url), served over real HTTP.

The real ``slack_sdk`` client talks to it through ``SLACK_API_URL``. Every call is recorded;
tests wait on conditions over the recorded calls instead of sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

BOT_USER = "UBOT"


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeSlack:
    """Records calls; ``fail``/``rate_limit`` script errors for the next calls of a method."""

    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[str]] = field(default_factory=dict)
    rate_limits: dict[str, int] = field(default_factory=dict)
    server: TestServer | None = None
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    usergroups: dict[str, list[str]] = field(default_factory=dict)  # group id -> member ids
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # uploads by file id
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # users.info: id -> names, tz
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def api_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    def response_url(self, name: str = "r1") -> str:
        assert self.server is not None
        return str(self.server.make_url(f"/respond/{name}"))

    def fail(self, method: str, *errors: str) -> None:
        self.failures.setdefault(method, []).extend(errors)

    def rate_limit(self, method: str, times: int = 1) -> None:
        self.rate_limits[method] = times

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, predicate: Callable[[FakeSlack], bool], timeout: float = 10) -> None:
        """Until ``predicate(self)`` holds; a safety-net timeout fails the test."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self)), timeout)

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        if self.rate_limits.get(method):
            self.rate_limits[method] -= 1
            await self._record(Call(f"{method}:429", params))
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
            )
        await self._record(Call(method, params))
        errors = self.failures.get(method)
        if errors:
            return web.json_response({"ok": False, "error": errors.pop(0)})
        return web.json_response(self._answer(method, params))

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": BOT_USER,
                "bot_id": "BBOT",
                "team_id": "T1",
                "user": "staffroom",
            }
        if method == "chat.postMessage":
            channel = str(params.get("channel", ""))
            # As Slack does: a message to a user id lands in the app's DM with them, whose
            # channel id (D…) is what the answer names, and what chat.update needs.
            return {
                "ok": True,
                "channel": f"D{channel}" if _user_id(channel) else channel,
                "ts": f"2000.{next(self._ts):06d}",
            }
        if method == "chat.update" and _user_id(str(params.get("channel", ""))):
            return {"ok": False, "error": "message_not_found"}
        if method == "apps.connections.open":
            assert self.server is not None
            return {
                "ok": True,
                "url": str(self.server.make_url("/socket")).replace("http", "ws", 1),
            }
        if method == "usergroups.users.list":
            members = self.usergroups.get(str(params.get("usergroup", "")))
            if members is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(members)}
        if method == "users.info":
            # Every user who writes exists; only those in ``users`` have names.
            user = self.users.get(str(params.get("user", "")), {})
            return {"ok": True, "user": {"id": params.get("user"), **user}}
        if method in ("views.open", "views.update", "views.publish"):
            return {"ok": True, "view": {"id": params.get("view_id") or "V1", "hash": "h1"}}
        if method == "files.getUploadURLExternal":  # step 1 of files_upload_v2
            assert self.server is not None
            file_id = f"F{next(self._ts):06d}"
            self.files[file_id] = {"alt_txt": params.get("alt_txt"), "bytes": b"", "channel": ""}
            url = str(self.server.make_url(f"/upload/{file_id}"))
            return {"ok": True, "upload_url": url, "file_id": file_id}
        if method == "files.completeUploadExternal":  # step 3: share it in the channel
            files = params.get("files")
            listed = json.loads(files) if isinstance(files, str) else files or []
            for f in listed:
                self.files[f["id"]].update(channel=params.get("channel_id"), title=f.get("title"))
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in listed]}
        return {"ok": True}

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of files_upload_v2: the file's bytes, posted to the URL step 1 gave."""
        file_id, body = request.match_info["file_id"], await request.read()
        self.files[file_id]["bytes"] = body
        await self._record(Call("upload", {"file_id": file_id, "length": len(body)}))
        return web.Response(text=f"OK - {len(body)}")

    def shared(self) -> list[dict[str, Any]]:
        """The files shared in a channel (step 3 done): channel, title, alt_txt and bytes."""
        return [f for f in self.files.values() if f["channel"]]

    async def _respond(self, request: web.Request) -> web.Response:
        await self._record(Call(f"respond:{request.match_info['name']}", await request.json()))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: record the connection and every envelope ack the app sends back."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}
        )
        await self._record(Call("socket:connect", {}))
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await self._record(Call("socket:ack", json.loads(message.data)))
        return ws

    async def push(
        self, payload: dict[str, Any], envelope_id: str, kind: str = "events_api"
    ) -> None:
        """Deliver a payload over the newest Socket Mode connection."""
        await self.sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": False,
            }
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk GETs a few (usergroups.*)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self.server = TestServer(app, host="127.0.0.1", port=0)  # a free port
        await self.server.start_server()

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self.server is not None:
            await self.server.close()


def _user_id(channel: str) -> bool:
    """A user id (U…, W…) where a channel id was expected."""
    return channel[:1] in ("U", "W")


async def _params(request: web.Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query)
    raw = await request.text()
    if request.content_type == "application/json":
        data = json.loads(raw or "{}")
    else:
        data = dict(parse_qsl(raw))
    data = {**request.query, **data}  # slack_sdk sends some methods' arguments in the URL
    for key in ("blocks", "view"):  # slack_sdk form-encodes these as JSON strings
        if isinstance(data.get(key), str):
            data[key] = json.loads(data[key])
    return data
