"""How each stream finds changes (`StreamSpec.changes`) and what the schedules run because of it.

The incremental schedule syncs only streams that find changes cheaply; sweep-only streams wait
for the nightly full sweep; a resume after a pause continues what the pause stopped.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import connectors.sandbox
from accounts.models import Credential, CredentialPurpose, Vendor
from connectors import schedules
from connectors.mapping import Changes
from connectors.models import SyncRun
from connectors.services import resume_plan, sync_request, sync_scheduled
from connectors.sync import ensure_streams
from connectors.vendors import all_vendors, vendor_for

from .conftest import make_connection

SPEC = json.loads(
    (Path(connectors.sandbox.__file__).parent / "specs" / "syncro-openapi.json").read_text()
)
#: Syncro stream -> the GET path it lists
SYNCRO_PATHS = {
    "customers": "/customers",
    "contacts": "/contacts",
    "products": "/products",
    "tickets": "/tickets",
    "ticket_comments": "/tickets/{id}/comments",
    "invoices": "/invoices",
    "line_items": "/line_items",
    "ticket_timers": "/ticket_timers",
}


def _query_params(path: str) -> set[str]:
    return {p["name"] for p in SPEC["paths"][path]["get"].get("parameters", [])}


def test_every_stream_of_every_vendor_declares_how_it_finds_changes():
    vendors = {v.name: v for v in all_vendors()}
    assert set(vendors) == {"syncro", "synchroteam", "fieldcamp"}
    for vendor in vendors.values():
        for spec in vendor.streams:
            assert spec.changes in Changes.ALL, (vendor.name, spec.resource)
            assert bool(spec.changes_param) == (spec.changes == Changes.VENDOR_FILTER)
            if spec.changes == Changes.SNAPSHOT:
                assert spec.requests_per_run >= 1
            if spec.changes == Changes.WEBHOOK:
                assert vendor.webhook is not None, (vendor.name, spec.resource)


def test_a_stream_that_does_not_say_how_it_finds_changes_is_refused():
    spec = vendor_for("syncro").stream("tickets")
    with pytest.raises(ValueError, match="changes must be one of"):
        dataclasses.replace(spec, changes="")
    with pytest.raises(ValueError, match="changes_param"):
        dataclasses.replace(spec, changes_param="")
    with pytest.raises(ValueError, match="requests_per_run"):
        dataclasses.replace(spec, changes=Changes.SNAPSHOT, changes_param="")


def test_syncro_filters_are_the_specs_own_query_parameters():
    """A vendor-filter stream names a parameter the endpoint has (specs/syncro-openapi.json); a
    sweep stream's endpoint has no updated-since parameter at all."""
    for spec in vendor_for("syncro").streams:
        if spec.resource not in SYNCRO_PATHS:
            continue
        params = _query_params(SYNCRO_PATHS[spec.resource])
        if spec.changes == Changes.VENDOR_FILTER:
            assert spec.changes_param in params, spec.resource
        else:
            assert spec.changes == Changes.SWEEP, spec.resource
            assert not {p for p in params if "since" in p or "updated" in p}, spec.resource


def test_synchroteam_jobs_follow_webhooks_and_nothing_else_is_polled(world):
    specs = {s.resource: s.changes for s in vendor_for("synchroteam").streams}
    assert specs.pop("jobs") == Changes.WEBHOOK
    assert set(specs.values()) == {Changes.SWEEP}


def _synchroteam(world, *, webhook_secret: bool):
    connection = make_connection(
        world.tenant,
        Vendor.SYNCHROTEAM,
        account="acme",
        base_url="https://ws.synchroteam.com/api/v3",
        secret="st-key",
    )
    if webhook_secret:
        Credential.create(
            tenant=world.tenant,
            vendor=Vendor.SYNCHROTEAM,
            label="token",
            secret="st-webhook-token",
            purpose=CredentialPurpose.WEBHOOK,
        )
    return connection


def test_the_incremental_leaves_out_sweep_only_streams_and_the_nightly_sweep_has_them(
    syncro_connection,
):
    incremental = schedules.scheduled_resources(syncro_connection, "incremental")
    full = schedules.scheduled_resources(syncro_connection, "full")
    sweep_only = {"customers", "contacts", "products", "line_items"}
    assert set(full) == {s.resource for s in vendor_for("syncro").streams}
    assert sweep_only <= set(full)
    assert not sweep_only & set(incremental)
    assert set(incremental) == set(full) - sweep_only
    assert incremental == [r for r in full if r in incremental]  # sync order kept


@pytest.mark.parametrize("secret", [True, False])
def test_webhook_streams_leave_the_incremental_only_when_webhooks_can_arrive(world, secret):
    connection = _synchroteam(world, webhook_secret=secret)
    assert schedules.webhooks_configured(connection) is secret
    expected = [] if secret else ["jobs"]
    assert schedules.incremental_resources(connection) == expected


def test_a_revoked_webhook_secret_puts_webhook_streams_back_in_the_incremental(world):
    connection = _synchroteam(world, webhook_secret=True)
    Credential.objects.filter(purpose=CredentialPurpose.WEBHOOK).update(status="revoked")
    assert schedules.incremental_resources(connection) == ["jobs"]


def test_scheduled_incremental_and_nightly_runs_queue_the_right_streams(syncro_connection):
    sync_scheduled(connection_id=syncro_connection.pk, mode="incremental")
    queued = set(SyncRun.objects.values_list("stream__resource", flat=True))
    assert queued == set(schedules.incremental_resources(syncro_connection))
    assert "customers" not in queued
    SyncRun.objects.update(status=SyncRun.Status.SUCCEEDED)
    sync_scheduled(connection_id=syncro_connection.pk, mode="full")
    full = SyncRun.objects.filter(mode=SyncRun.Mode.FULL)
    assert set(full.values_list("stream__resource", flat=True)) == {
        s.resource for s in vendor_for("syncro").streams
    }


def test_an_incremental_with_nothing_to_poll_queues_nothing(world):
    connection = _synchroteam(world, webhook_secret=True)
    result = sync_scheduled(connection_id=connection.pk, mode="incremental")
    assert "no stream" in result
    assert not SyncRun.objects.exists()


def test_sync_now_still_syncs_every_stream(syncro_connection):
    request = sync_request(syncro_connection, trigger=SyncRun.Trigger.MANUAL, enqueue=False)
    assert len(request.runs) == len(vendor_for("syncro").streams)


def test_a_resume_continues_a_paused_nightly_sweep_as_a_full_sweep(world):
    """A quota pause parks the nightly's later streams: the resume runs them, in full mode,
    and not the sweep-only streams that had finished."""
    connection = _synchroteam(world, webhook_secret=True)
    request = sync_request(connection, trigger=SyncRun.Trigger.SCHEDULE, mode="full", enqueue=False)
    by_resource = {r.stream.resource: r for r in request.runs}
    SyncRun.objects.filter(pk__in=[by_resource[r].pk for r in ("customers", "sites")]).update(
        status=SyncRun.Status.SUCCEEDED
    )
    SyncRun.objects.exclude(stream__resource__in=["customers", "sites"]).update(
        status=SyncRun.Status.PAUSED
    )
    plan = resume_plan(connection)
    resources = [s.resource for s in vendor_for("synchroteam").streams]
    assert list(plan) == [r for r in resources if r not in ("customers", "sites")]
    assert set(plan.values()) == {SyncRun.Mode.FULL}


def test_a_resume_continues_an_unfinished_checkpoint_and_the_cheap_streams(syncro_connection):
    streams = {s.resource: s for s in ensure_streams(syncro_connection)}
    streams["contacts"].checkpoint = {"mode": "incremental", "page": 3}
    streams["contacts"].save()
    plan = resume_plan(syncro_connection)
    assert plan["contacts"] == "incremental"
    assert set(plan) == set(schedules.incremental_resources(syncro_connection)) | {"contacts"}
    assert "customers" not in plan
