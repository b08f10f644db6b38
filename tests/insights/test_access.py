"""Sign-in links: staff only, single use, 10 minutes; cookies signed; CSRF tokens checked."""

from __future__ import annotations

from datetime import timedelta

import pytest

import ideas
from bot.core import Core
from bot.flows.insights import InsightsLinkDeps, InsightsLinkFlow
from bot.messages import Incoming
from bot.records import SqlRecords
from insights import access
from store import Database, InsightSignIn
from store.runner import Runner
from tests.bot.fakes import FakeRetriever
from tests.insights.helpers import NOW

KEY = b"k" * 32


def test_a_link_works_once(db: Database) -> None:
    with db.session() as s:
        token = access.issue_link_token(s, "slack", "USTAFF", "Pat", now=NOW)
    with db.session() as s:
        viewer = access.redeem(s, token, now=NOW + timedelta(minutes=9))
    assert viewer is not None and (viewer.platform, viewer.user_id, viewer.name) == (
        "slack",
        "USTAFF",
        "Pat",
    )
    with db.session() as s:
        assert access.redeem(s, token, now=NOW + timedelta(minutes=9)) is None  # reused
    with db.session() as s:
        assert s.query(InsightSignIn).one().token_hash != token  # only the hash is kept


def test_an_expired_or_unknown_link_is_refused(db: Database) -> None:
    with db.session() as s:
        token = access.issue_link_token(s, "teams", "aad-1", now=NOW)
    with db.session() as s:
        assert access.redeem(s, token, now=NOW + timedelta(minutes=10, seconds=1)) is None
        assert access.redeem(s, "not-a-token", now=NOW) is None
        assert access.redeem(s, "", now=NOW) is None


def test_session_cookie_is_signed_and_expires_after_eight_hours() -> None:
    value, opened = access.session_cookie(access.Viewer("slack", "U1", "Pat"), KEY, now=NOW)
    assert access.read_cookie(value, KEY, now=NOW + timedelta(hours=7, minutes=59)) == opened
    assert access.read_cookie(value, KEY, now=NOW + timedelta(hours=8, seconds=1)) is None
    assert access.read_cookie(value, b"another key" * 3, now=NOW) is None
    payload, sig = value.split(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + sig
    assert access.read_cookie(forged, KEY, now=NOW) is None
    assert access.csrf_ok(opened, KEY, access.csrf_token(opened, KEY))
    assert not access.csrf_ok(opened, KEY, "") and not access.csrf_ok(opened, KEY, "x" * 43)


@pytest.fixture
def flow_core(sqlite_db: Database):
    core = Core(FakeRetriever(), SqlRecords(sqlite_db))
    staff = ideas.StaffRoster(ideas.Roles.parse("slack:USTAFF, teams:aad-staff"))
    deps = InsightsLinkDeps(Runner(sqlite_db), staff, "https://staffroom.example.org")
    flow = InsightsLinkFlow(deps)
    core.register("insights", flow.on_insights)
    yield core
    core.close()


def _msg(user: str, text: str = "insights", platform: str = "slack", **kw) -> Incoming:
    return Incoming(platform, user, "D1", "", text, surface=kw.pop("surface", "command"), **kw)


async def test_staff_get_a_private_link_and_others_a_refusal(
    flow_core: Core, sqlite_db: Database
) -> None:
    (reply,) = await flow_core.handle(_msg("USTAFF"))
    assert reply.ephemeral and "https://staffroom.example.org/insights/signin?token=" in reply.text
    (refusal,) = await flow_core.handle(_msg("UTEACHER"))
    assert "Only central staff can open insights" in refusal.text
    assert "token=" not in refusal.text
    with sqlite_db.session() as s:
        assert s.query(InsightSignIn).count() == 1  # no link was made for the teacher


async def test_a_teams_channel_mention_does_not_post_the_link_in_the_channel(
    flow_core: Core,
) -> None:
    (reply,) = await flow_core.handle(_msg("aad-staff", platform="teams", surface="mention"))
    assert "token=" not in reply.text and "privately" in reply.text


async def test_insights_with_more_words_is_a_question(flow_core: Core) -> None:
    (reply,) = await flow_core.handle(
        _msg("USTAFF", "insights on reading conferences", surface="dm", private=True)
    )
    assert reply.kind == "answer"
