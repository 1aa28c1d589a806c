"""Read-only joins across table families for statistics and exports; it writes nothing.

The diagnosis events of the statistics (archive.stats explains what counts) are one
SQL expression over record_codes, records, chart entries and encounters, here.

Owns the SQL for: (none: read-only joins). Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

# ICD-10-CM chapters: (number, first category, last category, title), as in the CMS tabular list.
CHAPTERS: tuple[tuple[str, str, str, str], ...] = (
    ("1", "A00", "B99", "Certain infectious and parasitic diseases"),
    ("2", "C00", "D49", "Neoplasms"),
    ("3", "D50", "D89", "Diseases of the blood and blood-forming organs and certain disorders involving the immune"
                        " mechanism"),
    ("4", "E00", "E89", "Endocrine, nutritional and metabolic diseases"),
    ("5", "F01", "F99", "Mental, behavioral and neurodevelopmental disorders"),
    ("6", "G00", "G99", "Diseases of the nervous system"),
    ("7", "H00", "H59", "Diseases of the eye and adnexa"),
    ("8", "H60", "H95", "Diseases of the ear and mastoid process"),
    ("9", "I00", "I99", "Diseases of the circulatory system"),
    ("10", "J00", "J99", "Diseases of the respiratory system"),
    ("11", "K00", "K95", "Diseases of the digestive system"),
    ("12", "L00", "L99", "Diseases of the skin and subcutaneous tissue"),
    ("13", "M00", "M99", "Diseases of the musculoskeletal system and connective tissue"),
    ("14", "N00", "N99", "Diseases of the genitourinary system"),
    ("15", "O00", "O9A", "Pregnancy, childbirth and the puerperium"),
    ("16", "P00", "P96", "Certain conditions originating in the perinatal period"),
    ("17", "Q00", "QA0", "Congenital malformations, deformations and chromosomal abnormalities"),
    ("18", "R00", "R99", "Symptoms, signs and abnormal clinical and laboratory findings, not elsewhere classified"),
    ("19", "S00", "T88", "Injury, poisoning and certain other consequences of external causes"),
    ("20", "V00", "Y99", "External causes of morbidity"),
    ("21", "Z00", "Z99", "Factors influencing health status and contact with health services"),
    ("22", "U00", "U85", "Codes for special purposes"),
)


def _day(expr: str) -> str:
    """SQL: the YYYY-MM-DD prefix of `expr` when it is a full date, else NULL."""
    return (f"(CASE WHEN substr({expr}, 1, 10) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
            f" THEN substr({expr}, 1, 10) END)")


# SQL: the chapter of a category expression `{cat}` (a CASE over the ranges; faster than a lookup table per row).
_CHAPTER_CASE = "CASE " + " ".join(f"WHEN {{cat}} BETWEEN '{lo}' AND '{hi}' THEN '{n}'" for n, lo, hi, _t in CHAPTERS) \
    + " END"


def _code_filter(column: str, prefixes: int) -> str:
    if not prefixes:
        return ""
    return " AND (" + " OR ".join(f"upper(replace({column}, '.', '')) LIKE :p{i}" for i in range(prefixes)) + ")"


def events_sql(prefixes: int = 0) -> str:
    """SQL (a WITH clause, to be followed by a SELECT) whose `ev` has one row per diagnosis event: mrn, code,
    day, enc (encounter id or NULL), episode, episode_day, the encounter's kind/start/end/attending, category,
    chapter; `dx` also holds the undated ones (day NULL). Parameters: :today, and :p0.. for code prefixes
    (compact, upper case, ending in '%'), applied before the encounter lookups."""
    return f"""
WITH
raw(mrn, code, raw_date, explicit_enc) AS (
    SELECT r.patient_mrn, c.code, coalesce(o.day, r.date), coalesce(o.enc, c.encounter_id)
    FROM record_codes c JOIN records r ON r.id = c.record_id
    LEFT JOIN (SELECT c2.id AS cid, json_extract(j.value, '$[0]') AS day, json_extract(j.value, '$[1]') AS enc
               FROM record_codes c2, json_each(coalesce(c2.occurrences, '[]')) j) o ON o.cid = c.id
    WHERE c.id IN (SELECT max(id) FROM record_codes GROUP BY record_id, code)
      AND c.status = 'confirmed' AND r.status = 'filed' AND r.patient_mrn IS NOT NULL{_code_filter("c.code", prefixes)}
      AND NOT EXISTS (SELECT 1 FROM review_items q WHERE q.record_id = r.id AND q.holds = 'record'
                      AND q.status = 'open')
    UNION ALL
    SELECT e.patient_mrn, v.code, v.date, v.encounter_id
    FROM chart_entries e JOIN chart_entry_versions v ON v.entry_id = e.id AND v.version = e.current_version
    WHERE v.kind = 'diagnosis' AND coalesce(v.code, '') <> ''
      AND coalesce(v.code_system, 'ICD-10-CM') = 'ICD-10-CM'
      AND v.status NOT IN ('entered_in_error', 'cancelled'){_code_filter("v.code", prefixes)}
),
dx AS MATERIALIZED (
    SELECT raw.mrn, upper(raw.code) AS code, substr(replace(upper(raw.code), '.', ''), 1, 3) AS category, x.id AS x_id,
           coalesce({_day('raw.raw_date')}, {_day('x.start_date')}) AS day
    FROM raw LEFT JOIN encounters x
      ON x.id = raw.explicit_enc AND x.status = 'active' AND x.patient_mrn = raw.mrn
),
dxe AS MATERIALIZED (
    SELECT d.mrn, d.code, d.category, d.day, coalesce(d.x_id,
        (SELECT a.id FROM encounters a WHERE a.patient_mrn = d.mrn AND a.status = 'active' AND a.kind = 'admission'
           AND {_day('a.start_date')} <= d.day AND d.day <= coalesce({_day('a.end_date')}, :today)
         ORDER BY a.start_date DESC, a.n DESC LIMIT 1),
        (SELECT v.id FROM encounters v WHERE v.patient_mrn = d.mrn AND v.status = 'active' AND v.kind = 'visit'
           AND {_day('v.start_date')} <= d.day
           AND d.day <= coalesce({_day('v.end_date')}, {_day('v.start_date')})
         ORDER BY v.start_date DESC, v.n DESC LIMIT 1)) AS enc
    FROM dx d WHERE d.day IS NOT NULL
),
ev AS (
    SELECT d.mrn, d.code, d.day, d.enc, e.kind AS enc_kind, {_day('e.start_date')} AS enc_start,
           {_day('e.end_date')} AS enc_end, e.attending,
           coalesce(d.enc, 'u:' || d.mrn || ':' || d.day) AS episode,
           coalesce({_day('e.start_date')}, d.day) AS episode_day,
           d.category,
           {_CHAPTER_CASE.format(cat="d.category")} AS chapter
    FROM dxe d LEFT JOIN encounters e ON e.id = d.enc
)
"""


_PERIOD_SQL = {
    "year": "substr(episode_day, 1, 4)",
    "month": "substr(episode_day, 1, 7)",
    "quarter": "substr(episode_day, 1, 4) || '-Q' || ((CAST(substr(episode_day, 6, 2) AS INTEGER) + 2) / 3)",
}
_GROUP_SQL = {"chapter": "coalesce(chapter, '?')", "category": "category", "code": "code"}

_READMISSION_SQL = f"""
WITH idx AS (
    SELECT a.id, a.patient_mrn, a.attending, {_day('a.end_date')} AS discharged,
        EXISTS (SELECT 1 FROM encounters b
                WHERE b.patient_mrn = a.patient_mrn AND b.kind = 'admission' AND b.status = 'active'
                  AND b.id <> a.id AND {_day('b.start_date')} >= {_day('a.end_date')}
                  AND julianday({_day('b.start_date')}) - julianday({_day('a.end_date')}) <= :days
                  AND {_day('b.start_date')} <= :as_of) AS readmitted
    FROM encounters a
    WHERE a.kind = 'admission' AND a.status = 'active' AND {_day('a.end_date')} IS NOT NULL
      AND {_day('a.end_date')} <= :as_of
)
SELECT coalesce(idx.attending, '') AS physician, coalesce(u.full_name, '') AS full_name,
       count(*) AS discharges,
       sum(readmitted) AS readmitted,
       sum(CASE WHEN readmitted = 0 AND julianday(:as_of) - julianday(discharged) < :days THEN 1 ELSE 0 END)
         AS censored
FROM idx LEFT JOIN users u ON u.name = idx.attending
GROUP BY physician ORDER BY physician
"""


class ReportsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    def diagnosis_events(self, prefixes: list[str], today: str) -> list[tuple[Any, ...]]:
        """Every dated diagnosis event (see `events_sql`) under one of `prefixes` (compact, upper case, ending
        in '%'; none: all): mrn, code, day, enc, enc_kind, enc_start, enc_end, episode, episode_day, category,
        chapter, by MRN, day and code."""
        sql = events_sql(len(prefixes)) + (
            "SELECT mrn, code, day, enc, enc_kind, enc_start, enc_end, episode, episode_day, category, chapter FROM ev"
        )
        params: dict[str, Any] = {"today": today}
        params.update({f"p{i}": w for i, w in enumerate(prefixes)})
        return [tuple(r) for r in self.db.execute(sql + " ORDER BY mrn, day, code", params).fetchall()]

    def frequency_counts(self, by: str, period: str, date_from: str | None, date_to: str | None,
                         today: str) -> list[tuple[str, str | None, str | None, int, int]]:
        """Distinct patients and encounters (episodes) per (period, group) as rows (kind, period, group,
        patients, encounters) of kinds 'cell', 'period' (all groups), 'group' (all periods), 'total', and
        'undated' (diagnoses left out, in the patients column). `by`: chapter | category | code; `period`:
        month | quarter | year."""
        group_sql, period_sql = _GROUP_SQL[by], _PERIOD_SQL[period]
        where, params = ["1 = 1"], {"today": today}
        if date_from:
            where.append("episode_day >= :dfrom")
            params["dfrom"] = date_from
        if date_to:
            where.append("episode_day <= :dto")
            params["dto"] = date_to
        # One pass: the events are materialised once and every count reads them (the CTEs stay in memory).
        count = "count(DISTINCT mrn), count(DISTINCT episode)"
        sql = events_sql() + (
            f", sel AS MATERIALIZED (SELECT mrn, episode, {period_sql} AS period, {group_sql} AS grp FROM ev"
            f" WHERE {' AND '.join(where)}) "
            f"SELECT 'cell', period, grp, {count} FROM sel GROUP BY period, grp"
            f" UNION ALL SELECT 'period', period, NULL, {count} FROM sel GROUP BY period"
            f" UNION ALL SELECT 'group', NULL, grp, {count} FROM sel GROUP BY grp"
            f" UNION ALL SELECT 'total', NULL, NULL, {count} FROM sel"
            " UNION ALL SELECT 'undated', NULL, NULL, count(*), 0 FROM dx WHERE day IS NULL"
        )
        return [(k, p, g, int(n), int(e)) for k, p, g, n, e in self.db.execute(sql, params).fetchall()]

    def readmission_counts(self, days: int, as_of: str) -> list[tuple[str, str, int, int, int]]:
        """Per attending physician of the index stay ('' when none): (physician, full name, discharges,
        readmitted within `days`, censored), by physician."""
        rows = self.db.execute(_READMISSION_SQL, {"days": days, "as_of": as_of}).fetchall()
        return [(str(p), str(f), int(n), int(r or 0), int(c or 0)) for p, f, n, r, c in rows]

    # ---- cli and tui room

    # ---- end
