"""Turning files into searchable records: watcher, extraction, full-text and semantic index.

Knows nothing of users or policy.
"""
