"""Events for downstream tools: outbound webhooks per company (issue 16, build item 5).

* `registry`: the event types (``job.status_changed``, ``job.completed``, ``invoice.created``,
  ``invoice.paid``, ``stock.below_threshold``) and what their ``data`` holds.
* `services.emit_event(company, event_type, payload)`: the one public way to raise an event; it
  records an `OutboundEvent` and one `WebhookDelivery` per active endpoint subscribed to the
  type, sent on commit by django-q2 (`tasks.deliver`).
* `delivery`: one attempt: signed body (`signing`), httpx POST, the response recorded
  (`DeliveryAttempt`), retried with exponential backoff until ``OUTBOUND_WEBHOOK_MAX_ATTEMPTS``.
* `watch`: mirror watchers that turn mirrored status changes (jobs, invoices) into events, run
  when the mirror changes (`connectors.signals.mirror_changed`).
* `views`: the endpoints settings page (owners and admins) and the deliveries page, with re-send.

docs/webhooks.md explains the signature and how a receiver verifies it.
"""
