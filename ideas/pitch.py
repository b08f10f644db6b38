"""The pitch as data: ordered steps over a draft that is saved after every answer.

A draft lives only in the database (`PitchDraft`, one per user), so it survives restarts and
works the same from every front-end. The step key "review" means every step is answered and
the draft waits to be submitted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from ideas.fields import LABELS, LIMITS, clean, parse_audience
from ideas.records import Actor
from ideas.service import submit_idea
from staffroom_errors import IdeaError, InputError
from store import DesignQuestion, Idea, PitchDraft, utcnow

REVIEW = "review"


@dataclass(frozen=True)
class PitchStep:
    """One question of the pitch; `parse` turns the cleaned answer into what is stored."""

    key: str
    prompt: str
    example: str
    required: bool
    max_len: int
    parse: Callable[[str], Any] = str

    @property
    def label(self) -> str:
        return LABELS.get(self.key, self.key)


PITCH_STEPS: tuple[PitchStep, ...] = (
    PitchStep("title", "What's your idea called? One short line.",
              "Two-minute exit tickets sorted into three piles", True, LIMITS["title"]),
    PitchStep("practice", "What do you do, step by step, so another teacher could try it?",
              "In the last 3 minutes students answer one question on a sticky note; "
              "I sort them into got it / almost / not yet and regroup the next day.",
              True, LIMITS["practice"]),
    PitchStep("problem", "What problem does it solve for students or teachers?",
              "I didn't know who was lost until the unit test.", True, LIMITS["problem"]),
    PitchStep("audience", "Who is it for? Grade bands, subjects, and your school.",
              "6-8, math and science, Lincoln Middle", True, LIMITS["audience"], parse_audience),
    PitchStep("evidence", "What have you seen that tells you it works?",
              "Re-teach groups shrank from 11 to 4 students over six weeks.",
              True, LIMITS["evidence"]),
    PitchStep("help_needed", "What help would you need to share or scale it? (optional)",
              "20 minutes at the next staff meeting; copies of the sorting mat.",
              False, LIMITS["help_needed"]),
)  # fmt: skip


@dataclass(frozen=True)
class DraftView:
    """Where a draft stands: the step to answer next (None once all are answered)."""

    step: PitchStep | None
    number: int  # 1-based number of `step`; total + 1 at review
    total: int
    answers: Mapping[str, Any]
    question_id: int | None
    updated_at: datetime | None = None  # the last answer (a draft idle too long is set aside)

    @property
    def ready(self) -> bool:
        return self.step is None


class PitchDraftService:
    """Start, answer, go back, skip, cancel and submit one user's pitch draft."""

    def __init__(self, s: Session, steps: Sequence[PitchStep] = PITCH_STEPS) -> None:
        self.s = s
        self.steps = tuple(steps)
        self._index = {st.key: n for n, st in enumerate(self.steps)}

    # --- reading ---------------------------------------------------------------------
    def _draft(self, platform: str, user_id: str) -> PitchDraft:
        draft = self.s.get(PitchDraft, (platform, user_id), populate_existing=True)
        if draft is None:
            raise IdeaError("You have no pitch in progress.", hint="Say “pitch” to start one.")
        return draft

    def _view(self, draft: PitchDraft) -> DraftView:
        n = self._index.get(draft.step, len(self.steps))
        step = self.steps[n] if n < len(self.steps) else None
        return DraftView(
            step, n + 1, len(self.steps), dict(draft.answers), draft.question_id, draft.updated_at
        )

    def get(self, platform: str, user_id: str) -> DraftView | None:
        """The user's draft, or None when there is none."""
        draft = self.s.get(PitchDraft, (platform, user_id), populate_existing=True)
        return None if draft is None else self._view(draft)

    # --- writing ---------------------------------------------------------------------
    def resume(self, platform: str, user_id: str) -> DraftView | None:
        """The user's draft, taken up again now (it is no longer idle); None when none."""
        draft = self.s.get(PitchDraft, (platform, user_id), populate_existing=True)
        if draft is None:
            return None
        draft.updated_at = utcnow()
        self.s.flush()
        return self._view(draft)

    def start(self, platform: str, user_id: str, *, question_id: int | None = None) -> DraftView:
        """A fresh draft at the first step (replacing any earlier one)."""
        if question_id is not None and self.s.get(DesignQuestion, question_id) is None:
            raise InputError(f"There is no design question #{question_id}.")
        draft = self.s.get(PitchDraft, (platform, user_id), populate_existing=True)
        if draft is None:
            draft = PitchDraft(platform=platform, user_id=user_id)
            self.s.add(draft)
        draft.step = self.steps[0].key
        draft.answers = {}
        draft.question_id = question_id
        draft.updated_at = utcnow()
        self.s.flush()
        return self._view(draft)

    def _move(self, draft: PitchDraft, answers: dict[str, Any], n: int) -> DraftView:
        draft.answers = answers  # a new dict, so the JSON column is written
        draft.step = self.steps[n].key if n < len(self.steps) else REVIEW
        draft.updated_at = utcnow()
        self.s.flush()
        return self._view(draft)

    def answer(self, platform: str, user_id: str, text: str) -> DraftView:
        """Validate and save the answer to the current step, then move on.

        Too long or empty-but-required raises InputError and saves nothing; an empty answer
        to an optional step skips it.
        """
        draft = self._draft(platform, user_id)
        view = self._view(draft)
        if view.step is None:
            raise InputError(
                "Every question is answered.", hint="Say “submit”, “back” or “cancel”."
            )
        step = view.step
        value = clean(step.key, text, required=step.required)
        if len(value) > step.max_len:
            raise InputError(f"{step.label} can be at most {step.max_len:,} characters.")
        answers = dict(draft.answers)
        if value:
            answers[step.key] = step.parse(value)
        else:
            answers.pop(step.key, None)
        return self._move(draft, answers, view.number)

    def back(self, platform: str, user_id: str) -> DraftView:
        """Return to the previous step (its answer is kept until replaced)."""
        draft = self._draft(platform, user_id)
        n = self._view(draft).number - 1
        return self._move(draft, dict(draft.answers), max(n - 1, 0))

    def skip(self, platform: str, user_id: str) -> DraftView:
        """Skip the current step; only optional steps may be skipped."""
        draft = self._draft(platform, user_id)
        view = self._view(draft)
        if view.step is None:
            raise InputError("There is nothing left to skip.", hint="Say “submit” to send it.")
        if view.step.required:
            raise InputError(
                f"{view.step.label} is needed for every pitch, so it can't be skipped."
            )
        answers = dict(draft.answers)
        answers.pop(view.step.key, None)
        return self._move(draft, answers, view.number)

    def cancel(self, platform: str, user_id: str) -> bool:
        """Throw the draft away; True when there was one."""
        draft = self.s.get(PitchDraft, (platform, user_id), populate_existing=True)
        if draft is None:
            return False
        self.s.delete(draft)
        self.s.flush()
        return True

    def submit(
        self,
        platform: str,
        user_id: str,
        *,
        author_name: str = "",
        related_sessions: Sequence[Mapping[str, Any]] = (),
        embedding: np.ndarray | Sequence[float] | None = None,
        embedding_model: str = "",
    ) -> Idea:
        """Turn a finished draft into an idea and delete the draft (one transaction)."""
        draft = self._draft(platform, user_id)
        view = self._view(draft)
        if view.step is not None:
            raise InputError(
                f"The pitch isn't finished yet: {view.step.label.lower()} is next.",
                hint="Answer it, or say “cancel”.",
            )
        idea = submit_idea(
            self.s,
            flatten_answers(draft.answers),
            author=Actor(platform, user_id, author_name),
            question_id=draft.question_id,
            related_sessions=related_sessions,
            embedding=embedding,
            embedding_model=embedding_model,
        )
        self.s.delete(draft)
        self.s.flush()
        return idea


def flatten_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Draft answers as `submit_idea` takes them: the audience split into its fields."""
    flat = {k: v for k, v in answers.items() if k != "audience"}
    audience = answers.get("audience")
    if isinstance(audience, Mapping):
        flat.update(
            grade_bands=audience.get("grade_bands", []),
            subjects=audience.get("subjects", []),
            school=audience.get("school", ""),
        )
    return flat
