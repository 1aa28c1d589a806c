"""indexer.inputs: collecting inputs and reading them safely."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from indexer.inputs import InputFile, collect, name_problem, read_input, read_settled
from vault.errors import BadInput


def test_collect_walks_folders_and_attaches_sidecars(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.txt").write_text("1")
    (tmp_path / "a" / "one.txt.meta.json").write_text("{}")
    (tmp_path / "a" / "b" / "two.txt").write_text("2")
    (tmp_path / "a" / ".hidden.swp").write_text("x")
    (tmp_path / "a" / "orphan.pdf.meta.json").write_text("{}")
    items = collect([tmp_path / "a"])
    rels = [i.rel for i in items]
    # hidden files are inputs too (issue 16): nothing in a folder goes unaccounted for
    assert sorted(rels) == sorted(["a/.hidden.swp", "a/one.txt", "a/orphan.pdf.meta.json", "a/b/two.txt"])
    one = next(i for i in items if i.rel == "a/one.txt")
    assert one.sidecar == tmp_path / "a" / "one.txt.meta.json"
    # a young orphan sidecar waits for its document when a grace period is given
    assert "a/orphan.pdf.meta.json" not in [i.rel for i in collect([tmp_path / "a"], orphan_sidecar_grace=60)]


def test_collect_missing_path_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        collect([tmp_path / "nope"])


def test_symlinks_are_inputs_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "link.txt").symlink_to(secret)
    (inbox / "dirlink").symlink_to(tmp_path)
    items = collect([inbox])
    assert sorted(i.rel for i in items) == ["inbox/dirlink", "inbox/link.txt"]
    for item in items:
        raw = read_input(item)
        assert raw.problem and raw.problem.startswith("symbolic link")
        assert b"TOP SECRET" not in (raw.data or b"")


@pytest.mark.parametrize(
    ("rel", "problem"),
    [
        ("ok.txt", None),
        ("a..b.txt", "'..'"),
        ("..hidden", "'..'"),
        ("bell\x07.txt", "control characters"),
        ("new\nline.txt", "control characters"),
        ("bad\udcff.txt", "not valid UTF-8"),
        ("sub/ok.txt", None),
    ],
)
def test_name_problems(rel: str, problem: str | None) -> None:
    found = name_problem(rel)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    raw = read_input(InputFile(path=fifo, rel="pipe.txt"))
    assert raw.problem and "not a regular file" in raw.problem


def test_vanished_before_reading(tmp_path: Path) -> None:
    raw = read_input(InputFile(path=tmp_path / "gone.txt", rel="gone.txt"))
    assert raw.vanished and raw.data is None


def test_fresh_file_counts_as_changing_until_it_settles(tmp_path: Path) -> None:
    path = tmp_path / "new.txt"
    path.write_text("being written")
    item = InputFile(path=path, rel="new.txt")
    assert read_input(item, settle=30).changing
    old = time.time() - 60
    os.utime(path, (old, old))
    raw = read_input(item, settle=30)
    assert not raw.changing and raw.data == b"being written"


def test_settled_read_gives_up_with_a_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "growing.txt"
    path.write_text("part 1")
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        with open(path, "a") as fh:  # the writer keeps writing
            fh.write(" more")

    raw = read_settled(InputFile(path=path, rel="growing.txt"), settle=5, via="import", retries=3, sleep=sleep)
    assert len(sleeps) == 3
    assert not raw.changing
    assert raw.problem and "still being written" in raw.problem
    assert raw.data and raw.data.startswith(b"part 1")
    report = read_settled(InputFile(path=path, rel="growing.txt"), settle=5, via="watch", changing="report")
    assert report.changing


def test_sidecar_problems_are_reported(tmp_path: Path) -> None:
    doc = tmp_path / "x.txt"
    doc.write_text("MRN: 1\nhello")
    (tmp_path / "x.txt.meta.json").write_text("{not json")
    (item,) = collect([doc])
    raw = read_input(item)
    assert raw.sidecar is None and raw.sidecar_problem and "not valid JSON" in raw.sidecar_problem
    assert raw.sidecar_raw == "{not json"


def test_file_that_vanishes_mid_read_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import indexer.inputs as inputs

    path = tmp_path / "moving.txt"
    path.write_bytes(b"x" * (3 << 20))  # several read chunks
    real_read = os.read

    def read_then_vanish(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        if path.exists():
            path.unlink()  # another program moves it away while we read
        return data

    monkeypatch.setattr(inputs.os, "read", read_then_vanish)
    raw = read_input(InputFile(path=path, rel="moving.txt"))
    assert raw.problem and "vanished while it was being read" in raw.problem
    assert raw.data == b"x" * (3 << 20)  # what was read is kept (for quarantine), not dropped
    assert raw.path is None  # nothing left to remove
