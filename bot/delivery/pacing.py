"""Pacing sends per conversation: a token bucket (Slack allows about one message a second)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class ChannelPacer:
    """A token bucket per channel: short bursts, then about ``per_second`` messages a second."""

    def __init__(
        self,
        burst: int = 3,
        per_second: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._burst, self._rate = burst, per_second
        self._clock, self._sleep = clock, sleep
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    async def wait(self, channel: str) -> None:
        while True:
            now = self._clock()
            tokens, at = self._buckets.get(channel, (float(self._burst), now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            if tokens >= 1:
                self._buckets[channel] = (tokens - 1, now)
                return
            self._buckets[channel] = (tokens, now)
            await self._sleep((1 - tokens) / self._rate)
