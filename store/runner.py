"""The one way async code touches the database: in a worker thread, retried while it is down.

Every unit of work is one transaction, so a call that failed to reach the database did nothing
and may run again. ``run`` opens the transaction around a session-first function (the
``ideas`` use-cases, ``store`` helpers); ``call`` runs a function that opens its own (a
``Records`` method). Both wait up to ``patience`` seconds for an unreachable database (a
PostgreSQL restart) before the ``DatabaseUnavailable`` reaches the caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from staffroom_errors import ConfigError, DatabaseUnavailable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from store.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
MAX_DELAY = 3.0


class Runner:
    """Runs database work off the event loop with one retry policy for every caller."""

    def __init__(
        self,
        database: Database | None = None,
        *,
        patience: float = 0.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.database = database
        self.patience = patience
        self._sleep = sleep

    async def run(
        self, work: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work(s, *args, **kwargs)`` in one transaction (committed when it returns)."""
        database = self.database
        if database is None:
            raise ConfigError("No database is configured for this runner.")

        def unit() -> T:
            with database.session() as s:
                return work(s, *args, **kwargs)

        return await self.call(unit)

    async def call(self, fn: Callable[..., T], *args: Any, patience: float | None = None) -> T:
        """``fn(*args)`` in a worker thread; ``fn`` is one transaction of its own."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.patience if patience is None else patience)
        delay = 0.2
        while True:
            try:
                return await asyncio.to_thread(fn, *args)
            except DatabaseUnavailable:
                if loop.time() + delay > deadline:
                    raise
                log.warning("database unreachable; trying again in %.1fs", delay)
                await self._sleep(delay)
                delay = min(delay * 2, MAX_DELAY)
