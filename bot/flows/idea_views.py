"""What the idea flows share: their dependencies and ideas as neutral cards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ideas
from bot.delivery import Address, Pipeline
from bot.messages import OPEN_FORM, SAY, Action, IdeaCard
from bot.names import Names
from ideas.similar import Embed
from retrieval.moments import format_clock

if TYPE_CHECKING:
    from bot.core import Retriever
    from store import Idea
    from store.runner import Runner

# Button labels in the review channel (the status machine's own labels are for sentences).
TRIAGE_LABELS = {
    ideas.Action.START_REVIEW: "Start review",
    ideas.Action.PILOT: "Pilot",
    ideas.Action.SCALE: "Scale",
    ideas.Action.ADOPT: "Adopted",
    ideas.Action.DECLINE: "Decline…",
    ideas.Action.MERGE: "Merge into #…",
    ideas.Action.REOPEN: "Reopen",
}
NEXT_STEPS = (
    "Central staff read every pitch in the review channel; you'll get a message from me each "
    "time its status changes, with the reviewer's note."
)
SUMMARY_VALUE_CHARS = 300


@dataclass(frozen=True)
class IdeaDeps:
    """Everything the idea flows need, built once by the composition root."""

    db: Runner  # every idea use-case runs through it: one transaction, retried while down
    delivery: Pipeline
    roles: ideas.Roles = ideas.Roles()
    staff: ideas.StaffDirectory | None = None  # roles plus staff groups; None = roles only
    retriever: Retriever | None = None  # "Session X covers this at 12:31"
    embed: Embed | None = None  # similar ideas; None turns the suggestion off
    embed_model: str = ""
    review: Address | None = None  # the review channel
    questions: Address | None = None  # where design questions are announced
    names: Names | None = None  # display names for the idea history (who moved it)

    @property
    def directory(self) -> ideas.StaffDirectory:
        """Who counts as staff: the composition root's directory, else the configured ids."""
        return self.staff if self.staff is not None else ideas.StaffRoster(self.roles)


def channel_setting(value: str, default_platform: str = "slack") -> Address | None:
    """ "C0123" or "teams:19:abc@thread.tacv2" as an address; None when empty."""
    value = value.strip()
    if not value:
        return None
    platform, sep, rest = value.partition(":")
    if sep and platform in ("slack", "teams") and rest:
        return Address(platform, rest)
    return Address(default_platform, value)


def clip(text: str, limit: int = SUMMARY_VALUE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def audience(idea: Idea) -> str:
    parts = [", ".join(idea.grade_bands), ", ".join(idea.subjects), idea.school]
    return " · ".join(p for p in parts if p)


def idea_lines(idea: Idea, *, full: bool) -> tuple[tuple[str, str], ...]:
    """(label, value) pairs in pitch order; values clipped unless ``full``."""
    pairs = [
        ("The practice", idea.practice),
        ("The problem it solves", idea.problem),
        ("Who it is for", audience(idea)),
        ("Evidence it works", idea.evidence),
        ("Help needed", idea.help_needed),
    ]
    return tuple((k, v if full else clip(v)) for k, v in pairs if v)


def session_lines(related: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """ "“Title” covers this at 12:31" for each related session."""
    out = []
    for r in related:
        start = r.get("start")
        at = f" at {format_clock(float(start))}" if isinstance(start, int | float) else ""
        out.append(f"“{r.get('title') or r.get('session_id')}” covers this{at}")
    return tuple(out)


def idea_card(
    idea: Idea,
    counts: ideas.VoteCounts | None = None,
    *,
    question: str = "",
    full: bool = False,
    history: Sequence[str] = (),
) -> IdeaCard:
    counts = counts or ideas.VoteCounts()
    return IdeaCard(
        number=idea.id,
        title=idea.title,
        status=ideas.status_label(idea.status),
        author=idea.author_name or idea.author_id,
        lines=idea_lines(idea, full=full),
        will_try=counts.try_count,
        tried=counts.tried_count,
        question=question,
        sessions=session_lines(idea.related_sessions or []),
        history=tuple(history),
    )


def triage_actions(idea: Idea) -> tuple[Action, ...]:
    """Buttons for the actions allowed from the idea's current status (and no others)."""
    out = []
    for act in ideas.allowed_actions(idea.status):
        label = TRIAGE_LABELS[act]
        if act in (ideas.Action.DECLINE, ideas.Action.MERGE):
            typed = f"triage {idea.id} " + (
                "decline <why>" if act == ideas.Action.DECLINE else "merge into <number> <note>"
            )
            value = f"{act.value}|{idea.id}:{idea.status}"
            out.append(Action(OPEN_FORM, label, value, "danger", typed=typed))
        else:
            value = f"triage {idea.id} {act.value} from {idea.status}"
            style = "primary" if act != ideas.Action.REOPEN else ""
            out.append(Action(SAY, label, value, style, typed=value))
    return tuple(out)


def engagement_actions(idea_id: int) -> tuple[Action, ...]:
    """ "I'd try this", "I tried this" (it asks for a one-line outcome) and "Follow" (told when
    it is piloted, scaled or adopted: ``bot/follow_flow.py``)."""
    return (
        Action(SAY, "🙋 I'd try this", f"idea {idea_id} try", typed=f"idea {idea_id} try"),
        Action(
            OPEN_FORM,
            "✅ I tried this",
            f"tried|{idea_id}",
            typed=f"idea {idea_id} tried <how it went>",
        ),
        Action(SAY, "🔔 Follow", f"follow {idea_id}", typed=f"follow {idea_id}"),
    )


def list_line(idea: Idea, counts: ideas.VoteCounts) -> str:
    tried = f" · tried in {counts.tried_count} classroom{'s' * (counts.tried_count != 1)}"
    return f"#{idea.id} {idea.title} — {ideas.status_label(idea.status)}{tried}"


def describe_card(card: IdeaCard) -> str:
    """The card as plain lines (notification text, terminal, logs)."""
    lines = [f"#{card.number} {card.title} — {card.status}"]
    if card.author:
        lines.append(f"Pitched by {card.author}")
    if card.question:
        lines.append(f"Answers: {card.question}")
    lines += [f"{label}: {value}" for label, value in card.lines]
    lines.append(tried_line(card))
    lines += list(card.sessions)
    lines += list(card.history)
    return "\n".join(lines)


def tried_line(card: IdeaCard) -> str:
    rooms = "classroom" if card.tried == 1 else "classrooms"
    return f"Tried in {card.tried} {rooms} · {card.will_try} would try it"
