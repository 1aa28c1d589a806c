"""The one query vocabulary of the indexer: tokenisation, stop words, abbreviations, lay terms, index terms.

Search (hybrid), code lookup (icd10, code_match, code_suggest) and the
assistant's passages all read words, abbreviations and everyday wording
through these modules, so a word means the same thing everywhere. Pure
functions over indexer/data; no I/O beyond reading those files.
"""
