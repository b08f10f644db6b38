"""Slack body checks that run BEFORE bolt parses a request (a malformed body would be a 500)."""

from __future__ import annotations

from urllib.parse import parse_qs

from bot.payloads import BadPayload, json_object, media_type, need, optional, text_of

PAYLOAD_NEEDS: dict[str, tuple[str, ...]] = {
    "block_actions": ("user", "actions"),
    "message_action": ("user", "message", "channel"),
    "shortcut": ("user",),
    "view_submission": ("user", "view"),
    "view_closed": ("user", "view"),
}
# Event fields bolt reads while routing: a wrong type there would be a 500 inside bolt.
EVENT_STRINGS = (
    "user", "channel", "bot_id", "text", "ts", "thread_ts", "event_ts", "subtype",
    "channel_type", "tab", "team", "app_id",
)  # fmt: skip


def check_body(content_type: str, raw: bytes) -> str:
    """The body as text when bolt can parse it safely; raises ``BadPayload`` otherwise."""
    body, kind = text_of(raw), media_type(content_type)
    if kind == "application/json":
        _check_json(body)
    elif kind == "application/x-www-form-urlencoded":
        _check_form(body)
    else:
        raise BadPayload(f"unsupported content type {kind or '(none)'}", status=415)
    return body


def _check_json(body: str) -> None:
    data = json_object(body, "JSON body")
    kind = data.get("type")
    if kind == "url_verification":
        need(data, "challenge", str)
    elif kind == "event_callback":
        event = need(data, "event", dict)
        need(event, "type", str)
        need(data, "event_id", str)
        optional(data, ("team_id", "api_app_id", "enterprise_id"))
        optional(event, EVENT_STRINGS)
    else:
        raise BadPayload(f"unsupported event envelope type {kind!r}")


def _check_form(body: str) -> None:
    try:
        form = parse_qs(body, keep_blank_values=True, strict_parsing=bool(body))
    except ValueError as err:
        raise BadPayload("malformed form body") from err
    if "payload" in form:
        payload = json_object(form["payload"][0], "payload")
        for key in PAYLOAD_NEEDS.get(need(payload, "type", str), ()):
            need(payload, key, dict if key != "actions" else list)
        optional(payload, ("trigger_id", "response_url", "callback_id"))
        for key in ("user", "channel", "team", "container", "view", "message"):
            if isinstance(payload.get(key), dict):
                optional(payload[key], ("id", "ts", "user", "text", "callback_id"))
    elif "command" in form:
        for key in ("command", "user_id", "channel_id"):
            if not form.get(key, [""])[0]:
                raise BadPayload(f"slash command without {key}")
    elif "ssl_check" not in form:
        raise BadPayload("form body is neither a command, an interaction nor an ssl_check")
