"""Small-cell and complementary suppression: checked by linear algebra (numpy ranks), not by the graph
argument the module uses, on hand-made and random tables."""

from __future__ import annotations

import random

import numpy as np
import pytest

from archive.suppression import determined_cells, protect, with_margins

K = 11


def derivable(values: list[list[int]], suppressed: set[tuple[int, int]] | frozenset[tuple[int, int]]) -> set[
        tuple[int, int]]:
    """Suppressed cells whose value the published cells and the row/column sums fix exactly.

    Unknowns: the suppressed cells. Equations: each interior row sums to its total, each interior column
    sums to its total, the totals sum to the grand total. A cell is fixed iff its unit vector lies in the
    row space of the equations' coefficient matrix (over the unknowns).
    """
    n_rows, n_cols = len(values), len(values[0])
    unknown = sorted(suppressed)
    pos = {c: k for k, c in enumerate(unknown)}
    lines = [[(i, j) for j in range(n_cols)] for i in range(n_rows)] + [
        [(i, j) for i in range(n_rows)] for j in range(n_cols)]
    equations = []
    for line in lines:
        total = line[-1]  # the margin cell of this row or column
        coeffs = np.zeros(len(unknown))
        for cell in line[:-1]:
            if cell in pos:
                coeffs[pos[cell]] += 1
        if total in pos:
            coeffs[pos[total]] -= 1
        equations.append(coeffs)
    if not unknown:
        return set()
    a = np.array(equations)
    rank = np.linalg.matrix_rank(a)
    out = set()
    for cell, k in pos.items():
        unit = np.zeros(len(unknown))
        unit[k] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.add(cell)
    return out


def check(interior: list[list[int]]) -> None:
    table = protect(interior, K)
    values = table.values
    assert values == with_margins(interior)
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if 0 < v < K:
                assert (i, j) in table.suppressed, f"small cell {(i, j)}={v} published"
    assert table.primary <= table.suppressed
    assert derivable(values, table.suppressed) == set(), interior


def test_one_small_cell_needs_three_more() -> None:
    interior = [[20, 3, 25], [15, 30, 12], [40, 18, 22]]
    table = protect(interior, K)
    assert table.primary == {(0, 1)}
    # a lone suppressed cell is its row total minus the others: it takes a rectangle to hide it
    assert len(table.suppressed) == 4
    assert derivable(table.values, table.primary) == {(0, 1)}
    assert derivable(table.values, table.suppressed) == set()
    rows = {i for i, _ in table.suppressed}
    cols = {j for _, j in table.suppressed}
    assert len(rows) == 2 and len(cols) == 2


def test_complement_is_the_smallest_cell_in_the_same_row_or_column() -> None:
    interior = [[50, 4, 13], [60, 70, 80], [90, 12, 100]]
    table = protect(interior, K)
    assert (0, 1) in table.suppressed
    # column 1 offers 12, row 0 offers 13: the 12 goes, and so does the 13, to close the rectangle
    assert {(2, 1), (0, 2)} <= table.complementary
    check(interior)


def test_zeros_are_shown_and_not_used_as_complements_when_avoidable() -> None:
    interior = [[0, 5, 40], [30, 0, 25], [12, 14, 0]]
    table = protect(interior, K)
    assert all(table.values[i][j] > 0 for i, j in table.suppressed)
    check(interior)


def test_single_row_and_single_column_tables() -> None:
    check([[3, 40, 50]])
    check([[3], [40], [50]])
    check([[5]])
    check([[12, 0, 30]])


def test_small_margins_are_suppressed_too() -> None:
    interior = [[2, 3, 1], [30, 40, 50]]
    table = protect(interior, K)
    assert (0, 3) in table.suppressed  # the row total, 6
    check(interior)


def test_random_tables_are_safe() -> None:
    rng = random.Random(20240801)
    for _ in range(150):
        rows, cols = rng.randint(1, 7), rng.randint(1, 6)
        check([[rng.choice([0, 0, 1, 2, 4, 7, 10, 11, 12, 20, 35, 80]) for _ in range(cols)] for _ in range(rows)])


def test_bridges_are_exactly_the_derivable_cells() -> None:
    rng = random.Random(7)
    for _ in range(300):
        n_rows, n_cols = rng.randint(2, 6), rng.randint(2, 6)
        cells = {(i, j) for i in range(n_rows) for j in range(n_cols) if rng.random() < 0.45}
        zeros = [[0] * n_cols for _ in range(n_rows)]
        assert determined_cells(n_rows, n_cols, cells) == derivable(zeros, cells)


@pytest.mark.parametrize("size", [(300, 10)])
def test_large_table_is_fast_enough(size: tuple[int, int]) -> None:
    import time

    rng = random.Random(3)
    interior = [[rng.choice([0, 1, 3, 8, 12, 30, 90]) for _ in range(size[1])] for _ in range(size[0])]
    start = time.perf_counter()
    table = protect(interior, K)
    assert time.perf_counter() - start < 5
    assert determined_cells(len(table.values), len(table.values[0]), table.suppressed) == set()
