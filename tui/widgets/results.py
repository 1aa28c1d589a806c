"""Search results: one option per hit, the snippet's matched terms highlighted (and its score, labelled, where the
score means something to a reader: the similarity of a similar case)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from archive.columns import mrn_cell, mrn_width

MARK_OPEN, MARK_CLOSE = "\x02", "\x03"  # what archive.search is asked to mark with
NAME_CAP = 28  # the patients view pads names to the longest shown up to this; a longer one pushes only its row


def snippet_text(snippet: str, style: str = "bold reverse") -> Text:
    """A rich Text from a snippet whose matches sit between MARK_OPEN and MARK_CLOSE (no markup parsing)."""
    text = Text()
    rest = snippet
    while rest:
        start = rest.find(MARK_OPEN)
        if start < 0:
            text.append(rest)
            break
        text.append(rest[:start])
        end = rest.find(MARK_CLOSE, start + 1)
        if end < 0:
            text.append(rest[start + 1 :], style=style)
            break
        text.append(rest[start + 1 : end], style=style)
        rest = rest[end + 1 :]
    return text


# What a hit's record says of the query where it mentions it (archive.search: SearchHit.assertion); affirmed and
# unknown (None) show nothing.
BADGE_STYLE = {"negated": "bold red", "family": "bold magenta", "historical": "bold cyan"}


def hit_prompt(hit: Any, score_label: str | None = None) -> Text:
    """A hit's lines; with `score_label` its score too ("similarity 0.72"); a badge when its mention of the query
    is not affirmed ("[negated] ... denies chest pain"), and a negated hit muted; a weak hit (under the relevance
    floor: one of the closest records, not a match) marked "(weak)" and muted."""
    head = Text()
    head.append(hit.record_id, style="bold")
    assertion = getattr(hit, "assertion", None)
    if assertion and assertion != "affirmed":
        head.append(f"  [{assertion}]", style=BADGE_STYLE.get(assertion, "bold yellow"))
    if getattr(hit, "fuzzy", False):
        head.append("  ~near spelling", style="bold yellow")
    if score_label:
        head.append(f"  {score_label} {hit.score:.2f}", style="bold")
    weak = getattr(hit, "weak", False)
    if weak:
        head.append("  (weak)", style="italic")
    head.append(f"  {hit.date or '-'}  ")
    head.append(hit.type or "-", style="italic")
    head.append(f"  {hit.patient or 'needs filing'}  ")
    head.append(hit.filename, style="dim")
    head.append("\n  ")
    head.append_text(snippet_text(hit.snippet))
    if assertion == "negated" or weak:
        head.stylize("dim")
    return head


class SearchResults(OptionList):
    """The hits of the current search; Enter opens one (the screen handles OptionSelected)."""

    DEFAULT_CSS = """
    SearchResults {
        height: 1fr;
        border: round $panel;
    }
    """

    hits: dict[str, Any] = {}

    def show_hits(self, hits: list[Any], score_label: str | None = None) -> None:
        self.hits = {h.record_id: h for h in hits}
        self.clear_options()
        self.add_options([Option(hit_prompt(h, score_label), id=h.record_id) for h in hits])
        if hits:
            self.highlighted = 0

    def show_patients(self, rows: list[Any], unfiled: int = 0) -> None:
        """One option per patient (archive.patient_view.PatientRow); Enter lists that patient's records. The MRNs
        and the names as columns (archive.columns); a patient whose records are all weak hits marked "(weak)" and
        muted."""
        self.hits = {}
        self.clear_options()
        options = []
        width = mrn_width((r.patient for r in rows), least=0)  # no header to fit
        names = min(max((len(r.name or "-") for r in rows), default=1), NAME_CAP)
        for r in rows:
            line = Text()
            line.append(mrn_cell(r.patient, width), style="bold")
            line.append(f"  {r.name or '-':<{names}}  ")
            line.append(f"{r.records} matching record{'s' if r.records != 1 else ''}", style="bold")
            dates = r.first if r.first == r.last else f"{r.first or '?'} to {r.last or '?'}"
            line.append(f"  {dates or 'undated'}  ")
            line.append(", ".join(r.types), style="italic")
            if getattr(r, "weak", False):
                line.append("  (weak)", style="italic")
                line.stylize("dim")
            options.append(Option(line, id=f"patient:{r.patient}"))
        if unfiled:
            options.append(Option(Text(f"{unfiled} matching record{'s' if unfiled != 1 else ''} not filed to a "
                                       "patient yet", style="dim"), disabled=True))
        self.add_options(options)
        if rows:
            self.highlighted = 0

    def highlighted_hit(self) -> Any:
        """The hit under the cursor, or None."""
        if self.highlighted is None or not self.option_count:
            return None
        return self.hits.get(self.get_option_at_index(self.highlighted).id or "")
