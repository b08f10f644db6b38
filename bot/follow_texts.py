"""What follow-through says: the check-in and its buttons, confirmations, notices."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.messages import OPEN_FORM, SAY, Action, Reply
from follow import pilots, tries
from follow.schedule import Due

HELP_TRY = (
    "Under an answer, press *I'll try this* (or type `try <session id>`): I'll check in later "
    "to ask how it went. `checkins off` stops that."
)
HELP_CHECKINS = "Check-ins: `checkins off` / `checkins on`; tell me your school: `school: <name>`."
HELP_FOLLOW = (
    "Follow an idea: `follow 12` (you'll hear when it is piloted, scaled or adopted); join a "
    "pilot: `pilot 12 join`; give a verdict: `pilot 12 adopt|adapt|abandon <evidence link>`."
)
CHECKIN_USAGE = "Answer a check-in with `checkin <number> worked|partly|didnt_work|not_yet|stop`."
CHECKINS_USAGE = "Type `checkins off` to stop check-ins, or `checkins on` to have them again."
PILOT_USAGE = (
    "Type `pilot <idea> join`, or your verdict: `pilot <idea> adopt|adapt|abandon [link]`."
)
STOPPED = "Done: no more check-ins from me, for anything. `checkins on` turns them back on."
RESUMED = "Check-ins are on again for what you try next."
SKIPPED = "No problem."
LABELS = {"worked": "✅ Worked", "partly": "➗ Partly", "didnt_work": "❌ Didn't work"}
VERDICT_LABELS = {"adopt": "✅ Adopt", "adapt": "✏️ Adapt", "abandon": "🛑 Abandon"}
STATUS_WORDS = {"piloting": "being piloted", "scaling": "scaling up", "adopted": "adopted"}


def try_action(session_id: str) -> Action:
    value = f"try {session_id}"
    return Action(SAY, "🙋 I'll try this", value, typed=value)


def reflections_action(session_id: str) -> Action:
    value = f"reflections {session_id}"
    return Action(SAY, "💬 What colleagues said", value, typed=value)


def _when(due: datetime, tz: ZoneInfo) -> str:
    if due - datetime.now(due.tzinfo) < timedelta(days=1):
        return "soon"
    return due.astimezone(tz).strftime("on %A %-d %B")


def started(done: tries.Started, tz: ZoneInfo) -> Reply:
    if done.due_at is None and done.new:
        text = f"Noted: you'll try “{done.title}”. Check-ins are off, so I won't ask how it went."
    elif not done.new:
        text = f"You already said you'd try “{done.title}”."
        if done.due_at is not None:
            text += f" I'll check in {_when(done.due_at, tz)}."
    else:
        assert done.due_at is not None
        text = (
            f"Great, you'll try “{done.title}”. I'll check in {_when(done.due_at, tz)} to ask "
            "how it went."
        )
    return Reply(text=text, kind="try", ephemeral=True)


def checkin(due: Due) -> Reply:
    """The check-in DM about a try, with its answers as buttons."""
    title = str(due.payload.get("title", "the session"))
    n = due.id
    actions = [Action(SAY, label, f"checkin {n} {key}", typed=f"checkin {n} {key}")
               for key, label in LABELS.items()]  # fmt: skip
    if due.snoozes < tries.MAX_SNOOZES:
        actions.append(
            Action(SAY, "⏰ Not yet", f"checkin {n} not_yet", typed=f"checkin {n} not_yet")
        )
    actions.append(Action(SAY, "🔕 Stop check-ins", f"checkin {n} stop", typed=f"checkin {n} stop"))
    return Reply(
        text=f"Did you try *{title}*? How did it go?",
        actions=tuple(actions),
        kind="checkin",
        in_thread=False,
    )


def pilot_checkin(due: Due) -> Reply:
    idea_id, title = due.payload.get("idea_id"), due.payload.get("title", "")
    actions = tuple(
        Action(SAY, label, f"pilot {idea_id} {key}", typed=f"pilot {idea_id} {key} <evidence link>")
        for key, label in VERDICT_LABELS.items()
    )
    return Reply(
        text=f"You're piloting idea #{idea_id} *{title}*. What's your verdict: adopt, adapt or "
        "abandon? A link to evidence (student work, a doc, photos) helps the reviewers.",
        actions=actions,
        kind="checkin",
        in_thread=False,
    )


def notice(due: Due) -> Reply:
    idea_id, title = due.payload.get("idea_id"), due.payload.get("title", "")
    status = str(due.payload.get("status", ""))
    text = (
        f"Idea #{idea_id} *{title}*, which you follow, is now {STATUS_WORDS.get(status, status)}."
    )
    actions: tuple[Action, ...] = ()
    if status == "piloting":
        text += " Want to try it in your classroom? Join the pilot."
        value = f"pilot {idea_id} join"
        actions = (Action(SAY, "🧪 Join the pilot", value, "primary", typed=value),)
    return Reply(text=text, actions=actions, kind="notice", in_thread=False)


def message_for(due: Due) -> Reply:
    if due.kind == "pilot":
        return pilot_checkin(due)
    if due.kind == "notice":
        return notice(due)
    return checkin(due)


def answered(done: tries.Answered) -> Reply:
    if done.answer == "stop":
        return Reply(text=STOPPED, kind="checkin_answer")
    if done.answer == "not_yet":
        left = tries.MAX_SNOOZES - done.snoozes
        more = "" if left else " That's the last time I'll ask about it."
        return Reply(
            text=f"OK, I'll ask about “{done.title}” again later.{more}", kind="checkin_answer"
        )
    opening = {"worked": "Great to hear it worked!", "partly": "Thanks, partly is useful to know.",
               "didnt_work": "Thanks for saying so; that helps colleagues too."}[done.answer]  # fmt: skip
    actions = [Action(SAY, "Skip", "skip", typed="skip")]
    if done.answer == "worked":
        value = f"pitch_version|{done.try_id}|{done.title}"
        pitch = Action(OPEN_FORM, "💡 Pitch your version", value, "primary", typed="pitch")
        actions.insert(0, pitch)
    return Reply(
        text=f"{opening} What would you tell a colleague about “{done.title}”? Type one line "
        "(it stays private unless you share it), or `skip`.",
        actions=tuple(actions),
        kind="checkin_answer",
    )


def kept(reflection_id: int) -> Reply:
    value = f"reflection {reflection_id} share"
    return Reply(
        text="Kept, privately. Colleagues see it only if you share it.",
        actions=(Action(SAY, "🤝 Share with colleagues", value, typed=value),),
        kind="reflection",
    )


def shared(title: str, on: bool) -> str:
    if on:
        return f"Shared: colleagues who get “{title}” can read your line (never your name)."
    return f"Your line about “{title}” is private again."


def reflections(title: str, found: list[tuple[str, str]]) -> Reply:
    if not found:
        return Reply(text=f"No colleague has shared a reflection on “{title}” yet.")
    lines = [f"What colleagues said about “{title}”:"]
    lines += [f"• {text}" + (f" ({tries_label(o)})" if o else "") for o, text in found]
    return Reply(text="\n".join(lines), kind="reflections")


def tries_label(outcome: str) -> str:
    return LABELS.get(outcome, outcome).split(" ", 1)[-1].lower()


def followed(idea_id: int, title: str) -> str:
    return (
        f"You follow idea #{idea_id} “{title}”: I'll tell you when it is piloted, scaled or "
        f"adopted. `unfollow {idea_id}` stops that."
    )


def joined(done: pilots.Joined, tz: ZoneInfo) -> Reply:
    if not done.new:
        return Reply(text=f"You're already in the pilot of idea #{done.idea_id} “{done.title}”.")
    when = f" I'll ask for your verdict {_when(done.due_at, tz)}." if done.due_at else ""
    return Reply(
        text=f"Welcome to the pilot of idea #{done.idea_id} “{done.title}”.{when} You can give "
        f"it any time: `pilot {done.idea_id} adopt|adapt|abandon <evidence link>`.",
        kind="pilot",
    )


def verdict(idea_id: int, title: str, verb: str, has_link: bool) -> Reply:
    text = f"Thanks: your verdict on idea #{idea_id} “{title}” is *{verb}*."
    if not has_link:
        text += " Have evidence (a doc, photos, student work)? Paste the link, or `skip`."
    return Reply(text=text, kind="pilot")


def evidence_lines(found: pilots.Evidence) -> tuple[tuple[str, str], ...]:
    """The triage card's lines about a pilot: verdict counts and evidence links."""
    if not found.members:
        return ()
    counts = " · ".join(f"{n} {v}" for v, n in found.verdicts.items())
    lines = [("Pilot", f"{found.members} teacher{'s' * (found.members != 1)} · {counts}")]
    for verdict_, school, url in found.links[:5]:
        where = f" ({school})" if school else ""
        lines.append(("Evidence", f"{verdict_}{where}: {url}"))
    return tuple(lines)
