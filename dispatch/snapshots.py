"""Cached snapshots of what the reconciliation worklist computes from the whole mirror.

The unbilled rule and the hours of every unbilled job read every finished job, invoice, tagged
line item, draft and activity of a tenant (about 200 ms at 100 000 jobs). The worklist page and
the home card ask for it on every view, while the rows change only when a sync, a webhook or a
person writes. So the result is kept in Django's cache (``CACHES``: per process by default,
Redis when ``CACHE_URL`` says so) under a key that changes with every such write:

* the token of the tenant's newest `ReconciliationVersion`, a new row of which `changed`
  inserts (the receivers `connect`
  registers: `connectors.signals.mirror_changed`, ``post_save`` of the models in `WATCHED`, and
  ``post_delete`` of a `Connection`, whose mirror rows go with it). A draft a person creates is
  off the list on the next page they see, which is not computed again either: the snapshot is
  carried to the new key without the drafted job (`_on_draft`, the patches `connect` is
  given). Mirror rows are never deleted one by one (the sync marks them ``is_deleted``), and
  no ``post_delete`` receiver is put on them: it would turn the cascade of a removed
  connection into a fetch of every row;
* the locks of the tenant's sync streams (``SyncStream.lock_run`` and ``lock_heartbeat_at``,
  written in every page's transaction): a running sync's pages show as they commit, before
  its run ends and sends ``mirror_changed``.

A snapshot is computed after reading the key, so a write that commits meanwhile changes the key
and the next view recomputes: what is cached is never newer than its key says, and never
older. ``RECONCILIATION_CACHE_SECONDS`` (default 600) bounds how long a snapshot is kept; 0 turns
the cache off (every view computes).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from accounts.models import Tenant
from connectors.models import Connection, SyncStream

T = TypeVar("T")

#: model labels whose ORM saves and deletes change the worklist (`connect`)
WATCHED = (
    "synchroteam.SynchroteamJob",
    "synchroteam.SynchroteamInvoice",
    "synchroteam.SynchroteamActivity",
    "synchroteam.SynchroteamUser",
    "syncro.SyncroLineItem",
    "billing.BillingDraft",
)


def _new_token() -> str:
    return uuid.uuid4().hex


def changed(tenant_id: int) -> None:
    """Give the tenant a new token: its cached snapshots are no longer read. One INSERT, in the
    caller's transaction (no row another transaction holds is touched), after one EXISTS: a
    tenant with no row has nothing cached (`version` makes the first row before anything is
    cached), so none is made, nor while a tenant is being deleted (its rows go first)."""
    from dispatch.models import ReconciliationVersion

    if ReconciliationVersion.objects.filter(tenant_id=tenant_id).exists():
        ReconciliationVersion.objects.create(tenant_id=tenant_id, token=_new_token())


def _latest(tenant_id: int) -> tuple[int, str]:
    """``(id, token)`` of the tenant's newest `ReconciliationVersion`, one made if none."""
    from dispatch.models import ReconciliationVersion

    row = (
        ReconciliationVersion.objects.filter(tenant_id=tenant_id)
        .order_by("-id")
        .values_list("id", "token")
        .first()
    )
    if row is None:
        made = ReconciliationVersion.objects.create(tenant_id=tenant_id, token=_new_token())
        row = (made.pk, made.token)
    return row


def version(tenant: Tenant | int) -> str:
    """The tenant's (or tenant id's) current snapshot key part: ``"<token>:<streams digest>"``
    (two queries: the newest token, by the (tenant, -id) index; the lock columns of the tenant's
    sync streams, a few dozen rows)."""
    return _version(tenant if isinstance(tenant, int) else tenant.pk)[1]


def _version(tenant_id: int) -> tuple[int, str]:
    """``(id of the newest version row, version)``."""
    newest, token = _latest(tenant_id)
    streams = (
        SyncStream.objects.filter(connection__tenant_id=tenant_id)
        .order_by("pk")
        .values_list("pk", "lock_run_id", "lock_heartbeat_at")
    )
    digest = hashlib.blake2b(repr(list(streams)).encode(), digest_size=8).hexdigest()
    return newest, f"{token}:{digest}"


#: ``{tenant id: (newest version id, its token)}`` this process last pruned below (the token
#: too: ids can come again where a rollback undoes an insert)
_pruned: dict[int, tuple[int, str]] = {}


def prune(tenant_id: int, newest: int) -> int:
    """Delete the tenant's `ReconciliationVersion` rows older than `newest` (the id of its
    newest): one DELETE by index. `cached` calls it once per new version it computes for,
    usually outside any transaction. Returns how many went."""
    from dispatch.models import ReconciliationVersion

    old = ReconciliationVersion.objects.filter(tenant_id=tenant_id, id__lt=newest)
    return old.delete()[0]


def cached(tenant: Tenant, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` for `tenant`, from the cache when nothing it reads was written since
    (`version`); `name` tells snapshots of one tenant apart (``"unbilled"``). The value must
    pickle (tuples, dates, Decimals)."""
    seconds = _seconds()
    if not seconds:
        return compute()
    newest, at = _version(tenant.pk)
    key = _key(tenant.pk, name, at)
    found = cache.get(key)
    if found is None:
        found = compute()
        _store(tenant.pk, name, key, found)
        mark = (newest, at)
        if _pruned.get(tenant.pk) != mark:
            _pruned[tenant.pk] = mark
            prune(tenant.pk, newest)
    return found


#: ``{(tenant id, name): key}`` this process last stored: a snapshot replaced is deleted, not
#: left to expire (a running sync makes a new key per page, and a snapshot of 3 000 jobs is
#: about 180 KB)
_stored: dict[tuple[int, str], str] = {}


def _store(tenant_id: int, name: str, key: str, value) -> None:
    previous = _stored.get((tenant_id, name))
    if previous and previous != key:
        cache.delete(previous)
    _stored[(tenant_id, name)] = key
    cache.set(key, value, _seconds())


def _seconds() -> int:
    return getattr(settings, "RECONCILIATION_CACHE_SECONDS", 600)


def _key(tenant_id: int, name: str, at: str) -> str:
    return f"reconciliation:{tenant_id}:{name}:{at}"


#: ``{snapshot name: drafted(value, tags) -> value}``: what a new live draft naming the jobs
#: tagged `tags` does to each snapshot (`connect` fills it)
DraftPatch = Callable[[Any, set[str]], Any]
_patches: dict[str, DraftPatch] = {}


def _on_draft(sender, instance, created: bool = False, **kwargs) -> None:
    """``post_save`` of a `billing.models.BillingDraft`: `changed`, and for a new live draft
    naming jobs (a person drafting from the worklist) each cached snapshot carried over to the
    new key through its patch (`connect`'s ``patches``; ``unbilled`` takes the drafted jobs off),
    so the page they are sent back to needs no recomputing. Any other save (a decision, an
    edit) only expires: a rejected or re-tagged draft can bring a job back, which only
    computing finds."""
    from billing.models import BillingDraft

    if kwargs.get("raw"):
        return
    tenant_id = instance.tenant_id
    tags = {instance.job_tag, *instance.job_tags_more.split("\n")} - {""}
    live = instance.decision != BillingDraft.Status.REJECTED
    if not (created and live and tags and _seconds()):
        changed(tenant_id)
        return
    before = version(tenant_id)  # in the draft's transaction: our new row is not yet visible
    changed(tenant_id)  # to others, and the token row stays locked until it commits
    after = version(tenant_id)
    for name, patch in _patches.items():
        value = cache.get(_key(tenant_id, name, before))
        if value is not None:
            _store(tenant_id, name, _key(tenant_id, name, after), patch(value, tags))


def _on_row(sender, instance, **kwargs) -> None:
    """``post_save`` of a `WATCHED` row, ``post_delete`` of a `Connection`: `changed`."""
    tenant_id = getattr(instance, "tenant_id", None)
    if tenant_id is not None and not kwargs.get("raw"):
        changed(tenant_id)


def _on_mirror_changed(sender=None, *, connection_id: int, **kwargs) -> None:
    """`connectors.signals.mirror_changed`: `changed` for the connection's tenant."""
    tenant_id = (
        Connection.objects.filter(pk=connection_id).values_list("tenant_id", flat=True).first()
    )
    if tenant_id is not None:
        changed(tenant_id)


def connect(patches: dict[str, DraftPatch] | None = None) -> None:
    """Register the receivers that call `changed` (`dispatch.apps.DispatchConfig.ready`), and
    `patches`: for each snapshot name, how a new live draft changes it (a snapshot without one
    is computed again after a draft)."""
    from django.apps import apps

    _patches.update(patches or {})
    from connectors.signals import mirror_changed

    mirror_changed.connect(_on_mirror_changed, dispatch_uid="dispatch.snapshots")
    for label in WATCHED:
        model = apps.get_model(label)
        receiver = _on_draft if label == "billing.BillingDraft" else _on_row
        post_save.connect(receiver, sender=model, dispatch_uid=f"dispatch.snapshots.{label}")
    post_delete.connect(_on_row, sender=Connection, dispatch_uid="dispatch.snapshots.connection")
