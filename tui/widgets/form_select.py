"""A Select for forms: choosing an option never pulls focus back from where the person has moved on to.

Textual's Select, once an option is chosen in its overlay, re-focuses itself a
moment later (`focus()` is deferred to the next idle). Under load the person's
next keys are handled before that: a Tab already took them to the next field,
and then focus jumps back to the Select, so the keys typed after it land on
the Select and are lost. Here the Select takes focus back only if its overlay
still has it, and at once. The form learns of the new value through the
`value` reactive (watch it: watchers run when the value is set, before the
next key is handled), so fields a choice shows or hides are in place for it.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.widgets import Select
from textual.widgets._select import SelectOverlay


class FormSelect(Select[Any]):
    """A Select whose choice keeps the focus where the keys typed since have put it."""

    @on(SelectOverlay.UpdateSelection)
    def _chosen(self, event: SelectOverlay.UpdateSelection) -> None:
        event.stop()
        event.prevent_default()  # instead of Select's handler, which re-focuses later, whatever happened since
        overlay = self.query_one(SelectOverlay)
        value = self._options[event.option_index][1]
        if value != self.value:
            self.value = value
        if overlay.has_focus:
            self.screen.set_focus(self, scroll_visible=False)
        self.expanded = False
