"""Suppression rules (portal/statistik/suppression.py): unit examples and a property test
that no hidden count can be computed from what a table shows, by any combination of its
row and column sums (exact rational elimination, independent of the bridge search)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.statistik import suppression
from portal.statistik.suppression import Mark, Table, protect


def grid(inner: list[list[int]], virtual_total: bool = False) -> tuple[Table, dict, set]:
    """A table of INNER counts with its margins: rows r0.., "T"; columns c0.., "T"."""
    rows = [f"r{i}" for i in range(len(inner))] + ["T"]
    cols = [f"c{j}" for j in range(len(inner[0]))] + ["T"]
    values: dict = {}
    for i, line in enumerate(inner):
        for j, v in enumerate(line):
            values[(rows[i], cols[j])] = v
        values[(rows[i], "T")] = sum(line)
    for j in range(len(inner[0])):
        values[("T", cols[j])] = sum(line[j] for line in inner)
    values[("T", "T")] = sum(map(sum, inner))
    table = Table(rows, cols, {(r, c): (r, c) for r in rows for c in cols})
    virtual = {(r, "T") for r in rows} if virtual_total else set()
    return table, values, virtual


def _rank(matrix: list[list[Fraction]]) -> int:
    m = [row[:] for row in matrix]
    rank = 0
    width = len(m[0]) if m else 0
    for col in range(width):
        pivot = next((i for i in range(rank, len(m)) if m[i][col] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for i in range(len(m)):
            if i != rank and m[i][col] != 0:
                factor = m[i][col] / m[rank][col]
                m[i] = [a - factor * b for a, b in zip(m[i], m[rank], strict=True)]
        rank += 1
    return rank


def determined(table: Table, unknown: set) -> set:
    """The unknown cells whose value follows from the line sums and the known cells."""
    cells = sorted(unknown)
    index = {c: i for i, c in enumerate(cells)}
    equations = []
    for r in table.rows[:-1]:  # row r: its inner cells minus its total are 0
        eq = [Fraction(0)] * len(cells)
        for c in table.cols:
            if (r, c) in index:
                eq[index[(r, c)]] += -1 if c == table.cols[-1] else 1
        equations.append(eq)
    for c in table.cols:
        eq = [Fraction(0)] * len(cells)
        for r in table.rows:
            if (r, c) in index:
                eq[index[(r, c)]] += -1 if r == table.rows[-1] else 1
        equations.append(eq)
    r_last = table.rows[-1]
    eq = [Fraction(0)] * len(cells)  # the total row adds up too
    for c in table.cols:
        if (r_last, c) in index:
            eq[index[(r_last, c)]] += -1 if c == table.cols[-1] else 1
    equations.append(eq)
    base = _rank(equations)
    out = set()
    for cell in cells:
        unit = [Fraction(0)] * len(cells)
        unit[index[cell]] = Fraction(1)
        if _rank([*equations, unit]) == base:
            out.add(cell)
    return out


def test_a_single_small_count_hides_a_second_one_in_its_row_and_column() -> None:
    table, values, _ = grid([[3, 20, 30], [40, 50, 60], [70, 80, 90]])
    marks = protect([table], values)
    assert marks[("r0", "c0")] is Mark.SMALL
    hidden = {k for k, m in marks.items() if m is not Mark.SHOWN}
    assert len(hidden) == 4  # the cheapest rectangle: 3, 20, 40, 50
    assert hidden == {("r0", "c0"), ("r0", "c1"), ("r1", "c0"), ("r1", "c1")}
    assert not determined(table, hidden)


def test_without_protection_the_small_count_is_the_total_minus_the_rest() -> None:
    table, values, _ = grid([[3, 20], [40, 50]])
    assert determined(table, {("r0", "c0")}) == {("r0", "c0")}  # the check itself works


def test_zero_is_shown_and_nothing_else_hidden_without_small_counts() -> None:
    table, values, _ = grid([[0, 20], [40, 50]])
    marks = protect([table], values)
    assert set(marks.values()) == {Mark.SHOWN}


def test_two_small_counts_whose_sum_is_known_get_a_larger_partner() -> None:
    # desa A and B have 1 household each in desil 1; the kecamatan shows 2: both are 1
    table, values, _ = grid([[1, 30], [1, 40], [60, 70]])
    marks = protect([table], values)
    hidden = {k for k, m in marks.items() if m is not Mark.SHOWN}
    column = [k for k in hidden if k[1] == "c0"]
    assert any(values[k] >= suppression.THRESHOLD for k in column)
    assert not determined(table, hidden)


def test_virtual_totals_only_need_two_hidden_cells_per_column() -> None:
    table, values, virtual = grid([[2, 30], [50, 40], [60, 70]], virtual_total=True)
    marks = protect([table], values, virtual)
    assert marks[("r0", "c0")] is Mark.SMALL
    assert ("r0", "T") not in marks  # never published
    hidden = {k for k, m in marks.items() if m is not Mark.SHOWN}
    assert sum(1 for k in hidden if k[1] == "c0") >= 2
    assert {k for k in hidden if k[1] == "c1"} == set()


def test_tables_sharing_cells_are_protected_together() -> None:
    # the kabupaten table (kecamatan rows) and one kecamatan's own table (desa rows) share
    # the kecamatan's row: a cell hidden in one is hidden in the other
    kab = Table(["k1", "k2", "K"], ["b1", "b2", "T"])
    kec = Table(["d1", "d2", "k1"], ["b1", "b2", "T"])
    values: dict = {}
    inner = {"d1": (2, 40), "d2": (30, 50), "k2": (60, 70)}
    for r, (a, b) in inner.items():
        values[(r, "b1")], values[(r, "b2")], values[(r, "T")] = a, b, a + b
    for c in ("b1", "b2", "T"):
        values[("k1", c)] = values[("d1", c)] + values[("d2", c)]
        values[("K", c)] = values[("k1", c)] + values[("k2", c)]
    for t in (kab, kec):
        t.cells = {(r, c): (r, c) for r in t.rows for c in t.cols}
    marks = protect([kab, kec], values)
    hidden = {k for k, m in marks.items() if m is not Mark.SHOWN}
    assert ("d1", "b1") in hidden
    assert not determined(kec, {k for k in hidden if k in kec.cells.values()})
    assert not determined(kab, {k for k in hidden if k in kab.cells.values()})


def test_the_change_between_periods_is_shown_only_between_two_shown_counts() -> None:
    assert suppression.change_shown(Mark.SHOWN, Mark.SHOWN)
    assert not suppression.change_shown(Mark.SHOWN, Mark.SMALL)
    assert not suppression.change_shown(Mark.HIDDEN, Mark.SHOWN)
    assert not suppression.change_shown(Mark.SHOWN, None)


def test_display() -> None:
    assert suppression.display(3, Mark.SMALL) == "<5"
    assert suppression.display(80, Mark.HIDDEN) == "*"
    assert suppression.display(0, Mark.SHOWN) == "0"


counts = st.one_of(st.integers(0, 6), st.integers(0, 400))


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda width: st.lists(
            st.lists(counts, min_size=width, max_size=width), min_size=1, max_size=5
        )
    ),
    st.booleans(),
)
def test_no_hidden_count_can_be_computed_from_the_shown_cells(
    inner: list[list[int]], virtual_total: bool
) -> None:
    table, values, virtual = grid(inner, virtual_total)
    marks = protect([table], values, virtual)
    hidden = {k for k, m in marks.items() if m is not Mark.SHOWN}
    # every small count is hidden, every shown count is shown as it is
    for key, mark in marks.items():
        if suppression.is_small(values[key]):
            assert mark is Mark.SMALL
    exposed = determined(table, hidden | set(virtual)) - set(virtual)
    # a hidden 0 or large count whose value follows is harmless only if it is not small;
    # no SMALL count may ever be determined, and no hidden count at all when avoidable
    assert not {k for k in exposed if marks[k] is Mark.SMALL}
    assert not exposed


def test_small_counts_whose_sum_leaves_a_range_need_no_larger_partner() -> None:
    # 2 and 3 with a known sum of 5: each is 1 to 4 as far as anyone can tell
    table, values, _ = grid([[2, 30], [3, 40], [60, 70]])
    marks = protect([table], values)
    hidden = {k for k, m in marks.items() if m is not Mark.SHOWN}
    assert {k for k in hidden if k[1] == "c0"} == {("r0", "c0"), ("r1", "c0")}
    assert not determined(table, hidden)


def test_a_parent_total_stays_shown_when_all_its_children_are_small() -> None:
    # the demo's kabupaten: every kecamatan has a few households per desil
    table, values, _ = grid([[3, 2, 40], [4, 1, 35], [2, 3, 50]])
    marks = protect([table], values)
    assert marks[("T", "c0")] is Mark.SHOWN  # 9 households in desil 1 across the three
    assert marks[("T", "c1")] is Mark.SHOWN
    hidden = {k for k, m in marks.items() if m is not Mark.SHOWN}
    assert not determined(table, hidden)
