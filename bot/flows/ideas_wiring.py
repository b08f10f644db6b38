"""Plug the idea flows into the core: keywords, forms and thread hooks (one call from ``build``)."""

from __future__ import annotations

from bot.core import Core
from bot.flows.design_questions import QuestionDesk
from bot.flows.field_ideas import FieldIdeas
from bot.flows.idea_list import IdeaBrowser
from bot.flows.idea_views import IdeaDeps
from bot.flows.pitch import DRAFT_TTL, PitchFlow
from bot.flows.triage import ReviewDesk


def install(core: Core, deps: IdeaDeps, *, draft_ttl: float = DRAFT_TTL) -> ReviewDesk:
    """Register every idea flow on ``core``; returns the review desk (its retry loop runs in serve)."""
    desk = ReviewDesk(deps)
    pitch = PitchFlow(deps, core.records, desk.publish, draft_ttl=draft_ttl)
    browser = IdeaBrowser(deps)
    questions = QuestionDesk(deps, pitch)
    core.register(
        "pitch",
        pitch.on_pitch,
        help="Pitch a practice you use: `pitch` (or `pitch form`).",
        pausable=pitch.pausable(),
    )
    core.register(
        "ideas",
        browser.on_ideas,
        help="Browse ideas: `ideas`, `ideas mine`, `ideas piloting`, `ideas question 3`.",
    )
    core.register(
        "idea",
        browser.on_idea,
        help="See one idea and its history: `idea 12`; back it with `idea 12 try`.",
    )
    core.register(
        "questions", questions.on_questions, help="See the open design questions: `questions`."
    )
    core.register(
        "question",
        questions.on_question,
        help="Central staff: `question new <text> [by YYYY-MM-DD]`, `triage 12 pilot`, "
        "`triage 12 decline <why>`, `ideas pending`.",
    )
    core.register("triage", desk.on_triage)
    core.register_form("pitch", pitch.form_spec())
    core.register_form("tried", browser.tried_form_spec())
    for form_id, spec in desk.forms().items():
        core.register_form(form_id, spec)
    if deps.embed is not None:  # colleagues' piloted ideas under answers that match them
        core.answers.add_extra(FieldIdeas(deps.db, deps.embed, deps.embed_model))
    core.register_thread_hook(desk.on_thread_reply)
    core.register_thread_hook(questions.on_thread_reply)
    return desk
