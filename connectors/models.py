"""Connections, sync state and the outbox (filled by the connectors work)."""
