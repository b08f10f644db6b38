"""Logging for `staffroom serve`: text or one JSON object per line, each with its request id.

The aiohttp middleware ``request_ids`` gives every HTTP request an id (the caller's
``X-Request-Id`` when it sends a sane one) and keeps it in a context variable: log lines written
while handling the request, in tasks it starts and in ``asyncio.to_thread`` workers, carry it.
The id is echoed in the response's ``X-Request-Id`` header.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from aiohttp import web

from staffroom_errors import ConfigError

NO_REQUEST = "-"
request_id: ContextVar[str] = ContextVar("staffroom_request_id", default=NO_REQUEST)
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
FORMATS = ("text", "json")
access = logging.getLogger("staffroom.access")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, request_id (+ exc, extra fields)."""

    FIELDS = ("method", "path", "status", "ms")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_REQUEST),
        }
        line.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str = "INFO", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Replace the root logger's handlers with one that writes ``fmt`` to ``stream`` (stderr)."""
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise ConfigError(f"STAFFROOM_LOG_FORMAT must be text or json, not {fmt!r}.")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the request an id for its log lines; log one access line with its outcome."""
    given = request.headers.get("X-Request-Id", "")
    rid = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
    token = request_id.set(rid)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = rid
        return response
    except web.HTTPException as err:
        status = err.status
        err.headers["X-Request-Id"] = rid
        raise
    finally:
        ms = round((time.perf_counter() - started) * 1000, 1)
        fields = {"method": request.method, "path": request.path, "status": status, "ms": ms}
        access.info("%s %s %s %.1fms", request.method, request.path, status, ms, extra=fields)
        request_id.reset(token)
