"""The embedding queue: which model, the backlog, catching up, rebuilding, and a background service.

Records are full-text searchable the moment they are committed; they become
semantically searchable once their chunks are embedded. `embed_backlog`
embeds what is waiting (the CLI's `import` and `reindex`), `EmbeddingService`
does it in a background thread for the TUI (own index connection, model
loaded lazily), and `chartvault status` shows the backlog
(`embedding_backlog`). Every step commits per record, so stopping at any
moment loses nothing and the next run resumes.

The model is process-wide (loading it costs a second or two and ~100 MB):
`get_embedder()` returns it, loading lazily; tests install a fake with
`use_embedder()`, subprocess tests with CHARTVAULT_EMBEDDER=fake.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archive.errors import UserError
from archive.policy import Action

if TYPE_CHECKING:
    from archive.session import Session
    from indexer.embedder import Embedder
    from indexer.semantic import EmbedReport

DEFAULT_MODEL = "all-MiniLM-L6-v2"
EMBEDDER_LOCK = "embedder"  # <vault>/.embedder.lock: held by the one background embedder of the vault
REINDEX_MARK = "reindex_in_progress"

_lock = threading.Lock()
_embedders: dict[tuple[str, str], Any] = {}
_override: Any = None


def model_name(session: Session) -> str:
    """The embedding model this vault uses (a setting; all-MiniLM-L6-v2 by default)."""
    if _override is not None:
        return str(_override.model_id)
    if os.environ.get("CHARTVAULT_EMBEDDER") == "fake":
        return "fake-hash-64"
    return _setting(session, "search.embedding_model")


def precision(session: Session) -> str:
    return _setting(session, "search.embedding_precision")


def _setting(session: Session, key: str) -> str:
    from archive.settings import get_setting

    return str(get_setting(session.store, key))


def get_embedder(session: Session, start: bool = True) -> Embedder:
    """The process-wide embedder for this vault's model; `start` begins loading it in the background."""
    if _override is not None:
        return _override  # type: ignore[no-any-return]
    if os.environ.get("CHARTVAULT_EMBEDDER") == "fake":
        from indexer.embedder import FakeEmbedder

        key = ("fake", "fake")
        with _lock:
            if key not in _embedders:
                _embedders[key] = FakeEmbedder()
            return _embedders[key]  # type: ignore[no-any-return]
    from indexer.embedder import EmbedderUnavailable, SentenceTransformerEmbedder

    key = (model_name(session), precision(session))
    with _lock:
        emb = _embedders.get(key)
        if emb is None:
            try:
                emb = SentenceTransformerEmbedder(key[0], precision=key[1])
            except EmbedderUnavailable as exc:
                raise UserError(str(exc), "Semantic search is unavailable; full-text search still works.") from None
            _embedders[key] = emb
    if start:
        emb.start_loading()
        if _pairs_with(key[0]):  # the second embedder's query copy loads beside it
            from indexer.embedder2 import start_loading

            start_loading(threads=1)
    return emb  # type: ignore[no-any-return]


def second_embedder(session: Session, threads: int = 1) -> Any:
    """The second embedder (indexer.embedder2: bge-small-en-v1.5) beside this vault's model, or None: it is
    switched off (CHARTVAULT_EMBEDDER2=off), its files are missing or do not load (logged once), or the vault's
    model is another than the one the pair was measured with (all-MiniLM-L6-v2, or the tests' fake).
    `threads`: 1 for a query, 2 for bulk embedding."""
    from indexer.embedder2 import second_embedder as installed

    model = installed(threads)
    if model is None:
        return None
    return model if _pairs_with(model_name(session)) else None


def _pairs_with(first: str) -> bool:
    """Whether the vault's model is one the second embedder was measured beside (or the tests' fake)."""
    return first in (DEFAULT_MODEL, "fake-hash-64")


@dataclass
class SecondStatus:
    """How many of the vault's chunks have the second embedder's vector (search uses the pair for a query only
    when every candidate passage has both); `problem`: why the model cannot be used here, when it cannot."""

    model: str
    chunks: int
    of: int
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "chunks": self.chunks, "of": self.of, "problem": self.problem}


def second_status(session: Session) -> SecondStatus | None:
    """The second embedder's coverage, or None when there is no second embedder; with the reason when its model
    is installed but cannot be used (loading it to find out when this process has not tried yet)."""
    session.require(Action.VIEW_STATUS)
    from indexer.embedder2 import configured_model, problem

    model, first = configured_model(), model_name(session)
    if model is None or not _pairs_with(first):
        return None
    have, total = session.store.records.second_coverage(first, model)
    return SecondStatus(model, have, total, problem())


def fill_second(
    session: Session,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    limit: int | None = None,
) -> int:
    """Give the chunks embedded without it (before this version, or while the model was missing) their second
    vector, a batch a transaction (an interrupted run keeps what it did). How many chunks got one."""
    session.require(Action.IMPORT)
    model = second_embedder(session, threads=2)
    if model is None:
        return 0
    report = session.store.records.fill_second(model, model_name(session), progress=progress,
                                               should_stop=should_stop, limit=limit)
    if report.chunks:
        with session.transaction():
            session.audit("embed", details={"model": model.model_id, "chunks": report.chunks,
                                            "interrupted": report.interrupted})
    return report.chunks


def use_embedder(embedder: Any) -> None:
    """Install an embedder for every session in this process (tests); None restores the real one."""
    global _override
    _override = embedder


def wait_until_ready(embedder: Embedder, timeout: float | None = None) -> None:
    """Block until the model is loaded; a load failure becomes a UserError."""
    ok = embedder.wait(timeout)  # type: ignore[attr-defined]
    if not ok:
        err = getattr(embedder, "error", None)
        if err is not None:
            raise UserError(
                f"The embedding model could not be loaded ({type(err).__name__}: {err}).",
                "Semantic search is unavailable; full-text search still works. Reinstall with 'make setup'.",
            )
        raise UserError("The embedding model is still loading.", "Try again in a moment.")


# ---------------------------------------------------------------- counters

Progress = Callable[[int, int], None]


def backlog(session: Session) -> int:
    """Records not yet embedded with the vault's model (the `embedding_backlog` status counter)."""
    return session.store.records.embedding_backlog(model_name(session))


@dataclass
class SemanticStatus:
    model: str
    embedded: int
    backlog: int
    chunks: int
    rebuilding: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "embedded": self.embedded,
            "backlog": self.backlog,
            "chunks": self.chunks,
            "rebuilding": self.rebuilding,
        }


def semantic_status(session: Session) -> SemanticStatus:
    session.require(Action.VIEW_STATUS)
    records = session.store.records
    model = model_name(session)
    return SemanticStatus(
        model=model,
        embedded=records.embedded_count(model),
        backlog=records.embedding_backlog(model),
        chunks=records.chunk_count(model),
        rebuilding=records.semantic_state(REINDEX_MARK) == model,
    )


def has_embeddings(session: Session) -> bool:
    """Whether any record is embedded with this vault's model (hybrid becomes the default mode)."""
    return session.store.records.any_embedded(model_name(session))


# ---------------------------------------------------------------- embedding


def embed_backlog(
    session: Session,
    *,
    records: list[str] | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    limit: int | None = None,
) -> EmbedReport:
    """Embed records waiting in the backlog (or only `records`, by id). Loads the model if needed."""
    session.require(Action.IMPORT)
    embedder = get_embedder(session)
    wait_until_ready(embedder)
    only = None
    if records is not None:
        only = session.store.records.numbers(records)
    report = session.store.records.embed_pending(
        embedder, only=only, progress=progress, should_stop=should_stop, limit=limit,
        second=second_embedder(session, threads=2),
    )
    if report.records:
        with session.transaction():
            session.audit(
                "embed",
                details={
                    "model": embedder.model_id,
                    "records": report.records,
                    "chunks": report.chunks,
                    "interrupted": report.interrupted,
                },
            )
    return report


def relabel(
    session: Session,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch: int = 200,
    limit: int | None = None,
) -> int:
    """Work out the assertion maps (indexer.assertion_map) of the records that have none of the current rules:
    a vault from before them, or from older rules (a rules change only bumps VERSION). Each batch is its own
    transaction and starts where the last stopped, so an interrupted run keeps what it did. Until a record has
    its map a search labels it from its text (same labels, more time). How many maps were stored."""
    session.require(Action.IMPORT)
    records = session.store.records
    # counting reads every record (~0.4 s at 33k): only for a progress bar to show
    total = records.stale_assertion_maps() if progress else 0
    done = after = 0
    while (limit is None or done < limit) and not (should_stop and should_stop()):
        want = batch if limit is None else min(batch, limit - done)
        with session.transaction():
            stored, after = records.refresh_assertion_maps(want, after)
        done += stored
        if progress and stored:
            progress(done, max(total, done))
        if stored < want:
            break
    return done


def reindex(
    session: Session,
    *,
    semantic: bool = False,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> EmbedReport:
    """Catch up the embedding backlog; with `semantic`, first drop every vector and rebuild them all.

    A rebuild that is interrupted resumes where it stopped on the next run
    (the vectors are not dropped a second time).
    """
    session.require(Action.IMPORT)
    records = session.store.records
    model = model_name(session)
    if semantic and records.semantic_state(REINDEX_MARK) != model:
        get_embedder(session)  # start loading while the old vectors are dropped
        records.forget_vectors(model)
        with session.transaction():
            records.set_semantic_state(REINDEX_MARK, model)
            session.audit("reindex", details={"model": model, "semantic": True})
    report = embed_backlog(session, progress=progress, should_stop=should_stop)
    if not report.interrupted and records.semantic_state(REINDEX_MARK) is not None:
        records.set_semantic_state(REINDEX_MARK, None)
    return report


class EmbeddingService:
    """Loads the model and drains the backlog in a background thread (the TUI's).

    Works on its own index connection (`fork_session`), so it never commits or
    rolls back the UI's transactions. `on_change()` is called after each
    batch, from the service thread. `stop()` returns within one batch.

    Once per vault: only the service holding `<vault>/.embedder.lock` drains the
    backlog. Every other one (another browser connection of `chartvault serve`,
    another SSH session) loads the model for its own queries only and looks
    again every `poll_seconds`, taking over when the holder's process ends
    (`elsewhere` is True meanwhile).
    """

    def __init__(
        self,
        session: Session,
        *,
        poll_seconds: float = 5.0,
        on_change: Callable[[], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.parent = session
        self.poll_seconds = poll_seconds
        self.on_change = on_change
        self.on_error = on_error
        self.embedder = get_embedder(session)  # starts loading now
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.embedded = 0
        self.error: BaseException | None = None
        self.elsewhere = False  # another process embeds this vault's backlog now
        self.holding = threading.Event()  # set while this service holds the vault's embedder lock

    @property
    def ready(self) -> bool:
        return bool(getattr(self.embedder, "ready", True))

    def start(self) -> EmbeddingService:
        self._thread = threading.Thread(target=self._run, name="embedding-service", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """New records arrived: look at the backlog now instead of at the next poll."""
        self._wake.set()

    def _yield(self) -> bool:
        """Whether a long background step should stop now: the service stops, or new records wait."""
        return self._stop.is_set() or self._wake.is_set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        from archive.intake import fork_session
        from archive.policy import decide

        if not decide(self.parent.user, Action.IMPORT).allowed:
            return  # a physician's session: searching only, somebody else embeds
        from vault.locks import try_hold

        worker = None
        held = None
        try:
            while not self._stop.is_set() and not self.embedder.wait(0.5):  # type: ignore[attr-defined]
                if getattr(self.embedder, "error", None) is not None:
                    return
            while not self._stop.is_set() and (held := try_hold(self.parent.vault.root, EMBEDDER_LOCK)) is None:
                self.elsewhere = True
                self._stop.wait(self.poll_seconds)
            if held is None:
                return
            self.elsewhere = False
            self.holding.set()
            worker = fork_session(self.parent)
            maps_current = second_done = False
            while not self._stop.is_set():
                report = embed_backlog(worker, should_stop=self._stop.is_set, limit=64)
                self.embedded += report.records
                if report.records and self.on_change:
                    self.on_change()
                # the backlog done, maps of older assertion rules are rebuilt, a batch at a time, once: a record
                # imported or transcribed later gets its map with its text
                relabelled = 0
                if not report.records and not maps_current:
                    relabelled = relabel(worker, should_stop=self._yield)  # new arrivals go first
                    maps_current = not self._yield()
                # then the chunks embedded before the second embedder get its vector, a batch at a time
                filled = 0
                if not report.records and maps_current and not second_done:
                    filled = fill_second(worker, should_stop=self._yield, limit=256)
                    second_done = filled == 0 and not self._yield()  # (0 when new arrivals stopped it at once)
                    if filled and self.on_change:
                        self.on_change()
                if report.records == 0 and relabelled == 0 and filled == 0:
                    self._wake.wait(self.poll_seconds)
                    self._wake.clear()
        except Exception as exc:  # noqa: BLE001 - reported to the UI; search keeps working without it
            self.error = exc
            if self.on_error:
                self.on_error(exc)
        finally:
            if worker is not None:
                worker.close()
            if held is not None:
                self.holding.clear()
                held.release()
