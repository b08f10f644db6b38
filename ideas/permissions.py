"""Who may triage ideas: staff (and admins, who are staff too), from settings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from staffroom_errors import PermissionDenied


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


def require_staff(roles: Roles, platform: str, user_id: str) -> None:
    if not roles.is_staff(platform, user_id):
        raise PermissionDenied(
            "Only central staff can review ideas.",
            hint="If you should be able to, ask your Staffroom admin to add you.",
        )


def require_admin(roles: Roles, platform: str, user_id: str) -> None:
    if not roles.is_admin(platform, user_id):
        raise PermissionDenied(
            "Only Staffroom admins can do that.", hint="Ask your Staffroom admin for help."
        )
