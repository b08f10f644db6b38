"""Work that goes on after a platform has had its HTTP answer: tracked, logged, waited for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Background:
    """Tasks started after an acknowledgement; a failure is logged, never lost silently."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    async def settle(self, timeout: float = 10) -> None:
        """Wait until the work started so far (and what it started) is done, or ``timeout``."""
        while self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                return

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s background work failed", self._name, exc_info=task.exception())


async def within(
    budget: float,
    work: Coroutine[Any, Any, T],
    late: Callable[[T], Coroutine[Any, Any, Any]],
    background: Background,
) -> T | None:
    """``work``'s result if it is ready within ``budget`` s; else None, and ``late(result)``
    runs in ``background`` once it is (a platform that must be answered in time)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.wait_for(asyncio.shield(task), budget)
    except TimeoutError:

        async def finish() -> None:
            await late(await task)

        background.start(finish())
        return None
