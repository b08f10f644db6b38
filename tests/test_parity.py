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
    return await _over_slack_on(await start_server(url, with_ideas=True), fake, script)


async def _over_teams(start_teams, url: str, connector, script: Script) -> list[str]:  # noqa: F811
    return await _over_teams_on(await start_teams(url, with_ideas=True), connector, script)


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


# --- follow-through: the same words on both, the check-in sent by the scheduler --------------

CHECK_IN = "<the scheduler runs>"
FOLLOW: Script = (
    Say("teacher", "how do I run exit tickets?", ("Start with",)),
    Say("teacher", "try exit-tickets", ("you'll try", "I'll check in soon")),
    Say("teacher", CHECK_IN, ("Did you try", "Exit Tickets That Drive", "How did it go?")),
    Say("teacher", "checkin 1 worked", ("Great to hear", "What would you tell a colleague")),
    Say("teacher", "Two piles, not three.", ("Kept, privately",)),
    Say("teacher", "reflection 1 share", ("Shared",)),
    Say("colleague", "checkins off", ("no more check-ins",)),
    Say("colleague", "try exit-tickets", ("Check-ins are off",)),
    Say("colleague", CHECK_IN, ()),
)


def _follow(components) -> object:
    from datetime import timedelta

    from bot.follow_flow import FollowConfig
    from bot.follow_wiring import install
    from store.runner import Runner

    config = FollowConfig(timedelta(0), "UTC", 3)
    return install(components.core, Runner(components.database), config)


async def test_follow_through_says_the_same_on_slack_and_teams(
    tmp_path,
    start_server,  # noqa: F811
    fake_slack,  # noqa: F811
    start_teams,  # noqa: F811
    connector,  # noqa: F811
):
    from tests.slack.follow_helpers import dms_to

    slack_url = f"sqlite:///{tmp_path / 'slack.db'}"
    teams_url = f"sqlite:///{tmp_path / 'teams.db'}"
    staffroom = await start_server(slack_url, with_ideas=True)
    teams = await start_teams(teams_url, with_ideas=True)
    on_slack, on_teams = _follow(staffroom.components), _follow(teams.components)
    for n, step in enumerate(FOLLOW, 1):
        if step.text == CHECK_IN:
            user = SLACK_IDS[step.user]
            before = len(dms_to(fake_slack, user))
            await on_slack.scheduler.run_once()
            slack_text = "\n".join(c.params["text"] for c in dms_to(fake_slack, user)[before:])
            _, chat = TEAMS[step.user]
            before = len(in_conversation(connector, chat))
            await on_teams.scheduler.run_once()
            calls = in_conversation(connector, chat)[before:]
            teams_text = "\n".join(str(c.body.get("summary") or "") for c in calls)
        else:
            (slack_text,) = await _over_slack_on(staffroom, fake_slack, (step,))
            (teams_text,) = await _over_teams_on(teams, connector, (step,))
        for platform, text in (("slack", html.unescape(slack_text)), ("teams", teams_text)):
            for expected in step.expect:
                assert expected in text, f"{platform} step {n}: {expected!r} not in {text!r}"
        assert _roles(teams_text) == _roles(html.unescape(slack_text)), f"step {n}"
    assert _follow_state(teams_url) == _follow_state(slack_url)


async def _over_slack_on(staffroom, fake, script: Script) -> list[str]:
    said = []
    for step in script:
        age_drafts(staffroom.components.database, step.idle)
        calls = await dm(staffroom, fake, SLACK_IDS[step.user], step.text)
        said.append("\n".join(html.unescape(c.params.get("text", "")) for c in calls))
    return said


async def _over_teams_on(teams, connector, script: Script) -> list[str]:  # noqa: F811
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


def _follow_state(url: str) -> dict[str, list]:
    from store import FollowMessage, FollowPerson, FollowReflection, FollowTry

    db = Database.from_url(url)
    try:
        with db.session() as s:
            return {
                "tries": [(_roles(t.user_id), t.session_id, t.status, t.outcome)
                          for t in s.scalars(sa.select(FollowTry).order_by(FollowTry.id))],
                "messages": [(_roles(m.user_id), m.kind, m.state, m.answer)
                             for m in s.scalars(sa.select(FollowMessage).order_by(FollowMessage.id))],
                "reflections": [(r.text, r.shared, r.outcome)
                                for r in s.scalars(sa.select(FollowReflection))],
                "stopped": sorted(_roles(p.user_id) for p in s.scalars(sa.select(FollowPerson))
                                  if p.stopped),
            }  # fmt: skip
    finally:
        db.dispose()
