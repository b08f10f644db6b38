"""Check-ins reach the terminal chat: a due one is shown at the start and before the reply to
the next message, through the one delivery pipeline (an ``Outbox`` courier), and a typed
*worked* / *not yet* / *stop* answers it with the same rules as a Slack or Teams press."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import sqlalchemy as sa

from bot.core import Core
from bot.follow_flow import FollowConfig
from bot.follow_wiring import install
from bot.records import SqlRecords
from bot.terminal import chat
from follow import schedule
from store import Database, FollowMessage, FollowPerson, FollowReflection, FollowTry
from store.runner import Runner
from tests.bot.fakes import FakeRetriever

DELAY = timedelta(seconds=1)


class Typed(io.StringIO):
    """Lines typed by a person who waits ``pause`` seconds before the lines in ``slow``."""

    def __init__(self, lines: list[str], slow: set[int], pause: float) -> None:
        super().__init__("")
        self.lines, self.slow, self.pause, self.n = lines, slow, pause, 0

    def readline(self, size: int | None = -1) -> str:
        if self.n >= len(self.lines):
            return ""
        if self.n in self.slow:
            time.sleep(self.pause)
        self.n += 1
        return self.lines[self.n - 1] + "\n"


def _app(db: Database):
    core = Core(FakeRetriever(), SqlRecords(db), db=Runner(db))
    return core, install(core, Runner(db), FollowConfig(DELAY, "UTC", 3))


async def test_a_due_checkin_is_shown_before_the_next_reply_and_a_typed_word_answers_it(
    sqlite_db: Database,
):
    core, follow = _app(sqlite_db)
    out = io.StringIO()
    typed = Typed(["try exit-tickets", "how do I run exit tickets?", "worked",
                   "They wrote more than I expected."], {1}, 1.3)  # fmt: skip
    assert await chat(core, typed, out, user_id="me", pull=follow.due_for) == 0
    text = out.getvalue()
    shown = text.index("Did you try *Exit Tickets")
    # After the try, before the answer to the next question (the first "I'll try this" is the
    # reply to that question) and before the typed "worked" is answered.
    assert text.index("I'll check in") < shown < text.index("Great to hear it worked")
    assert shown < text.index("try exit-tickets`", text.index("I'll check in"))
    assert text.count("Did you try") == 1  # shown once: the pipeline's key, the row marked sent
    with sqlite_db.session() as s:
        message = s.scalars(sa.select(FollowMessage)).one()
        assert (message.state, message.answer) == ("answered", "worked")
        tried = s.scalars(sa.select(FollowTry)).one()
        assert tried.outcome == "worked"
        kept = s.scalars(sa.select(FollowReflection.text)).all()
        assert kept == ["They wrote more than I expected."]
    core.close()


async def test_checkins_due_at_the_start_are_shown_first_and_stop_stops_them(
    sqlite_db: Database,
):
    core, follow = _app(sqlite_db)
    first = Typed(["try exit-tickets"], set(), 0)
    await chat(core, first, io.StringIO(), user_id="me", pull=follow.due_for)
    time.sleep(1.2)
    out = io.StringIO()
    await chat(core, Typed(["stop"], set(), 0), out, user_id="me", pull=follow.due_for)
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("Did you try")  # right after the greeting
    assert "no more check-ins" in out.getvalue()
    with sqlite_db.session() as s:
        person = s.scalars(sa.select(FollowPerson)).one()
        assert person.stopped and person.stopped_reason == "asked"
        assert schedule.counts(s) == {"stopped": 1}  # as a Slack or Teams press leaves it
    core.close()


async def test_a_question_keeps_the_checkin_waiting_a_command_ends_it_other_platforms_wait(
    sqlite_db: Database,
):
    core, follow = _app(sqlite_db)
    with sqlite_db.session() as s:  # a Slack user's row: the terminal never takes (leases) it
        s.add(FollowMessage(platform="slack", user_id="U1", kind="notice",
                            payload={"idea_id": 1, "title": "x", "status": "piloting"},
                            due_at=schedule.utcnow() - DELAY))  # fmt: skip
    await chat(core, Typed(["try exit-tickets"], set(), 0), io.StringIO(), user_id="me",
               pull=follow.due_for)  # fmt: skip
    time.sleep(1.2)
    out = io.StringIO()
    lines = ["how do I run exit tickets?", "not yet", "help", "worked"]
    await chat(core, Typed(lines, set(), 0), out, user_id="me", pull=follow.due_for)
    text = out.getvalue()
    assert "again later" in text  # "not yet" after a question still answered the check-in
    assert "Great to hear" not in text  # "help" ended the wait: "worked" is a question now
    with sqlite_db.session() as s:
        rows = {(m.platform, m.state, m.attempts, m.answer)
                for m in s.scalars(sa.select(FollowMessage))}  # fmt: skip
        assert rows == {("slack", "due", 0, None), ("terminal", "answered", 1, "not_yet"),
                        ("terminal", "due", 0, None)}  # fmt: skip
    core.close()
