"""Mirrored FieldCamp records (filled by the connectors work)."""
