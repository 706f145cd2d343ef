"""``stock_below_threshold``: sent when a mirrored stock level crosses its portal minimum.

Sent once per crossing, after the transaction that recorded it commits, by the low-stock
condition (`dispatch.inventory.alerts.thresholds_refresh`), which runs after every sync run,
every settled write, every saved minimum and on the ``alerts:evaluate`` schedule.

Keyword arguments (``sender`` is `dispatch.models.StockMinimum`):

* ``tenant``: the `accounts.models.Tenant`.
* ``minimum``: the `StockMinimum` row (``depot_vendor_id``, ``part_vendor_id``, ``minimum``).
* ``quantity``: the mirrored quantity (Decimal; 0 when the depot holds none).
* ``below``: True when it went below, False when it came back to the minimum or above.
* ``at``: when the crossing was seen (aware datetime).
* ``payload``: a JSON-ready dict for an event body: ``{"depot": {"id", "name", "kind",
  "technician_id"}, "part": {"id", "reference", "name"}, "quantity", "minimum", "below",
  "at"}`` (numbers as strings, ``at`` ISO 8601).
"""

from django.dispatch import Signal

stock_below_threshold = Signal()

__all__ = ["stock_below_threshold"]
