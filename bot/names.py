"""People's display names: looked up per platform (Slack ``users.info``), cached with a TTL.

Slack events carry only user ids ("Pitched by U0…"), so the core asks ``Names.fill`` for the
sender's display name before routing a message: idea authors, reviewers, commenters and the
ideas export then carry real names. Teams messages carry the name already; ``fill`` remembers
it, so the idea history can say who moved an idea. A failed look-up is cached for a short
while (``RETRY_SECONDS``) so a missing ``users:read`` scope is not asked about on every message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from bot.messages import Incoming

log = logging.getLogger(__name__)

TTL_SECONDS = 3600.0  # a name is asked for again after an hour (people rename themselves)
RETRY_SECONDS = 300.0  # a failed look-up is tried again after five minutes
MAX_NAMES = 10_000  # names kept; the oldest are forgotten first

Fetch = Callable[[str], Awaitable[str | None]]  # a user id -> the display name, None: unknown


class Names:
    """Display names by (platform, user id): fetched where a platform can, cached, remembered."""

    def __init__(
        self, *, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._fetchers: dict[str, Fetch] = {}
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}  # -> (name, expires)
        self._ttl, self._clock = ttl, clock
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def register(self, platform: str, fetch: Fetch) -> None:
        """Look names on ``platform`` up with ``fetch`` (Slack: ``users.info``)."""
        self._fetchers[platform] = fetch

    def known(self, platform: str, user_id: str) -> str:
        """The cached name (even an expired one), "" when none: no look-up."""
        return self._cache.get((platform, user_id), ("", 0.0))[0]

    async def name(self, platform: str, user_id: str) -> str:
        """The display name, looked up when the platform can and the cache has none fresh."""
        key = (platform, user_id)
        fetch = self._fetchers.get(platform)
        cached = self._cache.get(key)
        if fetch is None or not user_id or (cached and cached[1] > self._clock()):
            return cached[0] if cached else ""
        async with self._locks.setdefault(key, asyncio.Lock()):  # one look-up per person
            cached = self._cache.get(key)
            if cached and cached[1] > self._clock():
                return cached[0]
            try:
                found = await fetch(user_id)
            except Exception:  # a name is a nicety: never fail a message over it
                log.exception("looking up the name of %s:%s failed", platform, user_id)
                found = None
            name = found or (cached[0] if cached else "")
            wait = self._ttl if found else RETRY_SECONDS
            self._store(key, name, self._clock() + wait)
        self._locks.pop(key, None)
        return name

    async def fill(self, incoming: Incoming) -> Incoming:
        """``incoming`` with the sender's display name (the platform's own name is remembered)."""
        if not incoming.user_id:
            return incoming
        if incoming.platform not in self._fetchers:
            if incoming.user_name:
                self._store((incoming.platform, incoming.user_id), incoming.user_name, 0.0)
            return incoming
        name = await self.name(incoming.platform, incoming.user_id)
        return replace(incoming, user_name=name) if name else incoming

    def _store(self, key: tuple[str, str], name: str, expires: float) -> None:
        self._cache.pop(key, None)
        self._cache[key] = (name, expires)
        while len(self._cache) > MAX_NAMES:
            self._cache.pop(next(iter(self._cache)))


def slack_names(call: Callable[..., Awaitable[Mapping[str, Any] | None]]) -> Fetch:
    """A ``Fetch`` over the Slack courier's ``call`` (``users.info``, scope ``users:read``)."""

    async def fetch(user_id: str) -> str | None:
        found = await call("users.info", read=True, user=user_id)
        user = (found or {}).get("user") or {}
        profile = user.get("profile") or {}
        for name in (
            profile.get("display_name"),
            profile.get("real_name"),
            user.get("real_name"),
            user.get("name"),
        ):
            if isinstance(name, str) and name.strip():
                return name.strip()
        return None

    return fetch
