"""The TUI warns at unlock when the vault is behind what this computer saw (issue 15, a rollback)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.conftest import ADMIN_PASS, VaultTemplate
from tests.functional.test_tui_access import _unlock
from tests.tui_helpers import wait_until
from tui.app import make_app


async def test_unlock_warns_when_the_vault_folder_was_put_back(tmp_path: Path,
                                                              admin_vault_template: VaultTemplate) -> None:
    from archive.login import open_session

    root = tmp_path / "vault"
    admin_vault_template.copy(root).session.close()  # type: ignore[attr-defined]
    old = tmp_path / "old"
    shutil.copytree(root, old)
    open_session(root, "admin", ADMIN_PASS).close()  # this computer sees the log grow
    shutil.rmtree(root)
    shutil.copytree(old, root)

    app = make_app(vault_dir=root, user="admin")
    shown: list[str] = []
    real = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        shown.append(message)
        real(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    async with app.run_test(size=(100, 32)) as pilot:
        await _unlock(app, pilot, ADMIN_PASS)
        await wait_until(pilot, lambda: any("behind what this computer saw" in m for m in shown),
                         what="the rollback warning")
