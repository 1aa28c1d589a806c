"""Switching the tabs of a screen's TabbedContent from a key (work queues, statistics)."""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane


def next_tab(tabbed: TabbedContent, step: int = 1) -> str:
    """Show the next tab (`step` -1: the previous one), wrapping around, and focus the first field in it.

    Returns the id of the tab now shown.
    """
    panes = list(tabbed.query(TabPane))
    ids = [pane.id or "" for pane in panes]
    current = ids.index(tabbed.active) if tabbed.active in ids else 0
    pane = panes[(current + step) % len(panes)]
    tabbed.active = pane.id or ""
    # the widget that had the focus is hidden with its tab; hand it to the new tab's first field
    first = next((w for w in pane.query("*") if w.focusable), None)
    if first is not None:
        first.focus()
    return tabbed.active
