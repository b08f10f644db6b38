"""Honest answers: which sessions to show, whether they are a good match, and what a miss is.

    judge = MatchJudge(searcher.embedder)
    verdict = judge.assess(response, hints=plan.prefer)
    verdict.kind      "answer"     a good match: show ``shown`` as the answer
                      "weak"       about teaching, only loosely related sessions: show them as
                                   "closest, not a direct answer" and log the gap
                      "gap"        about teaching, nothing fits: say so and log the gap
                      "off_topic"  not about teaching: say so, log nothing
                      "exhausted"  "another one" when nothing close is left (not a gap)
    verdict.shown     1-3 sessions close to the best one (none for gap / off_topic / exhausted)
    verdict.notes     per shown session "(grades 6-12)" when made for other grades, else ""

Three calibrated decisions, measured by bench/conversations.py (figures in bench/RESULTS.md):

* **Relative cut.** A session is shown only when its score is at least ``RELATIVE_CUT`` of the
  best one's, so an answer shows one session when one stands out, not three by default.
* **Good match.** The Searcher's absolute floor (best chunk cosine ≥ its threshold) still
  applies, and the best session must also clear a bar that rises with how *generic* the
  question is: cosine ≥ ``BAR_BASE`` + ``BAR_GENERIC`` × (the question's similarity to broad
  teaching sentences, see ``retrieval.scope``). "my 9th graders keep pulling out their phones"
  resembles every classroom-management session a little and none in particular; a question a
  session answers beats the generic sentences by a clear margin.
* **Off-topic vs gap.** A miss is off-topic when ``ScopeClassifier`` says the question is not
  about teaching; only gaps belong in the gap log. A clearly off-topic question ("request a sub
  in the district system") is never a good match, whatever its cosine.

The bar is calibrated for the bundled all-MiniLM-L6-v2. With another model, or an explicit
``STAFFROOM_MATCH_THRESHOLD`` (``calibrated=False``), only the Searcher's own threshold decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from retrieval.embedder import BUNDLED_NAME, Embedder
from retrieval.hints import Hints, grade_note
from retrieval.scope import OFF_TOPIC_MARGIN, ScopeClassifier
from retrieval.types import SearchResponse, SessionResult

Kind = Literal["answer", "weak", "gap", "off_topic", "exhausted"]

RELATIVE_CUT = 0.85
WEAK_TOP = 2  # a weak answer shows at most this many "closest" sessions
# "another one" shows the next sessions scoring at least this share of the topic's best one:
# looser than RELATIVE_CUT, since the teacher asked to see more.
MORE_CUT = 0.8
BAR_BASE = 0.19
BAR_GENERIC = 0.59
# Above this off-topic margin a question is never a good match, whatever its cosine ("request
# a substitute for next friday in the district system": 0.17). Answerable questions in the
# calibration sets score below 0.01, but short library questions reach 0.14 ("do we have
# anything on check-ins already?": "check-ins" sits near "paycheck" for this model).
OFF_TOPIC_BLOCK = 0.15
# A pitch shows "sessions that already cover this" only at or above this fused score of
# "<title>. <practice>" against the session (22 labelled pitches: covered ≥ 0.49, others ≤ 0.42).
COVER_BAR = 0.45


@dataclass(frozen=True)
class Verdict:
    """What an answer should show for one search."""

    kind: Kind
    shown: tuple[SessionResult, ...]
    notes: tuple[str, ...]  # one per shown session: "(grades 6-12)" or ""
    bar: float  # the cosine the best session had to reach (0.0 when uncalibrated)
    off_topic_score: float  # > the scope's margin (OFF_TOPIC_MARGIN): not about teaching

    @property
    def good_match(self) -> bool:
        return self.kind == "answer"

    @property
    def is_gap(self) -> bool:
        """True when the question belongs in the gap log (about teaching, not answered)."""
        return self.kind in ("weak", "gap")


def relative_cut(
    results: Sequence[SessionResult], top: int = 3, ratio: float = RELATIVE_CUT
) -> tuple[SessionResult, ...]:
    """The first ``top`` results whose score is at least ``ratio`` × the best score."""
    if not results:
        return ()
    best = results[0].score
    if best <= 0:
        return (results[0],)
    return tuple(r for r in results[:top] if r.score >= ratio * best)


class MatchJudge:
    """Decides answer / gap / off-topic for a search, with the calibrated bars above."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        calibrated: bool | None = None,
        scope: ScopeClassifier | None = None,
        top: int = 3,
    ) -> None:
        self.embedder = embedder
        self.calibrated = embedder.name == BUNDLED_NAME if calibrated is None else calibrated
        self.scope = scope or ScopeClassifier(embedder)
        self.top = top

    def assess(
        self,
        response: SearchResponse,
        *,
        hints: Hints | None = None,
        topic_best: float | None = None,
    ) -> Verdict:
        """The verdict for ``response`` (judged on its own query and query vector).

        ``topic_best`` marks an "another one" search on a topic that was already answered, with
        the score of the best session shown then: the remaining sessions are shown while they
        score at least ``MORE_CUT`` of *that* score (the teacher asked for the next best, not
        for a new answer), and none left is "exhausted", not a gap.
        """
        more = topic_best is not None
        if response.vector is not None:
            teach, off = self.scope.similarities_of(response.vector)
        else:
            teach, off = self.scope.similarities([response.query])
        teach_sim, off_score = float(teach[0]), float(off[0] - teach[0])
        bar = BAR_BASE + BAR_GENERIC * teach_sim if self.calibrated else 0.0
        off_topic = off_score > getattr(self.scope, "margin", OFF_TOPIC_MARGIN)
        if not response.results or not response.good_match:
            kind: Kind = "exhausted" if more else "off_topic" if off_topic else "gap"
            return Verdict(kind, (), (), bar, off_score)
        clears = response.results[0].match >= bar and off_score <= OFF_TOPIC_BLOCK
        if self.calibrated and not clears and not more:
            if off_topic:
                return Verdict("off_topic", (), (), bar, off_score)
            return self._verdict(
                "weak", relative_cut(response.results, WEAK_TOP), hints, bar, off_score
            )
        if more:
            floor = MORE_CUT * float(topic_best or 0.0)
            shown = tuple(r for r in response.results[: self.top] if r.score >= floor)
            if not shown:
                return Verdict("exhausted", (), (), bar, off_score)
            return self._verdict("answer", shown, hints, bar, off_score)
        return self._verdict(
            "answer", relative_cut(response.results, self.top), hints, bar, off_score
        )

    @staticmethod
    def _verdict(
        kind: Kind, shown: tuple[SessionResult, ...], hints: Hints | None, bar: float, off: float
    ) -> Verdict:
        notes = tuple(grade_note(r.session, hints) if hints else "" for r in shown)
        return Verdict(kind, shown, notes, bar, off)

    def covering(self, response: SearchResponse, top: int = 2) -> tuple[SessionResult, ...]:
        """Sessions that already cover a pitched practice (search "<title>. <practice>")."""
        if not response.good_match:
            return ()
        return tuple(r for r in response.results[:top] if r.score >= COVER_BAR)
