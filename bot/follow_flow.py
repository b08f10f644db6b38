"""Follow-through in chat: *I'll try this*, check-in answers, reflections, following ideas and
pilots. Buttons say words (``SAY``), so typing them works the same (the terminal's way).

    try <session id>                 I'll try this (the button under every answer)
    checkin <n> worked|partly|didnt_work|not_yet|stop
    reflection <n> share|private     reflections <session id>
    follow <idea> / unfollow <idea>  pilot <idea> join|adopt|adapt|abandon [link]
    checkins off|on                  school: <name>
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from bot import follow_texts as say
from bot.core import LAST_QUESTION, Core, Turn
from bot.messages import Incoming, Reply
from bot.records import UserState
from follow import people, pilots, tries
from follow.timing import due_after, zone
from insights.privacy import Count, primary
from insights.scrub import scrub
from staffroom_errors import InputError
from store import utcnow

if TYPE_CHECKING:
    from retrieval.types import SearchResponse
    from store.runner import Runner

log = logging.getLogger(__name__)

# The platform's own time zone for a user ("" when unknown): Slack's users.info.
TimezoneOf = Callable[[str, str], Awaitable[str]]
REFLECT, EVIDENCE, ANSWER = "reflect", "evidence", "checkin_answer"
# What a person may type to answer the check-in just shown (the terminal has no buttons).
TYPED_ANSWERS = {"worked": "worked", "partly": "partly", "didnt_work": "didnt_work",
                 "didnt": "didnt_work", "not_yet": "not_yet", "notyet": "not_yet", "stop": "stop"}  # fmt: skip
SKIP = frozenset({"skip", "no", "no thanks", "cancel", "later"})


@dataclass(frozen=True)
class FollowConfig:
    checkin_after: timedelta = timedelta(days=7)
    timezone: str = "UTC"  # STAFFROOM_TIMEZONE: when the platform does not say
    min_group: int = 5  # STAFFROOM_INSIGHTS_MIN_GROUP (insights.privacy.min_group)


class FollowFlow:
    """The follow-through keywords, the answer extras and the two one-line follow-ups."""

    def __init__(
        self, core: Core, db: Runner, config: FollowConfig, timezone_of: TimezoneOf | None = None
    ) -> None:
        self.core, self.db, self.config = core, db, config
        self._timezone_of = timezone_of
        self.kick: Callable[[], None] = lambda: None  # wakes the scheduler (set by wiring)
        self.on_verdict: Callable[[int], Awaitable[None]] | None = None  # redraws a review card

    def install(self) -> None:
        core = self.core
        core.register("try", self.on_try, help=say.HELP_TRY)
        core.register("checkin", self.on_checkin)
        core.register("checkins", self.on_checkins, help=say.HELP_CHECKINS)
        core.register("reflection", self.on_reflection)
        core.register("reflections", self.on_reflections)
        core.register(REFLECT, self.on_reflect)
        core.register(EVIDENCE, self.on_evidence)
        core.register(ANSWER, self.on_typed_answer)
        core.register("follow", self.on_follow, help=say.HELP_FOLLOW)
        core.register("unfollow", self.on_follow)
        core.register("pilot", self.on_pilot)
        core.register("school", self.on_school)
        core.answers.add_extra(self.extra)

    # --- answers ---------------------------------------------------------------------

    async def extra(self, incoming: Incoming, response: SearchResponse, reply: Reply) -> Reply:
        """*I'll try this* for the top session; colleagues' counts once the group is big enough."""
        if reply.kind != "answer" or not response.results:
            return reply
        if incoming.timezone:  # Teams says it with every message: remember it for check-ins
            await self.db.run(
                people.set_timezone, incoming.platform, incoming.user_id, incoming.timezone
            )
        shown = response.results[: len(reply.cards) or 1]
        ids = [r.session.session_id for r in shown]
        found = await self.db.run(tries.proof, ids)
        top = shown[0].session.session_id
        reflections = await self.db.run(tries.shared_reflections, top, 1)
        notes = [
            line
            for r in shown
            if (line := self._proof_line(r.session.title, found.get(r.session.session_id)))
        ]
        actions = [say.try_action(top)]
        if reflections:
            actions.append(say.reflections_action(top))
        return replace(
            reply,
            actions=(*reply.actions, *actions),
            notes=(*reply.notes, *notes),
            text="\n".join([reply.text, *notes]),
        )

    def _proof_line(self, title: str, found: tries.Proof | None) -> str:
        k = self.config.min_group
        if found is None or found.tried < k:
            return ""
        worked = ""
        rest = found.tried - found.worked
        if not primary(Count(found.worked, found.worked), k) and not primary(Count(rest, rest), k):
            worked = f" — {found.worked} say it worked"
        schools = f" at {found.schools} school{'s' * (found.schools != 1)}" if found.schools else ""
        return f"“{title}”: tried by {found.tried} colleagues{schools}{worked}."

    # --- tries and check-ins ---------------------------------------------------------------

    async def on_try(self, turn: Turn) -> list[Reply] | None:
        session_id = turn.intent.args.strip()
        title = self._title(session_id)
        if title is None:
            return None  # "try ..." as the start of a question
        who = turn.incoming
        tz = await self._timezone(who)
        due = due_after(utcnow(), self.config.checkin_after, zone(tz, self.config.timezone))
        question = turn.state.data.get(LAST_QUESTION)
        started = await self.db.run(
            tries.start_try, who.platform, who.user_id, session_id, title, due,
            question if isinstance(question, int) else None,
        )  # fmt: skip
        self.kick()
        return [say.started(started, zone(tz, self.config.timezone))]

    def _title(self, session_id: str) -> str | None:
        if not session_id or " " in session_id:
            return None
        try:
            sessions = self.core.retriever.sessions()
        except Exception:
            log.warning("could not list the library's sessions", exc_info=True)
            return None
        return next((m.title for m in sessions if m.session_id == session_id), None)

    async def _timezone(self, who: Incoming) -> str:
        """The person's time zone: what the platform says (remembered), else the stored one."""
        tz = who.timezone
        if not tz and self._timezone_of is not None:
            try:
                tz = await self._timezone_of(who.platform, who.user_id)
            except Exception:
                log.warning("could not read %s's time zone", who.user_id, exc_info=True)
        if tz:
            await self.db.run(people.set_timezone, who.platform, who.user_id, tz)
            return tz
        return (await self.db.run(people.person, who.platform, who.user_id)).timezone

    async def on_checkin(self, turn: Turn) -> list[Reply] | None:
        m = re.fullmatch(r"#?(\d+)\s+(\w+)", turn.intent.args.strip().lower())
        if m is None:
            return [Reply(text=say.CHECKIN_USAGE, kind="hint")]
        message_id, answer = int(m.group(1)), m.group(2).replace("didnt", "didnt_work")
        answer = {"didnt_work_work": "didnt_work", "notyet": "not_yet"}.get(answer, answer)
        return await self._answer(turn, message_id, answer)

    async def _answer(self, turn: Turn, message_id: int, answer: str) -> list[Reply]:
        who = turn.incoming
        snooze = None
        if answer == "not_yet":
            tz = zone(await self._timezone(who), self.config.timezone)
            snooze = due_after(utcnow(), self.config.checkin_after, tz)
        done = await self.db.run(
            tries.answer_checkin, who.platform, who.user_id, message_id, answer, snooze
        )
        self.kick()
        if answer in tries.OUTCOMES:
            data = {**turn.state.data, "try_id": done.try_id}
            await self._save(replace(turn.state, flow=REFLECT, step="", data=data))
        return [say.answered(done)]

    async def shown(self, platform: str, user_id: str) -> None:
        """A check-in was just shown where there are no buttons (the terminal): the next line,
        if it is one of the answers (worked, partly, didn't work, not yet, stop), answers it."""
        message_id = await self.db.run(tries.open_checkin, platform, user_id)
        if message_id is None:
            return
        state = await self.db.call(self.core.records.load_state, platform, user_id)
        data = {**state.data, "checkin": message_id}
        await self._save(replace(state, flow=ANSWER, step="", data=data))

    async def on_typed_answer(self, turn: Turn) -> list[Reply] | None:
        """The line after a check-in shown in the terminal: an answer word, else as usual."""
        data = {k: v for k, v in turn.state.data.items() if k != "checkin"}
        message_id = turn.state.data.get("checkin")
        word = re.sub(r"[’'.!]", "", turn.incoming.text.strip().lower())
        answer = TYPED_ANSWERS.get(re.sub(r"\s+", "_", word))
        if answer is None and not self._command(word) and isinstance(message_id, int):
            return None  # a question: answered, and the check-in still waits for its word
        await self._save(replace(turn.state, flow="", step="", data=data))
        if answer is None or not isinstance(message_id, int):
            # A command: it runs; the buttons' words (``checkin <n> ...``) still work later.
            return await self.core.handle(turn.incoming)
        return await self._answer(replace(turn, state=replace(turn.state, data=data)),
                                  message_id, answer)  # fmt: skip

    async def on_checkins(self, turn: Turn) -> list[Reply] | None:
        arg, who = turn.intent.args.strip().lower(), turn.incoming
        if arg in ("off", "stop"):
            await self.db.run(people.stop, who.platform, who.user_id, "asked")
            return [Reply(text=say.STOPPED)]
        if arg in ("on", "resume", "start"):
            await self.db.run(people.resume, who.platform, who.user_id)
            return [Reply(text=say.RESUMED)]
        return [Reply(text=say.CHECKINS_USAGE, kind="hint")]

    # --- reflections -----------------------------------------------------------------------

    async def on_reflect(self, turn: Turn) -> list[Reply] | None:
        """The one line after an answer (free typing while the flow is open)."""
        text, who = turn.incoming.text.strip(), turn.incoming
        try_id = turn.state.data.get("try_id")
        data = {k: v for k, v in turn.state.data.items() if k != "try_id"}
        if text.lower().startswith("reflect"):
            text = text[len("reflect") :].strip()
        command = self._command(text)
        if not isinstance(try_id, int) or text.endswith("?") or command:
            await self._save(replace(turn.state, flow="", step="", data=data))
            if command:  # a command after all
                return await self.core.handle(turn.incoming)
            return None  # a question after all: it is answered
        if text.lower().rstrip(".!") in SKIP:
            await self._save(replace(turn.state, flow="", step="", data=data))
            return [Reply(text=say.SKIPPED)]
        reflection = await self.db.run(
            tries.reflect, who.platform, who.user_id, try_id, scrub(text)
        )
        await self._save(replace(turn.state, flow="", step="", data=data))
        return [say.kept(reflection)]

    async def on_reflection(self, turn: Turn) -> list[Reply] | None:
        m = re.fullmatch(r"#?(\d+)\s+(share|private)", turn.intent.args.strip().lower())
        if m is None:
            return None
        who, shared = turn.incoming, m.group(2) == "share"
        title = await self.db.run(tries.share, who.platform, who.user_id, int(m.group(1)), shared)
        return [Reply(text=say.shared(title, shared))]

    async def on_reflections(self, turn: Turn) -> list[Reply] | None:
        session_id = turn.intent.args.strip()
        title = self._title(session_id)
        if title is None:
            return None
        found = await self.db.run(tries.shared_reflections, session_id, 5)
        return [say.reflections(title, found)]

    # --- ideas: follow, pilot ----------------------------------------------------------------

    async def on_follow(self, turn: Turn) -> list[Reply] | None:
        m = re.fullmatch(r"(?:idea\s*)?#?(\d+)", turn.intent.args.strip().lower())
        if m is None:
            return None
        who, idea_id = turn.incoming, int(m.group(1))
        if turn.intent.name == "unfollow":
            title = await self.db.run(pilots.unfollow_idea, who.platform, who.user_id, idea_id)
            return [Reply(text=f"You no longer follow idea #{idea_id} “{title}”.")]
        title, _ = await self.db.run(pilots.follow_idea, who.platform, who.user_id, idea_id)
        return [Reply(text=say.followed(idea_id, title))]

    async def on_pilot(self, turn: Turn) -> list[Reply] | None:
        m = re.fullmatch(r"#?(\d+)\s+(\w+)\s*(\S*)", turn.intent.args.strip(), re.I)
        if m is None:
            return None
        who, idea_id, verb, link = turn.incoming, int(m.group(1)), m.group(2).lower(), m.group(3)
        if verb == "join":
            tz = zone(await self._timezone(who), self.config.timezone)
            due = due_after(utcnow(), self.config.checkin_after, tz)
            joined = await self.db.run(pilots.join_pilot, who.platform, who.user_id, idea_id, due)
            self.kick()
            return [say.joined(joined, tz)]
        if verb not in pilots.VERDICTS:
            raise InputError(say.PILOT_USAGE)
        title = await self.db.run(
            pilots.record_verdict, who.platform, who.user_id, idea_id, verb, link
        )
        await self._on_verdict(idea_id)
        if not link:
            data = {**turn.state.data, "idea_id": idea_id}
            await self._save(replace(turn.state, flow=EVIDENCE, step="", data=data))
        return [say.verdict(idea_id, title, verb, bool(link))]

    async def on_evidence(self, turn: Turn) -> list[Reply] | None:
        text, who = turn.incoming.text.strip(), turn.incoming
        idea_id = turn.state.data.get("idea_id")
        data = {k: v for k, v in turn.state.data.items() if k != "idea_id"}
        await self._save(replace(turn.state, flow="", step="", data=data))
        if self._command(text):  # a command after all
            return await self.core.handle(turn.incoming)
        if not isinstance(idea_id, int) or text.endswith("?"):
            return None
        if text.lower().rstrip(".!") in SKIP:
            return [Reply(text=say.SKIPPED)]
        link = text.split()[-1] if text else ""
        title = await self.db.run(pilots.add_evidence, who.platform, who.user_id, idea_id, link)
        await self._on_verdict(idea_id)
        return [
            Reply(
                text=f"Thanks: your evidence for idea #{idea_id} “{title}” is with the reviewers."
            )
        ]

    def _command(self, text: str) -> bool:
        """Whether ``text`` starts with another keyword (not these two follow-ups' own)."""
        first = text.split(" ", 1)[0].lower().rstrip(":")
        return first == "help" or first in self.core.intents - {REFLECT, EVIDENCE, ANSWER}

    async def _on_verdict(self, idea_id: int) -> None:
        if self.on_verdict is not None:
            try:
                await self.on_verdict(idea_id)
            except Exception:
                log.exception("could not refresh idea %s's review card", idea_id)

    async def on_school(self, turn: Turn) -> list[Reply] | None:
        raw = turn.incoming.text.strip()
        m = re.fullmatch(r"(?:my\s+)?school\s*(?::|is)\s*(.+)", raw, re.I)
        if m is None:
            return None
        who = turn.incoming
        found = await self.db.run(people.set_school, who.platform, who.user_id, m.group(1))
        return [
            Reply(
                text=f"Noted: your school is {found.school}. Colleagues see schools as counts only."
            )
        ]

    async def _save(self, state: UserState) -> None:
        await self.db.call(self.core.records.save_state, state)
