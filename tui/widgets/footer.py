"""The footer of every screen: its keys, the most important ones kept visible in a narrow terminal.

Textual's footer lays the keys out in one row and clips what does not fit (at 80 columns the palette
key, docked right, covers the last ones). Here, when the row does not fit, the footer turns compact
(less padding), and if it still does not fit it leaves out keys, least important first: the palette
key (Ctrl+P), then keys bound on the app (Lock, F8, F10; Help stays), then the screen's own keys from
the last. Esc and F1 always stay, and F1 help lists every key, shown or not.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ALWAYS = ("escape", "f1")  # shown whatever the width


def key_width(key: FooterKey, compact: bool) -> int:
    """Columns a key takes: ' F2 Queues ' (normal), 'F2 Queues' and a margin (compact)."""
    text = cell_len(key.key_display) + (cell_len(key.description) + 1 if key.description else 0)
    return text + (1 if compact else 2)


def fit(keys: list[FooterKey], app_keys: set[str], width: int) -> tuple[list[FooterKey], bool]:
    """The keys to show (in their order) and whether compact, so that they fit in `width` columns."""
    if sum(key_width(k, False) for k in keys) <= width:
        return keys, False
    shown = list(keys)
    # least important first: app-wide keys from the last, then the screen's own from the last
    droppable = [k for k in reversed(keys) if k.key in app_keys and k.key not in ALWAYS]
    droppable += [k for k in reversed(keys) if k.key not in app_keys and k.key not in ALWAYS]
    for key in droppable:
        if sum(key_width(k, True) for k in shown) <= width:
            break
        shown.remove(key)
    return shown, True


class KeyFooter(Footer):
    """A `Footer` that keeps the important keys visible when the terminal is narrow."""

    def __init__(self) -> None:
        super().__init__()
        self._composed_width = 0

    def compose(self) -> ComposeResult:
        composed: Iterable[Widget] = super().compose()
        widgets = list(composed)
        keys = [w for w in widgets if isinstance(w, FooterKey) and not w.has_class("-command-palette")]
        palette = [w for w in widgets if isinstance(w, FooterKey) and w.has_class("-command-palette")]
        others = [w for w in widgets if not isinstance(w, FooterKey)]
        if others:  # binding groups: Textual's own layout (none of our screens use them)
            yield from widgets
            return
        width = self.app.size.width
        self._composed_width = width
        app_keys = {key for key, active in self.screen.active_bindings.items() if active.node is self.app}
        room = width - sum(key_width(p, False) + 1 for p in palette)  # the palette key and its border
        if sum(key_width(k, False) for k in keys) <= room:
            shown, compact = [*keys, *palette], False
        else:
            shown, compact = fit(keys, app_keys, width)
        self.set_reactive(Footer.compact, compact)  # the keys below are bound to it
        self.set_class(compact, "-compact")
        yield from shown

    def on_resize(self, event: Resize) -> None:
        if self._composed_width and self.app.size.width != self._composed_width:
            self.call_after_refresh(self.recompose)
