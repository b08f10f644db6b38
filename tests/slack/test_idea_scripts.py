"""The conversation scripts of tests/scenarios, replayed as Slack DMs over real HTTP."""

from __future__ import annotations

import pytest

from tests.scenarios.harness import age_drafts
from tests.scenarios.scripts import SCRIPTS
from tests.slack.conftest import COLLEAGUE, STAFF, TEACHER
from tests.slack.ideas_helpers import dm

USERS = {"teacher": TEACHER, "colleague": COLLEAGUE, "staff": STAFF}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
async def test_script_over_slack_dms(name, start_server, sqlite_url, fake_slack):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    for n, step in enumerate(SCRIPTS[name], 1):
        age_drafts(staffroom.components.database, step.idle)
        replies = await dm(staffroom, fake_slack, USERS[step.user], step.text)
        said = "\n".join(c.params.get("text", "") for c in replies)
        for text in step.expect:
            assert text in said, f"step {n} ({step.text[:30]!r}): {text!r} not in {said!r}"
        for text in step.absent:
            assert text not in said, f"step {n} ({step.text[:30]!r}): {text!r} in {said!r}"
