"""Minimum group size: small cells are hidden, and so is whatever reveals them by subtraction."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from insights.overview import overview
from insights.period import Period
from insights.privacy import Count, min_group, protect, protect_table
from store import Database
from tests.insights.helpers import MONDAY, ask, at, people


def test_min_group_is_never_below_three() -> None:
    assert min_group(1) == 3 and min_group(2) == 3 and min_group(5) == 5 and min_group(10) == 10


def test_small_cells_show_fewer_than_k() -> None:
    cells, total = protect([Count(40, 12), Count(3, 2)], None, 5)
    assert [c.value for c in cells] == [40, None]
    assert cells[1].text(5) == "fewer than 5"
    assert total is None


def test_a_total_does_not_reveal_a_hidden_part_by_subtraction() -> None:
    # answered 40 (12 people) + no match 3 (2 people) = 43: showing 40 and 43 would reveal 3.
    cells, total = protect([Count(40, 12), Count(3, 2)], Count(43, 13), 5)
    assert cells[1].hidden
    assert cells[0].hidden or total.hidden


def test_secondary_suppression_picks_the_smallest_other_part() -> None:
    cells, total = protect([Count(50, 20), Count(9, 6), Count(2, 2)], Count(61, 25), 5)
    assert [c.value for c in cells] == [50, None, None]
    assert total.value == 61


def _lines_safe(grid, rows: int, cols: int) -> bool:
    """No row or column (with its total) has exactly one hidden entry."""
    ext = [[grid.cells[r][c] for c in range(cols)] + [grid.row_totals[r]] for r in range(rows)]
    ext.append(list(grid.col_totals) + [grid.grand])
    lines = ext + [list(col) for col in zip(*ext, strict=True)]
    return all(sum(c.hidden for c in line) != 1 for line in lines)


counts = st.tuples(st.integers(0, 50), st.integers(0, 12)).map(
    lambda vp: Count(max(vp), min(vp[1], max(vp)))
)


@given(st.lists(st.lists(counts, min_size=2, max_size=2), min_size=1, max_size=6))
def test_tables_never_leave_one_hidden_cell_in_a_line(rows) -> None:
    r, c = len(rows), 2
    row_totals = [Count(sum(x.value for x in row), sum(x.people for x in row)) for row in rows]
    col_totals = [
        Count(sum(row[j].value for row in rows), sum(row[j].people for row in rows))
        for j in range(c)
    ]
    grand = Count(sum(x.value for x in row_totals), sum(x.people for x in row_totals))
    grid = protect_table(rows, row_totals, col_totals, grand, 5)
    assert _lines_safe(grid, r, c)
    for i, j in itertools.product(range(r), range(c)):
        if 0 < rows[i][j].people < 5:
            assert grid.cells[i][j].hidden


def test_overview_hides_a_small_week_and_its_complement(db: Database) -> None:
    with db.session() as s:
        for user in people(8):  # this week: 8 people, all answered
            ask(s, user, "exit tickets with 32 kids", when=at(0))
        for user in people(2, "X"):  # this week: 2 people with no good match
            ask(s, user, "who do i ask about bus duty", good=False, when=at(0))
        for user in people(9, "L"):  # last week: 9 people, answered
            ask(s, user, "station rotation timers", when=at(1))
        for user in people(6, "N"):  # last week: 6 people with no good match
            ask(s, user, "mileage forms", good=False, when=at(1))
        for user in people(2, "T"):  # two weeks ago: only 2 people in all
            ask(s, user, "sick days", good=False, when=at(2))
    with db.session() as s:
        ov = overview(s, Period(MONDAY - timedelta(weeks=2), MONDAY), 5)
    this, last, small = ov.weeks[2], ov.weeks[1], ov.weeks[0]
    assert this.no_match.hidden  # 2 people
    assert this.answered.hidden or this.questions.hidden  # else 10 - 8 = 2 shows
    assert small.questions.hidden and small.no_match.hidden and small.askers.hidden
    assert last.answered.value == 9 and last.no_match.value == 6 and last.questions.value == 15
    # The period's totals cannot give the small cells away either.
    column = [w.no_match for w in ov.weeks] + [ov.no_match]
    assert sum(c.hidden for c in column) != 1
    rendered = repr(ov)
    assert "value=2)" not in rendered  # the two-person cells exist nowhere in what is shown
