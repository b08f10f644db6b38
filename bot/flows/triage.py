"""Triage in the review channel: post each new idea, move it on clicks, capture thread comments.

The review post is the idea's thread: a status change updates the post in place, is noted in
its thread and sent to the author with the reviewer's note. A post that fails (the bot is not
in the channel) leaves the idea saved with its post pending; ``retry_pending`` tries again under
a database lock, so two replicas never post the same idea twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import ideas
from bot.core import Turn
from bot.delivery import Address, Delivered, MessageRef
from bot.flows.idea_views import IdeaDeps, idea_card, triage_actions
from bot.forms import FormSpec, Values
from bot.messages import Form, FormField, Incoming, Reply
from ideas import usecases as do
from ideas.usecases import IdeaState, Move, Moved
from staffroom_errors import InputError
from store import acquire_lock, release_lock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Run in the move's own transaction (follow-through schedules its notices here).
MoveHook = Callable[["Session", Moved], object]
# Extra (label, value) lines for an idea's review card (a pilot's verdicts and evidence).
CardLines = Callable[["Session", int], tuple[tuple[str, str], ...]]

log = logging.getLogger(__name__)

LOOP_LOCK = "review_posts"
POST_LOCK_TTL = 120.0
WORDS = {
    "review": ideas.Action.START_REVIEW,
    "start": ideas.Action.START_REVIEW,
    "adopted": ideas.Action.ADOPT,
    **{a.value: a for a in ideas.Action},
}
_COMMAND = re.compile(r"#?(\d+)\s+([\w-]+)(?:\s+from\s+([a-z_]+))?\s*(.*)", re.S | re.I)
_TARGET = re.compile(r"(?:into\s+)?#?(\d+)\s*(.*)", re.S | re.I)


def parse_move(args: str) -> Move | None:
    """ "12 pilot", "12 decline not for now", "12 merge into 7", "12 scale from piloting"."""
    m = _COMMAND.fullmatch(args.strip())
    if m is None or m.group(2).lower() not in WORDS:
        return None
    action = WORDS[m.group(2).lower()]
    rest, target = m.group(4).strip(), None
    if action == ideas.Action.MERGE:
        t = _TARGET.fullmatch(rest)
        if t is None:
            raise InputError("Merge into which idea?", hint="For example: triage 12 merge into 7.")
        target, rest = int(t.group(1)), t.group(2).strip()
    return Move(int(m.group(1)), action, m.group(3), rest, target)


def review_reply(state: IdeaState, lines: tuple[tuple[str, str], ...] = ()) -> Reply:
    """The review-channel post: the idea's summary and the buttons its status allows."""
    idea = state.idea
    card = idea_card(idea, state.counts, question=state.question)
    card = replace(card, lines=(*card.lines, *lines))
    return Reply(
        text=f"New idea #{idea.id}: {idea.title} ({card.status})",
        answer=f"Idea #{idea.id} · {card.status}",
        ideas=(card,),
        actions=triage_actions(idea),
        kind="review",
        in_thread=False,
    )


class ReviewDesk:
    """Posts ideas for review and applies reviewers' decisions."""

    def __init__(self, deps: IdeaDeps) -> None:
        self.deps = deps
        self.move_hooks: list[MoveHook] = []
        self.after_move: list[Callable[[], object]] = []  # on the loop, once committed
        self.card_lines: CardLines | None = None

    def _move(self, s: Session, actor: ideas.Actor, move: Move) -> Moved:
        moved = do.move(s, actor, move)
        for hook in self.move_hooks:
            hook(s, moved)
        return moved

    async def _lines(self, idea_id: int) -> tuple[tuple[str, str], ...]:
        if self.card_lines is None:
            return ()
        try:
            return await self.deps.db.run(self.card_lines, idea_id)
        except Exception:
            log.exception("could not read idea %s's pilot evidence", idea_id)
            return ()

    # --- posting ---------------------------------------------------------------------

    async def publish(self, idea_id: int, holder: str = "submit") -> Delivered:
        """Post one idea to the review channel unless it is posted already; never raises."""
        review = self.deps.review
        if review is None:
            return Delivered(error="no_review_channel")
        lock, db = f"review_post:{idea_id}", self.deps.db
        try:
            if not await db.run(acquire_lock, lock, holder, POST_LOCK_TTL):
                return Delivered(error="busy")
            try:
                state = await db.run(do.pending_review, idea_id)
                if state is None:
                    return Delivered(error="already_posted")
                lines = await self._lines(idea_id)
                sent = await self.deps.delivery.send(review, review_reply(state, lines))
                ref = sent.ref.key if sent.ref is not None else ""
                error = sent.error or "not_posted"
                attempts = await db.run(
                    do.record_review_post, idea_id, review.conversation_id, ref, error
                )
                if not ref:
                    log.warning("review post for idea %s failed (%s), attempt %s",
                                idea_id, error, attempts)  # fmt: skip
                return sent
            finally:
                await db.run(release_lock, lock, holder)
        except Exception:
            log.exception("posting idea %s for review failed", idea_id)
            return Delivered(error="error")

    async def retry_pending(self, holder: str) -> int:
        """Post every pending idea (one replica at a time); returns how many went out."""
        db = self.deps.db
        if self.deps.review is None:
            return 0
        if not await db.run(acquire_lock, LOOP_LOCK, holder, POST_LOCK_TTL):
            return 0
        try:
            pending = await db.run(ideas.pending_review_posts)
            posted = 0
            for idea_id in [i.id for i in pending]:
                posted += (await self.publish(idea_id, holder)).ok
            return posted
        finally:
            await db.run(release_lock, LOOP_LOCK, holder)

    # --- decisions -------------------------------------------------------------------

    async def on_triage(self, turn: Turn) -> list[Reply] | None:
        """ "triage 12 pilot [note]" (the review buttons say exactly this)."""
        move = parse_move(turn.intent.args)
        if move is None:
            return None
        return await self.apply(turn.incoming, move)

    async def apply(self, who: Incoming, move: Move) -> list[Reply]:
        await ideas.check_staff(self.deps.directory, who.platform, who.user_id, "review ideas")
        actor = ideas.Actor(who.platform, who.user_id, who.user_name)
        moved = await self.deps.db.run(self._move, actor, move)
        for done in self.after_move:
            done()
        await self._announce(moved.idea, actor, moved.before, moved.after, move.note)
        if moved.target is not None:  # a merge moved votes and comments: its counts changed
            await self._refresh(moved.target)
        label = ideas.status_label(moved.after)
        return [Reply(text=f"Done: idea #{move.idea_id} is now {label}.", ephemeral=True)]

    async def _announce(
        self, state: IdeaState, actor: ideas.Actor, before: str, after: str, note: str
    ) -> None:
        """Update the review post in place, note the change in its thread, tell the author."""
        idea = state.idea
        who = actor.name or actor.user_id
        change = (
            f"{who} moved #{idea.id} from {ideas.status_label(before)} "
            f"to {ideas.status_label(after)}."
        )
        if idea.merged_into_id and after == ideas.Status.DUPLICATE:
            change += f" It continues as idea #{idea.merged_into_id}."
        said = f"\nNote: {note}" if note else ""
        review = self.deps.review
        if review is not None and idea.review_ref:
            post = MessageRef.parse(review.platform, idea.review_ref)
            lines = await self._lines(idea.id)
            await self.deps.delivery.update(post, review_reply(state, lines))
            await self.deps.delivery.send(Address.thread_of(post), Reply(change + said))
        dm = Reply(
            text=f"Your idea #{idea.id} “{idea.title}” is now {ideas.status_label(after)}."
            + (f" It was merged into idea #{idea.merged_into_id}." if idea.merged_into_id else "")
            + (f"\nThe reviewer's note: {note}" if note else ""),
            kind="status_change",
            in_thread=False,
        )
        sent = await self.deps.delivery.send(
            Address.direct(idea.author_platform, idea.author_id), dm
        )
        if not sent.ok:
            log.warning("could not tell the author of idea %s: %s", idea.id, sent.error)

    async def _refresh(self, state: IdeaState) -> None:
        """Update an idea's review post in place (nothing to do before it is posted)."""
        review = self.deps.review
        if review is not None and state.idea.review_ref:
            post = MessageRef.parse(review.platform, state.idea.review_ref)
            lines = await self._lines(state.idea.id)
            await self.deps.delivery.update(post, review_reply(state, lines))

    async def refresh(self, idea_id: int) -> None:
        """Redraw an idea's review post (new pilot evidence came in)."""
        await self._refresh(await self.deps.db.run(_state, idea_id))

    # --- comments from the review thread ------------------------------------------------

    async def on_thread_reply(self, incoming: Incoming) -> list[Reply] | None:
        """A reply under a review post is a comment on its idea (stored once)."""
        review = self.deps.review
        if review is None or incoming.platform != review.platform or not incoming.thread_id:
            return None
        ref = MessageRef(incoming.platform, incoming.conversation_id, incoming.thread_id).key
        external = f"{incoming.platform}:{incoming.conversation_id}:{incoming.message_id}"
        author = ideas.Actor(incoming.platform, incoming.user_id, incoming.user_name)
        found = await self.deps.db.run(
            do.comment_in_thread, ref, author, incoming.text.strip(),
            external if incoming.message_id else None,
        )  # fmt: skip
        return None if found is None else []

    # --- decline / merge forms ------------------------------------------------------------

    def forms(self) -> dict[str, FormSpec]:
        return {
            "decline": FormSpec(_decline_form, _check_note, self._submit_decline, self.guard),
            "merge": FormSpec(_merge_form, _check_merge, self._submit_merge, self.guard),
        }

    def guard(self, who: Incoming) -> None:
        """Before the form opens (no I/O); ``apply`` checks for sure on submit."""
        if not self.deps.directory.may_be_staff(who.platform, who.user_id):
            ideas.require_staff(self.deps.roles, who.platform, who.user_id, "review ideas")

    async def _submit_decline(self, who: Incoming, context: str, values: Values) -> list[Reply]:
        idea_id, status = _context(context)
        move = Move(idea_id, ideas.Action.DECLINE, status, values.get("note", "").strip())
        return await self.apply(who, move)

    async def _submit_merge(self, who: Incoming, context: str, values: Values) -> list[Reply]:
        idea_id, status = _context(context)
        target = int(values.get("target", "").strip().lstrip("#"))
        move = Move(idea_id, ideas.Action.MERGE, status, values.get("note", "").strip(), target)
        return await self.apply(who, move)


def _state(s: Session, idea_id: int) -> IdeaState:
    return do.state_of(s, ideas.get_idea(s, idea_id))


def _context(context: str) -> tuple[int, str | None]:
    number, _, status = context.partition(":")
    return int(number), status or None


def _decline_form(context: str) -> Form:
    idea_id, _ = _context(context)
    note = FormField(
        "note", "Why? The author sees this note.", "Not this year: it overlaps with #4.",
        required=True, max_len=2000, multiline=True,
    )  # fmt: skip
    return Form("decline", f"Decline idea #{idea_id}", "Decline", (note,), context)


def _merge_form(context: str) -> Form:
    idea_id, _ = _context(context)
    fields = (
        FormField("target", "Merge into idea number", "7", required=True, max_len=12),
        FormField("note", "Note for the author (optional)", "Same practice as #7.",
                  required=False, max_len=2000, multiline=True),
    )  # fmt: skip
    return Form("merge", f"Merge idea #{idea_id}", "Merge", fields, context)


def _check_note(values: Values) -> dict[str, str]:
    note = values.get("note", "").strip()
    if not note:
        return {"note": "Please say why, so the author knows."}
    if len(note) > 2000:
        return {"note": f"The note is {len(note):,} characters; the limit is 2,000."}
    return {}


def _check_merge(values: Values) -> dict[str, str]:
    errors = {}
    if not re.fullmatch(r"#?\d{1,9}", values.get("target", "").strip()):
        errors["target"] = "An idea number, like 7."
    if len(values.get("note", "")) > 2000:
        errors["note"] = "The note can be at most 2,000 characters."
    return errors
