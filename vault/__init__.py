"""Cryptography and durable storage: keys, the age blob store, the SQLCipher index.

Knows nothing of records or users; imports nothing else of ours. Never writes plaintext to disk.
"""
