"""Syncro PSA REST API v1 emulator (mounted at ``/syncro/{subdomain}/api/v1``).

Sources: the official spec ``reference/specs/syncro-openapi.json`` (shapes, parameters, error
examples), ``reference/vendor-apis.md`` §1 (page sizes, quirks observed on live tenants) and the
operator runbook ``seeds/001_*.txt`` (comment wrapper 422, ignored fields, pricing, invoice
flow, attribution). Quirks are emulated on purpose; each handler's docstring names its source.

Decisions where the sources are silent are listed in ``docs/sandbox.md``; the main ones:

* Auth: ``Authorization: Bearer <token>`` (or the bare token), or ``?api_key=<token>``; bad or
  missing token -> 401 ``{"error": "Not authorized"}``.
* 180 requests per rolling minute per client address -> 429 ``text/plain`` "Retry later\\n"
  (Rack::Attack's default body), with ``Retry-After`` only if ``syncro_retry_after``.
* Rails merges query and JSON body parameters; so does the sandbox (the body wins).
* Tickets and invoices list newest first (id DESC); everything else id ASC.
* ``since_updated_at`` is strict (``updated_at > value``).

Modules: ``records`` (vocabulary, formats, record builders), ``params`` (Rails params, paging),
one module of routes per resource (``users``, ``tickets``, ``comments``, ``line_items``,
``timers``, ``invoices``, ``customers``, ``products``), ``datagen`` (generator, churn) and
``emulator`` (auth, limits, errors, inspection; registers the vendor).
"""

from __future__ import annotations

from .emulator import SyncroSandbox

__all__ = ["SyncroSandbox"]
