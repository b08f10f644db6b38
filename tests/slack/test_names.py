"""Display names over Slack: users.info (cached) names idea authors, reviewers and the export;
the idea history says who moved the idea and when."""

from __future__ import annotations

import csv
import io
import json
import re

from bot.names import Names, slack_names
from ideas.export import export_csv
from tests.scenarios.scripts import EXIT, pitch
from tests.slack.conftest import REVIEW_CHANNEL, STAFF, TEACHER
from tests.slack.ideas_helpers import dm, replies_in

USERS = {TEACHER: "teacher", STAFF: "staff"}


async def test_ideas_carry_display_names_and_history_says_who_moved_them(
    start_server, sqlite_url, fake_slack
):
    fake_slack.users[TEACHER] = {"name": "ana.d", "profile": {"display_name": "Ana Diaz"}}
    fake_slack.users[STAFF] = {"name": "sam", "real_name": "Sam Reyes", "profile": {}}
    staffroom = await start_server(sqlite_url, with_ideas=True)
    core, slack = staffroom.components.core, staffroom.components.slack
    assert slack is not None
    core.names.register("slack", slack_names(slack.courier.call))  # as bot.app.build does

    for step in pitch("teacher", *EXIT):
        await dm(staffroom, fake_slack, TEACHER, step.text)
    await dm(staffroom, fake_slack, TEACHER, "submit")
    review = json.dumps([c.params for c in replies_in(fake_slack, REVIEW_CHANNEL)])
    assert "Pitched by Ana Diaz" in review and TEACHER not in review

    await dm(staffroom, fake_slack, STAFF, "triage 1 start_review")
    [history] = [c.params["text"] for c in await dm(staffroom, fake_slack, TEACHER, "idea 1")]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC pitched → new by Ana Diaz", history)
    assert re.search(r"UTC new → under review by Sam Reyes", history)
    thread = [c.params.get("text", "") for c in replies_in(fake_slack, REVIEW_CHANNEL)]
    assert "Sam Reyes moved #1 from new to under review." in thread  # the review thread's note
    # One users.info per person, however many messages they sent (the cache).
    asked = [c.params.get("user") for c in fake_slack.of("users.info")]
    assert sorted(asked) == sorted([TEACHER, STAFF])

    assert staffroom.components.database is not None
    out = io.StringIO()
    with staffroom.components.database.session() as s:
        export_csv(s, out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["author_name"] == "Ana Diaz"


async def test_an_unknown_user_or_a_missing_scope_keeps_the_id_and_is_not_asked_again(
    fake_slack, start_server, sqlite_url
):
    staffroom = await start_server(sqlite_url)
    slack = staffroom.components.slack
    assert slack is not None
    now = [0.0]
    names = Names(clock=lambda: now[0])
    names.register("slack", slack_names(slack.courier.call))
    fake_slack.fail("users.info", "missing_scope")
    assert await names.name("slack", "U9") == ""
    assert await names.name("slack", "U9") == ""  # cached for a while: not asked again
    assert len(fake_slack.of("users.info")) == 1
    fake_slack.users["U9"] = {"profile": {"display_name": "Kim"}}
    now[0] += 301  # the retry period passed
    assert await names.name("slack", "U9") == "Kim"
    now[0] += 1000
    assert await names.name("slack", "U9") == "Kim" and len(fake_slack.of("users.info")) == 2
