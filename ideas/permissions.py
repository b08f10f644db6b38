"""Who may triage ideas: staff (and admins, who are staff too), from settings and directories.

``Roles`` holds the ids configured in settings. A ``StaffDirectory`` answers "is this user staff?"
for the flows; ``StaffRoster`` is the usual one: the configured ids plus, per platform, a group
whose members count as staff (the composition root supplies e.g. a Slack user group). Nothing here
knows any platform's API: ``CachedGroup`` caches whatever look-up a front-end provides.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from staffroom_errors import PermissionDenied

STAFF_ONLY = "Only central staff can do that."
ASK_ADMIN = "If you should be able to, ask your Staffroom admin to add you."
CACHE_SECONDS = 300.0
RETRY_SECONDS = 30.0  # after a failed look-up: soon, but not on every click


def _ids(value: str | Iterable[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = re.split(r"[,\s]+", value) if isinstance(value, str) else value
    return frozenset(i.strip() for i in items if i and i.strip())


@dataclass(frozen=True)
class Roles:
    """User ids as "platform:user" (one platform) or plain "user" (any platform)."""

    staff: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()

    @classmethod
    def parse(
        cls, staff: str | Iterable[str] | None, admins: str | Iterable[str] | None = None
    ) -> Roles:
        """From settings text such as "slack:U01, teams:29:1ab, U02" (commas or spaces)."""
        return cls(staff=_ids(staff), admins=_ids(admins))

    @staticmethod
    def _member(ids: frozenset[str], platform: str, user_id: str) -> bool:
        return f"{platform}:{user_id}" in ids or user_id in ids

    def is_admin(self, platform: str, user_id: str) -> bool:
        return self._member(self.admins, platform, user_id)

    def is_staff(self, platform: str, user_id: str) -> bool:
        return self.is_admin(platform, user_id) or self._member(self.staff, platform, user_id)


class StaffDirectory(Protocol):
    """Whether a user counts as central staff."""

    async def is_staff(self, platform: str, user_id: str) -> bool:
        """May look the user up (cached); never raises."""
        ...

    def may_be_staff(self, platform: str, user_id: str) -> bool:
        """No I/O (a form must open within 3 s): False only for someone surely not staff."""
        ...


class GroupMembers(Protocol):
    """A platform's staff group, e.g. a Slack user group."""

    async def members(self) -> frozenset[str]:
        """The members' user ids (cached); empty when they cannot be read. Never raises."""
        ...

    def cached(self) -> frozenset[str] | None:
        """The members if known and fresh, without I/O; None when a look-up is due."""
        ...


@dataclass(frozen=True)
class StaffRoster:
    """Staff = the configured ids, plus the members of each platform's staff group."""

    roles: Roles = Roles()
    groups: Mapping[str, GroupMembers] = field(default_factory=dict)  # platform -> group

    async def is_staff(self, platform: str, user_id: str) -> bool:
        if self.roles.is_staff(platform, user_id):
            return True
        group = self.groups.get(platform)
        return group is not None and bool(user_id) and user_id in await group.members()

    def may_be_staff(self, platform: str, user_id: str) -> bool:
        if self.roles.is_staff(platform, user_id):
            return True
        group = self.groups.get(platform)
        if group is None:
            return False
        known = group.cached()
        return known is None or user_id in known  # unknown yet: the submit checks for sure


def _refuse(doing: str) -> PermissionDenied:
    return PermissionDenied(
        f"Only central staff can {doing}." if doing else STAFF_ONLY, hint=ASK_ADMIN
    )


def require_staff(roles: Roles, platform: str, user_id: str, doing: str = "") -> None:
    """Refuse non-staff; ``doing`` ("open design questions") names the action in the message."""
    if not roles.is_staff(platform, user_id):
        raise _refuse(doing)


async def check_staff(
    directory: StaffDirectory, platform: str, user_id: str, doing: str = ""
) -> None:
    """``require_staff`` against a directory (settings ids and staff groups)."""
    if not await directory.is_staff(platform, user_id):
        raise _refuse(doing)


def require_admin(roles: Roles, platform: str, user_id: str) -> None:
    if not roles.is_admin(platform, user_id):
        raise PermissionDenied(
            "Only Staffroom admins can do that.", hint="Ask your Staffroom admin for help."
        )


class CachedGroup:
    """``GroupMembers`` from a platform look-up (``fetch``), cached for ``ttl`` seconds.

    ``fetch`` returns the members, or None when they cannot be read (then staff falls back to
    the configured ids, and the look-up is tried again after ``RETRY_SECONDS``).
    """

    def __init__(
        self,
        group_id: str,
        fetch: Callable[[str], Awaitable[frozenset[str] | None]],
        *,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.group_id, self._fetch, self._ttl, self._clock = group_id, fetch, ttl, clock
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
                fetched = await self._fetch(self.group_id)
                known = fetched if fetched is not None else frozenset()
                wait = self._ttl if fetched is not None else min(self._ttl, RETRY_SECONDS)
                self._members, self._expires = known, self._clock() + wait
            return known
