"""Body checks that run BEFORE botbuilder parses a request.

botbuilder's ``CloudAdapter.process`` parses the body first, so malformed JSON or a body that is
not an activity would surface as a 500. These checks turn them into a 4xx with a reason.
"""

from __future__ import annotations

import json
from typing import Any


class BadActivity(ValueError):
    """A request body Staffroom will not hand to botbuilder; ``status`` is the HTTP status."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def check_activity(content_type: str, raw: bytes) -> dict[str, Any]:
    """The body as an activity object with a string ``type``; raises ``BadActivity`` otherwise."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise BadActivity(f"unsupported content type {content_type or '(none)'}", status=415)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise BadActivity("body is not valid JSON") from err
    if not isinstance(data, dict):
        raise BadActivity("body is not a JSON object")
    if not isinstance(data.get("type"), str) or not data["type"]:
        raise BadActivity("activity without a type")
    for key in ("conversation", "from", "recipient"):
        if key in data and not isinstance(data[key], dict):
            raise BadActivity(f"malformed {key!r}")
    if "serviceUrl" in data and not str(data["serviceUrl"]).startswith(("https://", "http://")):
        raise BadActivity("malformed 'serviceUrl'")
    return data
