"""Small-count suppression for the public statistics (docs/statistics.md has the rules with
worked examples). Pure functions: no database, no Flask.

A published statistic is a set of two-way tables whose rows and columns add up: regions
(the children, then the parent) x categories (desil bands, reason codes..., then the total).
Some cells appear in several tables (a kecamatan's row in the kabupaten's table is the total
row of the kecamatan's own table), so the tables are protected together until none changes.

1. **Primary**: a count of 1 to THRESHOLD - 1 is shown as "<5". A 0 is shown as 0.
2. **Secondary**: no hidden cell may be worked out from the cells shown. Write each table
   as a graph: a vertex per row and per column, an edge per hidden cell. The shown cells
   of a line (row or column) and its total give the sum of its hidden cells; a hidden cell
   can be computed exactly from these sums if and only if its edge is a bridge (on no
   cycle). So while a bridge exists, the cheapest rectangle through it is hidden too
   (the smallest counts first; totals last), which puts it on a cycle.
3. **No small counts pinned by their sum**: two "<5" with a known sum of 2 are both 1, and
   with a sum of 8 both 4. A line whose hidden cells are all primary, k of them summing to
   k or to 4k, gets its smallest count of THRESHOLD or more hidden too (then back to 2);
   any other sum leaves each of them a range of at least two values within 1-4.

Cells that are never published (a virtual total, e.g. of programs, which overlap) count as
hidden from the start and are never chosen.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

THRESHOLD = 5  # counts 1 .. THRESHOLD - 1 are never shown
TOTAL_PENALTY = 1_000_000  # hiding a total costs more than hiding any inner count
ZERO_PENALTY = 10_000  # hiding a 0 protects little (a "<5" beside hidden zeros is bounded)

Key = tuple[str, ...]  # a cell's identity, shared between tables
Coord = tuple[str, str]  # (row, col) of a table
Test = Callable[[str, str], bool]
Act = Callable[[str, str], None]


class Mark(IntEnum):
    SHOWN = 0
    SMALL = 1  # primary: 1 .. THRESHOLD - 1, shown as "<5"
    HIDDEN = 2  # secondary: hidden so that a small count cannot be worked out


def is_small(value: int) -> bool:
    return 0 < value < THRESHOLD


@dataclass
class Table:
    """A two-way table: ROWS x COLS, the last row and the last column being the totals of
    the others (a column of virtual totals is allowed: never published). CELLS maps
    (row, col) to the global key of the cell (shared between tables); a missing cell is 0."""

    rows: list[str]
    cols: list[str]
    cells: dict[tuple[str, str], Key] = field(default_factory=dict)

    def key(self, row: str, col: str) -> Key:
        return self.cells[(row, col)]


def protect(
    tables: Iterable[Table], values: Mapping[Key, int], virtual: Iterable[Key] = ()
) -> dict[Key, Mark]:
    """The mark of every cell of TABLES (virtual cells left out). VALUES: each key's count
    (missing: 0); VIRTUAL: keys that are never published."""
    tables = list(tables)
    never = set(virtual)
    hidden: set[Key] = {
        k for t in tables for k in t.cells.values() if k not in never and is_small(values.get(k, 0))
    }
    primary = set(hidden)
    changed = True
    while changed:
        changed = False
        for table in tables:
            if _protect_table(table, values, hidden, never):
                changed = True
    marks: dict[Key, Mark] = {}
    for table in tables:
        for key in table.cells.values():
            if key in never:
                continue
            if key in primary:
                marks[key] = Mark.SMALL
            elif key in hidden:
                marks[key] = Mark.HIDDEN
            else:
                marks[key] = Mark.SHOWN
    return marks


def _cost(table: Table, row: str, col: str, values: Mapping[Key, int]) -> int:
    value = values.get(table.key(row, col), 0)
    cost = value if value else ZERO_PENALTY
    if row == table.rows[-1] or col == table.cols[-1]:
        cost += TOTAL_PENALTY
    return cost


def _protect_table(
    table: Table, values: Mapping[Key, int], hidden: set[Key], never: set[Key]
) -> bool:
    """Hide more cells of TABLE until no hidden cell is a bridge and no line's hidden cells
    are all primary; return whether anything was added to HIDDEN."""
    changed = False

    def unknown(row: str, col: str) -> bool:
        key = table.cells.get((row, col))
        return key is not None and (key in hidden or key in never)

    def hide(row: str, col: str) -> None:
        nonlocal changed
        key = table.cells.get((row, col))
        if key is not None and key not in hidden and key not in never:
            hidden.add(key)
            changed = True

    while True:
        bridge = next(
            (
                b
                for b in bridges(table, unknown)
                if table.cells.get(b) is not None and table.cells[b] not in never
            ),
            None,
        )
        if bridge is not None:
            _close_rectangle(table, bridge, values, unknown, hide)
            continue
        line = _all_small_line(table, values, unknown)
        if line is None:
            return changed
        _hide_smallest_large(table, line, values, unknown, hide)  # hides one: the line has one


def bridges(table: Table, unknown: Test) -> list[Coord]:
    """The unknown cells of TABLE that are bridges of its row/column graph (Tarjan)."""
    adjacency: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for (row, col), _key in table.cells.items():
        if unknown(row, col):
            adjacency.setdefault(("r", row), []).append(("c", col))
            adjacency.setdefault(("c", col), []).append(("r", row))
    order: dict[tuple[str, str], int] = {}
    low: dict[tuple[str, str], int] = {}
    found: list[tuple[str, str]] = []
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * len(adjacency) + 100))
    try:

        def visit(vertex: tuple[str, str], parent: tuple[str, str] | None) -> None:
            order[vertex] = low[vertex] = len(order)
            for other in adjacency[vertex]:
                if other == parent:
                    continue  # (one edge per row/column pair: no parallel edges)
                if other in order:
                    low[vertex] = min(low[vertex], order[other])
                else:
                    visit(other, vertex)
                    low[vertex] = min(low[vertex], low[other])
                    if low[other] > order[vertex]:
                        a, b = (vertex, other) if vertex[0] == "r" else (other, vertex)
                        found.append((a[1], b[1]))

        for vertex in adjacency:
            if vertex not in order:
                visit(vertex, None)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found, key=lambda rc: (table.rows.index(rc[0]), table.cols.index(rc[1])))


def _close_rectangle(
    table: Table, bridge: Coord, values: Mapping[Key, int], unknown: Test, hide: Act
) -> None:
    row, col = bridge
    best: tuple[int, int, int, str, str] | None = None
    for i, other_row in enumerate(table.rows):
        if other_row == row:
            continue
        for j, other_col in enumerate(table.cols):
            if other_col == col:
                continue
            corners = ((row, other_col), (other_row, col), (other_row, other_col))
            cost = sum(
                _cost(table, r, c, values)
                for r, c in corners
                if (r, c) in table.cells and not unknown(r, c)
            )
            if best is None or (cost, i, j) < best[:3]:
                best = (cost, i, j, other_row, other_col)
    if best is None:  # a table of one row or one column: nothing can protect it
        raise ValueError("a table needs two rows and two columns")
    _cost_, _i, _j, other_row, other_col = best
    for r, c in ((row, other_col), (other_row, col), (other_row, other_col)):
        hide(r, c)


def _lines(table: Table) -> list[list[tuple[str, str]]]:
    lines = [[(r, c) for c in table.cols if (r, c) in table.cells] for r in table.rows]
    lines += [[(r, c) for r in table.rows if (r, c) in table.cells] for c in table.cols]
    return lines


def _all_small_line(table: Table, values: Mapping[Key, int], unknown: Test) -> list[Coord] | None:
    """A line whose hidden cells are all primary and pinned by their sum (all 1 or all
    THRESHOLD - 1), with a count left to hide beside them."""
    for line in _lines(table):
        hidden = [values.get(table.key(*rc), 0) for rc in line if unknown(*rc)]
        virtual = any(unknown(*rc) and not is_small(values.get(table.key(*rc), 0)) for rc in line)
        if not hidden or virtual or not all(is_small(v) for v in hidden):
            continue
        pinned = sum(hidden) in (len(hidden), (THRESHOLD - 1) * len(hidden))
        if pinned and any(not unknown(*rc) and values.get(table.key(*rc), 0) for rc in line):
            return line
    return None


def _hide_smallest_large(
    table: Table, line: list[Coord], values: Mapping[Key, int], unknown: Test, hide: Act
) -> None:
    candidates = [rc for rc in line if not unknown(*rc) and values.get(table.key(*rc), 0)]
    if candidates:
        hide(*min(candidates, key=lambda rc: (_cost(table, rc[0], rc[1], values), line.index(rc))))


def change_shown(current: Mark | None, previous: Mark | None) -> bool:
    """A period-to-period change is published only when both counts are shown: the change
    of a hidden count (or towards one) would give it away with the other period's count."""
    return current is Mark.SHOWN and previous is Mark.SHOWN


def display(value: int, mark: Mark) -> str:
    """The text of a cell: the count, "<5" or "*"."""
    if mark is Mark.SMALL:
        return f"<{THRESHOLD}"
    if mark is Mark.HIDDEN:
        return "*"
    return str(value)
