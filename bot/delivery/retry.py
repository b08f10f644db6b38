"""Retrying a platform call: exponential backoff, honouring the platform's Retry-After."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_RETRY_AFTER = 30.0


@dataclass(frozen=True)
class Refusal:
    """How a failed call failed: worth another try or not, and after how long if the platform
    said (Retry-After); ``reason`` is what the log says."""

    retry: bool
    reason: str
    after: float | None = None
    status: int = 0  # the HTTP status, when there was one


# The refusal a call in this task last gave up on (a courier's caller reads it to tell a user
# who is gone, 403/404, from a platform that is down); None once a call succeeded.
LAST_REFUSAL: ContextVar[Refusal | None] = ContextVar("last_refusal", default=None)


async def retrying(
    call: Callable[[], Awaitable[T]],
    classify: Callable[[Exception], Refusal | None],
    *,
    what: str,
    attempts: int = 4,
    backoff: float = 0.5,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T | None:
    """``call()``'s result, or None once it failed for good (logged); ``classify`` returns None
    for an exception that is not the platform refusing (it propagates)."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except Exception as err:
            refusal = classify(err)
            if refusal is None:
                raise
        if not refusal.retry or attempt == attempts:
            log.error("%s failed: %s", what, refusal.reason)
            LAST_REFUSAL.set(refusal)
            return None
        delay = refusal.after if refusal.after is not None else backoff * 2 ** (attempt - 1)
        delay = min(delay, MAX_RETRY_AFTER)
        log.warning("%s refused (attempt %s): %s; retrying in %.1fs",
                    what, attempt, refusal.reason, delay)  # fmt: skip
        await sleep(delay)
    return None


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def http_refusal(
    err: Exception, *, where: str = "", network: tuple[type[Exception], ...] = ()
) -> Refusal | None:
    """An HTTP client's error as a ``Refusal``: 429 and 5xx are worth retrying (after the
    Retry-After it gave), other statuses not; timeouts and dropped connections are."""
    response: Any = getattr(err, "response", None)
    status = int(getattr(response, "status", 0) or getattr(response, "status_code", 0) or 0)
    if status:
        headers = getattr(response, "headers", None) or {}
        try:
            after: float | None = float(str(headers.get("Retry-After")))
        except ValueError:
            after = None
        return Refusal(status in RETRY_STATUSES, f"HTTP {status} ({where})", after, status)
    if isinstance(err, TimeoutError | aiohttp.ClientError | network):
        return Refusal(True, f"{err!r} ({where})")
    return None
