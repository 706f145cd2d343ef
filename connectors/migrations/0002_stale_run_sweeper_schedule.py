"""The stale-run sweeper runs every 5 minutes (a global django-q2 schedule, made once here
instead of by ``seed_demo``; its fields live in connectors.schedules.GLOBAL_SCHEDULES)."""

from django.db import migrations

NAMES = ["sync:release-stale"]


def create_schedule(apps, schema_editor):
    from connectors.schedules import global_schedules_ensure

    global_schedules_ensure(NAMES, schedule_model=apps.get_model("django_q", "Schedule"))


def delete_schedule(apps, schema_editor):
    from connectors.schedules import global_schedules_delete

    global_schedules_delete(NAMES, schedule_model=apps.get_model("django_q", "Schedule"))


class Migration(migrations.Migration):
    dependencies = [("connectors", "0001_initial"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(create_schedule, delete_schedule)]
