"""Inventory on the field side: stock by depot and by van, a part everywhere with its history,
levels below the portal's minimums, replenishment through a Synchroteam part request, and the
low-stock alert.

* `selectors`: the reads (`depot_overview`, `depot_levels`, `part_levels`, `below_threshold`).
* `charts`: the part page's server-drawn SVG.
* `forms`, `services`, `views`: minimums and the previewed, confirmed part request.
* `alerts`: the ``low_stock`` alert condition, which also records when a level crosses its
  minimum and sends `signals.stock_below_threshold` (for outbound webhooks).
"""
