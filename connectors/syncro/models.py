"""Mirrored Syncro records (filled by the connectors work)."""
