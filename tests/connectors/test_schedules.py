"""Schedules have one owner (connectors.schedules): the global ones exist after migrate, making
them again changes nothing, and a connection's own schedules follow the connection."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django_q.models import Schedule

from accounts.models import Vendor
from connectors import schedules
from connectors.models import Connection

MIGRATIONS = (
    "connectors.outbox.migrations.0002_sweeper_schedule",
    "connectors.migrations.0002_stale_run_sweeper_schedule",
    "connectors.fieldcamp.migrations.0002_calendar_flush_schedule",
)

pytestmark = pytest.mark.django_db


def test_the_global_schedules_exist_after_migrate():
    for name, fields in schedules.GLOBAL_SCHEDULES.items():
        row = Schedule.objects.get(name=name)
        assert row.func == fields["func"]
        assert row.minutes == fields["minutes"] and row.repeats == -1


def test_running_the_data_migrations_and_the_ensure_twice_makes_no_duplicate():
    for _ in range(2):
        for module in MIGRATIONS:
            import_module(module).create_schedule(apps, None)
        assert schedules.global_schedules_ensure() == 0
    names = list(schedules.GLOBAL_SCHEDULES)
    assert Schedule.objects.filter(name__in=names).count() == len(names)


def test_a_global_schedule_that_was_deleted_is_made_again():
    Schedule.objects.filter(name="sync:release-stale").delete()
    assert schedules.global_schedules_ensure(["sync:release-stale"]) == 1
    assert Schedule.objects.filter(name="sync:release-stale").count() == 1


def test_a_schedule_func_names_an_existing_task():
    from django.utils.module_loading import import_string

    for fields in schedules.GLOBAL_SCHEDULES.values():
        assert callable(import_string(fields["func"]))
    for func in ("connectors.tasks.scheduled_sync", "connectors.tasks.resume_sync"):
        assert callable(import_string(func))


def test_connection_schedules_are_made_once_and_removed_when_disabled(world):
    connection = Connection.objects.create(tenant=world.tenant, vendor=Vendor.SYNCRO, account="a")
    schedules.connection_schedules_ensure(connection)
    schedules.connection_schedules_ensure(connection)
    names = [schedules.schedule_name(connection, k) for k in ("incremental", "full")]
    assert Schedule.objects.filter(name__in=names).count() == 2
    assert all(schedules.next_runs(connection).values())
    connection.enabled = False
    schedules.connection_schedules_ensure(connection)
    assert not Schedule.objects.filter(name__in=names).exists()


def test_a_new_incremental_schedule_runs_one_interval_from_now_and_keeps_its_next_run(world):
    import datetime as dt

    from django.utils import timezone

    connection = Connection.objects.create(tenant=world.tenant, vendor=Vendor.SYNCRO, account="a")
    before = timezone.now()
    schedules.connection_schedules_ensure(connection)
    name = schedules.schedule_name(connection, "incremental")
    first = Schedule.objects.get(name=name).next_run
    every = connection.incremental_every
    assert before + every - dt.timedelta(seconds=5) <= first <= timezone.now() + every
    schedules.connection_schedules_ensure(connection)  # saving the connection again
    assert Schedule.objects.get(name=name).next_run == first


def test_a_pause_moves_the_one_resume_schedule(world):
    connection = Connection.objects.create(tenant=world.tenant, vendor=Vendor.SYNCRO, account="a")
    schedules.resume_schedule(connection.pk, None)
    schedules.resume_schedule(connection.pk, None)
    row = Schedule.objects.get(name=f"sync-resume:{connection.pk}")
    assert row.func == "connectors.tasks.resume_sync" and row.args == str(connection.pk)


def test_a_calendar_change_does_not_create_a_schedule(world, django_capture_on_commit_callbacks):
    from connectors.fieldcamp.services import calendar_sync_mark

    Connection.objects.create(tenant=world.tenant, vendor=Vendor.FIELDCAMP, account="w")
    before = Schedule.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert calendar_sync_mark(tenant=world.tenant, reason="job moved") is not None
    assert Schedule.objects.count() == before
