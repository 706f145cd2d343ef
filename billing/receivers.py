"""Signal receivers: the outbox's state changes become ApprovalEvents (no logic here)."""

from __future__ import annotations

from django.dispatch import receiver

from connectors.outbox.models import VendorWrite
from connectors.outbox.signals import vendor_write_changed


@receiver(vendor_write_changed, sender=VendorWrite, dispatch_uid="billing.write_changed")
def record_write_change(sender, *, write, old_state, new_state, detail="", **kwargs) -> None:
    """Sent inside the outbox's transaction, so the audit row commits with the state change."""
    from billing.services import draft_sync_from_write

    draft_sync_from_write(
        write=write, old_state=old_state, new_state=new_state, detail=detail or ""
    )
