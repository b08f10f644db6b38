"""Overview: questions per week, the share answered / with no good match, 👍 / 👎, active askers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from insights.counting import count_people
from insights.period import Period
from insights.privacy import Cell, Count, people_cell, protect_table, share
from store import Feedback, InsightQuestion

Q = InsightQuestion


@dataclass(frozen=True)
class WeekRow:
    week: date
    questions: Cell
    answered: Cell
    no_match: Cell
    helpful: Cell
    not_helpful: Cell
    askers: Cell


@dataclass(frozen=True)
class Overview:
    period: Period
    k: int
    weeks: list[WeekRow]
    questions: Cell
    answered: Cell
    no_match: Cell
    helpful: Cell
    not_helpful: Cell
    askers: Cell

    @property
    def answered_share(self) -> float | None:
        return share(self.answered, self.questions)

    @property
    def no_match_share(self) -> float | None:
        return share(self.no_match, self.questions)

    @property
    def helpful_share(self) -> float | None:
        votes = _sum(self.helpful, self.not_helpful)
        return share(self.helpful, votes)

    @property
    def not_helpful_share(self) -> float | None:
        return share(self.not_helpful, _sum(self.helpful, self.not_helpful))


def _sum(a: Cell, b: Cell) -> Cell:
    return Cell(None) if a.value is None or b.value is None else Cell(a.value + b.value)


def overview(s: Session, period: Period, k: int) -> Overview:
    in_period = sa.and_(Q.week >= period.first, Q.week <= period.last)
    voter = Feedback.platform + ":" + Feedback.user_id
    by_week_outcome = count_people(s, [Q.week, Q.good_match], Q.asker, in_period)
    by_week = count_people(s, [Q.week], Q.asker, in_period)
    by_outcome = count_people(s, [Q.good_match], Q.asker, in_period)
    everyone = count_people(s, [], Q.asker, in_period)
    votes = sa.join(Feedback, Q, Q.question_id == Feedback.question_id)
    votes_by_week = count_people(s, [Q.week, Feedback.helpful], voter, in_period, source=votes)
    votes_by_kind = count_people(s, [Feedback.helpful], voter, in_period, source=votes)
    weeks = period.weeks
    none = Count(0, 0)
    # Answered and no match add up to each week's questions, and over the weeks to the total.
    outcome = protect_table(
        [
            [by_week_outcome.get((w, True), none), by_week_outcome.get((w, False), none)]
            for w in weeks
        ],
        [by_week.get((w,), none) for w in weeks],
        [by_outcome.get((True,), none), by_outcome.get((False,), none)],
        everyone.get((), none),
        k,
    )
    # Votes are shown as shares of each week's votes: the votes total is implied.
    vote_grid = protect_table(
        [[votes_by_week.get((w, True), none), votes_by_week.get((w, False), none)] for w in weeks],
        [
            _add(votes_by_week.get((w, True), none), votes_by_week.get((w, False), none))
            for w in weeks
        ],
        [votes_by_kind.get((True,), none), votes_by_kind.get((False,), none)],
        _add(votes_by_kind.get((True,), none), votes_by_kind.get((False,), none)),
        k,
    )
    assert outcome.row_totals and outcome.col_totals and vote_grid.col_totals
    rows = [
        WeekRow(
            week=w,
            questions=outcome.row_totals[n],
            answered=outcome.cells[n][0],
            no_match=outcome.cells[n][1],
            helpful=vote_grid.cells[n][0],
            not_helpful=vote_grid.cells[n][1],
            askers=people_cell(by_week.get((w,), none).people, k),
        )
        for n, w in enumerate(weeks)
    ]
    return Overview(
        period=period,
        k=k,
        weeks=rows,
        questions=outcome.grand or Cell(None),
        answered=outcome.col_totals[0],
        no_match=outcome.col_totals[1],
        helpful=vote_grid.col_totals[0],
        not_helpful=vote_grid.col_totals[1],
        askers=people_cell(everyone.get((), none).people, k),
    )


def _add(a: Count, b: Count) -> Count:
    # People may overlap between the parts: the larger is a safe lower bound.
    return Count(a.value + b.value, max(a.people, b.people))
