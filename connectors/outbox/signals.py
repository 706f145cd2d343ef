"""Signals of the outbox (the billing app listens to record its audit rows)."""

from django.dispatch import Signal

#: Sent inside the transaction that changes a VendorWrite's state.
#: kwargs: write (VendorWrite), old_state (str), new_state (str), detail (str, no secrets).
vendor_write_changed = Signal()
