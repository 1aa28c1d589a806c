"""The app's destinations in one table: the help screen, the command palette and the footers read it.

Each destination names the key that opens it, the app action that does, who
may use it (asked of `archive.policy.decide`, which is pure: nothing is
audited for merely listing what a user may open) and one line saying what it
is for. Keys themselves are bound in the screens and the app; a test checks
that this table and the bindings agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Destination:
    key: str  # as shown, e.g. "F2"
    name: str
    action: str  # app action (ChartvaultApp.action_<action>)
    description: str
    needs: str | None  # archive.policy.Action value the user needs, None: anyone signed in
    who: str  # for people: who may use it


DESTINATIONS = (
    Destination("Esc", "Search", "open_search", "Search records as you type; Enter opens one.", "search",
                "technicians, physicians"),
    Destination("F2", "Work queues", "open_queues",
                "Records waiting for filing or transcription, and quarantined inputs.", "file_record", "technicians"),
    Destination("F3", "Patient chart", "open_chart",
                "The highlighted result's patient (or an MRN): timeline, add and correct entries.", "view_record",
                "technicians, physicians"),
    Destination("F6", "Assistant", "open_assistant",
                "Ask about the records in plain words; every statement cites its record.", "ask_general",
                "technicians (no patient questions), physicians"),
    Destination("F7", "Statistics", "open_stats", "Diagnosis frequency, recurrence, readmissions.", "stats",
                "technicians, physicians"),
    Destination("F8", "Audit log", "open_audit",
                "Who did what, verify the chain, flagged entries, alerts.", "view_audit", "admins"),
    Destination("F9", "Coding", "open_coding",
                "ICD-10-CM suggestions for the highlighted record; confirm or reject.", "code",
                "technicians, physicians"),
    Destination("F10", "Users", "open_users", "Add, list and disable users.", "manage_users", "admins"),
)

GLOBAL_KEYS = (
    ("F1", "Help: this screen"),
    ("Ctrl+P", "Command palette: every screen and action you may open, by name"),
    ("Esc", "Back (or, on the search screen, to the search box)"),
    ("Ctrl+L", "Lock now: patient content leaves the screen; type your passphrase to resume"),
    ("Ctrl+Q", "Quit"),
)


# A key that acts whatever has the focus (a function key, a Ctrl combination, Esc) means one thing on
# every screen; tests/functional/test_tui_keys.py walks every screen's bindings. Letters act on the
# screen's own list (and are typed into fields). These actions share one meaning under local names.
SAME_MEANING = {
    "reload": "refresh",
    "cancel": "back",  # a form: close it
    "close": "back",  # a modal: close it
    "back_to_choice": "back",
    "focus_search": "back",  # the search screen: back to the search box
    "keep": "back",  # the discard question: close it and keep editing
}


def key_meaning(action: str) -> str:
    """What a bound action means, for the one-meaning-per-key check ('app.open_stats' -> 'open_stats')."""
    name = action.rsplit(".", 1)[-1]
    return SAME_MEANING.get(name, name)


def allowed(user: Any, destination: Destination) -> bool:
    """Whether `user` may use `destination` (pure: no audit entry)."""
    if destination.needs is None:
        return True
    from archive.policy import Action, decide

    return bool(decide(user, Action(destination.needs)).allowed)


def by_action(action: str) -> Destination | None:
    return next((d for d in DESTINATIONS if d.action == action), None)
