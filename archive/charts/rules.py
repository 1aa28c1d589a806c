"""The rules a careful technician applies to chart data: MRNs, dates, names, physicians, codes.

Pure checks over values (and read-only lookups through the store's
repositories): each failure is a ValidationError naming the field and saying
why, so the CLI can print "--dob: birth date 2031-01-01 is in the future." and
a form can show the problem beside its field. The bottom of archive.charts,
beside archive.charts.changes: used by every other chart module (and the TUI's
forms, statistics and de-identification for dates); imports none of them and
never writes.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from typing import TYPE_CHECKING

from archive.errors import BadInput, ValidationError
from indexer.filing import normalise_mrn

if TYPE_CHECKING:
    from archive.store import Store

KINDS = ("procedure", "medication", "complication", "referral", "diagnosis")
ENCOUNTER_KINDS = ("admission", "visit")
SEXES = ("F", "M", "X", "U")
PATIENT_STATUSES = ("active", "inactive", "deceased")
ENTRY_STATUSES = (
    "active", "completed", "planned", "resolved", "stopped", "cancelled", "inactive", "unknown", "entered_in_error",
)
REFERRAL_TARGETS = ("doctor", "facility")
# Nobody alive was born before this; an older date is a typing error (1880 for 1980).
OLDEST_BIRTH_YEARS = 125
MAX_TEXT = 500
MAX_FIELD = 120
# difflib ratio above which two names with the same birth date are probably one person.
NAME_SIMILARITY = 0.85

_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_PROCEDURE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,19}$")


def today() -> dt.date:
    """The local calendar day (a chart is kept in the facility's time)."""
    return dt.date.today()


def parse_day(field: str, value: str | None, what: str, *, required: bool = False) -> dt.date | None:
    """A YYYY-MM-DD value as a date; None when empty and not required."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError(field, f"{what} is required.", "Give it as YYYY-MM-DD.")
        return None
    match = _ISO_DAY.match(text)
    if not match:
        raise ValidationError(field, f"'{text}' is not a date.", "Use YYYY-MM-DD, e.g. 2024-03-05.")
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise ValidationError(field, f"{text} is not a real date.", "Check the day and the month.") from None


def check_not_future(field: str, day: dt.date | None, what: str) -> None:
    if day is not None and day > today():
        raise ValidationError(
            field, f"{what} {day.isoformat()} is in the future.", "A chart records what has happened; check the year."
        )


def check_birth_date(field: str, dob: dt.date | None) -> None:
    if dob is None:
        return
    check_not_future(field, dob, "birth date")
    oldest = today().year - OLDEST_BIRTH_YEARS
    if dob.year < oldest:
        raise ValidationError(
            field, f"birth date {dob.isoformat()} would make the patient over {OLDEST_BIRTH_YEARS}.",
            "Check the year (a typing slip like 1880 for 1980?).",
        )


def check_after(field: str, day: dt.date | None, floor: dt.date | None, what: str, floor_what: str) -> None:
    """`day` must not come before `floor`."""
    if day is not None and floor is not None and day < floor:
        raise ValidationError(
            field, f"{what} {day.isoformat()} is before {floor_what} {floor.isoformat()}.", "Check both dates."
        )


def iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def stored_day(value: str | None) -> dt.date | None:
    """A date read back from the index (may be partial, YYYY-MM, for imported data): its first day, or None."""
    if not value:
        return None
    text = str(value)[:10]
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        if len(text) == 7:
            return dt.date.fromisoformat(text + "-01")
        if len(text) == 4:
            return dt.date(int(text), 1, 1)
    except ValueError:
        return None
    return None


def check_text(field: str, value: str | None, what: str, *, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        if required:
            raise ValidationError(field, f"{what} is required.", "")
        return None
    if len(text) > limit:
        raise ValidationError(field, f"{what} is {len(text)} characters; at most {limit}.", "Shorten it.")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise ValidationError(field, f"{what} contains control characters.", "Retype it without them.")
    return text


def check_choice(field: str, value: str | None, choices: tuple[str, ...], what: str) -> str:
    text = (value or "").strip()
    normal = text.lower().replace("-", "_").replace(" ", "_")
    for choice in choices:
        if normal == choice.lower():
            return choice
    shown = text or "nothing"
    raise ValidationError(field, f"{what} must be one of {', '.join(choices)} (got {shown}).", "")


def check_name(field: str, value: str | None) -> str:
    name = check_text(field, value, "the patient's name", limit=MAX_FIELD)
    assert name is not None
    if not any(ch.isalpha() for ch in name):
        raise ValidationError(field, f"'{name}' is not a name (no letters).", "Give the name as 'Given Family'.")
    if any(ch.isdigit() for ch in name):
        raise ValidationError(field, f"'{name}' contains digits.", "Names have no digits; is it an MRN?")
    return name


def check_mrn(mrn: str) -> str:
    """A cleaned MRN; BadInput when it is not a plausible one."""
    clean = normalise_mrn(mrn)
    if clean is None:
        raise BadInput(
            f"'{mrn}' is not a valid MRN.",
            "An MRN is 1-40 letters, digits, '-', '_', '/' or '.', starting with a letter or digit.",
        )
    return clean


def check_physician(store: Store, field: str, name: str | None) -> str | None:
    """A registered, active physician's user name (or None when not given)."""
    from archive.users import User

    text = (name or "").strip()
    if not text:
        return None
    row = store.users.roster_row(text)
    if row is None:
        raise ValidationError(
            field, f"no user '{text}' in this vault.",
            "Give the physician's user name; an admin adds physicians with "
            "'chartvault user add NAME --role physician'.",
        )
    user = User(name=row["name"], role=row["role"], full_name=row["full_name"] or "", licence=row["licence"],
                active=bool(row["active"]), clinical_role=row["clinical_role"])
    if "physician" not in user.roles:
        raise ValidationError(field, f"'{text}' is a {user.role}, not a physician.", "Name the attending physician.")
    if not user.active:
        raise ValidationError(field, f"physician '{text}' is disabled.", "Name an active physician.")
    if not user.registered:
        raise ValidationError(
            field, f"'{text}' is not a registered physician (no licence number on file).",
            "An admin records the licence first.",
        )
    return user.name


def check_diagnosis_code(store: Store, field: str, code: str | None) -> str | None:
    """An ICD-10-CM code in its dotted form; checked against the code set when it is loaded."""
    from indexer import icd10

    text = (code or "").strip()
    if not text:
        return None
    norm = icd10.normalize_code(text)
    if norm is None or "-" in norm:
        raise ValidationError(field, f"'{text}' is not an ICD-10-CM code.", "For example E11.9 or I10.")
    loaded, known, near = store.coding.diagnosis_code(norm)
    if not loaded:
        return norm
    if known is None:
        hint = f"Nearest codes: {', '.join(near)}." if near else "Look it up with 'chartvault code search'."
        raise ValidationError(field, f"{norm} is not in the ICD-10-CM code set.", hint)
    return known


def check_procedure_code(field: str, code: str | None) -> str | None:
    text = (code or "").strip()
    if not text:
        return None
    if not _PROCEDURE_CODE.match(text):
        raise ValidationError(field, f"'{text}' is not a procedure code.", "Use letters, digits, '.' or '-'.")
    return text


def fold(text: str | None) -> str:
    """Text compared for duplicates: case, accents, punctuation and spacing do not matter."""
    plain = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def name_similarity(a: str | None, b: str | None) -> float:
    """0..1: how alike two person names are, word order ignored ('Smith, John' ~ 'John Smith')."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return 0.0
    direct = difflib.SequenceMatcher(None, fa, fb).ratio()
    ordered = difflib.SequenceMatcher(None, " ".join(sorted(fa.split())), " ".join(sorted(fb.split()))).ratio()
    return max(direct, ordered)
