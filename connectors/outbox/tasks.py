"""django-q2 tasks of the outbox: they take ids and call the executor."""

from __future__ import annotations

from connectors.outbox import executor


def process_write(write_id: int) -> str | None:
    """Do the next step of one write (enqueued on commit of an approval)."""
    return executor.process_write(write_id)


def sweep() -> dict[str, int]:
    """Every minute: the relay of record for writes never enqueued or whose worker died."""
    return executor.sweep()
