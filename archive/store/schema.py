"""The index schema, as an ordered list of migrations.

Migration k brings the schema to version k; never edit a released migration,
append a new one. Each runs in its own transaction (see `vault.db.migrate`).
"""

from __future__ import annotations

from typing import Any


def v1_users_and_audit(db: Any) -> None:
    db.execute(
        """CREATE TABLE users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('admin', 'technician', 'physician')),
            full_name TEXT NOT NULL DEFAULT '',
            licence TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            created_by TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            user TEXT,
            role TEXT,
            action TEXT NOT NULL,
            patient TEXT,
            record TEXT,
            reason TEXT,
            outcome TEXT NOT NULL,
            flagged INTEGER NOT NULL DEFAULT 0,
            details TEXT,
            prev_mac TEXT NOT NULL,
            mac TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX audit_user ON audit(user, ts)")
    db.execute("CREATE INDEX audit_patient ON audit(patient, ts)")
    db.execute(
        """CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )"""
    )


def access_grants_and_disclosures(db: Any) -> None:
    """Issue 5: clinical role for admins, break-glass grants, disclosures, audit lookups by record."""
    # An admin sees no patient content unless also given a clinical role.
    db.execute(
        "ALTER TABLE users ADD COLUMN clinical_role TEXT CHECK (clinical_role IN ('technician', 'physician'))"
    )
    db.execute(
        """CREATE TABLE access_grants (
            id INTEGER PRIMARY KEY,
            user TEXT NOT NULL,
            record TEXT NOT NULL,
            patient TEXT,
            reason TEXT NOT NULL,
            granted_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            audit_seq INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX access_grants_user_record ON access_grants(user, record, expires_at)")
    db.execute(
        """CREATE TABLE disclosures (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            record TEXT NOT NULL,
            patient TEXT,
            discloser TEXT NOT NULL,
            recipient TEXT NOT NULL,
            purpose TEXT NOT NULL,
            audit_seq INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX disclosures_recipient_record ON disclosures(recipient, record)")
    db.execute("CREATE INDEX disclosures_patient ON disclosures(patient, ts)")
    db.execute("CREATE INDEX audit_record ON audit(record, ts)")
    db.execute("CREATE INDEX audit_action ON audit(action, ts)")


def records_patients_and_fts(db: Any) -> None:
    """Issue 3: patients, records, the FTS5 index, quarantine and transcriptions."""
    from indexer.fts import create_schema

    db.execute(
        """CREATE TABLE patients (
            mrn TEXT PRIMARY KEY,
            name TEXT,
            dob TEXT,
            sex TEXT,
            created_at TEXT NOT NULL,
            source TEXT
        )"""
    )
    # n is the FTS rowid; id is the short stable id people type ('r' + 12 hex of the blob id).
    db.execute(
        """CREATE TABLE records (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            blob_id TEXT NOT NULL UNIQUE,
            text_blob_id TEXT,
            filename TEXT NOT NULL,
            format TEXT,
            doc_type TEXT,
            title TEXT,
            patient_mrn TEXT REFERENCES patients(mrn),
            date TEXT,
            author TEXT,
            size INTEGER NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            ocr_confidence REAL,
            needs_transcription INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL CHECK (status IN ('filed', 'needs_filing')),
            imported_at TEXT NOT NULL,
            imported_by TEXT,
            source TEXT NOT NULL DEFAULT '{}',
            facts TEXT NOT NULL DEFAULT '[]'
        )"""
    )
    db.execute("CREATE INDEX records_patient ON records(patient_mrn, date)")
    db.execute("CREATE INDEX records_status ON records(status)")
    db.execute("CREATE INDEX records_transcription ON records(needs_transcription)")
    db.execute("CREATE INDEX records_date ON records(date)")
    create_schema(db)
    db.execute(
        """CREATE TABLE quarantine (
            id TEXT PRIMARY KEY,
            blob_id TEXT,
            original_name TEXT NOT NULL,
            reason TEXT NOT NULL,
            at TEXT NOT NULL,
            size INTEGER,
            source TEXT NOT NULL DEFAULT '{}',
            released_at TEXT,
            released_by TEXT,
            released_to TEXT
        )"""
    )
    # The same bad bytes twice are one quarantine entry, until released.
    db.execute("CREATE UNIQUE INDEX quarantine_active_blob ON quarantine(blob_id) WHERE released_at IS NULL")
    db.execute(
        """CREATE TABLE transcriptions (
            id INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL REFERENCES records(id),
            text_blob_id TEXT NOT NULL,
            by TEXT NOT NULL,
            at TEXT NOT NULL,
            verified_by TEXT,
            verified_at TEXT
        )"""
    )
    db.execute("CREATE INDEX transcriptions_record ON transcriptions(record_id, id)")


def icd10_codes_and_record_codes(db: Any) -> None:
    """Issue 6: the ICD-10-CM code set (filled on first use by indexer.icd10.ensure_loaded) and coding decisions."""
    db.execute(
        """CREATE TABLE icd10_codes (
            code TEXT PRIMARY KEY,
            compact TEXT NOT NULL,
            description TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('chapter', 'block', 'category', 'subcategory', 'extension')),
            billable INTEGER NOT NULL,
            chapter TEXT NOT NULL DEFAULT '',
            block TEXT NOT NULL DEFAULT '',
            category TEXT NOT NULL DEFAULT '',
            parent TEXT NOT NULL DEFAULT '',
            depth INTEGER NOT NULL,
            terms TEXT NOT NULL DEFAULT ''
        )"""
    )
    db.execute("CREATE INDEX icd10_codes_compact ON icd10_codes(compact)")
    db.execute("CREATE INDEX icd10_codes_parent ON icd10_codes(parent)")
    db.execute(
        "CREATE VIRTUAL TABLE icd10_fts USING fts5(code, description, terms, content='icd10_codes',"
        " content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2')"
    )
    # Append-only: each confirm/reject is a new row; the latest row per (record, code) is in force.
    db.execute(
        """CREATE TABLE record_codes (
            id INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL,
            code TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('confirmed', 'rejected')),
            decided_by TEXT NOT NULL,
            decided_at TEXT NOT NULL,
            score REAL,
            passage TEXT,
            encounter_id TEXT
        )"""
    )
    db.execute("CREATE INDEX record_codes_record ON record_codes(record_id, code, id)")
    db.execute("CREATE INDEX record_codes_code ON record_codes(code, id)")


def retention_rules_and_holds(db: Any) -> None:
    """Issue 10: facility retention rules by document type, legal holds, and blobs awaiting deletion."""
    db.execute(
        """CREATE TABLE retention_rules (
            pattern TEXT PRIMARY KEY,
            adult_years INTEGER NOT NULL,
            minor_years INTEGER NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            set_by TEXT,
            set_at TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE legal_holds (
            id INTEGER PRIMARY KEY,
            mrn TEXT NOT NULL,
            reason TEXT NOT NULL,
            placed_by TEXT NOT NULL,
            placed_at TEXT NOT NULL,
            released_by TEXT,
            released_at TEXT
        )"""
    )
    db.execute("CREATE INDEX legal_holds_mrn ON legal_holds(mrn, released_at)")
    # Blobs of purged records: deleted from disk after the purge commits; a crash leaves them here.
    db.execute("CREATE TABLE purge_pending (blob_id TEXT PRIMARY KEY, folder TEXT NOT NULL DEFAULT 'objects')")


def patient_charts(db: Any) -> None:
    """Issue 6 (charts): attending physician and stay on patients, encounters, versioned chart entries.

    Nothing in a chart is overwritten: an entry's every state is a row of
    chart_entry_versions (corrections are new versions with a reason), and
    every change to a patient or an encounter is a chart_changes row with
    the fields before and after. `version` columns carry the optimistic
    concurrency check (an edit names the version it started from).
    """
    for column in (
        "attending TEXT",  # user name of a registered physician (archive.policy reads this column)
        "admitted TEXT",
        "discharged TEXT",
        "status TEXT NOT NULL DEFAULT 'active'",
        "version INTEGER NOT NULL DEFAULT 1",
        "updated_at TEXT",
        "updated_by TEXT",
    ):
        db.execute(f"ALTER TABLE patients ADD COLUMN {column}")
    db.execute("CREATE INDEX patients_dob ON patients(dob)")
    db.execute(
        """CREATE TABLE encounters (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            patient_mrn TEXT NOT NULL REFERENCES patients(mrn),
            kind TEXT NOT NULL CHECK (kind IN ('admission', 'visit')),
            start_date TEXT NOT NULL,
            end_date TEXT,
            attending TEXT,
            text TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'entered_in_error')),
            source_record TEXT,
            source_key TEXT,
            external_id TEXT,
            details TEXT NOT NULL DEFAULT '{}',
            version INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            updated_at TEXT,
            updated_by TEXT
        )"""
    )
    db.execute("CREATE INDEX encounters_patient ON encounters(patient_mrn, start_date)")
    db.execute(
        "CREATE UNIQUE INDEX encounters_source ON encounters(source_record, source_key) WHERE source_key IS NOT NULL"
    )
    db.execute(
        """CREATE TABLE chart_entries (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            patient_mrn TEXT NOT NULL REFERENCES patients(mrn),
            current_version INTEGER NOT NULL,
            source_record TEXT,
            source_key TEXT,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX chart_entries_patient ON chart_entries(patient_mrn)")
    db.execute(
        "CREATE UNIQUE INDEX chart_entries_source ON chart_entries(source_record, source_key)"
        " WHERE source_key IS NOT NULL"
    )
    db.execute(
        """CREATE TABLE chart_entry_versions (
            entry_id TEXT NOT NULL REFERENCES chart_entries(id),
            version INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('procedure', 'medication', 'complication', 'referral', 'diagnosis')),
            text TEXT NOT NULL,
            date TEXT,
            status TEXT NOT NULL,
            encounter_id TEXT,
            source_record TEXT,
            code TEXT,
            code_system TEXT,
            dose TEXT,
            route TEXT,
            frequency TEXT,
            start_date TEXT,
            stop_date TEXT,
            referral_to TEXT,
            referral_to_kind TEXT,
            referral_reason TEXT,
            details TEXT NOT NULL DEFAULT '{}',
            author TEXT,
            correction_reason TEXT,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            PRIMARY KEY (entry_id, version)
        )"""
    )
    db.execute("CREATE INDEX chart_entry_versions_encounter ON chart_entry_versions(encounter_id)")
    db.execute("CREATE INDEX chart_entry_versions_source ON chart_entry_versions(source_record)")
    db.execute(
        """CREATE TABLE chart_changes (
            id INTEGER PRIMARY KEY,
            patient_mrn TEXT NOT NULL,
            entity TEXT NOT NULL CHECK (entity IN ('patient', 'encounter')),
            entity_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            action TEXT NOT NULL,
            at TEXT NOT NULL,
            by TEXT NOT NULL,
            reason TEXT,
            before TEXT,
            after TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX chart_changes_patient ON chart_changes(patient_mrn, id)")


def semantic_chunks(db: Any) -> None:
    """Issue 4: chunk vectors (int8) per record and model, the embedding backlog's bookkeeping."""
    from indexer.semantic import create_schema

    create_schema(db)


def review_queue_and_fact_dates(db: Any) -> None:
    """Issue 17: the review queue (facts that do not add up, held until a technician decides) and each
    confirmed code's own dates and encounters (`occurrences`: JSON [[day, encounter id], ...], one per
    passage of the record the code was confirmed from)."""
    db.execute(
        """CREATE TABLE review_items (
            id INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL,
            patient_mrn TEXT,
            kind TEXT NOT NULL CHECK (kind IN ('demographics', 'placeholder', 'code', 'date', 'misfiled',
                                               'encounter')),
            field TEXT NOT NULL,
            value TEXT,
            other_value TEXT,
            other_source TEXT,
            message TEXT NOT NULL,
            holds TEXT NOT NULL CHECK (holds IN ('fact', 'record', 'patient')),
            fact_key TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'accepted', 'corrected', 'refiled', 'rejected')),
            created_at TEXT NOT NULL,
            resolved_by TEXT,
            resolved_at TEXT,
            resolution TEXT
        )"""
    )
    db.execute("CREATE UNIQUE INDEX review_items_fact ON review_items(record_id, kind, field, fact_key)")
    db.execute("CREATE INDEX review_items_status ON review_items(status, id)")
    db.execute("ALTER TABLE record_codes ADD COLUMN occurrences TEXT")
    # A vault with records from before: its facts want re-deriving (`chartvault chart rederive`, which needs
    # the unlocked vault to read record text; `chartvault status` says so until it has run).
    db.execute(
        "INSERT INTO settings (key, value) SELECT 'facts_rederive', 'needed' WHERE EXISTS (SELECT 1 FROM records)"
    )


def signatures(db: Any) -> None:
    """Issue 15: per-user signing keys. Roster rows signed by an admin, audit entries by their writer."""
    # age_pub / sign_pub: the public halves of what the user's keyslot holds (login checks both);
    # roster_signer / roster_sig: the admin whose Ed25519 key signed the row (archive.roster).
    for col in ("age_pub", "sign_pub", "roster_signer", "roster_sig"):
        db.execute(f"ALTER TABLE users ADD COLUMN {col} TEXT")
    # signer / sig: who signed the entry (its writer) and the Ed25519 signature over prev_mac + the entry;
    # for a signed entry `mac` is then the chain hash over both (archive.audit).
    for col in ("signer", "sig"):
        db.execute(f"ALTER TABLE audit ADD COLUMN {col} TEXT")
    # Each chart entry version is signed by its writer (archive.signed_rows), with the entry's patient.
    for col in ("signer", "sig"):
        db.execute(f"ALTER TABLE chart_entry_versions ADD COLUMN {col} TEXT")


def saved_searches_and_patient_lists(db: Any) -> None:
    """Issue 18: saved searches and patient lists (per user, optionally shared with named users)."""
    db.execute(
        """CREATE TABLE saved_searches (
            id INTEGER PRIMARY KEY,
            owner TEXT NOT NULL,
            name TEXT NOT NULL,
            query TEXT NOT NULL,
            mode TEXT CHECK (mode IN ('fts', 'semantic', 'hybrid')),
            filters TEXT NOT NULL DEFAULT '{}',
            shared_with TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (owner, name)
        )"""
    )
    db.execute(
        """CREATE TABLE patient_lists (
            id INTEGER PRIMARY KEY,
            owner TEXT NOT NULL,
            name TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            shared_with TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            UNIQUE (owner, name)
        )"""
    )
    db.execute(
        """CREATE TABLE patient_list_members (
            list_id INTEGER NOT NULL REFERENCES patient_lists(id),
            mrn TEXT NOT NULL,
            added_at TEXT NOT NULL,
            added_by TEXT NOT NULL,
            source TEXT NOT NULL,
            PRIMARY KEY (list_id, mrn)
        )"""
    )


def fulltext_facets(db: Any) -> None:
    """Issue 18: a facets column in the full-text table (type and year tokens, BM25 weight 0), so type
    and date filters narrow inside FTS5 instead of joining every match (indexer.fts.facet_tokens)."""
    from indexer.fts import add_facets_to_all

    add_facets_to_all(db)


def signed_grants_and_disclosures(db: Any) -> None:
    """Issue 15: each break-glass grant and disclosure is signed by the user who made it (archive.signed_rows);
    rows from before stay unsigned (their audit_seq is below the signing root's `signed_from`)."""
    for table in ("access_grants", "disclosures"):
        for col in ("signer", "sig"):
            db.execute(f"ALTER TABLE {table} ADD COLUMN {col} TEXT")


def fact_year_facets(db: Any) -> None:
    """Issue 17: a record with facts dated in other years than its own carries the token that lets a date
    filter test its fact dates (indexer.fts.FACT_YEARS); written for the records imported before."""
    from indexer.fts import refresh_facets

    refresh_facets(db, [int(r[0]) for r in db.execute("SELECT n FROM records WHERE facts != '[]'").fetchall()])


def assertion_spans(db: Any) -> None:
    """Issue 22: each record's non-affirmed words (negated, possible, hypothetical, historical, family, headings),
    worked out at import so a search labels its hits by lookup (indexer.assertion_map). The records a vault
    already holds get theirs after unlock, in the background (archive.embedding.relabel), not here: at 100k
    records that is minutes, and a search labels a record without a map from its text meanwhile."""
    from indexer import assertion_map

    assertion_map.create_schema(db)

def assertion_spans_rules_2(db: Any) -> None:
    """Issue 22: the labeller learned guideline IV.H's uncertain words ("probable", "consistent with"), so maps
    made by the rules before (assertion_map.VERSION 1) are rebuilt; a map of another version is never read.
    Since session 9 a change of the rules needs only the VERSION bump: this and the migrations like it change
    nothing (they keep the schema's numbering), and archive.embedding.relabel rebuilds the maps after unlock."""
    del db  # a map of another VERSION is never read; archive.embedding.relabel rebuilds it after unlock


def assertion_spans_rules_3(db: Any) -> None:
    """Issue 22, session 8: "X although that seemed to have resolved", "X, which has since resolved" deny X
    (the published rules' terminator "although" cut our backward "resolved"); maps of VERSION 2 are rebuilt."""
    del db  # a map of another VERSION is never read; archive.embedding.relabel rebuilds it after unlock


def assertion_spans_rules_4(db: Any) -> None:
    """Issue 22, session 9: rule families for what independent snippets showed coded ("Cellulitis has cleared",
    "Pt denys", "Negative ROS:" lists, "Should X occur,", "X screening", "prn for X", "TSH pending", "exposure
    to X", a relative who reports, "this 1-year-old child"); maps of VERSION 3 are rebuilt."""
    del db  # a map of another VERSION is never read; archive.embedding.relabel rebuilds it after unlock


def assertion_spans_rules_5(db: Any) -> None:
    """Issue 22, session 9 (round 6): rule families for what round-6 snippets showed coded ("Resolved problems:"
    headings, "could turn into X", "counseled that X occurs", "equivocal for X", "X in the differential", a
    newborn's "maternal X", "a donor ... tested positive for X", "X is her mother-in-law's"); maps of VERSION 4
    are rebuilt."""
    del db  # a map of another VERSION is never read; archive.embedding.relabel rebuilds it after unlock


def vector_snapshots(db: Any) -> None:
    """Issue 18 (scale): tombstones of deleted chunks and the encrypted snapshot of the vector matrix and its
    approximate index (indexer.ann_store); a vault without a snapshot builds one when it first needs it."""
    from indexer.ann_store import create_schema

    create_schema(db)


def medication_stop_reason(db: Any) -> None:
    """Session 8: why a medication was stopped (adverse reaction, dose change, course completed), a field of each
    chart entry version; versions saved before have none (NULL). A NULL stop_reason is left out of what a writer
    signs (archive.signed_rows.version_message), so the versions signed before this column still verify."""
    db.execute("ALTER TABLE chart_entry_versions ADD COLUMN stop_reason TEXT")


def second_embedder_vectors(db: Any) -> None:
    """Session 12 (issue 18): the second embedder's vector of each chunk (indexer.second_vectors); chunks embedded
    before have none until `chartvault reindex` (or the TUI's background service) gives them theirs."""
    from indexer.second_vectors import create_schema

    create_schema(db)


MIGRATIONS = [
    v1_users_and_audit,
    access_grants_and_disclosures,
    records_patients_and_fts,
    icd10_codes_and_record_codes,
    retention_rules_and_holds,
    patient_charts,
    semantic_chunks,
    review_queue_and_fact_dates,
    signatures,
    saved_searches_and_patient_lists,
    fulltext_facets,
    signed_grants_and_disclosures,
    assertion_spans,
    fact_year_facets,
    vector_snapshots,
    assertion_spans_rules_2,
    assertion_spans_rules_3,
    medication_stop_reason,
    assertion_spans_rules_4,
    assertion_spans_rules_5,
    second_embedder_vectors,
]

# The tables that hold a record's content, with the column naming the record: `record_id` (records.id) or
# `record_n` (records.n, the embeddings; a trigger drops the cached vector matrix). A retention purge clears
# every one of them for each purged record, besides the record's row and its full-text row; the test
# tests/unit/test_retention_schema.py fails when a table of the schema keyed by a record is missing here.
CONTENT_TABLES: tuple[tuple[str, str], ...] = (
    ("transcriptions", "record_id"),
    ("record_codes", "record_id"),
    ("review_items", "record_id"),
    ("chunks", "record_n"),
    ("embedded", "record_n"),
    ("assertion_spans", "record_n"),
)
