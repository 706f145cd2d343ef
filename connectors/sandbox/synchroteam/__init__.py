"""Synchroteam web services v3 emulator (mounted at ``/synchroteam/api/v3``; paths are
case-insensitive, ``/Api/v3/Job/List`` works too).

Sources: ``reference/vendor-apis.md`` §2 (auth, the ``<resource>/list|details|send|delete``
pattern, ``page``/``pageSize``/``recordsTotal``/``data``, job statuses, ``job/send`` upsert by
``id``/``myId``, ``job/schedule``, ``X-Quota-Remaining``, custom fields, date format) and
``seeds/000_*.txt`` (per-token ~1000/min and ~15 000/day, custom fields on jobs, customers,
sites, equipment and users; activities clock in/out, travel, work, unavailability).

Decisions where the sources are silent (docs/sandbox.md lists them all):

* Dates are naive ``"YYYY-MM-DD HH:MM:SS"`` strings in UTC (the account's zone is unverified).
* Lists are ordered by ``id`` ascending; ``pageSize`` above 100 is clamped to 100 and the
  response echoes the effective ``page`` and ``pageSize`` next to ``recordsTotal``.
* No modified-since filter exists (none was found): incremental sync compares ``dateModified``.
* ``site/list`` accepts ``search`` and ignores it (ief_lib: "le paramètre search NE FILTRE PAS").
* ``customfield/list`` answers 405 on GET; use POST (TS client note).
* Error bodies follow ASP.NET Web API: ``{"message": "..."}``; 401 says "Authorization has
  been denied for this request."
* 429 (per-minute limit or daily quota) carries ``Retry-After`` and ``X-Quota-Remaining``.
* Unknown custom-field labels in ``/send`` are ignored.

Modules: ``records`` (vocabulary, dates, custom fields, record builders), ``resources``
(the generic list/details/send/delete routes), ``jobs`` (scheduling, catalogue lists),
``datagen`` (generator, churn), ``emulator`` (auth, limits, errors; registers the vendor).
"""

from __future__ import annotations

from .emulator import SynchroteamSandbox

__all__ = ["SynchroteamSandbox"]
