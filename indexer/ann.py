"""Approximate nearest chunks: an HNSW graph (usearch) over the stored int8 chunk vectors.

Why: exact search is one matrix-vector product over every chunk, memory-bound
and linear in the archive (about 90 ms at 1M chunks). The graph visits a few
thousand chunks instead. It is used only from `ANN_FROM` chunks on (see
`indexer.vectors`): below that the exact product is a few milliseconds, needs
no graph to build, keep or load, and has no recall to check.

The graph holds the chunk vectors exactly as the index stores them (our int8
codes, `indexer.vectors.encode`): usearch's cosine over those codes is the
cosine of the stored vectors, because each vector's scale factor cancels. So
the serialised graph carries the vectors too and nothing is kept twice.

Never written to a file: `to_bytes` and `from_bytes` go through memory only,
and the caller keeps the bytes in the encrypted index (`indexer.semantic`'s
snapshot tables). Never call usearch's `save`/`load`/`view` with a path.
Keys are `chunks.id`. Knows nothing of records, users or the database.
"""

from __future__ import annotations

import mmap
import os
import threading
from typing import Any

import numpy as np

# Measured on bench/ann.py's vectors (real MiniLM passages and mixtures of them, real queries; bench/RESULTS.md):
# queries are not passages, so their neighbours sit at cosines of ~0.4 among many near-ties, which a sparse graph
# misses. At 60k chunks, chunk recall@100 with 400 fetched: M=16 0.79 (depth 800) and 0.88 (depth 2000);
# M=32 0.93 (800), 0.98 (2000), 0.99 (4000, 1000 fetched). At 300k chunks as dense as 1M (100 per real passage),
# record recall@100: M=32 build depth 128: 0.86 / 0.92 / 0.95 (depth 800 / 2000 / 4000), as at 1M; M=48 build
# depth 256: 0.97 / 0.99 / 0.995, for ~1.4x the search time at a depth, ~3.5x the build time and 1.5x the edges.
# Fetching more chunks (1000, 2000) at a depth gains nothing: the graph's search is what misses them.
# Depth is a query-time setting; M and the build depth are fixed when the graph is built.
CONNECTIVITY = 48  # graph edges per node (HNSW "M")
EXPANSION_ADD = 256  # search depth while inserting (HNSW "efConstruction")
CHUNKS_PER_QUERY = 400  # chunks fetched per query at least (more for a filter, 4 x the records wanted)
EXPANSION_SEARCH = 2000  # search depth (HNSW "ef"): recall against latency
# A graph read from a snapshot is searched in place, in the buffer its bytes were read into (`snapshot_buffer`).
# A search reads a few thousand nodes scattered over ~0.8 GB (1M chunks): with 4 KB pages nearly every read also
# misses the TLB. Backed by 2 MB pages (`settle_in_huge_pages`) the same searches took ~22% less CPU, same results
# (bench/RESULTS.md, session 11). Done after unlock, in steps, by a low-priority thread: in place, so searches
# meanwhile read the same bytes.
HUGE_STEP = 64 << 20  # bytes collapsed into 2 MB pages at a time
MADV_COLLAPSE = 25  # Linux >= 6.1: make these pages huge now (the name is not in Python 3.11's mmap)
MADV_HUGEPAGE = 14  # Linux: back these pages by 2 MB pages where the kernel can


def _usearch() -> Any:
    """usearch's Index class, loaded when a large archive first needs it.

    onnxruntime (the embedder's fast path, indexer/onnx_bulk.py) crashes with SIGSEGV when it is imported
    after usearch's compiled module (usearch 2.26.6, onnxruntime 1.32.0; `import usearch; import onnxruntime`
    alone does it), while the other order is fine: so onnxruntime, a dependency either way, is loaded first.
    """
    import onnxruntime  # noqa: F401 - (the order is the point)
    from usearch.index import Index

    return Index


def snapshot_buffer(size: int) -> mmap.mmap:
    """Memory to read a snapshot into: private and anonymous (no file behind it, like a bytearray's), so the
    kernel may back it by 2 MB pages once it holds the graph (`settle_in_huge_pages`)."""
    return mmap.mmap(-1, max(size, 1), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


def settle_in_huge_pages(held: Any) -> threading.Thread | None:
    """Ask the kernel to back a frozen graph's bytes (a view of a `snapshot_buffer`) by 2 MB pages, in a
    low-priority daemon thread (returned; None when the bytes are not such a buffer). Where the kernel cannot
    (no transparent huge pages, an older kernel), nothing changes: the graph is searched as before."""
    buffer = memoryview(held).obj if held is not None else None
    if not isinstance(buffer, mmap.mmap):
        return None

    def work() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # (Linux: this thread only)
        except (OSError, AttributeError):
            pass
        # Through libc, not mmap.madvise: Python 3.11's holds the GIL for the whole call, and a step takes
        # 0.1-0.3 s, during which no other thread (the TUI, a search) could run.
        advise = _madvise()
        if advise is None:
            return
        import ctypes

        try:
            start = ctypes.c_char.from_buffer(buffer)  # (an export: the buffer stays mapped while it is held)
        except (TypeError, ValueError, BufferError):
            return
        try:
            base = ctypes.addressof(start)
            if advise(base, len(buffer), MADV_HUGEPAGE) != 0:  # and khugepaged's later scans
                return  # (no transparent huge pages: the graph stays on small pages)
            for at in range(0, len(buffer), HUGE_STEP):
                if advise(base + at, min(HUGE_STEP, len(buffer) - at), MADV_COLLAPSE) != 0:
                    return  # (a kernel without it, or no huge page free: the rest stays as it is)
        finally:
            del start

    thread = threading.Thread(target=work, name="vector-graph-pages", daemon=True)
    thread.start()
    return thread


def _madvise() -> Any:
    """libc's madvise(addr, length, advice) as a ctypes function (which releases the GIL while it runs), or None
    where there is none."""
    import ctypes

    try:
        call = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    call.restype = ctypes.c_int
    return call


class AnnIndex:
    """An HNSW graph of int8 chunk vectors keyed by chunk id (cosine)."""

    def __init__(self, dim: int, index: Any | None = None, held: bytes | memoryview | None = None) -> None:
        self.dim = dim
        self.index = index if index is not None else _usearch()(
            ndim=dim, metric="cos", dtype="i8", connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD,
        )
        self._held = held  # the bytes a frozen graph is a view of (kept alive here)
        self._depth(EXPANSION_SEARCH)

    @property
    def frozen(self) -> bool:
        """A view of serialised bytes (`from_bytes(view=True)`): searched as fast, but chunks can be neither
        added nor removed until `thawed`."""
        return self._held is not None

    def _depth(self, expansion: int) -> None:
        self.index.expansion_search = expansion  # type: ignore[misc]  # (a setter the stubs lack)

    def __len__(self) -> int:
        return int(len(self.index))

    @property
    def memory_bytes(self) -> int:
        """What the graph holds: usearch's own memory, and for a frozen graph the bytes it is a view of."""
        return int(self.index.memory_usage) + (memoryview(self._held).nbytes if self._held is not None else 0)

    def add(self, ids: np.ndarray, codes: np.ndarray, threads: int = 1) -> None:
        """Add chunks (ids: chunks.id; codes: their int8 rows)."""
        if not len(ids):
            return
        self.index.add(np.asarray(ids, dtype=np.uint64), np.ascontiguousarray(codes, dtype=np.int8), threads=threads)

    def remove(self, ids: np.ndarray) -> None:
        """Forget chunks (deleted from the index); unknown ids are ignored."""
        ids = np.asarray(ids, dtype=np.uint64)
        if len(ids):
            present = ids[np.asarray(self.index.contains(ids), dtype=bool).reshape(-1)]
            if len(present):
                self.index.remove(present)

    def codes(self, ids: np.ndarray) -> np.ndarray:
        """The int8 rows stored for `ids` (all present)."""
        out = self.index.get(np.asarray(ids, dtype=np.uint64), dtype="i8")
        return np.asarray(out, dtype=np.int8).reshape(len(ids), self.dim)

    def nearest(self, query_codes: np.ndarray, count: int) -> np.ndarray:
        """Chunk ids of (about) the `count` nearest chunks to the int8 query, nearest first."""
        count = min(count, len(self))
        if count <= 0:
            return np.zeros(0, dtype=np.int64)
        self._depth(max(EXPANSION_SEARCH, 2 * count))
        found = self.index.search(np.asarray(query_codes, dtype=np.int8), count, threads=1)
        return np.asarray(found.keys, dtype=np.int64)

    # -- in memory only: the caller encrypts ---------------------------------
    def to_bytes(self) -> bytes:
        data = self.index.save()
        assert data is not None
        return bytes(data)

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, dim: int, view: bool = False) -> AnnIndex:
        """The graph of `to_bytes`'s bytes: a copy of them, or with `view` the bytes themselves (frozen).

        A view takes no copy of the nodes (1M chunks: ~0.1 s of CPU against ~0.6 s, and ~1 GB less held:
        bench/RESULTS.md, session 9); the caller must not change the bytes, which the graph keeps alive."""
        index = _usearch().restore(data, view=view)  # a buffer: parsed in memory, no file
        if index is None or index.ndim != dim:
            raise ValueError("the stored vector graph does not match the vectors' dimension")
        return cls(dim, index, held=data if view else None)

    def thawed(self) -> AnnIndex:
        """A graph that can change: a copy of a frozen one's bytes (itself if it is not frozen)."""
        if self._held is None:
            return self
        return AnnIndex.from_bytes(self._held, self.dim)
