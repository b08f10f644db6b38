"""Sign-in without accounts: single-use links from chat, then a signed 8-hour session cookie.

A link carries a random token; only its SHA-256 is stored, with who asked and when it expires
(10 minutes). Redeeming marks it used in one conditional UPDATE, so a link works once even when
two replicas see it at the same moment. The session cookie is "payload.signature", an HMAC over
the payload with STAFFROOM_SECRET_KEY; the CSRF token for forms is an HMAC of the session id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from store import InsightSignIn, utcnow
from store.upsert import affected

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True)
class Viewer:
    """A signed-in staff member."""

    platform: str
    user_id: str
    name: str = ""
    session_id: str = ""
    expires: float = 0.0  # POSIX seconds

    @property
    def who(self) -> str:
        return f"{self.name or self.user_id} ({self.platform}:{self.user_id})"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link_token(
    s: Session, platform: str, user_id: str, name: str = "", now: datetime | None = None
) -> str:
    """A fresh single-use token for this person (the caller checked they are staff)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    s.add(
        InsightSignIn(
            token_hash=_digest(token),
            platform=platform,
            user_id=user_id[:128],
            user_name=name[:255],
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    s.flush()
    return token


def redeem(s: Session, token: str, now: datetime | None = None) -> Viewer | None:
    """The person a valid, unused, unexpired token was issued to; it is used up. Else None."""
    now = now or utcnow()
    if not token or len(token) > 200:
        return None
    h = _digest(token)
    res = s.execute(
        sa.update(InsightSignIn)
        .where(
            InsightSignIn.token_hash == h,
            InsightSignIn.used_at.is_(None),
            InsightSignIn.expires_at > now,
        )
        .values(used_at=now)
    )
    if affected(res) != 1:
        return None
    row = s.get(InsightSignIn, h, populate_existing=True)
    assert row is not None
    return Viewer(row.platform, row.user_id, row.user_name)


def purge_links(s: Session, now: datetime | None = None) -> int:
    """Forget links that expired more than a day ago."""
    cutoff = (now or utcnow()) - timedelta(days=1)
    return affected(s.execute(sa.delete(InsightSignIn).where(InsightSignIn.expires_at < cutoff)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, message: str) -> str:
    return _b64(hmac.new(key, message.encode(), hashlib.sha256).digest())


def session_cookie(viewer: Viewer, key: bytes, now: datetime | None = None) -> tuple[str, Viewer]:
    """The cookie value opening an 8-hour session for ``viewer``, and the session it opened."""
    now = now or utcnow()
    opened = Viewer(
        viewer.platform,
        viewer.user_id,
        viewer.name,
        secrets.token_urlsafe(12),
        (now + SESSION_LIFETIME).timestamp(),
    )
    payload = _b64(
        json.dumps(
            {
                "p": opened.platform,
                "u": opened.user_id,
                "n": opened.name,
                "s": opened.session_id,
                "e": opened.expires,
            },
            separators=(",", ":"),
        ).encode()
    )
    return f"{payload}.{_sign(key, payload)}", opened


def read_cookie(value: str | None, key: bytes, now: datetime | None = None) -> Viewer | None:
    """The session a cookie opens, or None when it is missing, forged or expired."""
    if not value or value.count(".") != 1:
        return None
    payload, signature = value.split(".")
    if not hmac.compare_digest(signature, _sign(key, payload)):
        return None
    try:
        data = json.loads(_unb64(payload))
        viewer = Viewer(
            str(data["p"]), str(data["u"]), str(data["n"]), str(data["s"]), float(data["e"])
        )
    except (ValueError, KeyError, TypeError):
        return None
    if viewer.expires <= (now or utcnow()).timestamp():
        return None
    return viewer


def csrf_token(viewer: Viewer, key: bytes) -> str:
    return _sign(key, f"csrf:{viewer.session_id}")


def csrf_ok(viewer: Viewer, key: bytes, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(str(token), csrf_token(viewer, key))
