"""The shipped manifest and the code agree on the command, the shortcut and the endpoints."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.settings import Settings
from bot.slack.app import SHORTCUT_ID

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yaml"


def test_manifest_matches_the_code():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    features, settings = manifest["features"], manifest["settings"]
    [command] = features["slash_commands"]
    assert command["command"] == Settings.model_fields["slack_command"].default
    assert [s["callback_id"] for s in features["shortcuts"]] == [SHORTCUT_ID]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "app_home_opened",
        "message.im",
        "message.channels",
        "message.groups",
    }
    urls = {
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    }
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history", "im:write"} <= scopes
    # review-thread replies reach Staffroom without a mention
    assert {"channels:history", "groups:history"} <= scopes
    # members of STAFFROOM_STAFF_USERGROUP are staff (usergroups.users.list)
    assert "usergroups:read" in scopes
    # idea authors and reviewers by their display names (users.info)
    assert "users:read" in scopes
    assert features["app_home"]["home_tab_enabled"] is True
