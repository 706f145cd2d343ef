"""Mirrored Synchroteam records (filled by the connectors work)."""
