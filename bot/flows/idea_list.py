"""Browsing the queue: `ideas [status|mine|question N|pending]`, `idea N`, "I'd try / I tried this"."""

from __future__ import annotations

import re

import ideas
from bot.core import Turn
from bot.flows.idea_views import (
    IdeaDeps,
    describe_card,
    engagement_actions,
    idea_card,
    list_line,
    triage_actions,
)
from bot.forms import FormSpec, Values
from bot.messages import SAY, Action, Form, FormField, Incoming, Reply
from ideas import usecases as do
from store import IdeaEvent

LIST_LIMIT = 20
STATUS_WORDS: dict[str, ideas.Status] = {
    **{s.value: s for s in ideas.Status},
    **{ideas.status_label(s): s for s in ideas.Status},
    "review": ideas.Status.UNDER_REVIEW,
    "reviewing": ideas.Status.UNDER_REVIEW,
    "pilot": ideas.Status.PILOTING,
    "merged": ideas.Status.DUPLICATE,
    "duplicates": ideas.Status.DUPLICATE,
}
OUTCOME_MAX = 1000


class IdeaBrowser:
    """Lists and shows ideas, and records "I'd try this" / "I tried this"."""

    def __init__(self, deps: IdeaDeps) -> None:
        self.deps = deps

    async def on_ideas(self, turn: Turn) -> list[Reply] | None:
        who, arg = turn.incoming, turn.intent.args.lower().strip()
        question = re.fullmatch(r"(?:question|q)\s*#?(\d+)", arg)
        if arg == "pending":
            await ideas.check_staff(
                self.deps.directory, who.platform, who.user_id, "see pending review posts"
            )
            return [await self._list("Ideas whose review post is pending", pending=True)]
        if arg == "mine":
            return [await self._list("Your ideas", author=(who.platform, who.user_id))]
        if question:
            qid = int(question.group(1))
            return [await self._list(f"Ideas for design question #{qid}", question_id=qid)]
        if arg in STATUS_WORDS:
            status = STATUS_WORDS[arg]
            return [await self._list(f"Ideas {ideas.status_label(status)}", status=status)]
        if not arg:
            return [await self._list("The newest ideas")]
        return None  # "ideas for warm-ups" is a question for the library

    async def _list(
        self,
        heading: str,
        *,
        status: ideas.Status | None = None,
        author: tuple[str, str] | None = None,
        question_id: int | None = None,
        pending: bool = False,
    ) -> Reply:
        found = await self.deps.db.run(
            do.browse, status, author, question_id, pending=pending, limit=LIST_LIMIT
        )
        lines = [list_line(i, counts) for i, counts in found]
        if pending:
            lines = [
                f"{line} · {i.review_post_attempts} failed attempt(s)"
                + (f": {i.review_post_error}" if i.review_post_error else "")
                for line, (i, _) in zip(lines, found, strict=True)
            ]
        ids = [i.id for i, _ in found]
        if not lines:
            return Reply(text=f"{heading}: none yet.", kind="ideas")
        buttons = tuple(Action(SAY, f"Open #{n}", f"idea {n}") for n in ids[:5])
        text = f"{heading}:\n" + "\n".join(lines)
        return Reply(text=text, actions=buttons, kind="ideas", notes=("Open one with `idea N`.",))

    async def on_idea(self, turn: Turn) -> list[Reply] | None:
        m = re.fullmatch(
            r"#?(\d+)(?:\s+(try|tried)\b\s*(.*))?", turn.intent.args.strip(), re.S | re.I
        )
        if m is None:
            return None
        idea_id, verb = int(m.group(1)), (m.group(2) or "").lower()
        who = turn.incoming
        if verb == "try":
            return [await self.vote(who, idea_id, tried=False)]
        if verb == "tried":
            raw = who.text.strip()
            outcome = raw[raw.lower().find("tried") + len("tried") :].strip() if m.group(3) else ""
            return [await self.vote(who, idea_id, tried=True, outcome=outcome)]
        return [await self.show(who, idea_id)]

    async def show(self, who: Incoming, idea_id: int) -> Reply:
        staff = await self.deps.directory.is_staff(who.platform, who.user_id)
        detail, question = await self.deps.db.run(do.detail, idea_id)
        idea = detail.idea
        history = [await self._moved(e, detail) for e in detail.events]
        history += [f"💬 {c.author_name or c.author_id}: {c.text}" for c in detail.comments]
        history += [f"✅ Tried it: {o}" for o in detail.outcomes]
        card = idea_card(idea, detail.counts, question=question, full=True, history=history)
        actions = engagement_actions(idea.id) + (triage_actions(idea) if staff else ())
        merged = f" It was merged into idea #{idea.merged_into_id}." if idea.merged_into_id else ""
        return Reply(
            text=describe_card(card) + merged,
            answer=f"Idea #{card.number} · {card.status}.{merged}",
            ideas=(card,),
            actions=actions,
            kind="idea",
        )

    async def _moved(self, event: IdeaEvent, detail: ideas.IdeaDetail) -> str:
        """ "2026-11-30 14:02 UTC under review → piloting by Ana Diaz: <note>" """
        was = ideas.status_label(event.from_status) if event.from_status else "pitched"
        who = (event.actor_platform, event.actor_id)
        name = await self.deps.names.name(*who) if self.deps.names is not None else ""
        if not name and who == (detail.idea.author_platform, detail.idea.author_id):
            name = detail.idea.author_name
        by = name or event.actor_id
        when = f"{event.created_at:%Y-%m-%d %H:%M} UTC"
        if event.from_status == event.to_status:  # a note that kept the status (a publication)
            return f"{when} 📚 {event.note} by {by}"
        note = f": {event.note}" if event.note else ""
        return f"{when} {was} → {ideas.status_label(event.to_status)} by {by}{note}"

    async def vote(self, who: Incoming, idea_id: int, *, tried: bool, outcome: str = "") -> Reply:
        voter = ideas.Actor(who.platform, who.user_id, who.user_name)
        voted = await self.deps.db.run(do.vote, voter, idea_id, tried, outcome)
        result, title = voted.result, voted.title
        counts, n = result.counts, result.idea_id
        moved = f" (#{idea_id} was merged into #{n})" if n != idea_id else ""
        if tried:
            rooms = "classroom" if counts.tried_count == 1 else "classrooms"
            text = f"Thanks! Idea #{n} “{title}” has been tried in {counts.tried_count} {rooms}{moved}."
        else:
            people = "person" if counts.try_count == 1 else "people"
            text = f"Thanks! {counts.try_count} {people} would try idea #{n} “{title}”{moved}."
        if not result.created and not (tried and outcome):
            text = f"You had already said so. {text}"
        return Reply(text=text, kind="vote")

    # --- "I tried this": a one-line outcome ------------------------------------------------

    def tried_form_spec(self) -> FormSpec:
        return FormSpec(_tried_form, _check_outcome, self._submit_tried)

    async def _submit_tried(self, who: Incoming, context: str, values: Values) -> list[Reply]:
        outcome = " ".join((values.get("outcome") or "").split())
        return [await self.vote(who, int(context), tried=True, outcome=outcome)]


def _tried_form(context: str) -> Form:
    outcome = FormField(
        "outcome", "How did it go? One line (optional)",
        "Worked with my 3rd period; the sorting took 4 minutes.",
        required=False, max_len=OUTCOME_MAX,
    )  # fmt: skip
    return Form("tried", f"I tried idea #{context}", "Save", (outcome,), context)


def _check_outcome(values: Values) -> dict[str, str]:
    if len((values.get("outcome") or "").strip()) > OUTCOME_MAX:
        return {"outcome": f"Please keep it under {OUTCOME_MAX:,} characters."}
    return {}
