"""Body checks that run BEFORE bolt parses a request.

bolt parses bodies before any listener runs, so a malformed body would surface as a 500.
These checks turn every shape bolt cannot handle into a 4xx with a reason, and nothing else.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded",)
PAYLOAD_NEEDS: dict[str, tuple[str, ...]] = {
    "block_actions": ("user", "actions"),
    "message_action": ("user", "message", "channel"),
    "shortcut": ("user",),
    "view_submission": ("user", "view"),
    "view_closed": ("user", "view"),
}


class BadBody(ValueError):
    """A request body Staffroom will not hand to bolt; ``status`` is the HTTP status to send."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def check_body(content_type: str, raw: bytes) -> str:
    """The body as text when bolt can parse it safely; raises ``BadBody`` otherwise."""
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadBody("body is not UTF-8") from err
    kind = content_type.split(";")[0].strip().lower()
    if kind in JSON_TYPES:
        _check_json(body)
    elif kind in FORM_TYPES:
        _check_form(body)
    else:
        raise BadBody(f"unsupported content type {kind or '(none)'}", status=415)
    return body


def _check_json(body: str) -> None:
    data = _json_object(body, "JSON body")
    kind = data.get("type")
    if kind == "url_verification":
        _need(data, "challenge", str)
    elif kind == "event_callback":
        event = _need(data, "event", dict)
        _need(event, "type", str)
        _need(data, "event_id", str)
        # bolt reads these while routing; a wrong type there would be a 500 inside bolt
        _optional_str(data, ("team_id", "api_app_id", "enterprise_id"))
        _optional_str(event, EVENT_STRINGS)
    else:
        raise BadBody(f"unsupported event envelope type {kind!r}")


def _check_form(body: str) -> None:
    try:
        form = parse_qs(body, keep_blank_values=True, strict_parsing=bool(body))
    except ValueError as err:
        raise BadBody("malformed form body") from err
    if "payload" in form:
        payload = _json_object(form["payload"][0], "payload")
        kind = _need(payload, "type", str)
        for key in PAYLOAD_NEEDS.get(kind, ()):
            _need(payload, key, dict if key != "actions" else list)
        _optional_str(payload, ("trigger_id", "response_url", "callback_id"))
        for key in ("user", "channel", "team", "container", "view", "message"):
            if isinstance(payload.get(key), dict):
                _optional_str(payload[key], ("id", "ts", "user", "text", "callback_id"))
    elif "command" in form:
        for key in ("command", "user_id", "channel_id"):
            if not form.get(key, [""])[0]:
                raise BadBody(f"slash command without {key}")
    elif "ssl_check" not in form:
        raise BadBody("form body is neither a command, an interaction nor an ssl_check")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise BadBody(f"{what} is not valid JSON") from err
    if not isinstance(data, dict):
        raise BadBody(f"{what} is not a JSON object")
    return data


EVENT_STRINGS = (
    "user", "channel", "bot_id", "text", "ts", "thread_ts", "event_ts", "subtype",
    "channel_type", "tab", "team", "app_id",
)  # fmt: skip


def _optional_str(data: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if data.get(key) is not None and not isinstance(data[key], str):
            raise BadBody(f"malformed {key!r}")


def _need(data: dict[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise BadBody(f"missing or malformed {key!r}")
    return value
