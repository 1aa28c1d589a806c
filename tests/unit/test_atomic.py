import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vault.atomic import atomic_writer, remove_stale_temps, write_atomic


def test_write_atomic_replaces_content(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_error_midway_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    write_atomic(target, b"original")
    with pytest.raises(RuntimeError), atomic_writer(target) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("disk on fire")
    assert target.read_bytes() == b"original"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_failed_rename_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.bin"
    write_atomic(target, b"original")

    def boom(*_a: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"original"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_kill_9_mid_write_never_leaves_a_torn_file(tmp_path: Path) -> None:
    """A process killed while writing leaves the old content and, at most, a temp file."""
    target = tmp_path / "f.bin"
    write_atomic(target, b"original")
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from vault.atomic import atomic_writer
        with atomic_writer(__import__('pathlib').Path({str(target)!r})) as fh:
            fh.write(b'x' * 1_000_000)
            fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"original"
    leftovers = [p for p in tmp_path.iterdir() if p.name != "f.bin"]
    assert len(leftovers) == 1  # the torn temp file, never under the real name
    assert remove_stale_temps(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
