"""The Textual terminal UI: thin screens over the domain API in `archive`."""
