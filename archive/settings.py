"""Facility settings kept in the encrypted index (`settings` table): typed, with defaults.

Anyone signed in may read them (they hold no patient content); only an admin
changes them, and every change is an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archive.errors import BadInput
from archive.policy import Action

if TYPE_CHECKING:
    from archive.session import Session
    from archive.store import Store


@dataclass(frozen=True)
class Setting:
    key: str
    default: int | str
    help: str
    choices: tuple[str, ...] = ()
    minimum: int = 1
    maximum: int = 10_000  # every number has an upper bound: none may switch a safeguard off by size


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "session.idle_timeout_seconds", 600, "TUI locks after this many idle seconds (automatic logoff).",
            minimum=60, maximum=4 * 3600,
        ),
        Setting("break_glass.minutes", 60, "How long a break-glass grant opens its record.", maximum=24 * 60),
        Setting(
            "policy.physician_scope",
            "all",
            "'all': registered physicians view every record; 'assigned': only their patients' records, "
            "records disclosed to them, and break-glass grants.",
            choices=("all", "assigned"),
        ),
        Setting("alert.many_patients.count", 20, "Alert when one user opens records of this many patients..."),
        Setting("alert.many_patients.minutes", 10, "...within this many minutes.", maximum=24 * 60),
        Setting("alert.failed_logins.count", 5, "Alert on this many failed logins for one user..."),
        Setting("alert.failed_logins.minutes", 15, "...within this many minutes.", maximum=24 * 60),
        Setting("alert.denials.count", 10, "Alert when one user is denied this many times..."),
        Setting("alert.denials.minutes", 10, "...within this many minutes.", maximum=24 * 60),
        Setting(
            "assistant.llm_url",
            "",
            "Optional local model for the assistant: an OpenAI-compatible chat endpoint on this machine, e.g. "
            "http://127.0.0.1:8080/v1 (llama.cpp server) or http://127.0.0.1:11434/v1 (Ollama). Empty: off.",
        ),
        Setting("assistant.llm_model", "", "Model name sent to that endpoint (e.g. 'llama3.2'); empty: 'local'."),
        Setting(
            "audit.read_commit",
            "group",
            "'group': the audit entry of a read is written before the content is shown and fsynced with the "
            "next head write (<= 1 s); 'full': fsync every entry (slower reads).",
            choices=("group", "full"),
        ),
        Setting(
            "search.embedding_model",
            "all-MiniLM-L6-v2",
            "Sentence-embedding model for semantic search (changing it needs 'chartvault reindex --semantic').",
            choices=("all-MiniLM-L6-v2",),
        ),
        Setting(
            "search.embedding_precision",
            "auto",
            "Bulk embedding speed/exactness: 'auto' (= 'onnx-int8': int8 ONNX Runtime, ~2x fp32; torch bf16/int8 "
            "if it cannot be built), 'fp32' (exact, slowest), 'onnx-int8', 'bf16', 'int8' (torch). Queries always "
            "use fp32.",
            choices=("auto", "fp32", "onnx-int8", "bf16", "int8"),
        ),
    )
}


def _parse(setting: Setting, raw: str) -> int | str:
    if isinstance(setting.default, int):
        try:
            value = int(raw)
        except ValueError:
            raise BadInput(f"'{setting.key}' takes a whole number, not '{raw}'.", setting.help) from None
        if not setting.minimum <= value <= setting.maximum:
            raise BadInput(
                f"'{setting.key}' must be between {setting.minimum} and {setting.maximum}, not {value}.",
                setting.help,
            )
        return value
    if setting.choices and raw not in setting.choices:
        raise BadInput(f"'{setting.key}' must be one of: {', '.join(setting.choices)}.", setting.help)
    return raw


def _known(key: str) -> Setting:
    if key not in SETTINGS:
        raise BadInput(f"No setting '{key}'.", "Run 'chartvault settings list' to see them.")
    return SETTINGS[key]


def get_setting(store: Store, key: str) -> Any:
    """The stored value of `key`, or its default.

    A stored value that does not parse or lies outside the bounds (written by hand into
    the index, or by an older version) falls back to the default too.
    """
    setting = _known(key)
    raw = store.settings.get(key)
    if raw is None:
        return setting.default
    try:
        return _parse(setting, raw)
    except BadInput:
        return setting.default


def list_settings(session: Session) -> dict[str, Any]:
    return {key: get_setting(session.store, key) for key in SETTINGS}


def set_setting(session: Session, key: str, raw: str) -> Any:
    """Change a setting (admin only, audited); returns the parsed value."""
    session.require(Action.MANAGE_SETTINGS)
    setting = _known(key)
    value = _parse(setting, raw.strip())
    before = get_setting(session.store, key)
    with session.transaction():
        session.store.settings.put(key, str(value))
        session.audit("setting_change", details={"key": key, "before": before, "after": value})
    return value


def idle_timeout_seconds(session: Session) -> int:
    """The automatic-logoff timeout for interactive sessions (the TUI)."""
    return int(get_setting(session.store, "session.idle_timeout_seconds"))
