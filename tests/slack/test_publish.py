"""Publishing an adopted idea from a Slack DM, over real HTTP: progress edited in place, the
session searchable afterwards, the author and the voter each told once by DM."""

from __future__ import annotations

from tests.bot.publish_helpers import ADOPTED, URL, install_publisher, library, top_session
from tests.slack.conftest import COLLEAGUE, STAFF, TEACHER
from tests.slack.ideas_helpers import dm

USERS = {"teacher": TEACHER, "colleague": COLLEAGUE, "staff": STAFF}


async def test_publish_from_a_slack_dm(start_server, sqlite_url, fake_slack, tmp_path):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    lib = library(tmp_path)
    publisher = install_publisher(staffroom.components, lib, f"slack:{STAFF}")
    for step in ADOPTED:
        await dm(staffroom, fake_slack, USERS[step.user], step.text)
    refused = await dm(staffroom, fake_slack, TEACHER, f"publish 1 {URL}")
    assert "Only central staff can publish ideas" in refused[0].params["text"]

    await dm(staffroom, fake_slack, STAFF, f"publish 1 {URL} transcript talk.vtt")
    await publisher.settle()
    [*_, last] = fake_slack.of("chat.update")
    assert "is published to the library as session field-idea-1" in last.params["text"]
    assert "Re-index finished" in last.params["text"]
    assert top_session(lib) == "field-idea-1"
    news = [c for c in fake_slack.of("chat.postMessage") if "📚" in c.params.get("text", "")]
    assert sorted(c.params["channel"] for c in news) == sorted(
        [TEACHER, COLLEAGUE]
    )  # DMs by user id

    await dm(staffroom, fake_slack, STAFF, f"publish 1 {URL}?v=2")  # again: in place, no news
    await publisher.settle()
    assert "is updated in the library" in fake_slack.of("chat.update")[-1].params["text"]
    assert (
        len([c for c in fake_slack.of("chat.postMessage") if "📚" in c.params.get("text", "")]) == 2
    )
