"""Plug follow-through into the core (one call from ``bot.app.build``): the keywords and answer
extras, the *Pitch your version* form, the review desk's hooks and the scheduler serve runs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.delivery.outbox import Outbox
from bot.follow_flow import FollowConfig, FollowFlow, TimezoneOf
from bot.follow_jobs import Scheduler
from bot.follow_texts import evidence_lines
from bot.forms import FormSpec, Values
from bot.messages import Form, Incoming, Reply
from follow import pilots, tries

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.core import Core
    from bot.flows.triage import ReviewDesk
    from ideas.usecases import Moved
    from store.runner import Runner


@dataclass
class Follow:
    flow: FollowFlow
    scheduler: Scheduler
    outbox: Outbox | None = None

    async def due_for(self, platform: str, user_id: str) -> list[Reply]:
        """A local chat's due messages (the terminal has no server to push them): its courier
        is an ``Outbox`` in the one pipeline, so they go out through ``deliver`` under the same
        keys and schedule rules as Slack/Teams DMs; a check-in shown makes the next typed
        *worked* / *partly* / *didn't work* / *not yet* / *stop* its answer."""
        delivery = self.flow.core.delivery
        if self.outbox is None:
            if delivery.reaches(platform):
                return []  # a real courier serves that platform: serve's loop sends them
            self.outbox = Outbox(platform)
            delivery.register(platform, self.outbox)
        await self.scheduler.run_once(platform, user_id)
        shown = self.outbox.drain()
        if any(r.kind == "checkin" for r in shown):
            await self.flow.shown(platform, user_id)
        return shown


def install(
    core: Core,
    db: Runner,
    config: FollowConfig,
    *,
    review: ReviewDesk | None = None,
    timezone_of: TimezoneOf | None = None,
) -> Follow:
    flow = FollowFlow(core, db, config, timezone_of)
    flow.install()
    scheduler = Scheduler(db, core.delivery, delay=config.checkin_after, default_tz=config.timezone)
    flow.kick = scheduler.kick
    if review is not None:
        review.move_hooks.append(_notify_followers)
        review.after_move.append(scheduler.kick)
        review.card_lines = _card_lines
        flow.on_verdict = review.refresh
    pitch = core.forms.spec("pitch")
    if pitch is not None:
        core.register_form("pitch_version", _pitch_version(pitch, db))
    return Follow(flow, scheduler)


def _notify_followers(s: Session, moved: Moved) -> None:
    pilots.on_idea_moved(s, moved.idea.idea.id, moved.after)


def _card_lines(s: Session, idea_id: int) -> tuple[tuple[str, str], ...]:
    return evidence_lines(pilots.evidence(s, idea_id))


def _pitch_version(pitch: FormSpec, db: Runner) -> FormSpec:
    """The pitch form, pre-filled from a try that worked; the idea links to the session."""

    def build(context: str) -> Form:
        _, _, title = context.partition("|")
        form = pitch.build("")
        fields = tuple(
            replace(f, value=f"My version of {title}"[: f.max_len]) if f.key == "title" else f
            for f in form.fields
        )
        intro = f"Your version of “{title}”: the idea will link to that session."
        return replace(form, form_id="pitch_version", fields=fields, context=context, intro=intro)

    async def submit(who: Incoming, context: str, values: Values) -> list[Reply]:
        replies = await pitch.submit(who, "", values)
        try_id = context.partition("|")[0]
        if try_id.isdigit() and not any(r.kind == "error" for r in replies):
            await db.run(tries.link_pitch, who.platform, who.user_id, int(try_id))
        return replies

    return FormSpec(build, pitch.check, submit)
