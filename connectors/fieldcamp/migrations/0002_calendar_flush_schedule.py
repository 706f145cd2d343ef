"""The batched calendar-sync flush runs every minute (a global django-q2 schedule, made once
here instead of on the first calendar change; its fields live in
connectors.schedules.GLOBAL_SCHEDULES)."""

from django.db import migrations

NAMES = ["dispatch:calendar-sync-flush"]


def create_schedule(apps, schema_editor):
    from connectors.schedules import global_schedules_ensure

    global_schedules_ensure(NAMES, schedule_model=apps.get_model("django_q", "Schedule"))


def delete_schedule(apps, schema_editor):
    from connectors.schedules import global_schedules_delete

    global_schedules_delete(NAMES, schedule_model=apps.get_model("django_q", "Schedule"))


class Migration(migrations.Migration):
    dependencies = [("fieldcamp", "0001_initial"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(create_schedule, delete_schedule)]
