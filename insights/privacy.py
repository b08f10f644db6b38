"""Minimum group size: no figure about fewer than k people, and none that reveals one by subtraction.

Every figure insights show is a ``Count`` (a value and the distinct people behind it) until it
goes through ``protect``, which returns ``Cell``s: the value, or None for "fewer than k".
Primary suppression hides every cell whose people number 1..k-1. Secondary suppression then
looks at each *line* (parts that add up to a total that is shown): a line with exactly one
hidden entry would give it away (total minus the others), so the smallest other part (or the
total) is hidden too, until every line has none or at least two hidden entries. Tables with
row and column totals are settled the same way, along rows and columns, until stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_MIN_GROUP = 5
FLOOR = 3  # a configured minimum below this is raised to it


def min_group(configured: int) -> int:
    """STAFFROOM_INSIGHTS_MIN_GROUP, never below 3."""
    return max(FLOOR, int(configured))


@dataclass(frozen=True)
class Count:
    """A raw figure: its value and how many distinct people it is about (never rendered)."""

    value: int
    people: int


@dataclass(frozen=True)
class Cell:
    """A figure fit to show: ``value`` is None when it is suppressed."""

    value: int | None

    @property
    def hidden(self) -> bool:
        return self.value is None

    def text(self, k: int) -> str:
        return f"fewer than {k}" if self.value is None else f"{self.value:,}"


HIDDEN = Cell(None)


def primary(count: Count, k: int) -> bool:
    """True when ``count`` is about too few people to show (zero people is no one: shown)."""
    return 0 < count.people < k


def protect(parts: Sequence[Count], total: Count | None, k: int) -> tuple[list[Cell], Cell | None]:
    """One line: parts that add up to ``total`` (None when no total is shown or implied)."""
    grid = protect_table([list(parts)], None if total is None else [total], None, None, k)
    return grid.cells[0], (grid.row_totals[0] if grid.row_totals else None)


@dataclass(frozen=True)
class Grid:
    cells: list[list[Cell]]
    row_totals: list[Cell] | None
    col_totals: list[Cell] | None
    grand: Cell | None


def protect_table(
    cells: Sequence[Sequence[Count]],
    row_totals: Sequence[Count] | None,
    col_totals: Sequence[Count] | None,
    grand: Count | None,
    k: int,
) -> Grid:
    """A table whose rows add up to ``row_totals``, columns to ``col_totals``, margins to ``grand``.

    Pass None for a margin that is neither shown nor implied (e.g. shares of it).
    """
    rows = len(cells)
    cols = len(cells[0]) if rows else 0
    # The extended grid: data, then a totals column and a totals row where they exist.
    width = cols + (1 if row_totals is not None else 0)
    height = rows + (1 if col_totals is not None else 0)
    value: dict[tuple[int, int], Count] = {}
    for r in range(rows):
        for c in range(cols):
            value[r, c] = cells[r][c]
        if row_totals is not None:
            value[r, cols] = row_totals[r]
    if col_totals is not None:
        for c in range(cols):
            value[rows, c] = col_totals[c]
        if row_totals is not None and grand is not None:
            value[rows, cols] = grand
    hidden = {pos for pos, count in value.items() if primary(count, k)}
    lines: list[list[tuple[int, int]]] = []
    if row_totals is not None:
        lines += [[(r, c) for c in range(width) if (r, c) in value] for r in range(height)]
    if col_totals is not None:
        lines += [[(r, c) for r in range(height) if (r, c) in value] for c in range(width)]
    through: dict[tuple[int, int], list[int]] = {}
    for n, line in enumerate(lines):
        for pos in line:
            through.setdefault(pos, []).append(n)

    def cascade(pos: tuple[int, int], fixing: int) -> int:
        """Lines hiding ``pos`` would newly expose (+1) minus those it would settle (-1)."""
        score = 0
        for n in through[pos]:
            if n != fixing:
                count = sum(p in hidden for p in lines[n])
                score += 1 if count == 0 else (-1 if count == 1 else 0)
        return score

    changed = True
    while changed:
        changed = False
        for n, line in enumerate(lines):
            if len(line) < 2 or sum(pos in hidden for pos in line) != 1:
                continue
            others = [pos for pos in line if pos not in hidden]
            # Least cascading first, then the smallest non-zero value: the least lost.
            others.sort(
                key=lambda pos: (
                    cascade(pos, n),
                    value[pos].value == 0,
                    _is_margin(pos, rows, cols),
                    value[pos].value,
                )
            )
            hidden.add(others[0])
            changed = True

    def cell(pos: tuple[int, int]) -> Cell:
        return HIDDEN if pos in hidden else Cell(value[pos].value)

    return Grid(
        cells=[[cell((r, c)) for c in range(cols)] for r in range(rows)],
        row_totals=None if row_totals is None else [cell((r, cols)) for r in range(rows)],
        col_totals=None if col_totals is None else [cell((rows, c)) for c in range(cols)],
        grand=None
        if (row_totals is None or col_totals is None or grand is None)
        else cell((rows, cols)),
    )


def _is_margin(pos: tuple[int, int], rows: int, cols: int) -> bool:
    return pos[0] >= rows or pos[1] >= cols


def share(part: Cell, whole: Cell) -> float | None:
    """part / whole, or None when either is hidden or the whole is zero."""
    if part.value is None or whole.value is None or whole.value == 0:
        return None
    return part.value / whole.value


def people_cell(people: int, k: int) -> Cell:
    """A head count ("active askers"): shown only when at least k (zero is shown)."""
    return HIDDEN if 0 < people < k else Cell(people)
