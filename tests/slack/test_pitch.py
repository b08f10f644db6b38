"""The pitch over Slack: the modal, restarts mid-draft, escaping, design questions, App Home."""

from __future__ import annotations

import json

import sqlalchemy as sa

from store import DesignQuestion, Idea, PitchDraft
from tests.slack.conftest import QUESTIONS_CHANNEL, REVIEW_CHANNEL, STAFF, TEACHER
from tests.slack.ideas_helpers import (
    click,
    command,
    dm,
    replies_in,
    submission,
    thread_message,
)

GOOD = {
    "title": "Two-minute exit tickets",
    "practice": "Sticky notes sorted into three piles.",
    "problem": "I found out too late.",
    "audience": "6-8, math, Lincoln Middle",
    "evidence": "Re-teach groups shrank.",
    "help_needed": "",
}


async def test_pitch_form_opens_at_once_validates_fields_and_submits_the_same_idea(
    start_server, sqlite_url, fake_slack
):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    await staffroom.form(command(fake_slack, TEACHER, "pitch form"))
    await fake_slack.wait_for(lambda f: len(f.of("views.open")) == 1)
    opened = fake_slack.of("views.open")[0].params
    assert opened["trigger_id"] == f"trigger-{TEACHER}"
    view = opened["view"]
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == list(GOOD)
    title_input = next(b for b in view["blocks"] if b.get("block_id") == "title")
    assert title_input["element"]["max_length"] == 120 and not title_input["optional"]
    bad = await staffroom.interaction(
        submission(TEACHER, view, {**GOOD, "title": "x" * 500, "evidence": ""})
    )
    errors = json.loads(bad.text)
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {"title", "evidence"}
    assert "limit is 120" in errors["errors"]["title"]
    ok = await staffroom.interaction(submission(TEACHER, view, GOOD))
    assert ok.status == 200
    await fake_slack.wait_for(lambda f: len(replies_in(f, TEACHER)) == 1)
    assert "Your idea is #1" in replies_in(fake_slack, TEACHER)[0].params["text"]
    with staffroom.components.database.session() as s:
        idea = s.get(Idea, 1)
        assert (idea.title, idea.grade_bands, idea.subjects, idea.school) == (
            "Two-minute exit tickets",
            ["6-8"],
            ["Math"],
            "Lincoln Middle",
        )
        assert idea.related_sessions[0]["session_id"] == "exit-tickets"
    assert [c for c in fake_slack.of("chat.postMessage") if c.params["channel"] == REVIEW_CHANNEL]


async def test_a_draft_survives_a_restart_and_resumes_where_it_stopped(
    start_server, sqlite_url, fake_slack
):
    first = await start_server(sqlite_url, with_ideas=True)
    await dm(first, fake_slack, TEACHER, "pitch")
    await dm(first, fake_slack, TEACHER, "Silent debate")
    await dm(first, fake_slack, TEACHER, "Students debate on paper.\nNo talking.")
    second = await start_server(sqlite_url, with_ideas=True)  # a new process on the same DB
    [resumed] = await dm(second, fake_slack, TEACHER, "pitch")
    assert "Welcome back" in resumed.params["text"] and "Question 3 of 6" in resumed.params["text"]
    [next_step] = await dm(second, fake_slack, TEACHER, "Quiet students never speak up.")
    assert "Question 4 of 6" in next_step.params["text"]
    with second.components.database.session() as s:
        draft = s.scalars(sa.select(PitchDraft)).one()
        assert draft.answers["practice"] == "Students debate on paper.\nNo talking."


async def test_user_text_is_stored_intact_and_shown_escaped(start_server, sqlite_url, fake_slack):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    title = "<!channel> ‏שלום \x07 *bold* 🎉"
    await dm(staffroom, fake_slack, TEACHER, "pitch")
    # Slack escapes what people type: &lt; arrives for <, and Staffroom unescapes it.
    [step2] = await dm(
        staffroom, fake_slack, TEACHER, title.replace("<", "&lt;").replace(">", "&gt;")
    )
    assert "Question 2 of 6" in step2.params["text"]
    await dm(staffroom, fake_slack, TEACHER, "cancel")
    await staffroom.form(command(fake_slack, TEACHER, "pitch form"))
    await fake_slack.wait_for(lambda f: len(f.of("views.open")) == 1)
    view = fake_slack.of("views.open")[0].params["view"]
    await staffroom.interaction(submission(TEACHER, view, {**GOOD, "title": title}))
    await fake_slack.wait_for(
        lambda f: [c for c in f.of("chat.postMessage") if c.params["channel"] == REVIEW_CHANNEL]
    )
    with staffroom.components.database.session() as s:
        assert s.get(Idea, 1).title == title
    post = next(
        c for c in fake_slack.of("chat.postMessage") if c.params["channel"] == REVIEW_CHANNEL
    )
    shown = json.dumps(post.params["blocks"], ensure_ascii=False)
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown


async def test_design_question_is_announced_and_a_thread_reply_starts_a_linked_pitch(
    start_server, sqlite_url, fake_slack
):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    await staffroom.form(
        command(
            fake_slack, STAFF, "question new How might we cut 9th-grade absences? by 2999-06-01"
        )
    )
    await fake_slack.wait_for(lambda f: len(f.of(f"respond:cmd-{STAFF}")) == 1)
    assert "announced" in fake_slack.of(f"respond:cmd-{STAFF}")[0].params["text"]
    [announce] = [
        c for c in fake_slack.of("chat.postMessage") if c.params["channel"] == QUESTIONS_CHANNEL
    ]
    assert "9th-grade absences" in announce.params["text"]
    with staffroom.components.database.session() as s:
        ref = s.get(DesignQuestion, 1).announce_ref
    ts = ref.split(":")[1]
    await staffroom.event(
        thread_message(QUESTIONS_CHANNEL, ts, TEACHER, "We call home on day one!"), event_id="EvQ1"
    )
    await fake_slack.wait_for(lambda f: len(replies_in(f, TEACHER)) == 1)
    first = replies_in(fake_slack, TEACHER)[0].params["text"]
    assert "design question #1" in first and "Question 1 of 6" in first
    await fake_slack.wait_for(lambda f: len(f.of("chat.postEphemeral")) == 1)
    assert fake_slack.of("chat.postEphemeral")[0].params["thread_ts"] == ts
    with staffroom.components.database.session() as s:
        assert s.get(PitchDraft, ("slack", TEACHER)).question_id == 1
    await staffroom.form(command(fake_slack, TEACHER, "question new Sneaky"))
    await fake_slack.wait_for(lambda f: len(f.of(f"respond:cmd-{TEACHER}")) == 1)
    assert "Only central staff" in fake_slack.of(f"respond:cmd-{TEACHER}")[0].params["text"]


async def test_app_home_pitch_button_moves_the_pitch_to_a_dm(start_server, sqlite_url, fake_slack):
    staffroom = await start_server(sqlite_url, with_ideas=True)
    home_event = {
        "type": "app_home_opened",
        "user": TEACHER,
        "channel": "DHOME",
        "tab": "home",
        "event_ts": "1.1",
    }
    await staffroom.event(home_event, event_id="EvHome")
    await fake_slack.wait_for(lambda f: len(f.of("views.publish")) == 1)
    home = fake_slack.of("views.publish")[0].params["view"]
    payload = click(
        fake_slack, TEACHER, home, "💡 Pitch an idea", channel="", ts="",
        container={"type": "view", "view_id": "V1"},
    )  # fmt: skip
    payload.pop("channel")
    payload.pop("message")
    await staffroom.interaction(payload)
    await fake_slack.wait_for(lambda f: len(replies_in(f, TEACHER)) >= 1)
    texts = [c.params["text"] for c in replies_in(fake_slack, TEACHER)]
    assert any("Question 1 of 6" in t for t in texts), texts
