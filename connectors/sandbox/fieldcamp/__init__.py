"""FieldCamp API v1 emulator (mounted at ``/fieldcamp/api/v1``).

Sources: ``seeds/002_*.txt`` (integration sync triggers, the job descriptor, 409 while a sync
is in flight, ``INTEGRATION_NOT_CONNECTED``, the Google Calendar status body, incremental
change records with ``next_cursor``) and ``reference/vendor-apis.md`` §3 (``fc_live_`` keys as
Bearer or ``X-Api-Key``, the ``{"success", "data"|"error", "meta"}`` envelope with ``error`` a
string on some routes and an object on others, ``X-RateLimit-*``, visits and invoices with
``since``, invoice statuses, no server-side idempotency).

Decisions where the sources are silent (docs/sandbox.md):

* Every body is enveloped, the integration routes too: ``{"success": true, "data": <the seed's
  body>, "meta": {...}}``.
* ``error`` is a **string** for resource validation and not-found errors (visits, invoices:
  the errors page's ``{"success": false, "error": "jobNumber is required"}``) and an **object**
  ``{"code", "message"}`` on integration, auth and rate-limit errors (the v1 quickstart).
* ``INTEGRATION_NOT_CONNECTED`` is answered with HTTP 400; "sync in flight" with 409 and code
  ``SYNC_IN_PROGRESS``. ``Idempotency-Key`` is accepted and ignored (no server-side
  idempotency, vendor-apis.md §3.2); the 409 guard is the only protection.
* Sync jobs move queued -> running -> succeeded|failed on the sandbox clock
  (``fieldcamp_sync_queued_seconds``, ``fieldcamp_sync_running_seconds``), failing with
  probability ``fieldcamp_sync_failure_rate`` (seeded per job). A status route exists for all
  three integrations (the seed documents Google's and hints at "the analogous status route").
* Lists page with ``limit`` (default 50, max 100) and an opaque ``cursor``;
  ``meta.next_cursor`` is null on the last page. Calendar changes answer
  ``data: {"changes": [...], "next_cursor": ...}`` (the seed names ``next_cursor``).
* Visit statuses (8, only ``scheduled`` is documented): unscheduled, scheduled, dispatched,
  en_route, in_progress, on_hold, completed, cancelled.
* Ids are 24-hex strings (Mongo ObjectId-like); timestamps are UTC ``...Z``.
* Rate limit per key (default 100/min): ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``
  (epoch seconds) on every answer; 429 adds ``Retry-After``.

Modules: ``records`` (vocabulary, ids, record builders), ``paging``, ``resources`` (visits,
invoices), ``integrations`` (sync jobs, status, calendar changes), ``datagen`` (generator,
churn), ``emulator`` (auth, limits, errors; registers the vendor).
"""

from __future__ import annotations

from .emulator import FieldCampSandbox

__all__ = ["FieldCampSandbox"]
