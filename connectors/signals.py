"""Signals of the connectors layer (no imports of the product: anything may listen).

* `mirror_changed`: rows of one connection's mirror were written (a sync run ended, a webhook
  refreshed one record, a confirmed write was written through). Keyword arguments:
  ``connection_id`` (int) and ``resource`` (the stream name, or "" when several or unknown).
  Sent by `connectors.services.sync_execute`, `connectors.webhooks.services` and
  `connectors.outbox.services.mirror_write_through`; receivers must not raise (they are
  called with ``send_robust``).
"""

from __future__ import annotations

from django.dispatch import Signal

mirror_changed = Signal()
