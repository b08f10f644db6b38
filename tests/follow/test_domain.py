"""The follow-through rules on both backends: tries and check-ins, snoozes, stop, leases,
one check-in a day, counts, followers and pilots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from follow import people, pilots, schedule, tries
from follow.timing import due_after, zone
from staffroom_errors import InputError
from store import Database, FollowMessage, Vote
from tests.ideas.helpers import make_idea

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday
DAY = timedelta(days=7)
SECONDS = timedelta(seconds=5)


def _take(s, owner="r1", now=NOW, delay=DAY):
    return schedule.take_due(s, owner, lease=timedelta(seconds=60), delay=delay, now=now)


def test_school_mornings():
    # 1 day after a Friday afternoon is Saturday: the check-in waits for Monday morning, local.
    due = due_after(NOW, timedelta(days=1), zone("America/Chicago"))
    local = due.astimezone(zone("America/Chicago"))
    assert (local.weekday(), local.hour, local.minute) == (0, 8, 30)
    assert due_after(NOW, SECONDS, zone("")) == NOW + SECONDS
    assert zone("Not/AZone", "Europe/Paris").key == "Europe/Paris"


def test_try_check_in_answer_reflect_share_and_counts(db: Database):
    with db.session() as s:
        first = tries.start_try(s, "slack", "U1", "exit-tickets", "Exit Tickets", NOW)
        again = tries.start_try(s, "slack", "U1", "exit-tickets", "Exit Tickets", NOW)
    assert first.new and not again.new and again.try_id == first.try_id
    with db.session() as s:
        assert _take(s, now=NOW - timedelta(seconds=1)) == []
        (due,) = _take(s)
        assert due.kind == "checkin" and due.payload["title"] == "Exit Tickets"
    with db.session() as s:
        assert _take(s, "r2") == []  # leased by r1
        assert schedule.sent(s, due.id, "r1", NOW)
    with db.session() as s:
        done = tries.answer_checkin(s, "slack", "U1", due.id, "worked", now=NOW)
        assert done.title == "Exit Tickets"
        with pytest.raises(InputError):
            tries.answer_checkin(s, "slack", "U2", due.id, "worked")
        ref = tries.reflect(s, "slack", "U1", first.try_id, "Sticky notes, sorted in 2 piles.")
    with db.session() as s:
        assert tries.shared_reflections(s, "exit-tickets") == []
        tries.share(s, "slack", "U1", ref)
        assert tries.shared_reflections(s, "exit-tickets") == [
            ("worked", "Sticky notes, sorted in 2 piles.")
        ]
        people.set_school(s, "slack", "U2", "Lincoln MS")
        tries.start_try(s, "slack", "U2", "exit-tickets", "Exit Tickets", NOW)
    with db.session() as s:
        (due2,) = _take(s)
        schedule.sent(s, due2.id, "r1", NOW)
        tries.answer_checkin(s, "slack", "U2", due2.id, "partly", now=NOW)
        assert tries.proof(s, ["exit-tickets", "other"]) == {
            "exit-tickets": tries.Proof(tried=2, schools=1, worked=1)
        }


def test_snooze_twice_then_no_more_and_stop_everywhere(db: Database):
    with db.session() as s:
        tries.start_try(s, "teams", "A", "s1", "One", NOW)
        tries.start_try(s, "teams", "A", "s2", "Two", NOW + timedelta(days=1))
    now = NOW
    for snoozes in (1, 2):
        with db.session() as s:
            (due,) = _take(s, now=now, delay=SECONDS)
            schedule.sent(s, due.id, "r1", now)
        with db.session() as s:
            done = tries.answer_checkin(s, "teams", "A", due.id, "not_yet", now + SECONDS, now)
            assert done.snoozes == snoozes
        now += timedelta(minutes=1)
    with db.session() as s:
        (due,) = _take(s, now=now, delay=SECONDS)
        schedule.sent(s, due.id, "r1", now)
    with db.session() as s, pytest.raises(InputError):
        tries.answer_checkin(s, "teams", "A", due.id, "not_yet", now + SECONDS, now)
    with db.session() as s:
        tries.answer_checkin(s, "teams", "A", due.id, "stop", now=now)
    with db.session() as s:  # the other try's check-in ended too
        assert _take(s, now=now + DAY, delay=SECONDS) == []
        assert schedule.counts(s).get("due", 0) == 0
        started = tries.start_try(s, "teams", "A", "s3", "Three", now)
        assert started.due_at is None


def test_one_check_in_a_day(db: Database):
    with db.session() as s:
        tries.start_try(s, "slack", "U1", "a", "A", NOW)
        tries.start_try(s, "slack", "U1", "b", "B", NOW)
    with db.session() as s:
        taken = _take(s)
        assert len(taken) == 1  # the other moved to the next school morning
        schedule.sent(s, taken[0].id, "r1", NOW)
    with db.session() as s:
        moved = [m for m in s.query(FollowMessage) if m.state == "due"]
        assert len(moved) == 1 and moved[0].due_at > NOW


def test_gone_stops_the_schedule_and_retries_end(db: Database):
    with db.session() as s:
        tries.start_try(s, "slack", "U1", "a", "A", NOW)
        tries.start_try(s, "slack", "U2", "a", "A", NOW)
    with db.session() as s:
        one, two = _take(s, delay=SECONDS)
        assert schedule.failed(s, one.id, "r1", "user_not_found", gone=True, now=NOW) == "stopped"
        assert schedule.failed(s, two.id, "r1", "ratelimited", gone=False, now=NOW) == "due"
    with db.session() as s:
        assert _take(s, delay=SECONDS) == []  # paused for a retry
        assert people.person(s, "slack", "U1").stopped
        (retry,) = _take(s, now=NOW + timedelta(minutes=5), delay=SECONDS)
        assert retry.attempts == 2


def test_follow_pilot_verdict_and_notices(db: Database):
    with db.session() as s:
        idea = make_idea(s, "under_review")
        idea_id = idea.id
        assert pilots.follow_idea(s, "slack", "UF", idea_id)[1]
        s.add(Vote(idea_id=idea_id, platform="slack", user_id="UV", kind="try"))
        with pytest.raises(InputError):
            pilots.join_pilot(s, "slack", "UP", idea_id, NOW)
    with db.session() as s:
        idea = s.get(type(idea), idea_id)
        idea.status = "piloting"
        assert pilots.on_idea_moved(s, idea_id, "piloting", NOW) == 2
        assert pilots.on_idea_moved(s, idea_id, "declined", NOW) == 0
        joined = pilots.join_pilot(s, "slack", "UP", idea_id, NOW)
        assert joined.new and joined.due_at == NOW
    with db.session() as s:
        taken = _take(s)
        assert sorted(d.kind for d in taken) == ["notice", "notice", "pilot"]
        pilot = next(d for d in taken if d.kind == "pilot")
        schedule.sent(s, pilot.id, "r1", NOW)
    with db.session() as s:
        with pytest.raises(InputError):
            pilots.record_verdict(s, "slack", "UP", idea_id, "adopt", "not a link")
        pilots.record_verdict(s, "slack", "UP", idea_id, "adopt", "https://ex.org/notes")
        found = pilots.evidence(s, idea_id)
        assert found.verdicts["adopt"] == 1 and found.links[0][2] == "https://ex.org/notes"
        assert s.get(FollowMessage, pilot.id).state == "answered"


def test_forget_deletes_everything_about_the_person(db: Database):
    with db.session() as s:
        idea_id = make_idea(s, "piloting").id
        started = tries.start_try(s, "slack", "U1", "a", "A", NOW)
        tries.reflect(s, "slack", "U1", started.try_id, "A line.")
        pilots.follow_idea(s, "slack", "U1", idea_id)
        pilots.join_pilot(s, "slack", "U1", idea_id, NOW)
        tries.start_try(s, "slack", "U2", "a", "A", NOW)
    with db.session() as s:
        assert (
            people.forget(s, "slack", "U1") == 7
        )  # reflection, 2 messages, try, follow, pilot, person
    with db.session() as s:
        assert tries.shared_reflections(s, "a") == []
        assert [m.user_id for m in s.query(FollowMessage)] == ["U2"]
        assert pilots.evidence(s, idea_id).members == 0
