"""Checks on a platform's request body before its SDK parses it (bolt, botbuilder).

The SDKs parse bodies before any of our code runs, so a malformed body would surface as a 500.
Each front-end's guard turns every shape its SDK cannot handle into a 4xx with a reason, with
these helpers, and nothing else.
"""

from __future__ import annotations

import json
from typing import Any


class BadPayload(ValueError):
    """A request body Staffroom will not hand to an SDK; ``status`` is the HTTP status to send."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def media_type(content_type: str) -> str:
    """ "application/json" of "Application/JSON; charset=utf-8"."""
    return content_type.split(";")[0].strip().lower()


def text_of(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadPayload("body is not UTF-8") from err


def json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise BadPayload(f"{what} is not valid JSON") from err
    if not isinstance(data, dict):
        raise BadPayload(f"{what} is not a JSON object")
    return data


def need(data: dict[str, Any], key: str, kind: type) -> Any:
    """``data[key]``, which must be a ``kind``."""
    value = data.get(key)
    if not isinstance(value, kind):
        raise BadPayload(f"missing or malformed {key!r}")
    return value


def optional(data: dict[str, Any], keys: tuple[str, ...], kind: type = str) -> None:
    """Each of ``keys`` is absent, null or a ``kind`` (SDKs read them without checking)."""
    for key in keys:
        if data.get(key) is not None and not isinstance(data[key], kind):
            raise BadPayload(f"malformed {key!r}")
