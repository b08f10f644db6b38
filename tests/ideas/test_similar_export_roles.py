"""Similar ideas (fake embedder), CSV export and roles."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from ideas import (
    Actor,
    Roles,
    StaffRoster,
    add_comment,
    check_staff,
    export_csv,
    require_admin,
    require_staff,
    similar_ideas,
    submit_idea,
    transition,
    vote_tried,
    vote_try,
)
from ideas.export import COLUMNS
from staffroom_errors import PermissionDenied
from store import Database, Idea
from tests.ideas.helpers import ANSWERS, AUTHOR, REVIEWER, make_idea

WORDS = ("exit", "ticket", "sticky", "circle", "restorative", "station", "rotation", "math")


class CountingEmbed:
    """Bag-of-words over a tiny vocabulary; counts the texts it embeds."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return np.array([[t.lower().count(w) for w in WORDS] for t in texts], dtype=np.float32)


def test_similar_ideas(db: Database) -> None:
    embed = CountingEmbed()
    with db.session() as s:
        exit_id = make_idea(s, title="Exit ticket sort", practice="sticky exit ticket").id
        make_idea(s, title="Restorative circle", practice="circle each Monday")
        dup = make_idea(s, title="Exit tickets again", practice="exit ticket sticky")
        transition(s, dup.id, "merge", actor=REVIEWER, merge_into=exit_id)
        stored = submit_idea(
            s,
            {**ANSWERS, "title": "Station rotation", "practice": "math station rotation"},
            author=AUTHOR,
            embedding=embed(["station rotation math"])[0],
            embedding_model="fake",
        )
    embed.texts.clear()
    with db.session() as s:
        hits = similar_ideas(s, "sticky exit ticket idea", embed, embed_model="fake")
        assert [i.id for i, _ in hits] == [exit_id]  # the duplicate is never offered
        assert hits[0][1] > 0.9
        # Two ideas were embedded lazily (the stored one was not), plus the query.
        assert len(embed.texts) == 3
    embed.texts.clear()
    with db.session() as s:
        hits = similar_ideas(s, "math rotation", embed, embed_model="fake", k=1, min_score=0.1)
        assert [i.id for i, _ in hits] == [stored.id]
        assert embed.texts == ["math rotation"]  # stored embeddings were reused
        assert similar_ideas(s, "", embed, embed_model="fake") == []
        idea = s.get(Idea, exit_id)
        assert idea is not None and idea.embedding_model == "fake"


def test_export_csv(db: Database) -> None:
    with db.session() as s:
        idea = make_idea(s, title='=HYPERLINK("x") 🍎', practice="line one\nline two, with comma")
        vote_try(s, idea.id, Actor("slack", "T1"))
        vote_tried(s, idea.id, Actor("slack", "T2"), "worked")
        add_comment(s, idea.id, author=Actor("slack", "T1"), text="nice")
        make_idea(s, status="declined")
    with db.session() as s:
        out = io.StringIO()
        assert export_csv(s, out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == list(COLUMNS)
    first = rows[0]
    assert first["title"] == '\'=HYPERLINK("x") 🍎'  # no formula runs in a spreadsheet
    assert first["practice"] == "line one\nline two, with comma"
    assert (first["try_count"], first["tried_count"], first["comment_count"]) == ("1", "1", "1")
    assert (first["grade_bands"], first["subjects"]) == ("6-8", "Math")
    assert rows[1]["status"] == "declined"


def test_roles() -> None:
    roles = Roles.parse("slack:U_STAFF, teams:29:abc U_ANY", admins=["slack:U_ADMIN"])
    assert roles.is_staff("slack", "U_STAFF") and not roles.is_staff("teams", "U_STAFF")
    assert roles.is_staff("teams", "29:abc") and roles.is_staff("teams", "U_ANY")
    assert roles.is_staff("slack", "U_ADMIN") and roles.is_admin("slack", "U_ADMIN")
    require_staff(roles, "slack", "U_STAFF")
    with pytest.raises(PermissionDenied, match="Only central staff"):
        require_staff(roles, "slack", "U_TEACHER")
    with pytest.raises(PermissionDenied):
        require_admin(roles, "slack", "U_STAFF")
    assert not Roles.parse("", None).is_staff("slack", "")


class _Group:
    """A staff group whose members are known (or not yet: ``known=None``)."""

    def __init__(self, members: set[str], known: bool = True) -> None:
        self._members, self._known = frozenset(members), known

    async def members(self) -> frozenset[str]:
        return self._members

    def cached(self) -> frozenset[str] | None:
        return self._members if self._known else None


async def test_staff_roster_adds_a_platforms_group_to_the_configured_ids() -> None:
    roles = Roles.parse("slack:U_STAFF")
    roster = StaffRoster(roles, {"slack": _Group({"U_GROUP"})})
    assert await roster.is_staff("slack", "U_STAFF") and await roster.is_staff("slack", "U_GROUP")
    assert not await roster.is_staff("teams", "U_GROUP")  # the group is Slack's only
    assert not await roster.is_staff("slack", "U_TEACHER")
    assert roster.may_be_staff("slack", "U_GROUP") and not roster.may_be_staff("slack", "U_T")
    cold = StaffRoster(roles, {"slack": _Group({"U_GROUP"}, known=False)})
    assert cold.may_be_staff("slack", "U_T")  # unknown yet: the submit decides
    with pytest.raises(PermissionDenied, match="Only central staff can open design questions"):
        await check_staff(roster, "slack", "U_TEACHER", "open design questions")
    with pytest.raises(PermissionDenied, match=r"^Only central staff can do that\.$"):
        require_staff(roles, "slack", "U_TEACHER")
