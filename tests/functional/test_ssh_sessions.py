"""Terminal users on the facility server (issue 21): several SSH sessions, each its own `chartvault` process.

An SSH login to the server runs `chartvault` in that user's terminal; tmux
windows stand in for the SSH sessions here (one tmux server, one window per
session, each window its own process on the same vault). Two technicians' sessions and a
physician's log in at once; each is its own process and its own login in the
audit log (an SSH session's entries carry the client's address from
SSH_CONNECTION); only one of them watches the inbox and embeds the backlog, and when
that session ends (the SSH connection drops) another takes over.

Skipped, with the reason, when tmux is not installed (CI installs it, see .ci/run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PHYS_PASS, TECH_PASS, VaultTemplate, chartvault_bin
from tests.functional.test_tui_terminal import Tmux
from tests.serve_helpers import held_elsewhere


@pytest.fixture
def server(tmp_path: Path, users_vault_template: VaultTemplate) -> Iterator[tuple[str, Any, Path]]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux); the SSH stand-in test needs it")
    fx = users_vault_template.copy(tmp_path / "v")  # admin, tess (technician), drmaria (physician)
    name = f"chartvault-ssh-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTVAULT_", "SSH_"))}
    # What an SSH login gives: a terminal and the user's own environment; the fake embedder keeps it quick.
    env.update(HF_HUB_OFFLINE="1", TERM="xterm-256color", CHARTVAULT_VAULT=str(fx.root), CHARTVAULT_EMBEDDER="fake")
    subprocess.run(["tmux", "-L", name, "-f", "/dev/null", "new-session", "-d", "-s", name, "-n", "keep",
                    "-x", "250", "-y", "40", "cat"], env=env, check=True)
    try:
        yield name, fx, fx.root
    finally:
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True)
        fx.session.close()  # type: ignore[attr-defined]


class Session(Tmux):
    """One SSH session: a tmux window running `chartvault --user USER` (its own process)."""

    def __init__(self, server: str, window: str, user: str, ssh_connection: str | None = None) -> None:
        super().__init__(server)
        self.target = f"{server}:{window}"
        env = ["-e", f"SSH_CONNECTION={ssh_connection}"] if ssh_connection else []  # what sshd sets
        self.run("new-window", "-d", "-t", server, "-n", window, *env, chartvault_bin(), "--user", user)

    def send(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.target, *keys)

    def type(self, text: str) -> None:
        self.run("send-keys", "-t", self.target, "-l", text)

    def pane(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.target)

    def pid(self) -> int:
        return int(self.run("list-panes", "-t", self.target, "-F", "#{pane_pid}").split()[0])

    def log_in(self, passphrase: str) -> None:
        self.wait_for(lambda t: "Passphrase" in t and "Unlock" in t, "the unlock screen")
        self.type(passphrase)
        self.send("Enter")
        self.wait_for(lambda t: "Search records" in t, "the search screen")


def test_several_ssh_sessions_each_its_own_process_one_watcher_between_them(server: tuple[str, Any, Path]) -> None:
    name, fx, root = server
    admin: Any = fx.session
    start = admin.audit_log.entries()[-1].seq
    first = Session(name, "tess-1", "tess")
    doctor = Session(name, "drmaria", "drmaria")
    first.log_in(TECH_PASS)
    first.wait_for(lambda t: "inbox watched" in t and "by another session" not in t, "the first session watching")
    doctor.log_in(PHYS_PASS)
    second = Session(name, "tess-2", "tess", ssh_connection="10.0.0.21 50123 10.0.0.1 22")
    second.log_in(TECH_PASS)
    second.wait_for(lambda t: "inbox watched by another session" in t, "the second session deferring")
    pids = {first.pid(), doctor.pid(), second.pid()}
    assert len(pids) == 3  # each session its own process
    logins = [e for e in admin.audit_log.entries(action="login") if e.seq > start]
    assert sorted(e.user for e in logins) == ["drmaria", "tess", "tess"]
    # an SSH session's entries say where it came from (SSH_CONNECTION), as a browser connection's do
    assert sorted(str(e.details.get("origin")) for e in logins) == ["None", "None", "ssh 10.0.0.21:50123"]
    assert held_elsewhere(root, "pending") and held_elsewhere(root, "inbox") and held_elsewhere(root, "embedder")

    # each works on the same vault at once
    first.type("hypertension")
    doctor.type("chest pain")
    for term in (first, doctor):
        term.wait_for(lambda t: "No records match" in t or "Enter opens one" in t, "a search result")
    searches = [e for e in admin.audit_log.entries(action="search") if e.seq > start]
    assert {e.user for e in searches} == {"tess", "drmaria"}
    assert all("origin" not in e.details for e in searches)  # the two searching sessions are local windows

    # The first session ends (its SSH connection drops): the second takes over the inbox and the embedder.
    first.run("kill-window", "-t", first.target)
    second.wait_for(lambda t: "inbox watched" in t and "by another session" not in t, "the second session taking over",
                    timeout=60)
    (root / "inbox" / "ssh-note.txt").write_text("MRN: 7100\nArrived while the second session watched.\n")
    second.wait_for(lambda t: "1 new record" in t, "the arrival imported by the second session", timeout=60)
    imported = [e for e in admin.audit_log.entries(user="tess") if e.seq > start and e.action == "import"]
    assert imported and all(e.details.get("origin") == "ssh 10.0.0.21:50123" for e in imported)
    assert admin.audit_log.verify().ok
