"""Small-cell suppression with complementary suppression for a two-way table with margins.

Pure (no I/O): used by archive.deid before a count table leaves the vault.

The table is rows x columns of non-negative counts plus their sums: a total
per row, a total per column and a grand total. Every cell, margins included,
with 0 < count < min_cell is suppressed (primary suppression). Then, because the
margins are sums, a suppressed cell could be recomputed from what is published;
so more cells are suppressed (complementary suppression) until none can be.

Why the test below is exact: write the table with its margins as an
(R+1) x (C+1) array whose every row and column sums to zero (negate the row
and column totals, keep the grand total). The suppressed cells are the unknowns
of those linear equations. Think of each suppressed cell as an edge between its
row and its column: the equations fix an unknown to one value exactly when its
edge lies on no cycle, i.e. is a bridge of that bipartite graph (any cycle of
suppressed cells can be shifted +t, -t, +t, ... around without changing a sum).

The algorithm, iterated until no suppressed cell is a bridge:
1. find the bridges (Tarjan, iterative); take the smallest-valued one, (r, c);
2. cells that would put it on a cycle at once are those joining the part of the
   graph holding r to the part holding c once (r, c) is removed; pick among them
   a cell in the same row or column first, then the smallest count (zeros last:
   a suppressed 0 hides little);
3. if no single cell does, suppress the cheapest three cells (r, c'), (r', c'),
   (r', c) that close a rectangle with it.
Each step suppresses at least one more cell, so it ends; a table with at least
two rows and two columns (margins included) always has a safe pattern.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Cell = tuple[int, int]
_ZERO_COST = 10**9  # a 0 as a complement protects little: use one only when nothing else will do


@dataclass(frozen=True)
class ProtectedTable:
    """Counts with margins (last row = column totals, last column = row totals) and what is suppressed."""

    values: list[list[int]]
    suppressed: frozenset[Cell]
    primary: frozenset[Cell]

    @property
    def complementary(self) -> frozenset[Cell]:
        return self.suppressed - self.primary

    def shown(self, r: int, c: int) -> int | None:
        return None if (r, c) in self.suppressed else self.values[r][c]


def with_margins(interior: list[list[int]]) -> list[list[int]]:
    """The table plus a total column, a total row and the grand total."""
    if not interior or not interior[0]:
        raise ValueError("a table needs at least one row and one column")
    rows = [list(r) + [sum(r)] for r in interior]
    rows.append([sum(col) for col in zip(*rows, strict=True)])
    return rows


def _graph(n_rows: int, n_cols: int, cells: Iterable[Cell]) -> dict[int, list[tuple[int, Cell]]]:
    """Bipartite adjacency: row r is node r, column c is node n_rows + c; edges carry their cell."""
    adj: dict[int, list[tuple[int, Cell]]] = {n: [] for n in range(n_rows + n_cols)}
    for r, c in cells:
        adj[r].append((n_rows + c, (r, c)))
        adj[n_rows + c].append((r, (r, c)))
    return adj


def determined_cells(n_rows: int, n_cols: int, suppressed: Iterable[Cell]) -> set[Cell]:
    """Suppressed cells whose value follows from the published cells and margins (the bridges)."""
    adj = _graph(n_rows, n_cols, suppressed)
    disc: dict[int, int] = {}
    low: dict[int, int] = {}
    out: set[Cell] = set()
    timer = 0
    for start in adj:
        if start in disc:
            continue
        disc[start] = low[start] = timer
        timer += 1
        stack: list[tuple[int, Cell | None, int]] = [(start, None, 0)]
        while stack:
            node, via, i = stack[-1]
            if i < len(adj[node]):
                stack[-1] = (node, via, i + 1)
                nb, cell = adj[node][i]
                if cell == via:
                    continue
                if nb in disc:
                    low[node] = min(low[node], disc[nb])
                else:
                    disc[nb] = low[nb] = timer
                    timer += 1
                    stack.append((nb, cell, 0))
                continue
            stack.pop()
            if stack and via is not None:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[node])
                if low[node] > disc[parent]:
                    out.add(via)
    return out


def _component(adj: dict[int, list[tuple[int, Cell]]], start: int, without: Cell) -> set[int]:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for nb, cell in adj[node]:
            if cell != without and nb not in seen:
                seen.add(nb)
                todo.append(nb)
    return seen


def _cost(values: list[list[int]], cell: Cell) -> int:
    v = values[cell[0]][cell[1]]
    return v if v > 0 else _ZERO_COST


def _complement(values: list[list[int]], suppressed: set[Cell], bridge: Cell) -> list[Cell]:
    """Cells to suppress so that `bridge` lies on a cycle of suppressed cells."""
    n_rows, n_cols = len(values), len(values[0])
    r, c = bridge
    adj = _graph(n_rows, n_cols, suppressed)
    side_r = _component(adj, r, bridge)
    side_c = _component(adj, n_rows + c, bridge)
    single: list[tuple[bool, int, Cell]] = []
    for i in range(n_rows):
        for j in range(n_cols):
            if (i, j) in suppressed:
                continue
            joins = (i in side_r and n_rows + j in side_c) or (i in side_c and n_rows + j in side_r)
            if joins:
                single.append((not (i == r or j == c), _cost(values, (i, j)), (i, j)))
    if single:
        return [min(single)[2]]
    best: tuple[int, list[Cell]] | None = None
    for j in range(n_cols):
        if j == c:
            continue
        for i in range(n_rows):
            if i == r:
                continue
            new = [x for x in ((r, j), (i, j), (i, c)) if x not in suppressed]
            cost = sum(_cost(values, x) for x in new)
            if new and (best is None or cost < best[0]):
                best = (cost, new)
    if best is None:
        raise ValueError("the table is too small to protect (it needs two rows and two columns)")
    return best[1]


def protect(interior: list[list[int]], min_cell: int) -> ProtectedTable:
    """Suppress counts below `min_cell` (not zeros) and enough others that no suppressed count can be recomputed."""
    values = with_margins(interior)
    n_rows, n_cols = len(values), len(values[0])
    primary = {(i, j) for i in range(n_rows) for j in range(n_cols) if 0 < values[i][j] < min_cell}
    suppressed = set(primary)
    while True:
        open_cells = determined_cells(n_rows, n_cols, suppressed)
        if not open_cells:
            break
        bridge = min(open_cells, key=lambda x: (values[x[0]][x[1]], x))
        suppressed.update(_complement(values, suppressed, bridge))
    return ProtectedTable(values, frozenset(suppressed), frozenset(primary))
