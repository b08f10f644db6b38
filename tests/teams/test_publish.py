"""Publishing an adopted idea from a Teams personal chat, over real HTTP."""

from __future__ import annotations

from tests.bot.publish_helpers import ADOPTED, URL, install_publisher, library, top_session
from tests.teams.conftest import PEOPLE
from tests.teams.ideas_helpers import chat, in_conversation, said


async def test_publish_from_a_teams_chat(start_teams, sqlite_url, connector, tmp_path):
    teams = await start_teams(sqlite_url, with_ideas=True)
    lib = library(tmp_path)
    publisher = install_publisher(teams.components, lib, "teams:aad-staff")
    for step in ADOPTED:
        await chat(teams, step.user, step.text)
    assert "Only central staff" in said(await chat(teams, "colleague", f"publish 1 {URL}"))

    await chat(teams, "staff", f"publish 1 {URL} transcript talk.vtt")
    await publisher.settle()
    await teams.front.settle()
    assert top_session(lib) == "field-idea-1"
    for person in ("teacher", "colleague"):
        texts = said(in_conversation(connector, PEOPLE[person][1]))
        assert texts.count("📚") == 1, person
    staff_chat = [c for c in connector.of("update") if c.conversation == PEOPLE["staff"][1]]
    assert "is published to the library as session field-idea-1" in str(staff_chat[-1].body)
