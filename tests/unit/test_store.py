import hashlib
import io
import secrets
from pathlib import Path

import pytest

from vault.errors import NotFound, TamperDetected
from vault.keys import generate_identity
from vault.store import BlobStore


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> BlobStore:
    root = tmp_path_factory.mktemp("objects")
    return BlobStore(root, generate_identity(), secrets.token_bytes(32))


def test_put_get_round_trip_streaming(store: BlobStore) -> None:
    data = secrets.token_bytes(3 * 1024 * 1024 + 17)
    result = store.put_stream(io.BytesIO(data))
    assert result.size == len(data) and not result.existed
    assert store.get_bytes(result.blob_id) == data
    blob = store.path_of(result.blob_id).read_bytes()
    assert blob.startswith(b"age-encryption.org/v1\n")
    assert data[:64] not in blob


def test_same_content_is_stored_once(store: BlobStore) -> None:
    first = store.put_bytes(b"the same note")
    second = store.put_bytes(b"the same note")
    assert second.existed and first.blob_id == second.blob_id


def test_ids_are_keyed_not_plain_hashes(store: BlobStore, tmp_path: Path) -> None:
    data = b"a document an outsider might hold"
    result = store.put_bytes(data)
    assert result.blob_id != hashlib.sha256(data).hexdigest()
    other = BlobStore(tmp_path, generate_identity(), secrets.token_bytes(32))
    assert other.put_bytes(data).blob_id != result.blob_id


def test_flipped_byte_is_detected(store: BlobStore) -> None:
    result = store.put_bytes(b"patient note to corrupt" * 100)
    path = store.path_of(result.blob_id)
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(TamperDetected) as err:
        store.get_bytes(result.blob_id)
    assert result.blob_id in err.value.message
    checked, problems = store.verify_all()
    assert result.blob_id in {p.blob_id for p in problems}
    store.delete(result.blob_id)


def test_swapped_blobs_are_detected(store: BlobStore) -> None:
    a = store.put_bytes(b"note A")
    b = store.put_bytes(b"note B")
    pa, pb = store.path_of(a.blob_id), store.path_of(b.blob_id)
    ra, rb = pa.read_bytes(), pb.read_bytes()
    pa.write_bytes(rb)
    pb.write_bytes(ra)
    with pytest.raises(TamperDetected, match="swapped or replaced"):
        store.get_bytes(a.blob_id)
    store.delete(a.blob_id)
    store.delete(b.blob_id)


def test_missing_blob_and_bad_id(store: BlobStore) -> None:
    with pytest.raises(TamperDetected, match="missing from the vault"):  # the index names it: an integrity failure
        store.get_bytes("f" * 64)
    with pytest.raises(NotFound, match="not a blob id"):
        store.path_of("../../etc/passwd")


def test_cleanup_removes_crash_leftovers(store: BlobStore) -> None:
    (store.root / "tmp").mkdir(exist_ok=True)
    (store.root / "tmp" / ".deadbeef.tmp").write_bytes(b"ciphertext fragment")
    assert store.cleanup() == 1


@pytest.mark.parametrize("size", [0, 1, 3 * (1 << 20) + 7])
def test_put_file_gives_the_same_keyed_id_as_the_bytes(store: BlobStore, tmp_path: Path, size: int) -> None:
    """The file is hashed from a memory map in a second thread; the id is the one put_bytes gives."""
    data = secrets.token_bytes(size)
    path = tmp_path / f"f{size}.bin"
    path.write_bytes(data)
    result = store.put_file(path)
    assert result.blob_id == store.blob_id_of(data) and result.size == size
    assert store.get_bytes(result.blob_id) == data


def test_put_file_of_a_missing_file_is_a_clear_error(store: BlobStore, tmp_path: Path) -> None:
    from vault.errors import StoreError

    with pytest.raises(StoreError, match="Could not read"):
        store.put_file(tmp_path / "gone.bin")
    assert not list((store.root / "tmp").glob("*.tmp"))
