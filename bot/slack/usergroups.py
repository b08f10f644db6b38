"""A Slack user group as a staff group: its members from ``usergroups.users.list``, cached."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.poster import NETWORK_ERRORS

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
RETRY_SECONDS = 30.0  # after a failed look-up: soon, but not on every click


class SlackUserGroup:
    """``ideas.GroupMembers`` for one user group (S0123); needs the ``usergroups:read`` scope."""

    def __init__(
        self,
        client: AsyncWebClient,
        group_id: str,
        *,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client, self.group_id, self._ttl, self._clock = client, group_id, ttl, clock
        self._members: frozenset[str] = frozenset()
        self._expires: float | None = None
        self._lock = asyncio.Lock()  # one look-up at a time; the others reuse its answer

    def cached(self) -> frozenset[str] | None:
        if self._expires is None or self._clock() >= self._expires:
            return None
        return self._members

    async def members(self) -> frozenset[str]:
        known = self.cached()
        if known is not None:
            return known
        async with self._lock:
            known = self.cached()
            if known is None:
                fetched = await self._fetch()
                known = fetched if fetched is not None else frozenset()
                wait = self._ttl if fetched is not None else min(self._ttl, RETRY_SECONDS)
                self._members, self._expires = known, self._clock() + wait
            return known

    async def _fetch(self) -> frozenset[str] | None:
        """The members now; None on an error (staff falls back to the configured ids)."""
        try:
            response = await self._client.usergroups_users_list(usergroup=self.group_id)
            return frozenset(str(u) for u in response.get("users") or ())
        except SlackApiError as err:
            reason = err.response.get("error") if err.response is not None else err
            log.warning(
                "could not read Slack user group %s (%s); only STAFFROOM_STAFF_USERS count "
                "as staff until it can be read",
                self.group_id,
                reason,
            )
        except NETWORK_ERRORS as err:
            log.warning("could not reach Slack for user group %s: %r", self.group_id, err)
        return None
