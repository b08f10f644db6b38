"""Triage over Slack: the review post, buttons, thread comments, races, notes, failed posts."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

import ideas
from store import Comment, Idea, IdeaEvent
from tests.scenarios.scripts import EXIT, pitch
from tests.slack.conftest import REVIEW_CHANNEL, STAFF, TEACHER
from tests.slack.ideas_helpers import (
    click,
    command,
    dm,
    replies_in,
    submission,
    thread_message,
)

OTHER_STAFF = "USTAFF2"


async def _submitted(staffroom, fake, user=TEACHER, idea=EXIT):
    for step in pitch(user, *idea):
        await dm(staffroom, fake, user, step.text)
    [reply] = await dm(staffroom, fake, user, "submit")
    return reply.params["text"]


def _review_post(fake):
    posts = [
        c
        for c in fake.of("chat.postMessage")
        if c.params["channel"] == REVIEW_CHANNEL and not c.params.get("thread_ts")
    ]
    assert posts, "nothing was posted to the review channel"
    return posts[-1].params


def _posted_ref(fake):
    """The ref of the review post: the fake numbers chat.postMessage answers 2000.000001, ..."""
    posts = fake.of("chat.postMessage")
    n = next(i for i, c in enumerate(posts, 1) if c.params["channel"] == REVIEW_CHANNEL)
    return f"{REVIEW_CHANNEL}:2000.{n:06d}"


def _labels(message):
    return [
        e["text"]["text"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def _status(database, idea_id=1):
    with database.session() as s:
        return s.get(Idea, idea_id).status


async def test_new_idea_is_posted_for_review_with_only_the_allowed_buttons(
    start_server, sqlite_url, fake_slack
):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    said = await _submitted(staffroom, fake_slack)
    assert "Your idea is #1" in said
    post = _review_post(fake_slack)
    assert _labels(post) == ["Start review", "Decline…", "Merge into #…"]
    assert "Exit tickets sorted into three piles" in str(post["blocks"])
    with staffroom.components.database.session() as s:
        idea = s.get(Idea, 1)
        assert (idea.review_post_status, idea.review_ref) == ("posted", _posted_ref(fake_slack))


async def test_non_staff_click_is_refused_privately_and_changes_nothing(
    start_server, sqlite_url, fake_slack
):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    await _submitted(staffroom, fake_slack)
    post = _review_post(fake_slack)
    ts = _ref_ts(staffroom)
    await staffroom.interaction(
        click(fake_slack, TEACHER, post, "Start review", channel=REVIEW_CHANNEL, ts=ts)
    )
    await fake_slack.wait_for(lambda f: len(f.of("chat.postEphemeral")) == 1)
    refusal = fake_slack.of("chat.postEphemeral")[0].params
    assert refusal["user"] == TEACHER and "Only central staff" in refusal["text"]
    assert _status(staffroom.components.database) == "new"
    assert fake_slack.of("chat.update") == []


def _ref_ts(staffroom, idea_id=1):
    with staffroom.components.database.session() as s:
        return s.get(Idea, idea_id).review_ref.split(":")[1]


async def test_each_transition_updates_the_post_notes_the_thread_and_tells_the_author(
    start_server, sqlite_url, fake_slack
):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    await _submitted(staffroom, fake_slack)
    ts = _ref_ts(staffroom)
    post = _review_post(fake_slack)
    for label, status, next_buttons in [
        ("Start review", "under_review", ["Pilot", "Decline…", "Merge into #…"]),
        ("Pilot", "piloting", ["Scale", "Decline…"]),
        ("Scale", "scaling", ["Adopted", "Decline…"]),
        ("Adopted", "adopted", []),
    ]:
        updates = len(fake_slack.of("chat.update"))
        await staffroom.interaction(
            click(fake_slack, STAFF, post, label, channel=REVIEW_CHANNEL, ts=ts)
        )
        await fake_slack.wait_for(lambda f, n=updates: len(f.of("chat.update")) > n)
        update = fake_slack.of("chat.update")[-1].params
        assert (update["channel"], update["ts"]) == (REVIEW_CHANNEL, ts)
        assert _labels(update) == next_buttons
        assert _status(staffroom.components.database) == status
        post = update
    await fake_slack.wait_for(lambda f: len(replies_in(f, TEACHER)) == 4)
    notes = [c.params["text"] for c in replies_in(fake_slack, REVIEW_CHANNEL, thread_ts=ts)]
    assert len(notes) == 4 and "from piloting to scaling" in notes[2]
    dms = [c.params["text"] for c in replies_in(fake_slack, TEACHER)]
    assert "is now under review" in dms[0] and "is now adopted" in dms[3]


async def test_two_reviewers_clicking_at_once_move_the_idea_once(
    start_server, sqlite_url, fake_slack
):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    staffroom.components.review.deps = _with_staff(staffroom, OTHER_STAFF)
    await _submitted(staffroom, fake_slack)
    ts, post = _ref_ts(staffroom), _review_post(fake_slack)
    await asyncio.gather(
        *(
            staffroom.interaction(
                click(fake_slack, who, post, "Start review", channel=REVIEW_CHANNEL, ts=ts)
            )
            for who in (STAFF, OTHER_STAFF)
        )
    )
    await fake_slack.wait_for(lambda f: len(f.of("chat.postEphemeral")) == 2)
    texts = sorted(c.params["text"] for c in fake_slack.of("chat.postEphemeral"))
    assert any("already under review" in t for t in texts), texts
    assert any("is now under review" in t for t in texts), texts
    with staffroom.components.database.session() as s:
        events = s.scalars(sa.select(IdeaEvent).where(IdeaEvent.to_status == "under_review")).all()
    assert len(events) == 1


def _with_staff(staffroom, user):
    from dataclasses import replace

    deps = staffroom.components.review.deps
    return replace(deps, roles=ideas.Roles.parse([f"slack:{STAFF}", user]))


async def test_thread_replies_become_comments_once(start_server, sqlite_url, fake_slack):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    await _submitted(staffroom, fake_slack)
    ts = _ref_ts(staffroom)
    reply = thread_message(REVIEW_CHANNEL, ts, STAFF, "Love it &lt;!channel&gt; — try in 7th?")
    await staffroom.event(reply, event_id="EvC1")
    await staffroom.event(reply, event_id="EvC1")  # a retry
    await staffroom.event({**reply, "type": "message"}, event_id="EvC2")  # same message again
    elsewhere = thread_message("COTHER", ts, STAFF, "unrelated thread")
    await staffroom.event(elsewhere, event_id="EvC3")

    def comments():
        with staffroom.components.database.session() as s:
            return s.scalars(sa.select(Comment)).all()

    for _ in range(200):
        if comments():
            break
        await asyncio.sleep(0.01)
    await staffroom.event(thread_message(REVIEW_CHANNEL, ts, STAFF, "second"), event_id="EvC4")
    for _ in range(200):
        if len(comments()) == 2:
            break
        await asyncio.sleep(0.01)
    found = comments()
    assert [c.text for c in found] == ["Love it <!channel> — try in 7th?", "second"]
    assert found[0].external_id.startswith(f"slack:{REVIEW_CHANNEL}:")


async def test_decline_asks_for_a_note_in_a_modal_and_sends_it_to_the_author(
    start_server, sqlite_url, fake_slack
):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    await _submitted(staffroom, fake_slack)
    ts, post = _ref_ts(staffroom), _review_post(fake_slack)
    await staffroom.interaction(
        click(fake_slack, STAFF, post, "Decline", channel=REVIEW_CHANNEL, ts=ts)
    )
    await fake_slack.wait_for(lambda f: len(f.of("views.open")) == 1)
    view = fake_slack.of("views.open")[0].params["view"]
    assert fake_slack.of("views.open")[0].params["trigger_id"] == f"trigger-{STAFF}-click"
    empty = await staffroom.interaction(submission(STAFF, view, {"note": "  "}))
    assert '"response_action": "errors"' in empty.text and "note" in empty.text
    assert _status(staffroom.components.database) == "new"
    ok = await staffroom.interaction(submission(STAFF, view, {"note": "Overlaps with #4 <b>"}))
    assert ok.status == 200
    await fake_slack.wait_for(lambda f: len(replies_in(f, TEACHER)) == 1)
    assert "Overlaps with #4 &lt;b&gt;" in replies_in(fake_slack, TEACHER)[0].params["text"]
    assert _status(staffroom.components.database) == "declined"


async def test_merge_into_another_idea_through_its_modal(start_server, sqlite_url, fake_slack):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    await _submitted(staffroom, fake_slack)
    await _submitted(
        staffroom,
        fake_slack,
        user="UCOLL",
        idea=("Silent debate", "Students write a debate on paper, silently, for ten minutes."),
    )
    await dm(staffroom, fake_slack, TEACHER, "idea 2 try")  # moves to #1 with the merge
    ts, post = _ref_ts(staffroom, 2), _review_post(fake_slack)
    await staffroom.interaction(
        click(fake_slack, STAFF, post, "Merge", channel=REVIEW_CHANNEL, ts=ts)
    )
    await fake_slack.wait_for(lambda f: len(f.of("views.open")) == 1)
    view = fake_slack.of("views.open")[0].params["view"]
    bad = await staffroom.interaction(submission(STAFF, view, {"target": "seven", "note": ""}))
    assert "target" in bad.text
    await staffroom.interaction(submission(STAFF, view, {"target": "#1", "note": "Same idea"}))
    await fake_slack.wait_for(lambda f: len(replies_in(f, "UCOLL")) >= 1)
    assert "merged into idea #1" in replies_in(fake_slack, "UCOLL")[-1].params["text"]
    assert _status(staffroom.components.database, 2) == "duplicate"
    # The target's review post is refreshed in place with the vote it gained.
    target_ts = _ref_ts(staffroom, 1)
    await fake_slack.wait_for(
        lambda f: any(c.params["ts"] == target_ts for c in f.of("chat.update"))
    )
    [refreshed] = [c.params for c in fake_slack.of("chat.update") if c.params["ts"] == target_ts]
    assert refreshed["channel"] == REVIEW_CHANNEL
    assert "1 would try it" in str(refreshed["blocks"]) and "#1" in refreshed["text"]


async def test_a_failed_review_post_keeps_the_idea_and_is_retried(
    start_server, sqlite_url, fake_slack
):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    for step in pitch(TEACHER, *EXIT):
        await dm(staffroom, fake_slack, TEACHER, step.text)
    fake_slack.fail("chat.postMessage", "not_in_channel")  # the review post, sent before the reply
    [reply] = await dm(staffroom, fake_slack, TEACHER, "submit")
    assert "Your idea is #1" in reply.params["text"]
    with staffroom.components.database.session() as s:
        idea = s.get(Idea, 1)
        assert (idea.review_post_status, idea.review_post_error) == ("pending", "not_in_channel")
    refused = await dm(staffroom, fake_slack, TEACHER, "ideas pending")
    assert "Only central staff" in refused[0].params["text"]
    [pending] = await dm(staffroom, fake_slack, STAFF, "ideas pending")
    assert (
        "#1 Exit tickets" in pending.params["text"] and "not_in_channel" in pending.params["text"]
    )
    assert await staffroom.components.review.retry_pending("test") == 1
    assert await staffroom.components.review.retry_pending("test") == 0  # posted once only
    assert _review_post(fake_slack)["channel"] == REVIEW_CHANNEL
    with staffroom.components.database.session() as s:
        assert s.get(Idea, 1).review_post_status == "posted"


async def test_open_form_refused_to_non_staff(start_server, sqlite_url, fake_slack):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    await _submitted(staffroom, fake_slack)
    ts, post = _ref_ts(staffroom), _review_post(fake_slack)
    await staffroom.interaction(
        click(fake_slack, TEACHER, post, "Decline", channel=REVIEW_CHANNEL, ts=ts)
    )
    await fake_slack.wait_for(lambda f: len(f.of("chat.postEphemeral")) == 1)
    assert fake_slack.of("views.open") == []
    assert _status(staffroom.components.database) == "new"


async def test_staff_command_lists_pending_posts_on_postgres_too(start_server, db_url, fake_slack):
    staffroom = await start_server(db_url, with_ideas=True)
    for step in pitch(TEACHER, *EXIT):
        await dm(staffroom, fake_slack, TEACHER, step.text)
    fake_slack.fail("chat.postMessage", "channel_not_found")  # the review post
    await dm(staffroom, fake_slack, TEACHER, "submit")
    await staffroom.form(command(fake_slack, STAFF, "ideas pending"))
    await fake_slack.wait_for(lambda f: len(f.of(f"respond:cmd-{STAFF}")) == 1)
    assert "channel_not_found" in fake_slack.of(f"respond:cmd-{STAFF}")[0].params["text"]
