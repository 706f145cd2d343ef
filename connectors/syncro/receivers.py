"""Keep the Syncro mirror current with what the portal itself created."""

from __future__ import annotations

from connectors.mapping import MappingError


def mirror_created_ticket(sender, write, old_state: str, new_state: str, **kwargs) -> None:
    """A ticket the portal created is upserted into the mirror from Syncro's own answer
    (``POST /tickets`` returns the ticket), so it can be picked at once instead of after the next
    sync. Runs inside the transaction that confirms the write. A ticket confirmed by a later look
    (no response body kept) waits for the next sync."""
    if new_state != "confirmed" or write.operation != "syncro.ticket.create":
        return
    record = write.response if isinstance(write.response, dict) else None
    if not record or record.get("id") is None:
        return
    from connectors.syncro.mapping import map_ticket
    from connectors.syncro.models import SyncroTicket

    try:
        values = map_ticket(record)
    except MappingError:
        return  # the next sync quarantines it with its reason
    vendor_id = values.pop("vendor_id")
    SyncroTicket.objects.update_or_create(
        connection=write.connection,
        vendor_id=vendor_id,
        defaults={**values, "tenant_id": write.tenant_id, "raw": record},
    )
