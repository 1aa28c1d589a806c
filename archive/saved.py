"""Saved searches and patient lists: a reviewer's terms kept once, and the patients collected for a study or an audit.

A saved search is a name for a query with its mode and filters; a patient list
is a named set of MRNs (added from a search's hits, by MRN, or by hand). Both
belong to the user who made them and may be shared with named users, who can
run or read them but not change them. They live in the encrypted index
(`store.saved`) and every change or use is one audit entry, as a search is:
running a saved search is a search (audited by archive.search), and searching
within a list is a search narrowed to its patients. Reading a list shows only
the patients the reader may see (the policy decides per patient); the others
are counted, never named. Never writes anything outside the index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from archive.errors import BadInput, NotFound
from archive.policy import Action
from indexer.pipeline import now_iso

if TYPE_CHECKING:
    from archive.search import SearchResult
    from archive.session import Session
    from archive.store.saved import PatientListRow, SavedSearchRow

FILTER_KEYS = ("patient", "doc_type", "author", "date_from", "date_to")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,59}$")
_MRN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


@dataclass(frozen=True)
class SavedSearch:
    owner: str
    name: str
    query: str
    mode: str | None
    filters: dict[str, str] = field(default_factory=dict)
    shared_with: list[str] = field(default_factory=list)
    updated_at: str = ""

    @property
    def ref(self) -> str:
        """How another user names it: owner/name."""
        return f"{self.owner}/{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {"owner": self.owner, "name": self.name, "query": self.query, "mode": self.mode,
                "filters": self.filters, "shared_with": self.shared_with, "updated_at": self.updated_at}


@dataclass(frozen=True)
class PatientList:
    owner: str
    name: str
    note: str
    shared_with: list[str]
    created_at: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"owner": self.owner, "name": self.name, "note": self.note, "shared_with": self.shared_with,
                "created_at": self.created_at, "patients": self.size}


@dataclass(frozen=True)
class ListMember:
    mrn: str
    name: str | None
    added_at: str
    added_by: str
    source: str  # "mrn", "hand", or "search: QUERY"

    def to_json(self) -> dict[str, Any]:
        return {"mrn": self.mrn, "name": self.name, "added_at": self.added_at, "added_by": self.added_by,
                "source": self.source}


@dataclass(frozen=True)
class ListView:
    plist: PatientList
    members: list[ListMember]  # the ones this user may see
    hidden: int  # members this user may not see (counted, never named)

    def to_json(self) -> dict[str, Any]:
        return self.plist.to_json() | {"members": [m.to_json() for m in self.members], "hidden": self.hidden}


@dataclass(frozen=True)
class ListChange:
    plist: PatientList
    added: list[str] = field(default_factory=list)
    already: int = 0  # MRNs asked for that were on the list already
    removed: int = 0
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"list": self.plist.name, "owner": self.plist.owner, "added": self.added, "already": self.already,
                "removed": self.removed, "patients": self.plist.size, "source": self.source}


# ---------------------------------------------------------------- names and users


def _check_name(name: str, what: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise BadInput(
            f"'{name}' cannot name a {what}.",
            "Use up to 60 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit.",
        )
    return name


def _check_share(session: Session, users: list[str]) -> list[str]:
    out = []
    for user in users:
        user = user.strip()
        if not user or user == session.user.name:
            continue
        if not session.store.users.exists(user):
            raise NotFound(f"No user '{user}' to share with.", "List the users with 'chartvault user list'.")
        out.append(user)
    return sorted(set(out))


def _split_ref(session: Session, ref: str) -> tuple[str | None, str]:
    """'owner/name' or 'name' (own first, then one shared with this user)."""
    ref = ref.strip()
    if "/" in ref:
        owner, name = ref.split("/", 1)
        return owner.strip(), name.strip()
    return None, ref


class _Named(Protocol):
    @property
    def owner(self) -> str: ...
    @property
    def name(self) -> str: ...


_Row = TypeVar("_Row", bound=_Named)


def _pick(session: Session, ref: str, rows: list[_Row], what: str, hint: str) -> _Row:
    """The row `ref` names among `rows` (what this user may read): 'owner/name', or 'name' (this user's own,
    else the one shared with them; two shared under that name must be told apart)."""
    owner, name = _split_ref(session, ref)
    me = session.user.name
    if owner is not None:
        found = [r for r in rows if r.owner == owner and r.name == name]
    else:
        found = [r for r in rows if r.owner == me and r.name == name] or [r for r in rows if r.name == name]
    if len(found) > 1:
        names = ", ".join(f"{r.owner}/{r.name}" for r in found)
        raise BadInput(f"More than one {what} shared with you is called '{name}'.", f"Name one: {names}.")
    if not found:
        raise NotFound(f"No {what} '{ref}'.", hint)
    return found[0]


def _visible_to(row: Any, user: str) -> bool:
    return bool(row.owner == user or user in row.shared_with)


# ---------------------------------------------------------------- saved searches


def _saved(row: SavedSearchRow) -> SavedSearch:
    return SavedSearch(row.owner, row.name, row.query, row.mode, dict(row.filters), list(row.shared_with),
                       row.updated_at)


def save_search(
    session: Session,
    name: str,
    query: str,
    *,
    mode: str | None = None,
    filters: dict[str, str | None] | None = None,
    share_with: list[str] | None = None,
) -> tuple[SavedSearch, bool]:
    """Save (or replace) this user's search `name`; True when an existing one was replaced. Audited."""
    from archive.search import MODES
    from indexer import fts

    session.require(Action.SEARCH)
    name = _check_name(name, "saved search")
    if not query.strip():
        raise BadInput("There is nothing to save: the query is empty.", "Give the words to search for.")
    if mode is not None and mode not in MODES:
        raise BadInput(f"Unknown search mode '{mode}'.", f"Use one of: {', '.join(MODES)}.")
    if query.strip() != "-":
        fts.parse_query(query)  # a query full text cannot parse is refused now, not at every rerun
    kept = {k: str(v).strip() for k, v in (filters or {}).items() if v and k in FILTER_KEYS}
    for key, option in (("date_from", "--from"), ("date_to", "--to")):
        if key in kept:
            fts.check_date(kept[key], option)
    shared = _check_share(session, share_with or [])
    with session.transaction():
        row, replaced = session.store.saved.save_search(session.user.name, name, query.strip(), mode, kept, shared,
                                                        now_iso())
        session.audit("search_save", details={"name": name, "query": row.query, "mode": mode, "filters": kept,
                                              "shared_with": shared, "replaced": replaced})
    return _saved(row), replaced


def saved_searches(session: Session) -> list[SavedSearch]:
    """This user's saved searches, then those shared with them."""
    session.require(Action.SEARCH)
    return [_saved(r) for r in session.store.saved.searches_for(session.user.name)]


def find_saved(session: Session, ref: str) -> SavedSearch:
    """The saved search `ref` names ('name': this user's, else the one shared with them; 'owner/name')."""
    session.require(Action.SEARCH)
    rows = session.store.saved.searches_for(session.user.name)
    return _saved(_pick(session, ref, rows, "saved search", "List yours with 'chartvault search --saved-list'."))


def run_saved(session: Session, ref: str, *, limit: int = 20, mark: tuple[str, str] = ("**", "**"),
              wait_for_model: bool = True, **overrides: Any) -> tuple[SavedSearch, SearchResult]:
    """Run a saved search (its query, mode and filters; `overrides` win, e.g. patients=... for a list)."""
    from archive.search import search

    saved = find_saved(session, ref)
    kwargs: dict[str, Any] = {"mode": saved.mode, **saved.filters}
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    return saved, search(session, saved.query, limit=limit, mark=mark, wait_for_model=wait_for_model, **kwargs)


def delete_saved(session: Session, name: str) -> SavedSearch:
    """Delete one of this user's saved searches (a shared one is its owner's to delete). Audited."""
    session.require(Action.SEARCH)
    row = session.store.saved.search_of(session.user.name, name.strip())
    if row is None:
        raise NotFound(f"You have no saved search '{name}'.", "List yours with 'chartvault search --saved-list'.")
    with session.transaction():
        session.store.saved.delete_search(row.id)
        session.audit("search_delete", details={"name": row.name, "query": row.query})
    return _saved(row)


# ---------------------------------------------------------------- patient lists


def _plist(row: PatientListRow) -> PatientList:
    return PatientList(row.owner, row.name, row.note, list(row.shared_with), row.created_at, row.members)


def _own_list(session: Session, name: str) -> PatientListRow:
    row = session.store.saved.list_of(session.user.name, name.strip())
    if row is None:
        if any(r.name == name.strip() for r in session.store.saved.lists_for(session.user.name)):
            raise BadInput(f"The list '{name}' is shared with you; only its owner changes it.",
                           "Create a list of your own with 'chartvault list create NAME'.")
        raise NotFound(f"You have no patient list '{name}'.", "Create it with 'chartvault list create NAME'.")
    return row


def _readable_list(session: Session, ref: str) -> PatientListRow:
    rows = session.store.saved.lists_for(session.user.name)
    return _pick(session, ref, rows, "patient list", "See your lists with 'chartvault list show'.")


def create_list(session: Session, name: str, *, note: str = "", share_with: list[str] | None = None) -> PatientList:
    """A new, empty patient list of this user's. Audited."""
    session.require(Action.SEARCH)
    name = _check_name(name, "patient list")
    if session.store.saved.list_of(session.user.name, name) is not None:
        raise BadInput(f"You already have a patient list '{name}'.", "Add to it with 'chartvault list add'.")
    shared = _check_share(session, share_with or [])
    with session.transaction():
        row = session.store.saved.create_list(session.user.name, name, note.strip(), shared, now_iso())
        session.audit("list_create", details={"list": name, "shared_with": shared})
    return _plist(row)


def patient_lists(session: Session) -> list[PatientList]:
    """This user's lists, then those shared with them."""
    session.require(Action.SEARCH)
    return [_plist(r) for r in session.store.saved.lists_for(session.user.name)]


def add_patients(session: Session, name: str, mrns: list[str], *, source: str = "mrn") -> ListChange:
    """Add patients by MRN ("mrn"; "hand" from the TUI). Each must exist and be one this user may see. Audited."""
    session.require(Action.SEARCH)
    row = _own_list(session, name)
    wanted = []
    for mrn in mrns:
        mrn = mrn.strip()
        if not mrn:
            continue
        # Unknown and not-visible read the same, so a list cannot probe which MRNs exist.
        if not _MRN.match(mrn) or not session.store.patients.exists(mrn) or not session.may_see_patient(
                mrn, Action.SEARCH):
            raise NotFound(f"No patient '{mrn}' you may see.", "Check the MRN with 'chartvault search --by-patient'.")
        wanted.append(mrn)
    if not wanted:
        raise BadInput("No MRN to add.", "For example: chartvault list add study-1 --mrn 12345.")
    return _add(session, row, sorted(set(wanted)), source)


def add_from_search(session: Session, name: str, query: str, *, limit: int = 200, **search_args: Any) -> ListChange:
    """Add the patients of a search's hits (the search is audited as any other; only hits the user may see),
    never of a weak hit (under the relevance floor: one of the closest records, not a match)."""
    from archive.search import search

    session.require(Action.SEARCH)
    row = _own_list(session, name)
    result = search(session, query, limit=limit, **search_args)
    if result.weak:  # the closest records are not matches: their patients do not belong on a list
        raise BadInput(f"No record matches '{query.strip()}' well; no patient was added.",
                       "Use words the notes use, or add patients by MRN.")
    mrns = sorted({h.patient for h in result.hits if h.patient and not h.weak})  # nor after a good one
    return _add(session, row, mrns, f"search: {query.strip()}"[:200])


def _add(session: Session, row: PatientListRow, mrns: list[str], source: str) -> ListChange:
    with session.transaction():
        before = {m.mrn for m in session.store.saved.members(row.id)}
        new = [m for m in mrns if m not in before]
        session.store.saved.add_members(row.id, new, session.user.name, source, now_iso())
        session.audit("list_add", details={"list": row.name, "added": new, "source": source})
    fresh = session.store.saved.list_of(row.owner, row.name)
    assert fresh is not None
    return ListChange(_plist(fresh), added=new, already=len(mrns) - len(new), source=source)


def remove_patients(session: Session, name: str, mrns: list[str]) -> ListChange:
    """Take patients off one of this user's lists. Audited."""
    session.require(Action.SEARCH)
    row = _own_list(session, name)
    with session.transaction():
        removed = session.store.saved.remove_members(row.id, [m.strip() for m in mrns if m.strip()])
        session.audit("list_remove", details={"list": row.name, "removed": sorted(m.strip() for m in mrns)})
    fresh = session.store.saved.list_of(row.owner, row.name)
    assert fresh is not None
    return ListChange(_plist(fresh), removed=removed)


def delete_list(session: Session, name: str) -> PatientList:
    """Delete one of this user's lists and its members. Audited."""
    session.require(Action.SEARCH)
    row = _own_list(session, name)
    with session.transaction():
        session.store.saved.delete_list(row.id)
        session.audit("list_delete", details={"list": row.name, "patients": row.members})
    return _plist(row)


def show_list(session: Session, ref: str) -> ListView:
    """A list's members this user may see (with names), and how many others it holds. Audited as a view."""
    session.require(Action.SEARCH)
    row = _readable_list(session, ref)
    members = session.store.saved.members(row.id)
    seen = [m for m in members if session.may_see_patient(m.mrn, Action.SEARCH)]
    out = [ListMember(m.mrn, session.store.patients.name_of(m.mrn), m.added_at, m.added_by, m.source) for m in seen]
    with session.transaction():
        session.audit("list_show", details={"list": row.name, "owner": row.owner,
                                            "patients": [m.mrn for m in out], "hidden": len(members) - len(out)})
    return ListView(_plist(row), out, len(members) - len(out))


def list_patients(session: Session, ref: str) -> tuple[PatientList, list[str]]:
    """The MRNs of a list (readable by this user) that this user may see: what a search within it narrows to."""
    session.require(Action.SEARCH)
    row = _readable_list(session, ref)
    mrns = [m.mrn for m in session.store.saved.members(row.id) if session.may_see_patient(m.mrn, Action.SEARCH)]
    return _plist(row), mrns
