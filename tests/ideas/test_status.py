"""The state machine: the table itself, then every status x action against the database."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from ideas import Action, Status, allowed_actions, get_idea, next_status, transition
from ideas.status import FINAL, OPEN, TRANSITIONS
from staffroom_errors import TransitionError
from store import Database, Idea, IdeaEvent
from tests.ideas.helpers import REVIEWER, make_idea


def test_main_line_reaches_adopted() -> None:
    status: Status | None = Status.NEW
    for action in (Action.START_REVIEW, Action.PILOT, Action.SCALE, Action.ADOPT):
        status = next_status(status, action)  # type: ignore[arg-type]
    assert status == Status.ADOPTED


def test_table_shape() -> None:
    for status in OPEN:
        assert next_status(status, Action.DECLINE) == Status.DECLINED
    for status in FINAL:
        assert allowed_actions(status) == ()
    merge_from = {s for (s, a) in TRANSITIONS if a == Action.MERGE}
    assert merge_from == {Status.NEW, Status.UNDER_REVIEW}
    assert next_status(Status.DECLINED, Action.REOPEN) == Status.UNDER_REVIEW
    assert next_status("nonsense", "pilot") is None


def test_every_status_and_action(db: Database) -> None:
    for status in Status:
        for action in Action:
            with db.session() as s:
                target = make_idea(s, title="target")
                idea = make_idea(s, status=status.value)
                before = (idea.status, idea.version)
                events = s.scalar(sa.select(sa.func.count()).select_from(IdeaEvent))
                expected = TRANSITIONS.get((status, action))
                kwargs = {"merge_into": target.id} if action == Action.MERGE else {}
                if expected is None:
                    with pytest.raises(TransitionError):
                        transition(s, idea.id, action, actor=REVIEWER, **kwargs)
                    after = get_idea(s, idea.id)
                    assert (after.status, after.version) == before, (status, action)
                    assert s.scalar(sa.select(sa.func.count()).select_from(IdeaEvent)) == events
                    continue
                after = transition(s, idea.id, action, actor=REVIEWER, note="ok", **kwargs)
                assert after.status == expected.value, (status, action)
                assert after.version == before[1] + 1
                last = s.scalars(
                    sa.select(IdeaEvent)
                    .where(IdeaEvent.idea_id == idea.id)
                    .order_by(IdeaEvent.id.desc())
                ).first()
                assert last is not None
                assert (last.from_status, last.to_status) == (status.value, expected.value)
                assert (last.actor_platform, last.actor_id) == ("slack", "U_STAFF")


def test_refusals_say_why(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        idea = make_idea(s, status="under_review")
        with pytest.raises(TransitionError, match=r"Idea #\d+ is already under review"):
            transition(s, idea.id, "start_review", actor=REVIEWER)
        adopted = make_idea(s, status="adopted")
        with pytest.raises(TransitionError) as err:
            transition(s, adopted.id, "decline", actor=REVIEWER)
        assert "final" in err.value.user_text()
        with pytest.raises(TransitionError, match="Unknown action"):
            transition(s, idea.id, "delete", actor=REVIEWER)
        with pytest.raises(TransitionError, match="now, not new"):
            transition(s, idea.id, "decline", actor=REVIEWER, expected_status="new")


def test_merge_needs_a_live_target(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        a, b, c = make_idea(s), make_idea(s), make_idea(s)
        with pytest.raises(TransitionError, match="needs the idea"):
            transition(s, a.id, "merge", actor=REVIEWER)
        with pytest.raises(TransitionError, match="itself"):
            transition(s, a.id, "merge", actor=REVIEWER, merge_into=a.id)
        with pytest.raises(TransitionError, match="no idea #999"):
            transition(s, a.id, "merge", actor=REVIEWER, merge_into=999)
        transition(s, b.id, "merge", actor=REVIEWER, merge_into=c.id)
        with pytest.raises(TransitionError) as err:
            transition(s, a.id, "merge", actor=REVIEWER, merge_into=b.id)
        assert f"Merge into #{c.id} instead" in err.value.user_text()


def _race(db_url: str, calls: list[dict[str, object]]) -> tuple[list[str], list[BaseException]]:
    """Run one transition per entry of `calls` at the same moment, each on its own engine."""
    barrier = threading.Barrier(len(calls))
    wins: list[str] = []
    losses: list[BaseException] = []

    def worker(kwargs: dict[str, object]) -> None:
        own = Database.from_url(db_url)
        try:
            barrier.wait(timeout=30)
            with own.session() as s:
                wins.append(transition(s, actor=REVIEWER, **kwargs).status)  # type: ignore[arg-type]
        except BaseException as err:  # noqa: BLE001 - the test inspects it
            losses.append(err)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return wins, losses


def test_two_reviewers_click_at_once(db_url: str, db: Database) -> None:
    with db.session() as s:
        idea_id = make_idea(s).id
    wins, losses = _race(db_url, [{"idea_id": idea_id, "action": "start_review"}] * 2)
    assert wins == ["under_review"]
    assert len(losses) == 1 and isinstance(losses[0], TransitionError)
    assert "already under review" in str(losses[0])
    with db.session() as s:
        n = s.scalar(
            sa.select(sa.func.count()).where(
                IdeaEvent.idea_id == idea_id, IdeaEvent.to_status == "under_review"
            )
        )
        assert n == 1


def test_opposite_merges_at_once_leave_one_live_idea(db_url: str, db: Database) -> None:
    with db.session() as s:
        a, b = make_idea(s).id, make_idea(s).id
    wins, losses = _race(
        db_url,
        [
            {"idea_id": a, "action": "merge", "merge_into": b},
            {"idea_id": b, "action": "merge", "merge_into": a},
        ],
    )
    assert wins == ["duplicate"]
    assert len(losses) == 1 and isinstance(losses[0], TransitionError)
    with db.session() as s:
        statuses = sorted(s.scalars(sa.select(Idea.status).where(Idea.id.in_([a, b]))))
        assert statuses == ["duplicate", "new"]
