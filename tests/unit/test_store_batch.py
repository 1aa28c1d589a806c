"""BlobStore.put_batch: many blobs, two file-system syncs, same guarantees as put_bytes."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from vault import store as store_module
from vault.keys import generate_identity
from vault.store import BlobStore


def make_store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "objects", generate_identity(), secrets.token_bytes(32))


@pytest.mark.parametrize("use_syncfs", [True, False])
def test_put_batch_stores_verifies_and_dedupes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                use_syncfs: bool) -> None:
    if not use_syncfs:  # the portable path: fsync every file and folder
        monkeypatch.setattr(store_module, "_syncfs", lambda folder: False)
    store = make_store(tmp_path)
    datas = [secrets.token_bytes(100 + i) for i in range(20)]
    already = store.put_bytes(datas[0])
    results = store.put_batch([*datas, datas[5]])
    assert [r.blob_id for r in results] == [store.blob_id_of(d) for d in [*datas, datas[5]]]
    assert results[0].existed and results[0].blob_id == already.blob_id
    assert not results[1].existed and results[-1].existed  # a repeat inside the batch is stored once
    for data, result in zip(datas, results, strict=False):
        assert store.get_bytes(result.blob_id) == data
    assert list((tmp_path / "objects" / "tmp").glob("*.tmp")) == []


def test_put_batch_leaves_no_temp_files_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(tmp_path)

    def broken(folder: Path, files: list[Path]) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "_sync_files", broken)
    from vault.errors import StoreError

    with pytest.raises(StoreError, match="No space left"):
        store.put_batch([b"one", b"two"])
    assert list((tmp_path / "objects" / "tmp").glob(".*.tmp")) == []
    assert list(store.ids()) == []
