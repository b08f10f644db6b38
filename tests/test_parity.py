"""Parity: the same conversation scripts through the Slack and the Teams front-ends.

Every script of tests/scenarios (pitch, triage, design questions, votes) plus a small ask /
feedback / help script is replayed as Slack DMs and as Teams personal chats, each over real
HTTP against its fake platform API and its own database. Each step must meet the script's
expectations on both, the replies must say the same (people's ids mapped back to their role),
and the databases must end with the same questions, votes, ideas, statuses and comments.
"""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from store import Comment, Database, Feedback, Idea, Question
from tests.scenarios.harness import age_drafts
from tests.scenarios.scripts import SCRIPTS, Say, Script
from tests.slack.conftest import COLLEAGUE, STAFF, TEACHER, fake_slack, start_server  # noqa: F401
from tests.slack.ideas_helpers import dm
from tests.teams.conftest import connector, personal_message, start_teams  # noqa: F401
from tests.teams.ideas_helpers import in_conversation

ASK: Script = (
    Say("teacher", "how do I run exit tickets?", ("Start with", "Exit Tickets That Drive")),
    Say("teacher", "feedback good", ("marked helpful",)),
    Say("colleague", "feedback good", ("After an answer",)),
    Say("teacher", "feedback bad", ("marked not helpful",)),
    Say("teacher", "help", ("feedback good", "pitch")),
    Say("teacher", "", ("Ask me a question",)),
)
ALL = {"ask_feedback_help": ASK, **SCRIPTS}
SLACK_IDS = {"teacher": TEACHER, "colleague": COLLEAGUE, "staff": STAFF}
# Teams people without display names, as Slack DMs carry none: the texts then match exactly.
TEAMS = {
    role: ({"id": f"29:1{role}", "aadObjectId": f"aad-{role}"}, f"a:1chat-{role}")
    for role in ("teacher", "colleague", "staff")
}
ROLE_OF = {**{v: k for k, v in SLACK_IDS.items()}, **{f"aad-{r}": r for r in TEAMS}}
_ID = re.compile("|".join(map(re.escape, sorted(ROLE_OF, key=len, reverse=True))))


def _roles(text: str) -> str:
    return _ID.sub(lambda m: ROLE_OF[m.group(0)], text)


async def _over_slack(start_server, url: str, fake, script: Script) -> list[str]:  # noqa: F811
    staffroom = await start_server(url, with_ideas=True)
    said = []
    for step in script:
        age_drafts(staffroom.components.database, step.idle)
        calls = await dm(staffroom, fake, SLACK_IDS[step.user], step.text)
        said.append("\n".join(html.unescape(c.params.get("text", "")) for c in calls))
    return said


async def _over_teams(start_teams, url: str, connector, script: Script) -> list[str]:  # noqa: F811
    teams = await start_teams(url, with_ideas=True)
    said = []
    for step in script:
        age_drafts(teams.components.database, step.idle)
        sender, chat = TEAMS[step.user]
        before = len(in_conversation(connector, chat))
        sent = await teams.post(personal_message(connector.url, step.text, sender, chat))
        assert sent.status == 200
        await teams.front.settle()
        calls = in_conversation(connector, chat)[before:]
        said.append("\n".join(str(c.body.get("summary") or "") for c in calls))
    return said


def _state(url: str) -> dict[str, list]:
    """What a script leaves in the database, with user ids as roles."""
    db = Database.from_url(url)
    try:
        with db.session() as s:
            return {
                "questions": [(q.text, q.good_match) for q in s.scalars(sa.select(Question))],
                "votes": [
                    (f.question_id, _roles(f.user_id), f.helpful)
                    for f in s.scalars(sa.select(Feedback))
                ],
                "ideas": [
                    (i.id, i.title, i.status, _roles(i.author_id), i.merged_into_id)
                    for i in s.scalars(sa.select(Idea).order_by(Idea.id))
                ],
                "comments": [
                    (c.idea_id, c.text) for c in s.scalars(sa.select(Comment).order_by(Comment.id))
                ],
            }
    finally:
        db.dispose()


@pytest.mark.parametrize("name", sorted(ALL))
async def test_slack_and_teams_give_the_same_answers_ideas_and_statuses(
    name,
    tmp_path,
    start_server,  # noqa: F811
    fake_slack,  # noqa: F811
    start_teams,  # noqa: F811
    connector,  # noqa: F811
):
    script = ALL[name]
    slack_url = f"sqlite:///{tmp_path / 'slack.db'}"
    teams_url = f"sqlite:///{tmp_path / 'teams.db'}"
    on_slack = await _over_slack(start_server, slack_url, fake_slack, script)
    on_teams = await _over_teams(start_teams, teams_url, connector, script)
    for n, (step, slack_text, teams_text) in enumerate(
        zip(script, on_slack, on_teams, strict=True), 1
    ):
        for platform, text in (("slack", slack_text), ("teams", teams_text)):
            for expected in step.expect:
                assert expected in text, f"{platform} step {n}: {expected!r} not in {text!r}"
            for unwanted in step.absent:
                assert unwanted not in text, f"{platform} step {n}: {unwanted!r} in {text!r}"
        assert _roles(teams_text) == _roles(slack_text), f"step {n} ({step.text[:30]!r})"
    assert _state(teams_url) == _state(slack_url)
